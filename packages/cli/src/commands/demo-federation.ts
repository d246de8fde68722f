import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalFederation, type LocalFederation } from "@tongban/node";
import { expandBundle, maskPersonalId, type JointBundle, type PlatformClient } from "@tongban/sdk";
import { CaseState, DecisionOutcome, DeliveryMethod, EvaluationRating, HandlingMode, IdentityDocumentType, JointTaskState, MessageStatus, MessageType, type CaseView, type JointCaseView } from "@tongban/sdk/gen";
import type { Output } from "../output.js";

/** The example mapping tables (examples/mapping), found by walking up from this module. */
export function exampleTables(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "examples", "mapping");
    if (existsSync(join(candidate, "catalog.json"))) return candidate;
    dir = dirname(dir);
  }
  throw new TypeError("the demo needs the example mapping tables (examples/mapping in the Tongban repository)");
}

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const JIASHAN = "cn.330421.jiashan";
const LABEL: Record<string, string> = { [QINGPU]: "青浦", [WUJIANG]: "吴江", [JIASHAN]: "嘉善" };

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`the demo timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * `tongban demo`: three real reference nodes — 青浦 (Shanghai), 吴江
 * (Jiangsu), 嘉善 (Zhejiang) — on 127.0.0.1 with a throwaway federation CA
 * and LevelDB in a temporary directory. An applicant registered in 吴江
 * applies at 青浦's window (异地代收代办): the item is resolved through the
 * mapping tables, the materials are uploaded and forwarded, 吴江 accepts,
 * decides and returns the result, 青浦 hands it over; a full-online case to
 * 嘉善 runs beside it. Prints both timelines and shuts the nodes down.
 */
export async function runFederationDemo(out: Output, keep: boolean, withConsole = false, pull = false): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "tongban-demo-"));
  let fed: LocalFederation | undefined;
  const consoleToken = `tbc_${randomBytes(12).toString("base64url")}`;
  const t0 = Date.now();
  const step = (site: string, text: string) => out.note(`[${((Date.now() - t0) / 1000).toFixed(2).padStart(5)}s] ${site.padEnd(4, "　")} ${text}`);
  try {
    out.note(`Tongban demo — three reference nodes on 127.0.0.1, data in ${keep ? dir : "a temporary directory (removed at the end)"}`);
    fed = await startLocalFederation({
      dir,
      tablesDir: exampleTables(),
      nodes: [
        { nodeId: QINGPU, label: "青浦" },
        { nodeId: WUJIANG, label: "吴江", signingAlgorithm: "EdDSA", ...(pull ? { delivery: "pull" as const, pullWaitMs: 5_000 } : {}) },
        { nodeId: JIASHAN, label: "嘉善" },
      ],
      compose: { outboxIntervalMs: 100 },
      ...(withConsole ? { console: { nodeId: QINGPU, operatorToken: consoleToken } } : {}),
    });
    for (const n of fed.nodes.values()) step(n.label, `node ${n.nodeId} up: federation ${n.node!.addresses!.federation} (mTLS), platform ${n.node!.addresses!.platform} (token)`);
    if (pull) step("吴江", "pull mode: partners never dial 吴江; it keeps a PullEvents stream open to each of them and answers with AcknowledgePulled");
    const qingpu = fed.node(QINGPU).platform!;
    const wujiang = fed.node(WUJIANG).platform!;
    const jiashan = fed.node(JIASHAN).platform!;
    const stateAt = (client: PlatformClient, caseId: string, state: CaseState) =>
      until(`case ${caseId} to reach ${CaseState[state]}`, async () => {
        const { view } = await client.getCase({ caseId });
        return view?.state === state ? view : undefined;
      });

    // 1. The window checks identity and resolves the item for the handling region.
    const idNumber = "11010519491231002X";
    const { resolved, resultJson } = await qingpu.resolveItem({ handlingRegion: "320509", item: "11310118310118012U000TB00000101", mode: HandlingMode.REMOTE_RECEIPT });
    const r = JSON.parse(resultJson) as { handling: { item: { name: string; implementationCode: string } }; promisedWorkingDays: number; materials: unknown[] };
    step("青浦", `resolve 补领结婚证 for 吴江 → ${resolved ? `"${r.handling.item.name}" (${r.handling.item.implementationCode.slice(-12)}), ${r.materials.length} materials, ${r.promisedWorkingDays} working day(s)` : "gap"}`);

    // 2. Materials are uploaded in chunks, by digest.
    const materials = [];
    for (const [code, name] of [["M001", "居民身份证"], ["M002", "户口本"], ["M003", "双人合影照片"]] as const) {
      const data = new TextEncoder().encode(`${name} — scanned copy for the demo`.repeat(4_000));
      const digest = createHash("sha256").update(data).digest();
      const up = await qingpu.uploadMaterial(
        (async function* () {
          for (let at = 0; at < data.length; at += 64 * 1024) yield { digest, digestAlgorithm: "sha256", totalSize: BigInt(data.length), offset: BigInt(at), data: data.subarray(at, at + 64 * 1024) };
        })(),
      );
      materials.push({ materialId: code, name, nationalCode: code, mediaType: "application/pdf", size: up.size, digest, digestAlgorithm: "sha256" });
    }
    step("青浦", `upload ${materials.length} materials (${materials.reduce((a, m) => a + Number(m.size), 0).toLocaleString("en")} bytes, streamed in 64 KiB chunks, verified by SHA-256)`);

    // 3. Submit: form in 青浦's field names, identity checked, forwarded encrypted to 吴江.
    const { view: submitted } = await qingpu.submitApplication({
      requestId: "demo-remote-receipt-1",
      handlingNode: WUJIANG,
      application: {
        mode: HandlingMode.REMOTE_RECEIPT,
        item: { receivingCode: "11310118310118012U000TB00000101" },
        applicant: { name: "张三", idType: IdentityDocumentType.RESIDENT_ID, idNumber, phone: "13800000000" },
        form: [
          { name: "申请人姓名", value: "张三" },
          { name: "出生日期", value: "19491231" },
          { name: "性别", value: "男" },
          { name: "联系地址", value: "江苏省|苏州市|吴江区中山南路1号" },
        ],
        materials,
        delivery: { method: DeliveryMethod.POST, postalAddress: "上海市青浦区公园路100号", recipientName: "张三", recipientPhone: "13800000000" },
      },
    });
    const caseId = submitted!.caseId;
    step("青浦", `形式审查 + 身份核验 (${maskPersonalId(idNumber)}), case ${caseId} ${CaseState[submitted!.state]}; tables ${submitted!.tables.map((t) => `${t.publisher}@${t.version}`).join(", ")}`);

    // 4. 吴江 receives it, accepts, decides and returns the result.
    await stateAt(wujiang, caseId, CaseState.DELIVERED);
    step("吴江", pull ? "case pulled: materials fetched first (FetchMaterial, by digest), submission decrypted, signed receipt answered (AcknowledgePulled)" : "case delivered: materials arrived first (PutMaterial), submission decrypted, signed receipt returned");
    await wujiang.actOnCase({ caseId, requestId: "demo-accept", action: { kind: { case: "acceptance", value: { promisedWorkingDays: r.promisedWorkingDays } } } });
    step("吴江", "受理 (accepted): the deadline clock starts");
    await wujiang.actOnCase({ caseId, requestId: "demo-decide", action: { kind: { case: "decision", value: { outcome: DecisionOutcome.APPROVED, summary: "准予补领" } } } });
    await wujiang.actOnCase({ caseId, requestId: "demo-result", action: { kind: { case: "result", value: { deliveryMethod: DeliveryMethod.POST, note: "结婚证已制证，邮寄至收件地" } } } });
    step("吴江", "办结 (decided) and result sent");
    await stateAt(qingpu, caseId, CaseState.RESULT_SENT);
    await qingpu.actOnCase({ caseId, requestId: "demo-delivered", action: { kind: { case: "deliveryConfirmation", value: { method: DeliveryMethod.POST, carrier: "EMS", waybillNumber: "EMS1097654321" } } } });
    await qingpu.actOnCase({ caseId, requestId: "demo-evaluate", action: { kind: { case: "evaluation", value: { rating: EvaluationRating.VERY_SATISFIED, comment: "不用跑两地" } } } });
    step("青浦", "result handed over (EMS waybill) and 好差评 recorded");
    const endQ = await stateAt(qingpu, caseId, CaseState.RESULT_DELIVERED);
    // The evaluation changes no state: wait until 吴江 has it on its timeline.
    const endW = await until("the evaluation at 吴江", async () => {
      const { view } = await wujiang.getCase({ caseId });
      return view?.state === CaseState.RESULT_DELIVERED && view.timeline.some((t) => t.messageType === MessageType.EVALUATION) ? view : undefined;
    });
    await until("every message acknowledged", async () => {
      for (const [client, view] of [[qingpu, endQ], [wujiang, endW]] as const) {
        for (const t of view.timeline) {
          if (t.messageId === "" || t.site !== (client === qingpu ? QINGPU : WUJIANG)) continue;
          if ((await client.getMessageStatus({ messageId: t.messageId })).status !== MessageStatus.ACKNOWLEDGED) return undefined;
        }
      }
      return true;
    });

    // 5. A full-online case to 嘉善 beside it.
    const { view: online } = await qingpu.submitApplication({
      requestId: "demo-full-online-1",
      handlingNode: JIASHAN,
      application: {
        mode: HandlingMode.FULL_ONLINE,
        item: { receivingCode: "11310118310118012U000TB00000101" },
        applicant: { name: "李四", idType: IdentityDocumentType.RESIDENT_ID, idNumber },
        form: [
          { name: "申请人姓名", value: "李四" },
          { name: "出生日期", value: "19491231" },
          { name: "性别", value: "男" },
          { name: "联系地址", value: "浙江省|嘉兴市|嘉善县罗星街道" },
        ],
        materials,
      },
    });
    await stateAt(jiashan, online!.caseId, CaseState.DELIVERED);
    await jiashan.actOnCase({ caseId: online!.caseId, requestId: "demo-online-refuse", action: { kind: { case: "refusal", value: { explanation: "申请人已在嘉善办结同一事项" } } } });
    await stateAt(qingpu, online!.caseId, CaseState.REFUSED);
    step("嘉善", `full-online case ${online!.caseId}: delivered, then refused (不予受理) with a reason; 青浦 sees REFUSED`);

    // 6. A joint case (多地联办): 跨省迁户一件事 led by 青浦, sub-tasks at 吴江 (origin) and 嘉善 (destination).
    const bundle = JSON.parse(await readFile(join(dirname(exampleTables()), "bundles", "household-move.json"), "utf8")) as JointBundle;
    const plan = expandBundle(bundle, { origin: WUJIANG, destination: JIASHAN }).map((t) => ({ taskId: t.taskId, site: t.site, item: { basicCode: t.item }, dependsOn: [...(t.dependsOn ?? [])], materials: (t.materials ?? []).map((m) => ({ materialId: m })) }));
    const { view: jointOpened } = await qingpu.submitJointCase({
      requestId: "demo-joint-1",
      bundle: bundle.name,
      plan,
      applicant: { name: "王五", idType: IdentityDocumentType.RESIDENT_ID, idNumber },
      materials: materials.slice(0, 2),
    });
    const jointId = jointOpened!.jointCaseId;
    step("青浦", `joint case ${jointId} (${bundle.title}): ${jointOpened!.tasks.map((t) => `${t.taskId}@${LABEL[t.site]} ${JointTaskState[t.state]}`).join(", ")}`);
    const sitePlatform: Record<string, PlatformClient> = { [WUJIANG]: wujiang, [JIASHAN]: jiashan };
    const taskState = async (client: PlatformClient, taskId: string) => JointTaskState[(await client.getJointCase({ jointCaseId: jointId })).view?.tasks.find((t) => t.taskId === taskId)?.state ?? 0];
    for (const taskId of ["hukou-out", "pension-out", "hukou-in", "pension-in"]) {
      const site = plan.find((t) => t.taskId === taskId)!.site;
      const client = sitePlatform[site]!;
      await until(`${taskId} assigned at ${LABEL[site]}`, async () => ((await taskState(client, taskId)) === "ASSIGNED" ? true : undefined));
      await client.actOnCase({ caseId: jointId, requestId: `demo-${taskId}-accept`, action: { kind: { case: "jointTaskResponse", value: { taskId, accepted: true } } } });
      await client.actOnCase({ caseId: jointId, requestId: `demo-${taskId}-done`, action: { kind: { case: "jointTaskResult", value: { taskId, success: true, summary: `${taskId} 办结` } } } });
      step(LABEL[site] ?? site, `sub-task ${taskId} accepted and completed`);
    }
    const jointEnd = await until("the joint case to complete", async () => {
      const { view } = await qingpu.getJointCase({ jointCaseId: jointId });
      return view?.overall === "completed" ? view : undefined;
    });
    const jointSites = await Promise.all([WUJIANG, JIASHAN].map(async (s) => until(`overall at ${LABEL[s]}`, async () => {
      const { view } = await sitePlatform[s]!.getJointCase({ jointCaseId: jointId });
      return view?.overall === "completed" ? view : undefined;
    })));

    const rows = (site: string, v: CaseView) => v.timeline.map((t) => [site, t.at === undefined ? "" : new Date(Number(t.at.seconds) * 1000 + t.at.nanos / 1e6).toISOString().slice(11, 23), LABEL[t.site] ?? t.site, MessageType[t.messageType] ?? "", CaseState[t.state] ?? "", t.note]);
    out.line();
    out.line(`Case ${caseId} — 补领结婚证, applicant of 吴江 (Jiangsu) at 青浦's window (Shanghai), 异地代收代办`);
    out.table(["node", "time (UTC)", "from", "message", "state", "note"], [...rows("青浦", endQ), ...rows("吴江", endW)]);
    out.line(`Final state: 青浦 ${CaseState[endQ.state]}, 吴江 ${CaseState[endW.state]}; every message receipted.`);
    out.line();
    out.line(`Joint case ${jointId} — ${bundle.title}, led by 青浦`);
    const jointRows = (site: string, v: JointCaseView) => v.timeline.map((t) => [site, t.at === undefined ? "" : new Date(Number(t.at.seconds) * 1000 + t.at.nanos / 1e6).toISOString().slice(11, 23), LABEL[t.site] ?? t.site, t.note]);
    out.table(["node", "time (UTC)", "from", "step"], [...jointRows("青浦", jointEnd), ...jointRows("吴江", jointSites[0]!), ...jointRows("嘉善", jointSites[1]!)]);
    out.line(`Joint outcome: ${jointEnd.overall} at 青浦, ${jointSites.map((v) => v.overall).join(" and ")} at 吴江 and 嘉善. Took ${((Date.now() - t0) / 1000).toFixed(1)} s.`);
    out.result({
      ok: true,
      caseId,
      final: { [QINGPU]: CaseState[endQ.state], [WUJIANG]: CaseState[endW.state] },
      timelines: { [QINGPU]: endQ.timeline.map((t) => ({ site: t.site, type: MessageType[t.messageType], state: CaseState[t.state], note: t.note })), [WUJIANG]: endW.timeline.map((t) => ({ site: t.site, type: MessageType[t.messageType], state: CaseState[t.state], note: t.note })) },
      fullOnline: { caseId: online!.caseId, final: "REFUSED" },
      joint: { jointCaseId: jointId, overall: jointEnd.overall, tasks: jointEnd.tasks.map((t) => ({ taskId: t.taskId, site: t.site, state: JointTaskState[t.state] })), sites: { [WUJIANG]: jointSites[0]!.overall, [JIASHAN]: jointSites[1]!.overall } },
      ...(keep ? { dir } : {}),
    });
    if (withConsole && fed?.consoleUrl !== undefined) {
      out.line();
      out.line(`Operator console of 青浦: ${fed.consoleUrl}  — sign in with the token ${consoleToken} (operator). The nodes keep running; Ctrl-C stops them.`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      });
    }
  } finally {
    await fed?.stop();
    out.note("nodes stopped");
    if (!keep) await rm(dir, { recursive: true, force: true });
  }
}
