/**
 * Pull mode end to end (docs/protocol.md "Pull mode"), over real mutual-TLS gRPC with LevelDB on disk: 吴江 takes no
 * inbound connections — its partners list it without an address — and collects what they queue for it with
 * PullEvents, answering with AcknowledgePulled; 青浦 and 嘉善 are ordinary push nodes.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { clientCredentials, createGrpcClient, expandBundle, type JointBundle, type PlatformClient } from "@tongban/sdk";
import { CaseState, FederationService, JointTaskState, MessageStatus, MessageType } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consolePage, expectReceipts, stateAt, submitApplication, until, uploadMaterials } from "./e2e-helpers.js";
import { startLocalFederation, type LocalFederation } from "./local-federation.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const JIASHAN = "cn.330421.jiashan";
const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "examples");
const TABLES = join(EXAMPLES, "mapping");

const CONSOLE_TOKEN = "tbp_pull-e2e-operator";
let dir: string;
let fed: LocalFederation;
const platform = (id: string): PlatformClient => fed.node(id).platform!;
type Action = NonNullable<Parameters<PlatformClient["actOnCase"]>[0]["action"]>;
const act = async (node: string, caseId: string, action: Action) => (await platform(node).actOnCase({ caseId, requestId: `act-${Math.random()}`, action })).view!;

async function metric(node: string, pattern: RegExp): Promise<string | undefined> {
  return pattern.exec(await fed.node(node).node!.components.metrics.registry.metrics())?.[1];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-pull-"));
  fed = await startLocalFederation({
    dir,
    tablesDir: TABLES,
    nodes: [
      { nodeId: QINGPU, label: "青浦" },
      { nodeId: WUJIANG, label: "吴江", delivery: "pull", pullWaitMs: 2_000 },
      { nodeId: JIASHAN, label: "嘉善" },
    ],
    retry: { baseDelayMs: 100, minDelayMs: 50, maxDelayMs: 400, deadlineMs: 60_000 },
    compose: { outboxIntervalMs: 50 },
    console: { nodeId: QINGPU, operatorToken: CONSOLE_TOKEN },
  });
}, 60_000);

afterAll(async () => {
  await fed?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("pull mode: 吴江 takes no connections and pulls", () => {
  it("runs a remote-receipt case with a correction loop: materials fetched by digest, receipts both ways, same final state", async () => {
    const caseId = await submitApplication(platform(QINGPU), WUJIANG, `pull-${Math.random()}`);
    const delivered = await stateAt(platform(WUJIANG), caseId, CaseState.DELIVERED);
    expect(delivered.role).toBe("handling");
    // Nothing was pushed to 吴江 (it has no address): its materials came by FetchMaterial and match their digests.
    const w = fed.node(WUJIANG).composed!;
    expect(fed.node(QINGPU).composed!.materialTransfers.get(WUJIANG) ?? 0).toBe(0);
    // 青浦 marks it delivered when 吴江's answer (AcknowledgePulled) arrives, just after 吴江 has it.
    await stateAt(platform(QINGPU), caseId, CaseState.DELIVERED);

    await act(WUJIANG, caseId, { kind: { case: "correctionRequest", value: { items: [{ target: "M003", targetKind: "material", reason: "照片不清晰" }] } } });
    await stateAt(platform(QINGPU), caseId, CaseState.CORRECTION_REQUESTED);
    const [photo] = await uploadMaterials(platform(QINGPU), `clearer ${Math.random()}`, ["M003"]);
    await act(QINGPU, caseId, { kind: { case: "correctionResponse", value: { materials: [photo!], note: "已补正" } } });
    await stateAt(platform(WUJIANG), caseId, CaseState.CORRECTED);
    expect(await w.materials.has(photo!.digest)).toBe(true);

    await act(WUJIANG, caseId, { kind: { case: "acceptance", value: {} } });
    await act(WUJIANG, caseId, { kind: { case: "decision", value: { outcome: 1 } } });
    await act(WUJIANG, caseId, { kind: { case: "result", value: { deliveryMethod: 1 } } });
    await stateAt(platform(QINGPU), caseId, CaseState.RESULT_SENT);
    await act(QINGPU, caseId, { kind: { case: "deliveryConfirmation", value: { method: 1 } } });
    const endW = await stateAt(platform(WUJIANG), caseId, CaseState.RESULT_DELIVERED);
    const endQ = await stateAt(platform(QINGPU), caseId, CaseState.RESULT_DELIVERED);
    expect(await expectReceipts(fed, QINGPU, WUJIANG, endQ)).toBe(3); // submission, correction, delivery confirmation — all pulled
    expect(await expectReceipts(fed, WUJIANG, QINGPU, endW)).toBe(4); // correction request, acceptance, decision, result — pushed
    expect(fed.node(QINGPU).composed!.materialTransfers.get(WUJIANG) ?? 0).toBe(0);
    expect(Number(await metric(WUJIANG, new RegExp(`tongban_pulled_total\\{partner="${QINGPU}",result="taken",node_id="${WUJIANG}"\\} (\\d+)`)))).toBeGreaterThanOrEqual(3);
    expect(await metric(WUJIANG, new RegExp(`tongban_pull_connected\\{partner="${QINGPU}",node_id="${WUJIANG}"\\} (\\d)`))).toBe("1");
    expect(w.puller!.states().get(QINGPU)).toMatchObject({ connected: true });
  }, 60_000);

  it("pulls from every push partner", async () => {
    const states = await until("pulling from both partners", async () => {
      const st = fed.node(WUJIANG).composed!.puller!.states();
      return st.get(QINGPU)?.connected === true && st.get(JIASHAN)?.connected === true ? st : undefined;
    });
    expect([...states.keys()].sort()).toEqual([QINGPU, JIASHAN].sort());
    expect(fed.node(JIASHAN).composed!.pulls.state(WUJIANG).connected).toBe(true);
    // 青浦's console shows 吴江 as a pull partner, connected.
    const html = await consolePage(fed.consoleUrl!, CONSOLE_TOKEN, "/partners?lang=en");
    const row = new RegExp(`<tr data-partner="${WUJIANG.replaceAll(".", "\\.")}">.*?</tr>`).exec(html)?.[0] ?? "";
    expect(row).toContain("<td>pull</td>");
    expect(row).toMatch(/class="pull">connected, \d+ waiting</);
  });

  it("queues while 吴江 is away and delivers in per-case order once it pulls again", async () => {
    await fed.stopNode(WUJIANG);
    const caseId = await submitApplication(platform(QINGPU), WUJIANG, `pull-offline-${Math.random()}`);
    await act(QINGPU, caseId, { kind: { case: "statusUpdate", value: { state: CaseState.FORWARDED, note: "材料原件已寄出" } } });
    await act(QINGPU, caseId, { kind: { case: "withdrawal", value: { reason: "申请人撤回" } } });
    const view = (await platform(QINGPU).getCase({ caseId })).view!;
    const submissionId = view.timeline.find((t) => t.messageId !== "")!.messageId;
    const withdrawalId = view.timeline.at(-1)!.messageId;
    // A pull partner that is not connected is unreachable, like a push partner that refuses connections.
    const waiting = await until("a failed first attempt", async () => {
      const s = await platform(QINGPU).getMessageStatus({ messageId: submissionId });
      return s.attempts >= 1 && s.status === MessageStatus.RETRY_WAIT ? s : undefined;
    }, 20_000);
    expect(waiting.lastError).toMatch(/TRANSPORT_UNAVAILABLE.*not connected/);
    expect(await metric(QINGPU, new RegExp(`tongban_partner_unreachable\\{destination="${WUJIANG}",node_id="${QINGPU}"\\} (\\d)`))).toBe("1");

    await fed.startNode(WUJIANG);
    const w = await stateAt(platform(WUJIANG), caseId, CaseState.WITHDRAWN);
    expect(w.timeline.map((t) => MessageType[t.messageType])).toEqual(["APPLICATION_SUBMISSION", "STATUS_UPDATE", "WITHDRAWAL"]);
    await until("withdrawal acknowledged", async () => ((await platform(QINGPU).getMessageStatus({ messageId: withdrawalId })).status === MessageStatus.ACKNOWLEDGED ? true : undefined));
    // Its connecting closed the breaker at once (not after the breaker's backoff).
    expect(await metric(QINGPU, new RegExp(`tongban_partner_unreachable\\{destination="${WUJIANG}",node_id="${QINGPU}"\\} (\\d)`))).toBe("0");
  }, 60_000);

  it("takes part in a joint case (多地联办) led by 青浦: assignments pulled, their materials fetched by digest, results back", async () => {
    const bundle = JSON.parse(readFileSync(join(EXAMPLES, "bundles", "household-move.json"), "utf8")) as JointBundle;
    const digests: Uint8Array[] = [];
    for (const text of ["居民身份证 王五", "户口簿 王五"]) {
      const data = new TextEncoder().encode(`${text} ${Math.random()}`);
      const digest = createHash("sha256").update(data).digest();
      await platform(QINGPU).uploadMaterial((async function* () {
        yield { digest, digestAlgorithm: "sha256", totalSize: BigInt(data.length), offset: 0n, data };
      })());
      digests.push(digest);
    }
    const plan = expandBundle(bundle, { origin: WUJIANG, destination: JIASHAN }).map((t) => ({ taskId: t.taskId, site: t.site, item: { basicCode: t.item }, dependsOn: [...(t.dependsOn ?? [])], materials: (t.materials ?? []).map((m) => ({ materialId: m })) }));
    const { view } = await platform(QINGPU).submitJointCase({
      requestId: `pull-joint-${Math.random()}`,
      bundle: bundle.name,
      plan,
      applicant: { name: "王五", idNumber: "11010519491231002X" },
      materials: [
        { materialId: "M001", name: "居民身份证", nationalCode: "M001", digest: digests[0]! },
        { materialId: "M002", name: "户口簿", nationalCode: "M002", digest: digests[1]! },
      ],
    });
    const id = view!.jointCaseId;
    const taskAt = (node: string, taskId: string, state: string) =>
      until(`${taskId} ${state} at ${node}`, async () => {
        const v = (await platform(node).getJointCase({ jointCaseId: id })).view!;
        return JointTaskState[v.tasks.find((t) => t.taskId === taskId)?.state ?? 0] === state ? v : undefined;
      });
    const step = (node: string, taskId: string) =>
      platform(node)
        .actOnCase({ caseId: id, requestId: `r-${Math.random()}`, action: { kind: { case: "jointTaskResponse", value: { taskId, accepted: true, explanation: "" } } } })
        .then(() => platform(node).actOnCase({ caseId: id, requestId: `f-${Math.random()}`, action: { kind: { case: "jointTaskResult", value: { taskId, success: true, summary: `${taskId} done` } } } }));
    await taskAt(WUJIANG, "hukou-out", "ASSIGNED");
    // 吴江 is not the joint case's partner at 青浦: it may fetch these materials only because an envelope waiting for it names them.
    const joint = await fed.node(WUJIANG).composed!.joint.get(id);
    expect(joint!.materials.length).toBeGreaterThan(0);
    for (const m of joint!.materials) expect(await fed.node(WUJIANG).composed!.materials.has(m.digest)).toBe(true);
    await step(WUJIANG, "hukou-out");
    await taskAt(JIASHAN, "hukou-in", "ASSIGNED");
    await step(JIASHAN, "hukou-in");
    await taskAt(WUJIANG, "pension-out", "ASSIGNED");
    await step(WUJIANG, "pension-out");
    await taskAt(JIASHAN, "pension-in", "ASSIGNED");
    await step(JIASHAN, "pension-in");
    for (const node of [QINGPU, WUJIANG]) await until(`completed at ${node}`, async () => ((await platform(node).getJointCase({ jointCaseId: id })).view?.overall === "completed" ? true : undefined));
    expect(fed.node(QINGPU).composed!.materialTransfers.get(WUJIANG) ?? 0).toBe(0);
  }, 60_000);

  it("PullEvents hands a caller only what waits for its own node id", async () => {
    // 嘉善 asks 青浦 for what waits for it while a message for 吴江 is parked at 青浦 (吴江 pulls and answers it).
    const q = fed.node(QINGPU).composed!;
    const tls = fed.node(JIASHAN).certificates.tls;
    const client = createGrpcClient(FederationService, fed.node(QINGPU).node!.addresses!.federation, clientCredentials({ ca: fed.root.certificatePem, cert: tls.certificatePem, key: tls.privateKeyPem, expectedNodeId: QINGPU }), { defaultTimeoutMs: 10_000 });
    const seen: string[] = [];
    const controller = new AbortController();
    const peek = (async () => {
      for await (const ev of client.pullEvents({ after: "", max: 10, waitMs: 3_000 }, { signal: controller.signal, timeoutMs: 10_000 })) seen.push(ev.cursor);
    })();
    const caseId = await submitApplication(platform(QINGPU), WUJIANG, `pull-other-${Math.random()}`);
    await stateAt(platform(WUJIANG), caseId, CaseState.DELIVERED);
    await peek.catch(() => undefined);
    expect(seen).toEqual([]);
    expect(q.pulls.state(JIASHAN).waiting).toBe(0);
    // And an answer for a cursor it was never given changes nothing.
    const res = await client.acknowledgePulled({ acknowledgements: [{ cursor: "AAAAAAAA.1", outcome: { case: "refusal", value: { code: "AUTH_NOT_ALLOWED", message: "no" } } }] });
    expect(res).toMatchObject({ accepted: 0, unknown: ["AAAAAAAA.1"] });
    client.close();
  }, 30_000);
});
