/**
 * Security of a composed reference node (intake, agreements, case effects)
 * over real mutual TLS with LevelDB: every refusal carries its code and
 * leaves nothing behind. (Revoked and expired certificates at the TLS layer:
 * node.test.ts and federation-service.test.ts.)
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  TongbanError,
  certificateDer,
  clientCredentials,
  createGrpcClient,
  createEnvelope,
  createFederationClient,
  createFederationRoot,
  issueNodeCertificates,
  newMessageId,
  type EnvelopeSigner,
  type NodeCertificates,
} from "@tongban/sdk";
import { EnvelopeSchema, FederationService, HandlingMode } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalFederation, type LocalFederation } from "./local-federation.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const WANNIAN = "cn.361129.wannian"; // a federation member without an agreement with 吴江's region
const TABLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "examples", "mapping");

let dir: string;
let fed: LocalFederation;
let wannian: NodeCertificates;

const signerOf = (c: NodeCertificates): EnvelopeSigner => ({ kid: c.signing.kid, privateKey: createPrivateKey(c.signing.privateKeyPem), algorithm: "ES256", certificates: [certificateDer(c.signing.certificatePem)] });
const client = (tls: NodeCertificates["tls"] | undefined, ca = fed.root.certificatePem) =>
  createFederationClient({ address: fed.node(WUJIANG).node!.addresses!.federation, nodeId: WUJIANG, ca, cert: tls?.certificatePem ?? "", key: tls?.privateKeyPem ?? "", timeoutMs: 5_000 });
const code = (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof TongbanError ? e.code : String(e)));

async function submission(from: NodeCertificates, sender: string, options: { now?: Date; messageId?: string; caseId?: string } = {}) {
  return createEnvelope({
    body: { kind: { case: "applicationSubmission", value: { mode: HandlingMode.REMOTE_RECEIPT, item: { basicCode: "00TB00000101" }, applicant: { name: "张三" } } } },
    sender,
    recipient: WUJIANG,
    caseId: options.caseId ?? newMessageId(),
    sequence: 1,
    signer: signerOf(from),
    encryptTo: new X509Certificate(fed.node(WUJIANG).certificates.tls.certificatePem).publicKey,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.messageId === undefined ? {} : { messageId: options.messageId }),
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-security-"));
  fed = await startLocalFederation({ dir, tablesDir: TABLES, nodes: [{ nodeId: QINGPU }, { nodeId: WUJIANG }] });
  wannian = await issueNodeCertificates({ ca: fed.root, nodeId: WANNIAN, signingAlgorithm: "ES256", validityDays: 30 });
  // 万年 is a member (as the directory would say): 吴江 knows its signing certificate.
  fed.node(WUJIANG).node!.components.trust.addCertificate(wannian.signing.certificatePem);
}, 60_000);
afterAll(async () => {
  await fed?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("a composed node refuses, with codes", () => {
  const qingpu = () => fed.node(QINGPU).certificates;

  it("accepts a proper submission from 青浦 (the baseline the refusals differ from)", async () => {
    const m = await submission(qingpu(), QINGPU);
    const c = client(qingpu().tls);
    const { receipt } = await c.deliver({ envelope: m.envelope });
    expect(receipt?.header.length).toBeGreaterThan(0);
    // A replay of the same bytes is a duplicate: the same receipt, no second case.
    const again = await c.deliver({ envelope: m.envelope });
    expect(toBinary(EnvelopeSchema, again.receipt!)).toEqual(toBinary(EnvelopeSchema, receipt!));
    c.close();
  });

  it("a reused message id with other content: ENVELOPE_REPLAYED", async () => {
    const first = await submission(qingpu(), QINGPU);
    const c = client(qingpu().tls);
    await c.deliver({ envelope: first.envelope });
    const other = await submission(qingpu(), QINGPU, { messageId: first.messageId });
    expect(await code(c.deliver({ envelope: other.envelope }))).toBe("ENVELOPE_REPLAYED");
    c.close();
  });

  it("a stale timestamp (older than the 72 h maximum age that covers a day of retries): ENVELOPE_TIMESTAMP_OUT_OF_WINDOW", async () => {
    const m = await submission(qingpu(), QINGPU, { now: new Date(Date.now() - 100 * 3600_000) });
    const c = client(qingpu().tls);
    expect(await code(c.deliver({ envelope: m.envelope }))).toMatch(/ENVELOPE_TIMESTAMP_OUT_OF_WINDOW|ENVELOPE_EXPIRED/);
    c.close();
  });

  it("federation metadata a node does not hold: DIRECTORY_NOT_HELD, MAPPING_TABLE_NOT_FOUND (unsigned tables are not served)", async () => {
    const c = client(qingpu().tls);
    expect(await code(c.getDirectory({ ifNewerThan: "" }))).toBe("DIRECTORY_NOT_HELD");
    expect(await code(c.getMappingTable({ publisher: "320509", kind: "implementation", version: "" }))).toBe("MAPPING_TABLE_NOT_FOUND");
    expect((await c.getNodeInfo({})).directoryVersion).toBe("");
    c.close();
  });

  it("a TLS identity other than the signer: TRANSPORT_PEER_MISMATCH", async () => {
    const m = await submission(wannian, WANNIAN);
    const c = client(qingpu().tls); // 青浦's TLS carrying 万年's envelope
    expect(await code(c.deliver({ envelope: m.envelope }))).toBe("TRANSPORT_PEER_MISMATCH");
    c.close();
  });

  it("a sender not allowed for the item under the agreements: AUTH_NOT_ALLOWED (no agreement between 361129 and 320509)", async () => {
    const m = await submission(wannian, WANNIAN);
    const c = client(wannian.tls);
    await expect(c.deliver({ envelope: m.envelope })).rejects.toMatchObject({ code: "AUTH_NOT_ALLOWED" });
    c.close();
  });

  it("a tampered body: ENVELOPE_BODY_DIGEST_MISMATCH; a tampered header: ENVELOPE_BAD_SIGNATURE", async () => {
    const m = await submission(qingpu(), QINGPU);
    const c = client(qingpu().tls);
    const body = fromBinary(EnvelopeSchema, m.bytes);
    body.body = new Uint8Array(body.body);
    body.body[10] = (body.body[10] ?? 0) ^ 1;
    expect(await code(c.deliver({ envelope: body }))).toBe("ENVELOPE_BODY_DIGEST_MISMATCH");
    const header = fromBinary(EnvelopeSchema, m.bytes);
    header.header = new Uint8Array(header.header);
    header.header[20] = (header.header[20] ?? 0) ^ 1;
    expect(await code(c.deliver({ envelope: header }))).toMatch(/ENVELOPE_BAD_SIGNATURE|ENVELOPE_MALFORMED|ENVELOPE_HEADER_INVALID/);
    c.close();
  });

  it("no client certificate, or one from another CA: refused at the handshake", async () => {
    const m = await submission(qingpu(), QINGPU);
    const noCert = createGrpcClient(FederationService, fed.node(WUJIANG).node!.addresses!.federation, clientCredentials({ ca: fed.root.certificatePem, expectedNodeId: WUJIANG }), { defaultTimeoutMs: 3_000 });
    expect(await code(noCert.deliver({ envelope: m.envelope }))).toMatch(/TRANSPORT_/);
    noCert.close();
    const otherRoot = await createFederationRoot({ name: "not the federation", validityDays: 1 });
    const impostor = await issueNodeCertificates({ ca: otherRoot, nodeId: QINGPU, signingAlgorithm: "ES256", validityDays: 1 });
    const c = client(impostor.tls);
    expect(await code(c.deliver({ envelope: m.envelope }))).toMatch(/TRANSPORT_/);
    c.close();
  });

  it("after all that, 吴江 holds exactly the cases that were accepted", async () => {
    const { cases } = await fed.node(WUJIANG).platform!.listCases({ pageSize: 100 });
    expect(cases.length).toBe(2); // the baseline and the first of the replay pair
  });
});
