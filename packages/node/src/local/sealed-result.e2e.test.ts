/**
 * Sealed results: 吴江 returns a result carrying a sealed certificate
 * document (JOSE seal profile, seal CA under the federation root) and an
 * e-license id; 青浦 verifies them on intake and records the step report in
 * the case; a tampered document or a bad license id raises an alert.
 */
import { createPrivateKey } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { certificateDer, createJoseSeal, createSealCa, formatLicenseId, issueSealCertificate, signDocumentJose, type PlatformClient } from "@tongban/sdk";
import { CaseState, DecisionOutcome, DeliveryMethod } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until, uploadMaterials } from "./e2e-helpers.js";
import { startLocalFederation, type LocalFederation } from "./local-federation.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const TABLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "examples", "mapping");
let dir: string;
let fed: LocalFederation;
let sealSignature: (document: Uint8Array) => Promise<Uint8Array>;
const platform = (id: string): PlatformClient => fed.node(id).platform!;
const LICENSE = formatLicenseId({ type: "11100000000013338W011", issuer: "11430000006122244L", serial: "20260000001", version: "001" });


beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-sealed-"));
  // The seal CA is made first, under a root the federation will not use: seals chain to the seal CA itself.
  const sealCa = await createSealCa({ name: "Tongban Seal CA", keyType: "ES256", validityDays: 30 });
  const maker = await issueSealCertificate({ ca: sealCa, role: "maker", name: "吴江区民政局制章", keyType: "ES256", validityDays: 30 });
  const signer = await issueSealCertificate({ ca: sealCa, role: "signer", name: "吴江区民政局", keyType: "ES256", validityDays: 30 });
  writeFileSync(join(dir, "seal-ca.crt"), sealCa.certificatePem);
  const seal = await createJoseSeal({
    maker: { certDer: certificateDer(maker.certificatePem), privateKey: createPrivateKey(maker.privateKeyPem) },
    header: { vid: "tongban" },
    esId: "32050900000000001",
    property: { type: 1, name: "吴江区民政局婚姻登记专用章", certList: [certificateDer(signer.certificatePem)], validStart: new Date(Date.now() - 86_400_000), validEnd: new Date(Date.now() + 20 * 86_400_000) },
    picture: { type: "png", data: new Uint8Array([137, 80, 78, 71]), width: 40, height: 40 },
  });
  sealSignature = async (document) =>
    new TextEncoder().encode(await signDocumentJose({ seal, signer: { certDer: certificateDer(signer.certificatePem), privateKey: createPrivateKey(signer.privateKeyPem) }, document, propertyInfo: "结婚证" }));
  fed = await startLocalFederation({ dir: join(dir, "fed"), tablesDir: TABLES, nodes: [{ nodeId: QINGPU }, { nodeId: WUJIANG }], sealCaFile: join(dir, "seal-ca.crt"), compose: { outboxIntervalMs: 50 } });
}, 60_000);
afterAll(async () => {
  await fed?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function caseAtDecided(requestId: string): Promise<string> {
  const materials = await uploadMaterials(platform(QINGPU), requestId);
  const { view } = await platform(QINGPU).submitApplication({
    requestId,
    handlingNode: WUJIANG,
    application: {
      item: { receivingCode: "11310118310118012U000TB00000101" },
      applicant: { name: "张三", idNumber: "11010519491231002X" },
      form: [{ name: "申请人姓名", value: "张三" }, { name: "出生日期", value: "19491231" }, { name: "性别", value: "男" }, { name: "联系地址", value: "江苏省|苏州市|吴江区" }],
      materials,
    },
  });
  const caseId = view!.caseId;
  await until("delivered", async () => ((await platform(WUJIANG).getCase({ caseId })).view?.state === CaseState.DELIVERED ? true : undefined));
  await platform(WUJIANG).actOnCase({ caseId, requestId: `${requestId}-a`, action: { kind: { case: "acceptance", value: {} } } });
  await platform(WUJIANG).actOnCase({ caseId, requestId: `${requestId}-d`, action: { kind: { case: "decision", value: { outcome: DecisionOutcome.APPROVED } } } });
  return caseId;
}

const resultsAt = async (caseId: string) => until("the result at 青浦", async () => {
  const r = await fed.node(QINGPU).composed!.desk.get(caseId);
  return r?.snapshot.state === CaseState.RESULT_SENT ? (r.results as Record<string, { verdict: string; steps: { id: string; status: string }[]; licenses: { valid: boolean }[] }>) : undefined;
});

describe("sealed results verified on intake", () => {
  it("records a valid seal report and a valid e-license id", async () => {
    const caseId = await caseAtDecided("sealed-ok");
    const document = new TextEncoder().encode("结婚证 PDF bytes");
    await platform(WUJIANG).actOnCase({ caseId, requestId: "sealed-ok-r", action: { kind: { case: "result", value: { deliveryMethod: DeliveryMethod.ELECTRONIC, documents: [{ documentId: "doc-1", name: "结婚证", mediaType: "application/pdf", content: document, sealFormat: "jose-seal-v1", sealSignature: await sealSignature(document), licenseIds: [LICENSE] }] } } } });
    const results = await resultsAt(caseId);
    expect(results["doc-1"]!.verdict).toBe("valid");
    expect(results["doc-1"]!.steps.every((s) => s.status !== "fail")).toBe(true);
    expect(results["doc-1"]!.licenses).toEqual([{ id: LICENSE, valid: true }]);
  });

  it("a seal over other bytes fails the document-hash step and raises an alert; a bad license id is reported", async () => {
    const caseId = await caseAtDecided("sealed-bad");
    const signature = await sealSignature(new TextEncoder().encode("the original"));
    await platform(WUJIANG).actOnCase({ caseId, requestId: "sealed-bad-r", action: { kind: { case: "result", value: { deliveryMethod: DeliveryMethod.ELECTRONIC, documents: [{ documentId: "doc-2", name: "结婚证", content: new TextEncoder().encode("a forgery"), sealFormat: "jose-seal-v1", sealSignature: signature, licenseIds: [`${LICENSE.slice(0, -1)}X`] }] } } } });
    const results = await resultsAt(caseId);
    expect(results["doc-2"]!.verdict).toBe("invalid");
    expect(results["doc-2"]!.steps.find((s) => s.status === "fail")?.id).toMatch(/document/);
    expect(results["doc-2"]!.licenses[0]!.valid).toBe(false);
    const alerts = [];
    for await (const e of fed.node(QINGPU).composed!.events.read(-1, 100_000)) if (e.type === "result.verified" && e.caseId === caseId) alerts.push(e);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.alert).toBe(true);
  });
});
