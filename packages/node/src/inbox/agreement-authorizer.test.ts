import { createPrivateKey, X509Certificate } from "node:crypto";
import { fileURLToPath } from "node:url";
import { TrustStore, createEnvelope, createFederationRoot, issueNodeCertificates, loadTablesFromDirectory, type NodeCertificates } from "@tongban/sdk";
import { HandlingMode } from "@tongban/sdk/gen";
import { beforeAll, describe, expect, it } from "vitest";
import { GroupCommitter } from "../store/group-committer.js";
import { MemoryStore } from "../store/memory-store.js";
import { agreementAuthorizer } from "./agreement-authorizer.js";
import { Intake } from "./intake.js";
import { receiptSignerFor, verifierFor, type NodeIdentity } from "./sdk-adapters.js";

// The example tables of examples/mapping: the delta zone agreement covers 青浦↔吴江;
// nothing covers 青浦↔万年.
const registry = loadTablesFromDirectory(fileURLToPath(new URL("../../../../examples/mapping/", import.meta.url)));
const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const WANNIAN = "cn.361129.wannian";
let nodes: Record<string, NodeCertificates>;
let trust: TrustStore;

beforeAll(async () => {
  const root = await createFederationRoot({ name: "authorizer test root", validityDays: 30 });
  trust = new TrustStore({ anchor: root.certificatePem });
  nodes = {};
  for (const id of [QINGPU, WUJIANG, WANNIAN]) {
    nodes[id] = await issueNodeCertificates({ ca: root, nodeId: id, signingAlgorithm: "ES256", validityDays: 30 });
    trust.addCertificate(nodes[id].signing.certificatePem);
  }
});

const identity = (id: string): NodeIdentity => ({
  nodeId: id,
  signer: { kid: nodes[id]!.signing.kid, privateKey: createPrivateKey(nodes[id]!.signing.privateKeyPem), algorithm: "ES256" },
  decryptionKey: createPrivateKey(nodes[id]!.tls.privateKeyPem),
});

async function submit(to: string, basicCode: string, mode: HandlingMode) {
  const store = new MemoryStore();
  await store.open();
  const intake = new Intake({
    store,
    committer: new GroupCommitter(store),
    verify: verifierFor(identity(to), trust),
    signReceipt: receiptSignerFor(identity(to)),
    apply: () => [],
    authorize: agreementAuthorizer({ registry: () => registry, selfNodeId: to, today: () => "2026-06-01" }),
  });
  const m = await createEnvelope({
    body: { kind: { case: "applicationSubmission", value: { mode, item: { basicCode } } } },
    sender: QINGPU,
    recipient: to,
    signer: identity(QINGPU).signer,
    encryptTo: new X509Certificate(nodes[to]!.tls.certificatePem).publicKey,
  });
  return intake.deliver(m.bytes, { nodeId: QINGPU });
}

describe("agreementAuthorizer", () => {
  it("lets 青浦 submit an agreed item to 吴江", async () => {
    expect((await submit(WUJIANG, "00TB00000101", HandlingMode.REMOTE_RECEIPT)).duplicate).toBe(false);
  });

  it("refuses a mode the handling item does not support", async () => {
    await expect(submit(WUJIANG, "00TB00000101", HandlingMode.JOINT)).rejects.toMatchObject({ code: "AUTH_NOT_ALLOWED", details: { gap: "GAP_MODE_NOT_SUPPORTED" } });
  });

  it("refuses a sender whose region has no agreement with this node's region", async () => {
    await expect(submit(WANNIAN, "00TB00000101", HandlingMode.REMOTE_RECEIPT)).rejects.toMatchObject({ code: "AUTH_NOT_ALLOWED", details: { gap: "GAP_NO_AGREEMENT" } });
  });

  it("refuses an item this node's region does not offer", async () => {
    await expect(submit(WANNIAN, "00TB00000102", HandlingMode.REMOTE_RECEIPT)).rejects.toMatchObject({ code: "AUTH_NOT_ALLOWED", details: { gap: "GAP_ITEM_NOT_OFFERED" } });
  });
});
