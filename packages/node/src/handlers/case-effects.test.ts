import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TrustStore, createEnvelope, createFederationRoot, issueNodeCertificates, newMessageId, type NodeCertificates } from "@tongban/sdk";
import { CaseState, HandlingMode } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Intake } from "../inbox/intake.js";
import { receiptSignerFor, verifierFor, type NodeIdentity } from "../inbox/sdk-adapters.js";
import { GroupCommitter } from "../store/group-committer.js";
import { openLevelStore, type LevelStore } from "../store/level-store.js";
import { caseEffects, readCase } from "./case-effects.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const JIASHAN = "cn.330421.jiashan";
let nodes: Record<string, NodeCertificates>;
let trust: TrustStore;
let dir: string;
let store: LevelStore;
let committer: GroupCommitter;
let intake: Intake;

const identity = (id: string): NodeIdentity => ({
  nodeId: id,
  signer: { kid: nodes[id]!.signing.kid, privateKey: createPrivateKey(nodes[id]!.signing.privateKeyPem), algorithm: "ES256" },
  decryptionKey: createPrivateKey(nodes[id]!.tls.privateKeyPem),
});

beforeAll(async () => {
  const root = await createFederationRoot({ name: "case effects test root", validityDays: 30 });
  trust = new TrustStore({ anchor: root.certificatePem });
  nodes = {};
  for (const id of [QINGPU, WUJIANG, JIASHAN]) {
    nodes[id] = await issueNodeCertificates({ ca: root, nodeId: id, signingAlgorithm: "ES256", validityDays: 30 });
    trust.addCertificate(nodes[id].signing.certificatePem);
  }
  dir = mkdtempSync(join(tmpdir(), "tongban-cases-"));
  store = await openLevelStore(dir);
  committer = new GroupCommitter(store);
  intake = new Intake({ store, committer, verify: verifierFor(identity(WUJIANG), trust), signReceipt: receiptSignerFor(identity(WUJIANG)), apply: caseEffects({ selfNodeId: WUJIANG }) });
});
afterAll(async () => {
  await committer.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function send(from: string, caseId: string, sequence: number, body: Parameters<typeof createEnvelope>[0]["body"], encrypt = false) {
  const m = await createEnvelope({ body, sender: from, recipient: WUJIANG, caseId, sequence, signer: identity(from).signer, ...(encrypt ? { encryptTo: new X509Certificate(nodes[WUJIANG]!.tls.certificatePem).publicKey } : {}) });
  return intake.deliver(m.bytes, { nodeId: from });
}
const submission = (mode = HandlingMode.REMOTE_RECEIPT) => ({ kind: { case: "applicationSubmission" as const, value: { mode, item: { basicCode: "00TB00000101" } } } });

describe("case effects at the handling site (LevelDB)", () => {
  it("opens the case at DELIVERED on submission and follows the receiving site's withdrawal", async () => {
    const caseId = newMessageId();
    await send(QINGPU, caseId, 1, submission(), true);
    expect(await readCase(store, caseId)).toMatchObject({ role: "handling", partner: QINGPU, basicCode: "00TB00000101", snapshot: { state: CaseState.DELIVERED, mode: HandlingMode.REMOTE_RECEIPT } });
    await send(QINGPU, caseId, 2, { kind: { case: "withdrawal", value: { reason: "申请人撤回" } } });
    const c = await readCase(store, caseId);
    expect(c?.snapshot.state).toBe(CaseState.WITHDRAWN);
    expect(c?.timeline.map((s) => s.state)).toEqual(["DELIVERED", "WITHDRAWN"]);
  });

  it("refuses an invalid step with CASE_INVALID_TRANSITION and applies nothing", async () => {
    const caseId = newMessageId();
    await send(QINGPU, caseId, 1, submission(HandlingMode.FULL_ONLINE), true);
    await send(QINGPU, caseId, 2, { kind: { case: "withdrawal", value: {} } });
    await expect(send(QINGPU, caseId, 3, { kind: { case: "correctionResponse", value: { note: "补正" } } }, true)).rejects.toMatchObject({ code: "CASE_INVALID_TRANSITION" });
    expect((await readCase(store, caseId))?.snapshot.state).toBe(CaseState.WITHDRAWN);
    await expect(send(QINGPU, caseId, 3, submission(), true)).rejects.toMatchObject({ code: "CASE_INVALID_TRANSITION" });
  });

  it("lets only the case's partner act on it, and refuses unknown cases", async () => {
    const caseId = newMessageId();
    await send(QINGPU, caseId, 1, submission(), true);
    await expect(send(JIASHAN, caseId, 1, { kind: { case: "withdrawal", value: {} } })).rejects.toMatchObject({ code: "AUTH_NOT_ALLOWED" });
    await expect(send(QINGPU, newMessageId(), 1, { kind: { case: "withdrawal", value: {} } })).rejects.toMatchObject({ code: "CASE_NOT_FOUND" });
    expect((await readCase(store, caseId))?.snapshot.state).toBe(CaseState.DELIVERED);
  });
});
