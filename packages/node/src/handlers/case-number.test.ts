import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newMessageId } from "@tongban/sdk";
import { CaseState, HandlingMode } from "@tongban/sdk/gen";
import { afterEach, describe, expect, it } from "vitest";
import { storeKeys } from "../store/keys.js";
import { openLevelStore, type LevelStore } from "../store/level-store.js";
import { buildCaseIndexes, caseByNumber, caseOps, openCases, watchedCases, type CaseRecord } from "./case-effects.js";
import { checkIndexes } from "./index-check.js";
import { jointOps, type JointRecord } from "./joint.js";

let dir: string | undefined;
let store: LevelStore | undefined;
afterEach(async () => {
  await store?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  store = undefined;
  dir = undefined;
});
async function open(): Promise<LevelStore> {
  dir = mkdtempSync(join(tmpdir(), "tongban-case-number-"));
  store = await openLevelStore(join(dir, "data"));
  return store;
}

const record = (caseNumber: string | undefined): CaseRecord => ({
  snapshot: { caseId: newMessageId(), mode: HandlingMode.REMOTE_RECEIPT, state: CaseState.FORWARDED, history: [] } as unknown as CaseRecord["snapshot"],
  role: "receiving",
  partner: "cn.320509.wujiang",
  basicCode: "00TB00000101",
  timeline: [],
  ...(caseNumber === undefined ? {} : { caseNumber }),
});

describe("case indexes: case numbers (办件编号), deadlines watched", () => {
  it("a case written with a number is found by it, among many, and a number that is a prefix of another finds nothing", async () => {
    const s = await open();
    const cases = Array.from({ length: 300 }, (_, i) => record(`QP2026${String(i).padStart(6, "0")}`));
    for (let i = 0; i < cases.length; i += 100) await s.batch(cases.slice(i, i + 100).flatMap(caseOps));
    await s.batch(caseOps(record(undefined)));
    expect((await caseByNumber(s, "QP2026000257"))?.snapshot.caseId).toBe(cases[257]!.snapshot.caseId);
    expect(await caseByNumber(s, "QP202600025")).toBeUndefined();
    expect(await caseByNumber(s, "")).toBeUndefined();
  });

  it("a store written before the index gets it built once at start; later starts read nothing", async () => {
    const s = await open();
    const old = [record("JS-1"), record("JS-2"), record(undefined)];
    // As an older node wrote them: the case records alone.
    await s.batch(old.map((r) => caseOps(r)[0]!));
    expect(await caseByNumber(s, "JS-2")).toBeUndefined();
    expect(await buildCaseIndexes(s)).toBe(3);
    expect((await caseByNumber(s, "JS-2"))?.snapshot.caseId).toBe(old[1]!.snapshot.caseId);
    // A second start finds the index built and does not walk the cases again (the entry removed here stays removed).
    await s.batch([{ type: "del", key: storeKeys.caseNumber.key("JS-1", old[0]!.snapshot.caseId) }]);
    expect(await buildCaseIndexes(s)).toBe(0);
    expect(await caseByNumber(s, "JS-1")).toBeUndefined();
  });

  it("watches a handling site's deadline from 受理 until the case is decided or ends, and the index follows every write", async () => {
    const s = await open();
    const deadline = { startedAt: "2026-12-01T00:00:00.000Z" } as unknown as NonNullable<CaseRecord["deadline"]>;
    const base = record("WJ-1");
    const handling = (state: CaseState, withDeadline = true): CaseRecord => ({ ...base, role: "handling", snapshot: { ...base.snapshot, state }, ...(withDeadline ? { deadline } : {}) });
    const watched = async () => {
      const ids: string[] = [];
      for await (const id of watchedCases(s)) ids.push(id);
      return ids;
    };
    await s.batch(caseOps(handling(CaseState.DELIVERED, false)));
    expect(await watched()).toEqual([]);
    await s.batch(caseOps(handling(CaseState.ACCEPTED)));
    expect(await watched()).toEqual([base.snapshot.caseId]);
    await s.batch(caseOps(handling(CaseState.CORRECTION_REQUESTED)));
    expect(await watched()).toEqual([base.snapshot.caseId]);
    await s.batch(caseOps(handling(CaseState.DECIDED)));
    expect(await watched()).toEqual([]);
    // The receiving site's copy of a case is never watched (its partner runs the clock).
    await s.batch(caseOps({ ...record("QP-9"), deadline }));
    expect(await watched()).toEqual([]);
  });

  it("an older store's open handling cases are watched after the index is built", async () => {
    const s = await open();
    const deadline = { startedAt: "2026-12-01T00:00:00.000Z" } as unknown as NonNullable<CaseRecord["deadline"]>;
    const open1 = { ...record("A"), role: "handling" as const, deadline, snapshot: { ...record("A").snapshot, state: CaseState.ACCEPTED } };
    const closed = { ...record("B"), role: "handling" as const, deadline, snapshot: { ...record("B").snapshot, state: CaseState.REFUSED } };
    await s.batch([caseOps(open1)[0]!, caseOps(closed)[0]!]);
    expect(await buildCaseIndexes(s)).toBe(2);
    const ids: string[] = [];
    for await (const id of watchedCases(s)) ids.push(id);
    expect(ids).toEqual([open1.snapshot.caseId]);
  });

  it("keeps the open cases (either site) apart from those that ended, through every write", async () => {
    const s = await open();
    const a = record("O-1");
    const b = { ...record("O-2"), role: "handling" as const };
    const at = (r: CaseRecord, state: CaseState): CaseRecord => ({ ...r, snapshot: { ...r.snapshot, state } });
    const openIds = async () => {
      const ids: string[] = [];
      for await (const r of openCases(s)) ids.push(r.snapshot.caseId);
      return ids.sort();
    };
    await s.batch([...caseOps(at(a, CaseState.FORWARDED)), ...caseOps(at(b, CaseState.ACCEPTED))]);
    expect(await openIds()).toEqual([a.snapshot.caseId, b.snapshot.caseId].sort());
    await s.batch(caseOps(at(a, CaseState.RESULT_DELIVERED)));
    expect(await openIds()).toEqual([b.snapshot.caseId]);
    await s.batch(caseOps(at(b, CaseState.WITHDRAWN)));
    expect(await openIds()).toEqual([]);
  });

  it("keeps the open joint cases apart (the overdue check reads only these), and builds the index for an older store", async () => {
    const s = await open();
    const joint = (overall: JointRecord["overall"], id = "j-1") => ({ jointCaseId: id, overall }) as unknown as JointRecord;
    const openJoints = async () => {
      const ids: string[] = [];
      for await (const e of s.iterate(storeKeys.jointOpen.range())) ids.push(storeKeys.jointOpen.decode(e.key)[0]);
      return ids;
    };
    await s.batch(jointOps(joint("open")));
    expect(await openJoints()).toEqual(["j-1"]);
    await s.batch(jointOps(joint("completed")));
    expect(await openJoints()).toEqual([]);
    // As an older node wrote them: the joint records alone.
    await s.batch([jointOps(joint("open", "j-2"))[0]!, jointOps(joint("withdrawn", "j-3"))[0]!]);
    expect(await buildCaseIndexes(s)).toBe(3);
    expect(await openJoints()).toEqual(["j-2"]);
  });

  it("checkIndexes finds none wrong when the records wrote them, and names each one that disagrees", async () => {
    const s = await open();
    const deadline = { startedAt: "2026-12-01T00:00:00.000Z" } as unknown as NonNullable<CaseRecord["deadline"]>;
    const a = { ...record("C-1"), role: "handling" as const, deadline, snapshot: { ...record("C-1").snapshot, state: CaseState.ACCEPTED } };
    const b = { ...record("C-2"), snapshot: { ...record("C-2").snapshot, state: CaseState.REFUSED } };
    await s.batch([...caseOps(a), ...caseOps(b), ...jointOps({ jointCaseId: "j-9", overall: "open" } as unknown as JointRecord)]);
    expect(await checkIndexes(s)).toEqual([]);
    await s.batch([
      { type: "del", key: storeKeys.caseOpen.key(a.snapshot.caseId) },
      { type: "put", key: storeKeys.deadlineWatch.key(b.snapshot.caseId), value: new Uint8Array() },
      { type: "del", key: storeKeys.caseNumber.key("C-1", a.snapshot.caseId) },
      { type: "put", key: storeKeys.materialPartial.key(new Uint8Array(32).fill(7)), value: new Uint8Array() },
    ]);
    const problems = await checkIndexes(s);
    expect(problems).toHaveLength(4);
    expect(problems.join("\n")).toMatch(/case-open: .* is missing from the index/);
    expect(problems.join("\n")).toMatch(/deadline-watch: .* is in the index but no record says so/);
    expect(problems.join("\n")).toMatch(/case-number: C-1 .* is missing/);
    expect(problems.join("\n")).toMatch(/material-partial: an upload of 0707/);
  });
});
