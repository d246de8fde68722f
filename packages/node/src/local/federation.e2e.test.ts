/**
 * End to end over real mutual-TLS gRPC, with LevelDB on disk: three
 * reference nodes (青浦, 吴江, 嘉善) started from their own directories,
 * driven only through their PlatformService, as a city platform would.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TongbanError, type PlatformClient } from "@tongban/sdk";
import { fromBinary } from "@bufbuild/protobuf";
import { ApplicationSubmissionSchema, CaseState, DeliveryMethod, DecisionOutcome, EvaluationRating, HandlingMode, IdentityDocumentType, MessageStatus, MessageType, RefusalReason, type CaseView } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consolePage, expectReceipts, until } from "./e2e-helpers.js";
import { startLocalFederation, type LocalFederation } from "./local-federation.js";
import { checkIndexes } from "../handlers/index-check.js";
import { storeKeys } from "../store/keys.js";
import { openLevelStore } from "../store/level-store.js";
import type { BatchOp } from "../store/types.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const JIASHAN = "cn.330421.jiashan";
const TABLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "examples", "mapping");

let dir: string;
let fed: LocalFederation;
const platform = (id: string): PlatformClient => fed.node(id).platform!;

const CONSOLE_TOKEN = "tbp_console-e2e-operator";
/** The row of a partner on 青浦's console page of partners (signed in as its operator). */
async function partnerRow(partner: string): Promise<string> {
  const html = await consolePage(fed.consoleUrl!, CONSOLE_TOKEN, "/partners?lang=en");
  return new RegExp(`<tr data-partner="${partner.replaceAll(".", "\\.")}">.*?</tr>`).exec(html)?.[0] ?? "";
}
const stateOf = async (node: string, caseId: string, state: CaseState) =>
  until(`${node} case ${caseId} at ${CaseState[state]}`, async () => {
    const { view } = await platform(node).getCase({ caseId });
    return view?.state === state ? view : undefined;
  });

async function upload(node: string, text: string): Promise<{ digest: Uint8Array; size: bigint }> {
  const data = new TextEncoder().encode(text);
  const digest = createHash("sha256").update(data).digest();
  async function* chunks() {
    for (let at = 0; at < data.length; at += 7) yield { digest, digestAlgorithm: "sha256", totalSize: BigInt(data.length), offset: BigInt(at), data: data.subarray(at, at + 7) };
  }
  const res = await platform(node).uploadMaterial(chunks());
  return { digest: res.digest, size: res.size };
}

/** 张三 of 吴江 at 青浦's window: 补领结婚证 with its three materials, form in 青浦's field names. */
async function application(at: string, mode = HandlingMode.REMOTE_RECEIPT) {
  const materials = [];
  for (const [code, name] of [["M001", "居民身份证"], ["M002", "户口本"], ["M003", "双人合影照片"]] as const) {
    const m = await upload(at, `${name} of 张三 (${code}) ${Math.random()}`);
    materials.push({ materialId: code, name, nationalCode: code, mediaType: "application/pdf", size: m.size, digest: m.digest, digestAlgorithm: "sha256" });
  }
  return {
    mode,
    item: { receivingCode: "11310118310118012U000TB00000101" },
    applicant: { name: "张三", idType: IdentityDocumentType.RESIDENT_ID, idNumber: "11010519491231002X", phone: "13800000000" },
    form: [
      { name: "申请人姓名", value: "张三" },
      { name: "出生日期", value: "19491231" },
      { name: "性别", value: "男" },
      { name: "联系地址", value: "江苏省|苏州市|吴江区中山南路1号" },
    ],
    materials,
    delivery: { method: DeliveryMethod.POST, postalAddress: "上海市青浦区", recipientName: "张三", recipientPhone: "13800000000" },
  };
}

async function submit(mode = HandlingMode.REMOTE_RECEIPT): Promise<CaseView> {
  const { view } = await platform(QINGPU).submitApplication({ requestId: `req-${Math.random()}`, handlingNode: WUJIANG, application: await application(QINGPU, mode) });
  return view!;
}
const act = async (node: string, caseId: string, action: NonNullable<Parameters<PlatformClient["actOnCase"]>[0]["action"]>) =>
  (await platform(node).actOnCase({ caseId, requestId: `act-${Math.random()}`, action })).view!;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-e2e-"));
  fed = await startLocalFederation({
    dir,
    tablesDir: TABLES,
    nodes: [
      { nodeId: QINGPU, label: "青浦" },
      { nodeId: WUJIANG, label: "吴江", signingAlgorithm: "EdDSA" },
      { nodeId: JIASHAN, label: "嘉善" },
    ],
    retry: { baseDelayMs: 100, minDelayMs: 50, maxDelayMs: 400, deadlineMs: 6_000 },
    compose: { outboxIntervalMs: 50 },
    console: { nodeId: QINGPU, operatorToken: CONSOLE_TOKEN },
  });
}, 60_000);

afterAll(async () => {
  await fed?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("remote receipt (异地代收代办) across three real nodes", () => {
  it("goes through a correction loop to the result delivered, with the same final state on both nodes and receipts for every message", async () => {
    const submitted = await submit();
    expect(submitted.state).toBe(CaseState.FORWARDED);
    expect(submitted.tables.length).toBeGreaterThanOrEqual(3); // catalog, both implementation lists, agreements
    const caseId = submitted.caseId;
    const atWujiang = await stateOf(WUJIANG, caseId, CaseState.DELIVERED);
    expect(atWujiang.role).toBe("handling");
    expect(atWujiang.item?.handlingCode).toBe("11320509320509017Y000TB00000101");
    expect(atWujiang.tables.map((t) => t.version)).toEqual(submitted.tables.map((t) => t.version));
    // The materials arrived at 吴江 before the case: 吴江 can fetch them over its own store.
    const composed = fed.node(WUJIANG).composed!;
    const stored = fromBinary(ApplicationSubmissionSchema, Buffer.from((await composed.desk.get(caseId))!.submission!, "base64"));
    expect(stored.materials).toHaveLength(3);
    for (const m of stored.materials) expect(await composed.materials.has(m.digest)).toBe(true);
    expect(stored.form.map((f) => f.name)).toEqual(["姓名", "出生年月日", "性别代码", "省份", "城市", "详细地址"]); // 吴江's own field names
    await stateOf(QINGPU, caseId, CaseState.DELIVERED);

    await act(WUJIANG, caseId, { kind: { case: "correctionRequest", value: { items: [{ target: "M003", targetKind: "material", reason: "照片不清晰" }], note: "请补正合影照片" } } });
    await stateOf(QINGPU, caseId, CaseState.CORRECTION_REQUESTED);
    const photo = await upload(QINGPU, "a clearer photo");
    await act(QINGPU, caseId, { kind: { case: "correctionResponse", value: { materials: [{ materialId: "M003", name: "双人合影照片", nationalCode: "M003", size: photo.size, digest: photo.digest, digestAlgorithm: "sha256" }], note: "已补正" } } });
    await stateOf(WUJIANG, caseId, CaseState.CORRECTED);
    expect(await composed.materials.has(photo.digest)).toBe(true);

    await act(WUJIANG, caseId, { kind: { case: "acceptance", value: { caseNumber: "", promisedWorkingDays: 1 } } });
    const accepted = await stateOf(WUJIANG, caseId, CaseState.ACCEPTED);
    expect(accepted.deadline?.workingDays).toBe(1);
    await act(WUJIANG, caseId, { kind: { case: "decision", value: { outcome: DecisionOutcome.APPROVED, summary: "准予补领" } } });
    await act(WUJIANG, caseId, { kind: { case: "result", value: { deliveryMethod: DeliveryMethod.POST, note: "结婚证已制证" } } });
    await stateOf(QINGPU, caseId, CaseState.RESULT_SENT);
    await act(QINGPU, caseId, { kind: { case: "deliveryConfirmation", value: { method: DeliveryMethod.POST, carrier: "EMS", waybillNumber: "EMS1234567890" } } });
    await act(QINGPU, caseId, { kind: { case: "evaluation", value: { rating: EvaluationRating.VERY_SATISFIED, comment: "很方便" } } });

    const endQ = await stateOf(QINGPU, caseId, CaseState.RESULT_DELIVERED);
    const endW = await stateOf(WUJIANG, caseId, CaseState.RESULT_DELIVERED);
    await until("evaluation at 吴江", async () => ((await platform(WUJIANG).getCase({ caseId })).view?.timeline.some((t) => t.note === "很方便") ? true : undefined));
    expect(endQ.timeline.some((t) => t.note === "EMS1234567890")).toBe(true);
    expect(await expectReceipts(fed, QINGPU, WUJIANG, endQ)).toBe(4); // submission, correction, delivery confirmation, evaluation
    expect(await expectReceipts(fed, WUJIANG, QINGPU, endW)).toBe(4); // correction request, acceptance, decision, result
  });

  it("a refusal ends the case REFUSED on both nodes", async () => {
    const { caseId } = await submit();
    await stateOf(WUJIANG, caseId, CaseState.DELIVERED);
    await act(WUJIANG, caseId, { kind: { case: "refusal", value: { reason: RefusalReason.NOT_IN_SCOPE, explanation: "不属于本机关职权范围" } } });
    const q = await stateOf(QINGPU, caseId, CaseState.REFUSED);
    expect(q.timeline.at(-1)?.note).toBe("不属于本机关职权范围");
    await stateOf(WUJIANG, caseId, CaseState.REFUSED);
    // Nothing may follow a refusal but the evaluation.
    await expect(act(WUJIANG, caseId, { kind: { case: "acceptance", value: {} } })).rejects.toMatchObject({ code: "CASE_INVALID_TRANSITION" });
  });

  it("a withdrawal by the applicant ends the case WITHDRAWN on both nodes", async () => {
    const { caseId } = await submit();
    await stateOf(WUJIANG, caseId, CaseState.DELIVERED);
    await act(WUJIANG, caseId, { kind: { case: "acceptance", value: {} } });
    await stateOf(QINGPU, caseId, CaseState.ACCEPTED);
    await act(QINGPU, caseId, { kind: { case: "withdrawal", value: { reason: "申请人撤回" } } });
    await stateOf(WUJIANG, caseId, CaseState.WITHDRAWN);
    const q = await stateOf(QINGPU, caseId, CaseState.WITHDRAWN);
    await expectReceipts(fed, QINGPU, WUJIANG, q);
  });

  it("full online (全程网办): submitted through 青浦's platform, handled at 吴江, result delivered electronically", async () => {
    const submitted = await submit(HandlingMode.FULL_ONLINE);
    expect(submitted.state).toBe(CaseState.SUBMITTED);
    const { caseId } = submitted;
    await stateOf(WUJIANG, caseId, CaseState.DELIVERED);
    await act(WUJIANG, caseId, { kind: { case: "acceptance", value: {} } });
    await act(WUJIANG, caseId, { kind: { case: "decision", value: { outcome: DecisionOutcome.APPROVED } } });
    await act(WUJIANG, caseId, { kind: { case: "result", value: { deliveryMethod: DeliveryMethod.ELECTRONIC } } });
    await act(WUJIANG, caseId, { kind: { case: "deliveryConfirmation", value: { method: DeliveryMethod.ELECTRONIC, electronicChannel: "随申办" } } });
    await stateOf(QINGPU, caseId, CaseState.RESULT_DELIVERED);
    await stateOf(WUJIANG, caseId, CaseState.RESULT_DELIVERED);
  });

  it("refuses bad submissions with codes and keeps nothing", async () => {
    const code = async (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof TongbanError ? e.code : String(e)));
    const good = await application(QINGPU);
    const { cases: before } = await platform(QINGPU).listCases({ pageSize: 500 });
    expect(await code(platform(QINGPU).submitApplication({ requestId: "bad-1", handlingNode: WUJIANG, application: { ...good, materials: good.materials.slice(0, 2) } }))).toBe("CASE_MATERIAL_MISSING");
    expect(await code(platform(QINGPU).submitApplication({ requestId: "bad-2", handlingNode: WUJIANG, application: { ...good, form: good.form.slice(1) } }))).toBe("CASE_FORM_INCOMPLETE");
    expect(await code(platform(QINGPU).submitApplication({ requestId: "bad-3", handlingNode: WUJIANG, application: { ...good, applicant: { ...good.applicant, idNumber: "110105194912310021" } } }))).toBe("IDENTIFIER_INVALID");
    expect(await code(platform(QINGPU).submitApplication({ requestId: "bad-4", handlingNode: WUJIANG, application: { ...good, item: { receivingCode: "NO-SUCH-ITEM" } } }))).toBe("GAP_ITEM_UNKNOWN");
    const { cases: after } = await platform(QINGPU).listCases({ pageSize: 500 });
    expect(after.length).toBe(before.length);
    // The same request id twice is one case.
    const a = await platform(QINGPU).submitApplication({ requestId: "same-request", handlingNode: WUJIANG, application: good });
    const b = await platform(QINGPU).submitApplication({ requestId: "same-request", handlingNode: WUJIANG, application: good });
    expect(b.view?.caseId).toBe(a.view?.caseId);
  });

  it("an upload the platform abandons part way keeps nothing; two uploads of one material at once store it once, byte for byte", async () => {
    const materials = fed.node(QINGPU).composed!.materials;
    const data = new Uint8Array(600_000).map((_, i) => (i * 7919) % 251);
    const digest = createHash("sha256").update(data).digest();
    const chunks = async function* (size: number, failAfter = Infinity) {
      for (let at = 0, n = 0; at < data.length; at += size, n++) {
        if (n === failAfter) {
          // Give up only once the node has stored some of it.
          await until("chunks stored", async () => ((await materials.chunksHeld(digest)) >= 2 ? true : undefined));
          throw new Error("the platform gave up");
        }
        yield { digest, digestAlgorithm: "sha256", totalSize: BigInt(data.length), offset: BigInt(at), data: data.subarray(at, at + size) };
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await expect(platform(QINGPU).uploadMaterial(chunks(100_000, 3))).rejects.toThrow(/gave up/);
    // The node sees the call cancelled and drops the three chunks it had stored.
    await until("the abandoned upload's chunks gone", async () => ((await materials.chunksHeld(digest)) === 0 ? true : undefined));
    expect(await materials.pending()).toEqual([]);
    expect(await materials.has(digest)).toBe(false);
    const [a, b] = await Promise.all([platform(QINGPU).uploadMaterial(chunks(64 * 1024)), platform(QINGPU).uploadMaterial(chunks(150_000))]);
    expect(Buffer.from(a.digest).equals(digest) && Buffer.from(b.digest).equals(digest)).toBe(true);
    const back: Uint8Array[] = [];
    for await (const c of materials.read(digest)) back.push(c.data);
    expect(createHash("sha256").update(Buffer.concat(back)).digest().equals(digest)).toBe(true);
    // Stored once: the chunks of one of the two uploads, and no upload left marked as under way.
    expect([4, 10]).toContain(await materials.chunksHeld(digest));
    expect(await materials.pending()).toEqual([]);
  });

  it("finds a case by its case number (办件编号) at both sites, and answers CASE_NOT_FOUND for a number no case has", async () => {
    const caseNumber = `QP2026${String(Math.floor(Math.random() * 1e9)).padStart(9, "0")}`;
    const { view } = await platform(QINGPU).submitApplication({ requestId: `req-${caseNumber}`, handlingNode: WUJIANG, application: { ...(await application(QINGPU)), caseNumber } });
    expect((await platform(QINGPU).getCase({ caseNumber })).view?.caseId).toBe(view!.caseId);
    const there = await until("吴江 knows the case by its number", async () => (await platform(WUJIANG).getCase({ caseNumber })).view);
    expect(there.caseId).toBe(view!.caseId);
    expect(there.caseNumber).toBe(caseNumber);
    await expect(platform(QINGPU).getCase({ caseNumber: `${caseNumber}9` })).rejects.toMatchObject({ code: "CASE_NOT_FOUND" });
    // The operator console finds it by number too, and pages through every case, newest first.
    const rows = (html: string) => [...html.matchAll(/<tr data-case="([^"]+)">/g)].map((m) => m[1]!);
    expect(rows(await consolePage(fed.consoleUrl!, CONSOLE_TOKEN, `/cases?lang=en&q=${caseNumber}`))).toEqual([view!.caseId]);
    const { cases } = await platform(QINGPU).listCases({ pageSize: 500 });
    const seen: string[] = [];
    for (let path: string | undefined = "/cases?lang=en&limit=2"; path !== undefined; ) {
      const html = await consolePage(fed.consoleUrl!, CONSOLE_TOKEN, path);
      const page = rows(html);
      expect(page.length).toBeLessThanOrEqual(2);
      seen.push(...page);
      path = /<a rel="next" href="([^"]+)">/.exec(html)?.[1]?.replaceAll("&amp;", "&");
    }
    expect(seen).toEqual(cases.map((c) => c.caseId).sort().reverse());
  });

  it("ListCases by state or by partner pages through exactly the cases that match, at both nodes", async () => {
    for (const node of [QINGPU, WUJIANG]) {
      const { cases: all } = await platform(node).listCases({ pageSize: 500 });
      const pages = async (filter: { state?: CaseState; partner?: string }) => {
        const seen: string[] = [];
        let pageToken = "";
        do {
          const page = await platform(node).listCases({ ...filter, pageSize: 2, pageToken });
          expect(page.cases.length).toBeLessThanOrEqual(2);
          seen.push(...page.cases.map((c) => c.caseId));
          pageToken = page.nextPageToken;
        } while (pageToken !== "");
        return seen;
      };
      const states = [...new Set(all.map((c) => c.state))];
      expect(states.length).toBeGreaterThan(1);
      for (const state of states) expect(await pages({ state }), `${node} ${CaseState[state]}`).toEqual(all.filter((c) => c.state === state).map((c) => c.caseId));
      const partners = [...new Set(all.map((c) => c.partner))];
      for (const partner of partners) expect(await pages({ partner }), `${node} with ${partner}`).toEqual(all.filter((c) => c.partner === partner).map((c) => c.caseId));
      const open = states.find((s) => s !== CaseState.RESULT_DELIVERED && s !== CaseState.REFUSED && s !== CaseState.WITHDRAWN && s !== CaseState.ARCHIVED)!;
      expect(await pages({ state: open, partner: partners[0]! })).toEqual(all.filter((c) => c.state === open && c.partner === partners[0]).map((c) => c.caseId));
    }
  });

  it("streams case events to the platform (WatchEvents) from a cursor", async () => {
    const { caseId } = await submit();
    const seen: string[] = [];
    const controller = new AbortController();
    for await (const e of platform(QINGPU).watchEvents({ after: "" }, { signal: controller.signal })) {
      if (e.caseId === caseId) seen.push(`${e.type}:${(JSON.parse(e.dataJson) as { state?: string }).state ?? ""}`);
      if (seen.includes("case.state:DELIVERED")) break;
    }
    expect(seen).toEqual(["case.opened:RECEIVED", "case.state:CHECKED", "case.state:FORWARDED", "case.state:DELIVERED"]);
  });
});

describe("delivery when a partner is offline", () => {
  it("queues while 吴江 is down and delivers everything in per-case order when it is back", async () => {
    await fed.stopNode(WUJIANG);
    const { caseId } = await platform(QINGPU).submitApplication({ requestId: `offline-${Math.random()}`, handlingNode: WUJIANG, application: await application(QINGPU) }).then((r) => r.view!);
    await act(QINGPU, caseId, { kind: { case: "statusUpdate", value: { state: CaseState.FORWARDED, note: "材料原件已寄出" } } });
    await act(QINGPU, caseId, { kind: { case: "withdrawal", value: { reason: "申请人撤回" } } });
    const view = (await platform(QINGPU).getCase({ caseId })).view!;
    const withdrawalId = view.timeline.at(-1)!.messageId;
    const submissionId = view.timeline.find((t) => t.messageId !== "")!.messageId;
    await until("a failed first attempt", async () => {
      const s = await platform(QINGPU).getMessageStatus({ messageId: submissionId });
      return s.attempts >= 1 && s.status === MessageStatus.RETRY_WAIT ? s : undefined;
    });
    const unreachable = async () => {
      const text = await fed.node(QINGPU).node!.components.metrics.registry.metrics();
      return new RegExp(`tongban_partner_unreachable\\{destination="${WUJIANG}",node_id="${QINGPU}"\\} (\\d)`).exec(text)?.[1];
    };
    expect(await unreachable()).toBe("1");
    expect(await partnerRow(WUJIANG)).toMatch(/class="reachable"><span class="red">no<\/span> — \d+ failed, next try \d{4}-/);
    await fed.startNode(WUJIANG);
    const w = await stateOf(WUJIANG, caseId, CaseState.WITHDRAWN);
    expect(await unreachable()).toBe("0");
    expect(await partnerRow(WUJIANG)).toContain('class="reachable">yes<');
    // Submission, status update, withdrawal: applied in the order sent.
    expect(w.timeline.map((t) => MessageType[t.messageType])).toEqual(["APPLICATION_SUBMISSION", "STATUS_UPDATE", "WITHDRAWAL"]);
    await until("withdrawal acknowledged", async () => ((await platform(QINGPU).getMessageStatus({ messageId: withdrawalId })).status === MessageStatus.ACKNOWLEDGED ? true : undefined));
  }, 30_000);

  it("a partner that never comes back: the message ends FAILED with an alert event", async () => {
    await fed.stopNode(JIASHAN);
    const app = await application(QINGPU);
    const { view } = await platform(QINGPU).submitApplication({ requestId: `never-${Math.random()}`, handlingNode: JIASHAN, application: { ...app } });
    const messageId = view!.timeline.at(-1)!.messageId;
    const failed = await until("FAILED", async () => {
      const s = await platform(QINGPU).getMessageStatus({ messageId });
      return s.status === MessageStatus.FAILED ? s : undefined;
    }, 20_000);
    expect(failed.attempts).toBeGreaterThan(1);
    expect(failed.lastError).toMatch(/TRANSPORT_UNAVAILABLE|DELIVERY_FAILED/);
    const alert = await until("outbox.failed event", async () => {
      for await (const e of fed.node(QINGPU).composed!.events.read(-1, 100_000)) if (e.type === "outbox.failed" && e.messageId === messageId) return e;
      return undefined;
    });
    expect(alert).toMatchObject({ alert: true, partner: JIASHAN, caseId: view!.caseId });
  }, 30_000);

  it("a node upgraded onto a store from before its indexes builds them at start; they agree with the records, and the ledger counts what it held", async () => {
    const node = fed.node(QINGPU);
    const before = node.composed!.outboxLedger.counts();
    await fed.stopNode(QINGPU);
    // What an earlier version left: the records without any index, and no ledger.
    let store = await openLevelStore(node.config.dataDir);
    const strip: BatchOp[] = [storeKeys.meta.key("case-indexes"), storeKeys.meta.key("outbox-ledger")].map((key) => ({ type: "del", key }));
    const held: Record<string, number> = {};
    for (const c of [storeKeys.caseNumber, storeKeys.casePartner, storeKeys.caseOpen, storeKeys.deadlineWatch, storeKeys.jointOpen, storeKeys.outboxOpen]) {
      for await (const e of store.iterate(c.range())) {
        strip.push({ type: "del", key: e.key });
        held[c.name] = (held[c.name] ?? 0) + 1;
      }
    }
    // 青浦 holds a numbered case, open cases and an undelivered message (the FAILED one to 嘉善).
    expect(held).toMatchObject({ "case-number": 1, "case-open": expect.any(Number), "outbox-open": expect.any(Number) });
    await store.batch(strip);
    await store.close();
    await fed.startNode(QINGPU);
    expect(fed.node(QINGPU).composed!.outboxLedger.counts()).toEqual(before);
    const { cases } = await platform(QINGPU).listCases({ pageSize: 500 });
    expect(cases.length).toBeGreaterThan(3);
    await fed.stopNode(QINGPU);
    store = await openLevelStore(node.config.dataDir);
    try {
      expect(await checkIndexes(store)).toEqual([]);
    } finally {
      await store.close();
    }
    await fed.startNode(QINGPU);
  }, 30_000);
});
