/**
 * A mixed-suite federation: 青浦 signs with the JOSE suite (ES256, JWE
 * bodies), 吴江 with the GM suite (SM2-with-SM3, SM2/SM4 bodies). A
 * remote-receipt case runs end to end over real mTLS with LevelDB; each node
 * verifies the other's suite and opens the bodies encrypted to it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { issueNodeCertificates, verifyEnvelope, TrustStore, type PlatformClient } from "@tongban/sdk";
import { CaseState, DecisionOutcome, DeliveryMethod, HandlingMode, IdentityDocumentType, MessageStatus } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRemoteReceiptCase, until, uploadMaterials } from "./e2e-helpers.js";
import { startLocalFederation, type LocalFederation } from "./local-federation.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const TABLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "examples", "mapping");
let dir: string;
let fed: LocalFederation;
const platform = (id: string): PlatformClient => fed.node(id).platform!;

const stateAt = (id: string, caseId: string, state: CaseState) =>
  until(`${id} ${CaseState[state]}`, async () => ((await platform(id).getCase({ caseId })).view?.state === state ? (await platform(id).getCase({ caseId })).view : undefined));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-mixed-"));
  fed = await startLocalFederation({ dir, tablesDir: TABLES, nodes: [{ nodeId: QINGPU }, { nodeId: WUJIANG, signingAlgorithm: "SM2SM3" }], compose: { outboxIntervalMs: 50 } });
}, 60_000);
afterAll(async () => {
  await fed?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("mixed-suite federation (jose-v1 and gm-v1)", () => {
  it("completes a remote-receipt case between a JOSE node and a GM node", async () => {
    const materials = await uploadMaterials(platform(QINGPU), "mixed");
    const { view } = await platform(QINGPU).submitApplication({
      requestId: "mixed-1",
      handlingNode: WUJIANG,
      application: {
        mode: HandlingMode.REMOTE_RECEIPT,
        item: { receivingCode: "11310118310118012U000TB00000101" },
        applicant: { name: "张三", idType: IdentityDocumentType.RESIDENT_ID, idNumber: "11010519491231002X" },
        form: [{ name: "申请人姓名", value: "张三" }, { name: "出生日期", value: "19491231" }, { name: "性别", value: "男" }, { name: "联系地址", value: "江苏省|苏州市|吴江区" }],
        materials,
      },
    });
    const caseId = view!.caseId;
    await stateAt(WUJIANG, caseId, CaseState.DELIVERED);
    const act = (id: string, action: NonNullable<Parameters<PlatformClient["actOnCase"]>[0]["action"]>) => platform(id).actOnCase({ caseId, requestId: `${id}-${action.kind?.case}`, action });
    await act(WUJIANG, { kind: { case: "acceptance", value: {} } });
    await act(WUJIANG, { kind: { case: "decision", value: { outcome: DecisionOutcome.APPROVED } } });
    await act(WUJIANG, { kind: { case: "result", value: { deliveryMethod: DeliveryMethod.POST, note: "结果（SM4 加密）" } } });
    await stateAt(QINGPU, caseId, CaseState.RESULT_SENT);
    await act(QINGPU, { kind: { case: "deliveryConfirmation", value: { method: DeliveryMethod.POST, waybillNumber: "EMS1" } } });
    const q = await stateAt(QINGPU, caseId, CaseState.RESULT_DELIVERED);
    await stateAt(WUJIANG, caseId, CaseState.RESULT_DELIVERED);
    expect(q.timeline.find((t) => t.note === "结果（SM4 加密）")).toBeDefined(); // the GM-encrypted result was opened at 青浦

    // The receipts prove which suite each side used.
    const trust = new TrustStore({ anchor: fed.root.certificatePem });
    for (const n of fed.nodes.values()) trust.addCertificate(n.certificates.signing.certificatePem);
    const suiteOf = async (node: string, messageId: string) => {
      const s = await until("ack", async () => {
        const r = await platform(node).getMessageStatus({ messageId });
        return r.status === MessageStatus.ACKNOWLEDGED ? r : undefined;
      });
      const v = await verifyEnvelope(s.receipt!, { self: node, resolver: trust, skipBody: true });
      return v.header.suite;
    };
    const fromQingpu = q.timeline.find((t) => t.site === QINGPU && t.messageId !== "")!.messageId;
    expect(await suiteOf(QINGPU, fromQingpu)).toBe("gm-v1"); // 吴江 receipted with SM2
    const fromWujiang = (await platform(WUJIANG).getCase({ caseId })).view!.timeline.find((t) => t.site === WUJIANG && t.messageId !== "")!.messageId;
    expect(await suiteOf(WUJIANG, fromWujiang)).toBe("jose-v1"); // 青浦 receipted with ES256
  }, 30_000);
});

describe("a GM node reloading its SM2 signing key", () => {
  it("signs with the new key at once and still opens GM bodies partners encrypted to the old one", async () => {
    const w = fed.node(WUJIANG);
    const fresh = await issueNodeCertificates({ ca: fed.root, nodeId: WUJIANG, signingAlgorithm: "SM2SM3", validityDays: 30 });
    // 青浦 learns the new certificate (a directory update would do this); its config still pins the old one,
    // so it keeps encrypting 吴江's GM bodies to the old SM2 key.
    fed.node(QINGPU).node!.components.trust.addCertificate(fresh.signing.certificatePem);
    writeFileSync(w.config.signing.cert, fresh.signing.certificatePem);
    writeFileSync(w.config.signing.key, fresh.signing.privateKeyPem, { mode: 0o600 });
    const r = await w.node!.reloadCredentials();
    expect(r.changed).toEqual(["signing"]);
    expect(r.signing.kid).toBe(fresh.signing.kid);
    const caseId = await runRemoteReceiptCase(platform(QINGPU), platform(WUJIANG), WUJIANG, "gm-reload");
    // 吴江's messages of this case were signed with the new key: their receipts at 吴江 are 青浦's, and
    // 青浦 accepted them, so it verified the new SM2 signatures.
    const fromWujiang = (await platform(WUJIANG).getCase({ caseId })).view!.timeline.filter((t) => t.site === WUJIANG && t.messageId !== "");
    expect(fromWujiang.length).toBeGreaterThan(0);
    for (const t of fromWujiang) expect((await platform(WUJIANG).getMessageStatus({ messageId: t.messageId })).status).toBe(MessageStatus.ACKNOWLEDGED);
  }, 60_000);
});
