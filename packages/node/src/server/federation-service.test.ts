import { createPrivateKey } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  TrustStore,
  clientCredentials,
  createCrl,
  createEnvelope,
  createFederationRoot,
  createGrpcClient,
  issueNodeCertificates,
  serverCredentials,
  startGrpcServer,
  verifyEnvelope,
  type FederationRoot,
  type GrpcServerHandle,
  type NodeCertificates,
} from "@tongban/sdk";
import { CaseState, FederationService, MessageType } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Intake } from "../inbox/intake.js";
import { receiptSignerFor, verifierFor, type NodeIdentity } from "../inbox/sdk-adapters.js";
import { GroupCommitter } from "../store/group-committer.js";
import { storeKeys } from "../store/keys.js";
import { openLevelStore, type LevelStore } from "../store/level-store.js";
import { PullQueue } from "../outbox/pull-queue.js";
import { grpcSender } from "../outbox/grpc-sender.js";
import { federationService } from "./federation-service.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const JIASHAN = "cn.330421.jiashan";

let root: FederationRoot;
let nodes: Record<string, NodeCertificates>;
let trust: TrustStore;
let dir: string;
let store: LevelStore;
let committer: GroupCommitter;
let server: GrpcServerHandle;
let applied = 0;
const pulls = new PullQueue({ answerWithinMs: 10_000 });

function identity(id: string): NodeIdentity {
  const n = nodes[id]!;
  const key = createPrivateKey(n.signing.privateKeyPem);
  return { nodeId: id, signer: { kid: n.signing.kid, privateKey: key, algorithm: "ES256" }, decryptionKey: createPrivateKey(n.tls.privateKeyPem) };
}

beforeAll(async () => {
  root = await createFederationRoot({ name: "federation-service test root", validityDays: 30 });
  nodes = {};
  trust = new TrustStore({ anchor: root.certificatePem });
  for (const id of [QINGPU, WUJIANG, JIASHAN]) {
    nodes[id] = await issueNodeCertificates({ ca: root, nodeId: id, signingAlgorithm: "ES256", validityDays: 30 });
    trust.addCertificate(nodes[id].signing.certificatePem);
  }
  // 吴江's node: LevelDB on disk, the intake, and FederationService over mutual TLS on loopback.
  dir = mkdtempSync(join(tmpdir(), "tongban-fed-"));
  store = await openLevelStore(dir);
  committer = new GroupCommitter(store);
  const intake = new Intake({
    store,
    committer,
    verify: verifierFor(identity(WUJIANG), trust),
    signReceipt: receiptSignerFor(identity(WUJIANG)),
    apply: (m) => {
      applied++;
      return [{ type: "put", key: storeKeys.event.key(applied), value: new TextEncoder().encode(m.header.messageId) }];
    },
  });
  server = await startGrpcServer({
    credentials: serverCredentials({ ca: root.certificatePem, cert: nodes[WUJIANG]!.tls.certificatePem, key: nodes[WUJIANG]!.tls.privateKeyPem, requireClientCert: true }),
    services: [[FederationService, federationService({ nodeId: WUJIANG, intake, trust, pulls })]],
  });
});

afterAll(async () => {
  pulls.close();
  await server?.shutdown(100);
  await committer?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

function clientAs(id: string) {
  return createGrpcClient(
    FederationService,
    `127.0.0.1:${server.port}`,
    clientCredentials({ ca: root.certificatePem, cert: nodes[id]!.tls.certificatePem, key: nodes[id]!.tls.privateKeyPem, expectedNodeId: WUJIANG }),
    { defaultTimeoutMs: 10_000 },
  );
}

async function envelopeFrom(id: string) {
  return createEnvelope({ body: { kind: { case: "statusUpdate", value: { state: CaseState.ACCEPTED } } }, sender: id, recipient: WUJIANG, signer: identity(id).signer });
}

describe("FederationService over mutual TLS with LevelDB", () => {
  it("delivers an envelope and returns 吴江's signed receipt; a second delivery gets the same receipt", async () => {
    const client = clientAs(QINGPU);
    try {
      const m = await envelopeFrom(QINGPU);
      const first = await client.deliver({ envelope: m.envelope });
      const again = await client.deliver({ envelope: m.envelope });
      const receipt = await verifyEnvelope(first.receipt!, { self: QINGPU, resolver: trust });
      expect(receipt.header.type).toBe(MessageType.TECHNICAL_RECEIPT);
      expect(receipt.signer.nodeId).toBe(WUJIANG);
      expect(receipt.header.correlationId).toBe(m.messageId);
      expect(again.receipt?.signature?.value).toEqual(first.receipt?.signature?.value);
      expect(applied).toBe(1);
      const info = await client.getNodeInfo({});
      expect(info).toMatchObject({ nodeId: WUJIANG, regions: ["320509"], protocols: ["tongban/1"] });
    } finally {
      client.close();
    }
  });

  it("refuses an envelope signed by another node than the TLS client (TRANSPORT_PEER_MISMATCH)", async () => {
    const client = clientAs(JIASHAN);
    try {
      const m = await envelopeFrom(QINGPU);
      await expect(client.deliver({ envelope: m.envelope })).rejects.toMatchObject({ code: "TRANSPORT_PEER_MISMATCH" });
    } finally {
      client.close();
    }
  });

  it("refuses a client without a certificate at the TLS layer", async () => {
    const client = createGrpcClient(FederationService, `127.0.0.1:${server.port}`, clientCredentials({ ca: root.certificatePem, expectedNodeId: WUJIANG }), { defaultTimeoutMs: 5_000 });
    try {
      await expect(client.deliver({ envelope: (await envelopeFrom(QINGPU)).envelope })).rejects.toMatchObject({ code: "TRANSPORT_UNAVAILABLE" });
    } finally {
      client.close();
    }
  });

  it("pull mode: hands a caller what waits for it and takes its answer as the attempt's result", async () => {
    const client = clientAs(QINGPU);
    const controller = new AbortController();
    try {
      const stream = client.pullEvents({ after: "", max: 1, waitMs: 5_000 }, { signal: controller.signal })[Symbol.asyncIterator]();
      const first = stream.next();
      await new Promise((r) => setTimeout(r, 100));
      const m = await envelopeFrom(QINGPU);
      const attempt = pulls.send(QINGPU, m.bytes);
      const ev = (await first).value!;
      expect(ev.envelope?.header).toEqual(m.envelope.header);
      expect((await stream.next()).done).toBe(true); // max 1
      const receipt = (await envelopeFrom(QINGPU)).envelope;
      expect(await client.acknowledgePulled({ acknowledgements: [{ cursor: ev.cursor, outcome: { case: "receipt", value: receipt } }] })).toMatchObject({ accepted: 1, unknown: [] });
      const got = await attempt;
      expect(Buffer.from(got).equals(Buffer.from((await import("@bufbuild/protobuf")).toBinary((await import("@tongban/sdk/gen")).EnvelopeSchema, receipt)))).toBe(true);
      await expect(client.acknowledgePulled({ acknowledgements: [{ cursor: ev.cursor, outcome: { case: undefined } }] })).rejects.toMatchObject({ code: "ENVELOPE_MALFORMED" });
    } finally {
      controller.abort();
      client.close();
    }
  });

  it("a pull node refuses a partner's server whose certificate was revoked (grpcSender's checkServer)", async () => {
    const own = new TrustStore({ anchor: root.certificatePem });
    const now = new Date();
    own.setCrl(await createCrl({ ca: root, revoked: [{ serial: nodes[WUJIANG]!.tls.serial, date: now }], thisUpdate: now, nextUpdate: new Date(now.getTime() + 86_400_000) }));
    const check = (der: Uint8Array) => {
      try {
        own.verifyPeerCertificate(der, new Date());
        return undefined;
      } catch (err) {
        return err as Error;
      }
    };
    const options = { ca: root.certificatePem, cert: nodes[QINGPU]!.tls.certificatePem, key: nodes[QINGPU]!.tls.privateKeyPem, addresses: () => `127.0.0.1:${server.port}`, timeoutMs: 5_000 };
    const checked = grpcSender({ ...options, checkServer: check });
    const plain = grpcSender(options);
    try {
      await expect(checked.client(WUJIANG).getNodeInfo({})).rejects.toMatchObject({ code: "TRANSPORT_UNAVAILABLE", message: expect.stringMatching(/revocation list/) });
      await expect(plain.client(WUJIANG).getNodeInfo({})).resolves.toMatchObject({ nodeId: WUJIANG });
    } finally {
      checked.close();
      plain.close();
    }
  });

  it("refuses a TLS peer whose certificate was revoked, although its chain is valid", async () => {
    const now = new Date();
    trust.setCrl(await createCrl({ ca: root, revoked: [{ serial: nodes[JIASHAN]!.tls.serial, date: now }], thisUpdate: now, nextUpdate: new Date(now.getTime() + 86_400_000) }));
    const client = clientAs(JIASHAN);
    try {
      await expect(client.deliver({ envelope: (await envelopeFrom(JIASHAN)).envelope })).rejects.toMatchObject({ code: "TRUST_CERT_REVOKED" });
      await expect((async () => {
        for await (const _ of client.pullEvents({ after: "", max: 1, waitMs: 100 })) break;
      })()).rejects.toMatchObject({ code: "TRUST_CERT_REVOKED" });
      await expect(client.acknowledgePulled({ acknowledgements: [] })).rejects.toMatchObject({ code: "TRUST_CERT_REVOKED" });
    } finally {
      client.close();
    }
  });
});
