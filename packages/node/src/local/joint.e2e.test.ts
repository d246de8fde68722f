/**
 * Joint handling (多地联办) across three real nodes over mTLS with LevelDB:
 * 青浦 leads a 跨省迁户一件事 with sub-tasks at 吴江 (origin) and 嘉善
 * (destination), driven only through the platform APIs.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TongbanError, expandBundle, type JointBundle, type PlatformClient } from "@tongban/sdk";
import { JointTaskState, type JointCaseView } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jointOps, readJoint } from "../handlers/joint.js";
import { storeKeys } from "../store/keys.js";
import { until } from "./e2e-helpers.js";
import { startLocalFederation, type LocalFederation } from "./local-federation.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const JIASHAN = "cn.330421.jiashan";
const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "examples");
const bundle = JSON.parse(readFileSync(join(EXAMPLES, "bundles", "household-move.json"), "utf8")) as JointBundle;

let dir: string;
let fed: LocalFederation;
const platform = (id: string): PlatformClient => fed.node(id).platform!;

const view = async (node: string, id: string) => (await platform(node).getJointCase({ jointCaseId: id })).view!;
const taskState = (v: JointCaseView, taskId: string) => JointTaskState[v.tasks.find((t) => t.taskId === taskId)?.state ?? 0];
const taskAt = (node: string, id: string, taskId: string, state: string) =>
  until(`${taskId} ${state} at ${node}`, async () => {
    const v = await view(node, id);
    return taskState(v, taskId) === state ? v : undefined;
  });
const overallAt = (node: string, id: string, overall: string) =>
  until(`overall ${overall} at ${node}`, async () => {
    const v = await view(node, id);
    return v.overall === overall ? v : undefined;
  });
const respond = (node: string, id: string, taskId: string, accepted: boolean, explanation = "") =>
  platform(node).actOnCase({ caseId: id, requestId: `r-${Math.random()}`, action: { kind: { case: "jointTaskResponse", value: { taskId, accepted, explanation } } } });
const finish = (node: string, id: string, taskId: string, success = true) =>
  platform(node).actOnCase({ caseId: id, requestId: `f-${Math.random()}`, action: { kind: { case: "jointTaskResult", value: { taskId, success, summary: `${taskId} done at ${node}` } } } });

async function upload(text: string) {
  const data = new TextEncoder().encode(text);
  const digest = createHash("sha256").update(data).digest();
  await platform(QINGPU).uploadMaterial((async function* () {
    yield { digest, digestAlgorithm: "sha256", totalSize: BigInt(data.length), offset: 0n, data };
  })());
  return digest;
}

async function submit(requestId: string) {
  const m1 = await upload(`居民身份证 ${requestId}`);
  const m2 = await upload(`户口簿 ${requestId}`);
  const plan = expandBundle(bundle, { origin: WUJIANG, destination: JIASHAN }).map((t) => ({ taskId: t.taskId, site: t.site, item: { basicCode: t.item }, dependsOn: [...(t.dependsOn ?? [])], materials: (t.materials ?? []).map((m) => ({ materialId: m })) }));
  const { view: v } = await platform(QINGPU).submitJointCase({
    requestId,
    bundle: bundle.name,
    plan,
    applicant: { name: "王五", idNumber: "11010519491231002X" },
    materials: [
      { materialId: "M001", name: "居民身份证", nationalCode: "M001", digest: m1 },
      { materialId: "M002", name: "户口簿", nationalCode: "M002", digest: m2 },
    ],
  });
  return v!;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-joint-"));
  fed = await startLocalFederation({
    dir,
    tablesDir: join(EXAMPLES, "mapping"),
    nodes: [{ nodeId: QINGPU }, { nodeId: WUJIANG }, { nodeId: JIASHAN }],
    retry: { baseDelayMs: 100, minDelayMs: 50, maxDelayMs: 300, deadlineMs: 60_000 },
    compose: { outboxIntervalMs: 50 },
  });
}, 60_000);
afterAll(async () => {
  await fed?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("joint handling across three nodes", () => {
  it("completes the DAG in dependency order; each site gets each material once", async () => {
    const opened = await submit("move-1");
    const id = opened.jointCaseId;
    expect(opened.tasks.map((t) => [t.taskId, JointTaskState[t.state]])).toEqual([
      ["hukou-out", "ASSIGNED"],
      ["hukou-in", "BLOCKED"],
      ["pension-out", "ASSIGNED"],
      ["pension-in", "BLOCKED"],
    ]);
    await taskAt(WUJIANG, id, "hukou-out", "ASSIGNED");
    await taskAt(WUJIANG, id, "pension-out", "ASSIGNED");
    // Each assigned sub-task carries its due time (its item's promised working days), known at both ends.
    const due = (await fed.node(WUJIANG).composed!.joint.get(id))!.tasks["hukou-out"]!.dueAt;
    expect(due).toBeDefined();
    expect(new Date(due!).getTime()).toBeGreaterThan(Date.now());
    expect((await fed.node(QINGPU).composed!.joint.get(id))!.tasks["hukou-out"]!.dueAt).toBe(due);
    expect(await fed.node(QINGPU).composed!.joint.checkOverdue()).toEqual([]);
    // 嘉善 has nothing yet: its tasks wait for 吴江's.
    await expect(platform(JIASHAN).getJointCase({ jointCaseId: id })).rejects.toMatchObject({ code: "CASE_NOT_FOUND" });

    await respond(WUJIANG, id, "hukou-out", true);
    await finish(WUJIANG, id, "hukou-out");
    await taskAt(JIASHAN, id, "hukou-in", "ASSIGNED");
    expect(taskState(await view(QINGPU, id), "pension-in")).toBe("BLOCKED"); // still needs pension-out
    await respond(JIASHAN, id, "hukou-in", true);
    await finish(JIASHAN, id, "hukou-in");
    await respond(WUJIANG, id, "pension-out", true);
    await finish(WUJIANG, id, "pension-out");
    await taskAt(JIASHAN, id, "pension-in", "ASSIGNED");
    await respond(JIASHAN, id, "pension-in", true);
    await finish(JIASHAN, id, "pension-in");

    const lead = await overallAt(QINGPU, id, "completed");
    expect(lead.tasks.every((t) => t.state === JointTaskState.COMPLETED)).toBe(true);
    expect(lead.tasks.find((t) => t.taskId === "hukou-in")?.summary).toBe(`hukou-in done at ${JIASHAN}`);
    await overallAt(WUJIANG, id, "completed");
    await overallAt(JIASHAN, id, "completed");
    // Release order at the lead: hukou-in only after hukou-out completed, pension-in after both of its dependencies.
    const steps = lead.timeline.map((t) => t.note);
    const at = (text: string) => steps.findIndex((n) => n.includes(text));
    expect(at("complete → COMPLETED: hukou-out")).toBeLessThan(at("release → ASSIGNED: hukou-in"));
    expect(at("complete → COMPLETED: pension-out")).toBeLessThan(at("release → ASSIGNED: pension-in"));
    // Materials: each site got M001 and M002 once, though two tasks there name M001.
    const transfers = fed.node(QINGPU).composed!.materialTransfers;
    expect(transfers.get(WUJIANG)).toBe(2);
    expect(transfers.get(JIASHAN)).toBe(2);
    for (const site of [WUJIANG, JIASHAN]) {
      const j = await fed.node(site).composed!.joint.get(id);
      for (const m of j!.materials) expect(await fed.node(site).composed!.materials.has(m.digest)).toBe(true);
    }
  }, 30_000);

  it("a sub-task past its due time raises joint.task.overdue at the lead, once", async () => {
    const id = (await submit("late-1")).jointCaseId;
    const qingpu = fed.node(QINGPU);
    const store = qingpu.node!.components.store;
    // 吴江 takes longer than promised: move its task's due time into the past (as the calendar would, days later).
    const record = (await readJoint(store, id))!;
    const late = { ...record, tasks: { ...record.tasks, "hukou-out": { ...record.tasks["hukou-out"]!, dueAt: new Date(Date.now() - 60_000).toISOString() } } };
    await store.batch(jointOps(late));
    const raised = await qingpu.composed!.joint.checkOverdue();
    expect(raised.map((e) => [e.type, e.caseId, e.detail?.["taskId"]])).toEqual([["joint.task.overdue", id, "hukou-out"]]);
    expect(raised[0]!.alert).toBe(true);
    expect(await qingpu.composed!.joint.checkOverdue()).toEqual([]); // once
  });

  it("a refusal at 吴江 cancels the tasks that depend on it; the rest go on; the outcome is failed at every site", async () => {
    const { jointCaseId: id } = await submit("move-2");
    await taskAt(WUJIANG, id, "hukou-out", "ASSIGNED");
    await respond(WUJIANG, id, "hukou-out", false, "迁出地户籍信息不符");
    const afterRefusal = await taskAt(QINGPU, id, "hukou-in", "CANCELLED");
    expect(taskState(afterRefusal, "pension-in")).toBe("CANCELLED"); // depends on hukou-in
    expect(taskState(afterRefusal, "pension-out")).toBe("ASSIGNED"); // independent: goes on
    expect(afterRefusal.overall).toBe("open");
    await respond(WUJIANG, id, "pension-out", true);
    await finish(WUJIANG, id, "pension-out");
    await overallAt(QINGPU, id, "failed");
    await overallAt(WUJIANG, id, "failed");
    // 嘉善 never got a task of this case.
    await expect(platform(JIASHAN).getJointCase({ jointCaseId: id })).rejects.toMatchObject({ code: "CASE_NOT_FOUND" });
  }, 30_000);

  it("a site that goes down mid-case gets its assignment when it is back, and the case completes", async () => {
    const { jointCaseId: id } = await submit("move-3");
    await taskAt(WUJIANG, id, "hukou-out", "ASSIGNED");
    await fed.stopNode(JIASHAN);
    await respond(WUJIANG, id, "hukou-out", true);
    await finish(WUJIANG, id, "hukou-out");
    await taskAt(QINGPU, id, "hukou-in", "ASSIGNED"); // released at the lead, queued for 嘉善
    await new Promise((r) => setTimeout(r, 300));
    await fed.startNode(JIASHAN);
    await taskAt(JIASHAN, id, "hukou-in", "ASSIGNED");
    await respond(JIASHAN, id, "hukou-in", true);
    await finish(JIASHAN, id, "hukou-in");
    await respond(WUJIANG, id, "pension-out", true);
    await finish(WUJIANG, id, "pension-out");
    await taskAt(JIASHAN, id, "pension-in", "ASSIGNED");
    await expect(finish(JIASHAN, id, "pension-in")).rejects.toMatchObject({ code: "CASE_INVALID_TRANSITION" }); // not accepted yet
    await respond(JIASHAN, id, "pension-in", true);
    await finish(JIASHAN, id, "pension-in");
    await overallAt(JIASHAN, id, "completed");
  }, 40_000);

  it("refuses a cycle or an unresolvable item before anything is sent", async () => {
    const store = fed.node(QINGPU).node!.components.store;
    const count = async () => {
      let n = 0;
      for await (const _ of store.iterate(storeKeys.outbox.range())) n++;
      return n;
    };
    const before = await count();
    const code = (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof TongbanError ? `${e.code} ${JSON.stringify(e.details)}` : String(e)));
    const cycle = await code(platform(QINGPU).submitJointCase({ requestId: "cycle", plan: [
      { taskId: "a", site: WUJIANG, item: { basicCode: "00TB00000501" }, dependsOn: ["b"] },
      { taskId: "b", site: JIASHAN, item: { basicCode: "00TB00000502" }, dependsOn: ["a"] },
    ] }));
    expect(cycle).toMatch(/^JOINT_PLAN_INVALID .*cycle/);
    const gap = await code(platform(QINGPU).submitJointCase({ requestId: "gap", plan: [{ taskId: "a", site: WUJIANG, item: { basicCode: "00TB00000101" } }] }));
    expect(gap).toMatch(/^JOINT_PLAN_INVALID .*GAP_MODE_NOT_SUPPORTED/);
    expect(await count()).toBe(before);
  });
});
