import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newMessageId } from "@tongban/sdk";
import { CaseState, HandlingMode } from "@tongban/sdk/gen";
import { afterEach, describe, expect, it } from "vitest";
import { storeKeys } from "../store/keys.js";
import { openLevelStore, type LevelStore } from "../store/level-store.js";
import { caseByNumber, caseOps, indexCaseNumbers, type CaseRecord } from "./case-effects.js";

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

describe("case numbers (办件编号)", () => {
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
    expect(await indexCaseNumbers(s)).toBe(2);
    expect((await caseByNumber(s, "JS-2"))?.snapshot.caseId).toBe(old[1]!.snapshot.caseId);
    // A second start finds the index built and does not walk the cases again (the entry removed here stays removed).
    await s.batch([{ type: "del", key: storeKeys.caseNumber.key("JS-1", old[0]!.snapshot.caseId) }]);
    expect(await indexCaseNumbers(s)).toBe(0);
    expect(await caseByNumber(s, "JS-1")).toBeUndefined();
  });
});
