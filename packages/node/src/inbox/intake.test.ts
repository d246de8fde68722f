import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import {
  TongbanError,
  TrustStore,
  createEnvelope,
  createFederationRoot,
  issueNodeCertificates,
  newMessageId,
  verifyEnvelope,
  type NodeCertificates,
} from "@tongban/sdk";
import { BodySchema, CaseState, HandlingMode, MessageType } from "@tongban/sdk/gen";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GroupCommitter } from "../store/group-committer.js";
import { storeKeys } from "../store/keys.js";
import { openLevelStore } from "../store/level-store.js";
import { MemoryStore } from "../store/memory-store.js";
import type { BatchOp, Store } from "../store/types.js";
import { Intake, type EffectHandler } from "./intake.js";
import { receiptSignerFor, verifierFor, type NodeIdentity } from "./sdk-adapters.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const JIASHAN = "cn.330421.jiashan";
let trust: TrustStore;
let nodes: Record<string, NodeCertificates>;
const dirs: string[] = [];

beforeAll(async () => {
  const root = await createFederationRoot({ name: "intake test root", validityDays: 30 });
  nodes = {};
  trust = new TrustStore({ anchor: root.certificatePem });
  for (const id of [QINGPU, WUJIANG, JIASHAN]) {
    nodes[id] = await issueNodeCertificates({ ca: root, nodeId: id, signingAlgorithm: id === WUJIANG ? "EdDSA" : "ES256", validityDays: 30 });
    trust.addCertificate(nodes[id].signing.certificatePem);
  }
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function identity(id: string): NodeIdentity {
  const n = nodes[id]!;
  const key = createPrivateKey(n.signing.privateKeyPem);
  return { nodeId: id, signer: { kid: n.signing.kid, privateKey: key, algorithm: key.asymmetricKeyType === "ed25519" ? "EdDSA" : "ES256" }, decryptionKey: createPrivateKey(n.tls.privateKeyPem) };
}

/** The test effect: append the message id to an ordered log, reading the log's length from the store (state). */
const effect: EffectHandler = async (m, store) => {
  const countKey = storeKeys.counter.key("applied");
  const raw = await store.get(countKey);
  const n = raw === undefined ? 0 : Number(new DataView(raw.buffer, raw.byteOffset, 8).getBigUint64(0));
  const next = new Uint8Array(8);
  new DataView(next.buffer).setBigUint64(0, BigInt(n + 1));
  return [
    { type: "put", key: storeKeys.event.key(n), value: new TextEncoder().encode(m.header.messageId) },
    { type: "put", key: countKey, value: next },
  ];
};

async function appliedIds(store: Store): Promise<string[]> {
  const out: string[] = [];
  for await (const e of store.iterate(storeKeys.event.range())) out.push(new TextDecoder().decode(e.value));
  return out;
}

/** A store whose next batches fail, to prove nothing is receipted or applied without durability. */
function flaky(inner: Store): Store & { failing: boolean } {
  const s = {
    failing: false,
    get capabilities() {
      return inner.capabilities;
    },
    get status() {
      return inner.status;
    },
    open: () => inner.open(),
    close: () => inner.close(),
    get: (k: Uint8Array) => inner.get(k),
    getMany: (k: readonly Uint8Array[]) => inner.getMany(k),
    iterate: (o?: Parameters<Store["iterate"]>[0]) => inner.iterate(o),
    batch: (ops: readonly BatchOp[]) => (s.failing ? Promise.reject(new TongbanError("STORE_UNAVAILABLE", "disk full (simulated)")) : inner.batch(ops)),
  };
  return s as unknown as Store & { failing: boolean };
}

async function send(from: string, body: Parameters<typeof createEnvelope>[0]["body"], opts: { caseId?: string; sequence?: number; messageId?: string } = {}) {
  const id = identity(from);
  return createEnvelope({
    body,
    sender: from,
    recipient: WUJIANG,
    signer: id.signer,
    ...(opts.caseId ? { caseId: opts.caseId } : {}),
    ...(opts.sequence ? { sequence: opts.sequence } : {}),
    ...(opts.messageId ? { messageId: opts.messageId } : {}),
    ...(body && "kind" in body && body.kind?.case === "applicationSubmission" ? { encryptTo: new X509Certificate(nodes[WUJIANG]!.tls.certificatePem).publicKey } : {}),
  });
}
const status = (state: CaseState) => ({ kind: { case: "statusUpdate" as const, value: { state } } });

for (const backend of ["memory", "leveldb"] as const) {
  describe(`intake on ${backend}`, () => {
    let store: Store & { failing: boolean };
    let committer: GroupCommitter;
    let intake: Intake;

    async function boot(dir?: string): Promise<void> {
      const inner = backend === "memory" ? new MemoryStore() : await openLevelStore(dir ?? newDir());
      await inner.open();
      store = flaky(inner);
      committer = new GroupCommitter(store);
      intake = new Intake({ store, committer, verify: verifierFor(identity(WUJIANG), trust), signReceipt: receiptSignerFor(identity(WUJIANG)), apply: effect });
    }
    function newDir(): string {
      const d = mkdtempSync(join(tmpdir(), "tongban-intake-"));
      dirs.push(d);
      return d;
    }
    afterEach(async () => {
      await committer.close();
      await store.close();
    });

    it("applies a message once and returns a signed receipt that binds exactly what was received", async () => {
      await boot();
      const m = await send(QINGPU, { kind: { case: "applicationSubmission", value: { mode: HandlingMode.REMOTE_RECEIPT } } }, { caseId: newMessageId(), sequence: 1 });
      const r = await intake.deliver(m.bytes, { nodeId: QINGPU });
      expect(r).toMatchObject({ duplicate: false, held: false });
      const receipt = await verifyEnvelope(r.receipt, { self: QINGPU, resolver: trust });
      expect(receipt.header.type).toBe(MessageType.TECHNICAL_RECEIPT);
      expect(receipt.signer.nodeId).toBe(WUJIANG);
      const body = receipt.body?.kind.case === "technicalReceipt" ? receipt.body.kind.value : undefined;
      expect(body?.receivedMessageId).toBe(m.messageId);
      expect(Buffer.from(body!.receivedDigest)).toEqual(Buffer.from(m.receiptDigest));
      expect(await appliedIds(store)).toEqual([m.messageId]);
    });

    it("answers a duplicate (also concurrent ones) with the same receipt and no second effect", async () => {
      await boot();
      const m = await send(QINGPU, status(CaseState.ACCEPTED));
      const results = await Promise.all([1, 2, 3, 4].map(() => intake.deliver(m.bytes, { nodeId: QINGPU })));
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      for (const r of results) expect(Buffer.from(r.receipt)).toEqual(Buffer.from(results[0]!.receipt));
      expect(await appliedIds(store)).toEqual([m.messageId]);
    });

    it("refuses a reused message id with other content", async () => {
      await boot();
      const messageId = newMessageId();
      await intake.deliver((await send(QINGPU, status(CaseState.ACCEPTED), { messageId })).bytes, { nodeId: QINGPU });
      await expect(intake.deliver((await send(QINGPU, status(CaseState.REFUSED), { messageId })).bytes, { nodeId: QINGPU })).rejects.toMatchObject({ code: "ENVELOPE_REPLAYED" });
      expect(await appliedIds(store)).toEqual([messageId]);
    });

    it("refuses an envelope whose TLS peer is not its signer", async () => {
      await boot();
      const m = await send(QINGPU, status(CaseState.ACCEPTED));
      await expect(intake.deliver(m.bytes, { nodeId: JIASHAN })).rejects.toMatchObject({ code: "TRANSPORT_PEER_MISMATCH" });
      expect(await appliedIds(store)).toEqual([]);
    });

    it("holds messages that arrive before their predecessor and applies them in case order", async () => {
      await boot();
      const caseId = newMessageId();
      const [m1, m2, m3] = [await send(QINGPU, status(CaseState.ACCEPTED), { caseId, sequence: 1 }), await send(QINGPU, status(CaseState.SUSPENDED), { caseId, sequence: 2 }), await send(QINGPU, status(CaseState.RESUMED), { caseId, sequence: 3 })];
      expect(await intake.deliver(m3.bytes, { nodeId: QINGPU })).toMatchObject({ held: true });
      expect(await intake.deliver(m2.bytes, { nodeId: QINGPU })).toMatchObject({ held: true });
      expect(await appliedIds(store)).toEqual([]);
      // A duplicate of a held message is recognised too.
      expect(await intake.deliver(m3.bytes, { nodeId: QINGPU })).toMatchObject({ duplicate: true, held: true });
      expect(await intake.deliver(m1.bytes, { nodeId: QINGPU })).toMatchObject({ held: false });
      expect(await appliedIds(store)).toEqual([m1.messageId, m2.messageId, m3.messageId]);
      // Another message claiming a used sequence number is refused.
      const clash = await send(QINGPU, status(CaseState.DECIDED), { caseId, sequence: 2 });
      await expect(intake.deliver(clash.bytes, { nodeId: QINGPU })).rejects.toMatchObject({ code: "CASE_SEQUENCE_CONFLICT" });
    });

    it("gives no receipt and applies nothing when the batch cannot be made durable; a retry then succeeds", async () => {
      await boot();
      const m = await send(QINGPU, status(CaseState.ACCEPTED), { caseId: newMessageId(), sequence: 1 });
      store.failing = true;
      await expect(intake.deliver(m.bytes, { nodeId: QINGPU })).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      expect(await appliedIds(store)).toEqual([]);
      store.failing = false;
      const r = await intake.deliver(m.bytes, { nodeId: QINGPU });
      expect(r.duplicate).toBe(false);
      expect(await appliedIds(store)).toEqual([m.messageId]);
    });

    it("refuses work beyond its in-flight limit with OVERLOADED and retry advice", async () => {
      await boot();
      const small = new Intake({ store, committer, verify: verifierFor(identity(WUJIANG), trust), signReceipt: receiptSignerFor(identity(WUJIANG)), apply: effect }, { maxInFlight: 1, retryAfterMs: 50 });
      const a = await send(QINGPU, status(CaseState.ACCEPTED));
      const b = await send(QINGPU, status(CaseState.ACCEPTED));
      const results = await Promise.allSettled([small.deliver(a.bytes, { nodeId: QINGPU }), small.deliver(b.bytes, { nodeId: QINGPU })]);
      const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
      expect(refused?.reason).toMatchObject({ code: "OVERLOADED", details: { retryAfterMs: 50 } });
    });

    if (backend === "leveldb") {
      it("remembers receipts and held messages across a restart, and recover() releases what became ready", async () => {
        const dir = newDir();
        await boot(dir);
        const caseId = newMessageId();
        const m1 = await send(QINGPU, status(CaseState.ACCEPTED), { caseId, sequence: 1 });
        const m2 = await send(QINGPU, status(CaseState.SUSPENDED), { caseId, sequence: 2 });
        const first = await intake.deliver(m2.bytes, { nodeId: QINGPU });
        await committer.close();
        await store.close();

        await boot(dir);
        const again = await intake.deliver(m2.bytes, { nodeId: QINGPU });
        expect(again).toMatchObject({ duplicate: true, held: true });
        expect(Buffer.from(again.receipt)).toEqual(Buffer.from(first.receipt));
        // Simulate a crash after m1's batch but before m2's release: write m1's
        // effects as its batch would, without releasing, then restart and recover.
        const ops: BatchOp[] = [...(await effect({ header: (await verifierFor(identity(WUJIANG), trust)(m1.bytes)).header, body: fromBinary(BodySchema, new Uint8Array()), signer: QINGPU, receiptDigest: m1.receiptDigest }, store))];
        const seq = new Uint8Array(8);
        new DataView(seq.buffer).setBigUint64(0, 2n);
        ops.push({ type: "put", key: storeKeys.meta.key(`next-seq\u0000${QINGPU}\u0000${caseId}`), value: seq });
        await committer.commit(ops);
        await committer.close();
        await store.close();

        await boot(dir);
        expect(await intake.recover()).toBe(1);
        expect(await appliedIds(store)).toEqual([m1.messageId, m2.messageId]);
        expect(await intake.recover()).toBe(0);
      });
    }
  });
}
