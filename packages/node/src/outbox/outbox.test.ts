import { createPrivateKey } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  TongbanError,
  TrustStore,
  createEnvelope,
  createFederationRoot,
  encodeSingleMessageField,
  issueNodeCertificates,
  newMessageId,
  rememberWireBytes,
  serverCredentials,
  startGrpcServer,
  verifyEnvelope,
  wireBytesOf,
  type FederationRoot,
  type GrpcServerHandle,
  type NodeCertificates,
} from "@tongban/sdk";
import { create } from "@bufbuild/protobuf";
import { CaseState, DeliverResponseSchema, FederationService, ReceiptStatus } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Intake } from "../inbox/intake.js";
import { receiptSignerFor, verifierFor, type NodeIdentity } from "../inbox/sdk-adapters.js";
import { federationService } from "../server/federation-service.js";
import { GroupCommitter } from "../store/group-committer.js";
import { storeKeys } from "../store/keys.js";
import { openLevelStore, type LevelStore } from "../store/level-store.js";
import { grpcSender } from "./grpc-sender.js";
import { Outbox, type OutboxEvent } from "./outbox.js";
import { RetrySchedule, type RetryPolicy } from "./retry-schedule.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const FAST: RetryPolicy = { baseDelayMs: 20, factor: 2, minDelayMs: 10, maxDelayMs: 100, deadlineMs: 60_000, maxAttempts: 0 };

let root: FederationRoot;
let nodes: Record<string, NodeCertificates>;
let trust: TrustStore;
const dirs: string[] = [];
const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), "tongban-outbox-"));
  dirs.push(d);
  return d;
};

function identity(id: string): NodeIdentity {
  const n = nodes[id]!;
  return { nodeId: id, signer: { kid: n.signing.kid, privateKey: createPrivateKey(n.signing.privateKeyPem), algorithm: "ES256" }, decryptionKey: createPrivateKey(n.tls.privateKeyPem) };
}

beforeAll(async () => {
  root = await createFederationRoot({ name: "outbox test root", validityDays: 30 });
  nodes = {};
  trust = new TrustStore({ anchor: root.certificatePem });
  for (const id of [QINGPU, WUJIANG]) {
    nodes[id] = await issueNodeCertificates({ ca: root, nodeId: id, signingAlgorithm: "ES256", validityDays: 30 });
    trust.addCertificate(nodes[id].signing.certificatePem);
  }
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** 吴江: a node on LevelDB serving FederationService over mTLS; records the order messages took effect. */
async function startWujiang(port = 0) {
  const store = await openLevelStore(newDir());
  const committer = new GroupCommitter(store);
  const applied: string[] = [];
  const intake = new Intake({
    store,
    committer,
    verify: verifierFor(identity(WUJIANG), trust),
    signReceipt: receiptSignerFor(identity(WUJIANG)),
    apply: (m) => {
      applied.push(m.header.messageId);
      return [];
    },
  });
  const server = await startGrpcServer({
    port,
    credentials: serverCredentials({ ca: root.certificatePem, cert: nodes[WUJIANG]!.tls.certificatePem, key: nodes[WUJIANG]!.tls.privateKeyPem, requireClientCert: true }),
    services: [[FederationService, federationService({ nodeId: WUJIANG, intake, trust })]],
  });
  return {
    server,
    applied,
    async stop() {
      await server.shutdown(50);
      await committer.close();
      await store.close();
    },
  };
}

/**
 * A partner that is down: the port is held by a listener that resets every
 * connection, so no other test can take it before 吴江 comes back on it.
 */
async function downPartner(): Promise<{ port: number; release(): Promise<void> }> {
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { port, release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** 青浦's outbox on LevelDB, sending over mTLS to `port`. */
async function qingpuOutbox(port: () => number, policy: RetryPolicy = FAST, dir = newDir()) {
  const store = await openLevelStore(dir);
  const committer = new GroupCommitter(store);
  const events: OutboxEvent[] = [];
  const sender = grpcSender({ ca: root.certificatePem, cert: nodes[QINGPU]!.tls.certificatePem, key: nodes[QINGPU]!.tls.privateKeyPem, addresses: () => `127.0.0.1:${port()}`, timeoutMs: 2_000 });
  const outbox = new Outbox({
    store,
    committer,
    send: sender,
    verifyReceipt: (r) => verifyEnvelope(r, { self: QINGPU, resolver: trust }),
    schedule: new RetrySchedule(policy),
    onEvent: (e) => events.push(e),
  });
  return {
    store,
    outbox,
    events,
    async stop() {
      sender.close();
      await committer.close();
      await store.close();
    },
  };
}

async function message(caseId: string, sequence: number, state: CaseState) {
  return createEnvelope({ body: { kind: { case: "statusUpdate", value: { state } } }, sender: QINGPU, recipient: WUJIANG, caseId, sequence, signer: identity(QINGPU).signer });
}
const enqueue = async (outbox: Outbox, m: Awaited<ReturnType<typeof message>>, caseId: string) =>
  outbox.enqueue({ messageId: m.messageId, destination: WUJIANG, caseId, envelope: m.bytes, receiptDigest: m.receiptDigest });

async function until(what: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * An outbox on LevelDB whose partner is simulated: it answers TRANSPORT_UNAVAILABLE while `reachable` is false, and
 * otherwise a receipt the verifier takes as 吴江's for exactly the message sent. The clock is `clock.now`.
 */
async function simulatedPartnerOutbox(policy: RetryPolicy) {
  const store = await openLevelStore(newDir());
  const committer = new GroupCommitter(store);
  const sim = { reachable: false, clock: { now: 1_000_000 }, sent: [] as string[], digests: new Map<string, string>(), events: [] as OutboxEvent[] };
  const outbox = new Outbox({
    store,
    committer,
    now: () => sim.clock.now,
    random: () => 0.5,
    send: async (_destination, envelope) => {
      const id = [...sim.digests.keys()].find((k) => Buffer.from(envelope).includes(Buffer.from(k)))!;
      sim.sent.push(id);
      if (!sim.reachable) throw new TongbanError("TRANSPORT_UNAVAILABLE", "connection refused");
      return new TextEncoder().encode(id);
    },
    verifyReceipt: async (bytes) => {
      const id = new TextDecoder().decode(bytes);
      return { signer: { nodeId: WUJIANG }, body: { kind: { case: "technicalReceipt", value: { receivedMessageId: id, receivedDigest: Buffer.from(sim.digests.get(id)!, "hex") } } } } as never;
    },
    schedule: new RetrySchedule(policy),
    onEvent: (e) => sim.events.push(e),
  });
  const add = async (m: Awaited<ReturnType<typeof message>>) => {
    sim.digests.set(m.messageId, Buffer.from(m.receiptDigest).toString("hex"));
    await enqueue(outbox, m, m.header.caseId);
  };
  return Object.assign(sim, { outbox, add, close: async () => (await committer.close(), await store.close()) });
}

describe("outbox over mutual TLS", () => {
  it("keeps retrying while the partner is down, then delivers everything, applied in per-case order", async () => {
    const down = await downPartner();
    const port = down.port;

    const q = await qingpuOutbox(() => port);
    const caseA = newMessageId();
    const caseB = newMessageId();
    const msgs = [await message(caseA, 1, CaseState.ACCEPTED), await message(caseB, 1, CaseState.ACCEPTED), await message(caseA, 2, CaseState.SUSPENDED), await message(caseA, 3, CaseState.RESUMED), await message(caseB, 2, CaseState.DECIDED)];
    for (const m of msgs) await enqueue(q.outbox, m, m.header.caseId);

    for (let i = 0; i < 4; i++) {
      await q.outbox.tick();
      await new Promise((r) => setTimeout(r, 60));
    }
    const waiting = await q.outbox.status(msgs[0]!.messageId);
    expect(waiting?.status).toBe("RETRY_WAIT");
    expect(waiting!.attempts).toBeGreaterThanOrEqual(2);
    expect(q.events.some((e) => e.type === "outbox.retry")).toBe(true);

    await down.release();
    const wujiang = await startWujiang(port);
    try {
      await until(async () => {
        await q.outbox.tick();
        const s = await Promise.all(msgs.map((m) => q.outbox.status(m.messageId)));
        return s.every((r) => r?.status === "ACKNOWLEDGED");
      });
      const order = (caseId: string) => wujiang.applied.filter((id) => msgs.find((m) => m.messageId === id)?.header.caseId === caseId);
      expect(order(caseA)).toEqual([msgs[0]!.messageId, msgs[2]!.messageId, msgs[3]!.messageId]);
      expect(order(caseB)).toEqual([msgs[1]!.messageId, msgs[4]!.messageId]);
      expect(wujiang.applied).toHaveLength(5);
    } finally {
      await wujiang.stop();
      await q.stop();
    }
  });

  it("gives up at the final deadline with an outbox.failed alert; an operator retry later delivers it once (late acknowledgement)", async () => {
    const down = await downPartner();
    const port = down.port;
    const q = await qingpuOutbox(() => port, { ...FAST, deadlineMs: 300 });
    const caseId = newMessageId();
    const m = await message(caseId, 1, CaseState.ACCEPTED);
    await enqueue(q.outbox, m, caseId);
    await until(async () => {
      await q.outbox.tick();
      return (await q.outbox.status(m.messageId))?.status === "FAILED";
    });
    const failed = q.events.find((e) => e.type === "outbox.failed");
    expect(failed).toMatchObject({ messageId: m.messageId, destination: WUJIANG });
    expect(failed?.error?.code).toMatch(/^TRANSPORT_|DELIVERY_/);

    await down.release();
    const wujiang = await startWujiang(port);
    try {
      // The operator retries; the retry has the same short deadline, so while the
      // channel is still reconnecting it may fail again — the operator retries again.
      await until(async () => {
        const s = (await q.outbox.status(m.messageId))?.status;
        if (s === "FAILED") await q.outbox.retryNow(m.messageId);
        await q.outbox.tick();
        return (await q.outbox.status(m.messageId))?.status === "ACKNOWLEDGED";
      });
      expect(await q.outbox.status(m.messageId)).toMatchObject({ status: "ACKNOWLEDGED", lateAcknowledged: true });
      expect(wujiang.applied).toEqual([m.messageId]);
    } finally {
      await wujiang.stop();
      await q.stop();
    }
  });

  it("when a failing partner acknowledges again, its other waiting messages go at once, not after their backoff", async () => {
    const down = await downPartner();
    const port = down.port;
    // Backoff of at least 30 s: without the pull-forward nothing waiting would go again within this test.
    const slow = { ...FAST, baseDelayMs: 60_000, minDelayMs: 30_000, maxDelayMs: 60_000 };
    const dir = newDir();
    const first = await qingpuOutbox(() => port, slow, dir);
    const waiting = await Promise.all([1, 2, 3, 4].map(() => message(newMessageId(), 1, CaseState.ACCEPTED)));
    for (const m of waiting) await enqueue(first.outbox, m, m.header.caseId);
    await first.outbox.tick();
    for (const m of waiting) expect((await first.outbox.status(m.messageId))?.nextAttemptAt).toBeGreaterThan(Date.now() + 20_000);
    // The sending node restarts meanwhile: what was failing is found again by recover().
    await first.stop();
    const q = await qingpuOutbox(() => port, slow, dir);
    expect(await q.outbox.recover()).toBe(0);

    await down.release();
    const wujiang = await startWujiang(port);
    try {
      // A new message is due at once (while the channel reconnects it may fail and wait too: sent again
      // by hand then); its acknowledgement brings the waiting ones forward.
      const fresh = await message(newMessageId(), 1, CaseState.ACCEPTED);
      await enqueue(q.outbox, fresh, fresh.header.caseId);
      await until(async () => {
        if ((await q.outbox.status(fresh.messageId))?.status === "RETRY_WAIT") await q.outbox.retryNow(fresh.messageId);
        await q.outbox.tick();
        return (await q.outbox.status(fresh.messageId))?.status === "ACKNOWLEDGED";
      }, 10_000);
      await q.outbox.tick();
      const after = await Promise.all(waiting.map((m) => q.outbox.status(m.messageId)));
      expect(after.map((r) => r?.status)).toEqual(["ACKNOWLEDGED", "ACKNOWLEDGED", "ACKNOWLEDGED", "ACKNOWLEDGED"]);
      expect(after.map((r) => r?.attempts)).toEqual([2, 2, 2, 2]);
      expect(new Set(wujiang.applied)).toEqual(new Set([fresh, ...waiting].map((m) => m.messageId)));
    } finally {
      await wujiang.stop();
      await q.stop();
    }
  });

  it("does not pull forward what the partner itself paced (RATE_LIMITED advice)", async () => {
    const store = await openLevelStore(newDir());
    const committer = new GroupCommitter(store);
    // A scripted partner: each message id gets the answers listed for it, in turn; a receipt is its id and digest as JSON.
    const script = new Map<string, (() => Uint8Array)[]>();
    const digests = new Map<string, string>();
    const outbox = new Outbox({
      store,
      committer,
      send: async (_destination, envelope) => {
        const id = [...digests.keys()].find((k) => Buffer.from(envelope).includes(Buffer.from(k)))!;
        return script.get(id)!.shift()!();
      },
      verifyReceipt: async (bytes) => {
        const { id } = JSON.parse(new TextDecoder().decode(bytes)) as { id: string };
        return { signer: { nodeId: WUJIANG }, body: { kind: { case: "technicalReceipt", value: { receivedMessageId: id, receivedDigest: Buffer.from(digests.get(id)!, "hex") } } } } as never;
      },
      schedule: new RetrySchedule({ ...FAST, baseDelayMs: 60_000, minDelayMs: 30_000, maxDelayMs: 60_000 }),
    });
    const receipt = (id: string) => () => new TextEncoder().encode(JSON.stringify({ id }));
    const fail = (code: "RATE_LIMITED" | "TRANSPORT_UNAVAILABLE") => () => {
      throw new TongbanError(code, "scripted", code === "RATE_LIMITED" ? { details: { retryAfterMs: 45_000 } } : {});
    };
    const [paced, dropped, fresh] = await Promise.all([1, 2, 3].map(() => message(newMessageId(), 1, CaseState.ACCEPTED)));
    for (const m of [paced!, dropped!, fresh!]) digests.set(m.messageId, Buffer.from(m.receiptDigest).toString("hex"));
    script.set(paced!.messageId, [fail("RATE_LIMITED"), receipt(paced!.messageId)]);
    script.set(dropped!.messageId, [fail("TRANSPORT_UNAVAILABLE"), receipt(dropped!.messageId)]);
    script.set(fresh!.messageId, [receipt(fresh!.messageId)]);
    try {
      for (const m of [paced!, dropped!]) await enqueue(outbox, m, m.header.caseId);
      await outbox.tick();
      const pacedUntil = (await outbox.status(paced!.messageId))!.nextAttemptAt!;
      expect(pacedUntil).toBeGreaterThan(Date.now() + 20_000);
      await enqueue(outbox, fresh!, fresh!.header.caseId);
      // The unavailable answer made the destination unreachable: the operator sends fresh as a probe.
      await outbox.retryNow(fresh!.messageId);
      await outbox.tick(); // fresh acknowledged: dropped is due now, paced keeps its time
      expect((await outbox.status(fresh!.messageId))?.status).toBe("ACKNOWLEDGED");
      await outbox.tick();
      expect((await outbox.status(dropped!.messageId))?.status).toBe("ACKNOWLEDGED");
      expect(await outbox.status(paced!.messageId)).toMatchObject({ status: "RETRY_WAIT", nextAttemptAt: pacedUntil });
    } finally {
      await committer.close();
      await store.close();
    }
  });

  it("holds the lanes of an unreachable destination and probes it one message at a time; the deadline still applies", async () => {
    const sim = await simulatedPartnerOutbox({ ...FAST, baseDelayMs: 1_000, minDelayMs: 1_000, maxDelayMs: 1_000, deadlineMs: 10_000 });
    const { outbox, sent, events, clock } = sim;
    try {
      const msgs = await Promise.all(Array.from({ length: 40 }, () => message(newMessageId(), 1, CaseState.ACCEPTED)));
      for (const m of msgs) await sim.add(m);
      // First round: the lanes already started fail; no further message of the destination is tried.
      await outbox.tick();
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.length).toBeLessThanOrEqual(outbox.lanesPerDestination);
      expect(events.filter((e) => e.type === "outbox.unreachable")).toHaveLength(1);
      // While it waits, rounds send nothing; after the wait, one probe.
      const afterFirst = sent.length;
      await outbox.tick();
      expect(sent).toHaveLength(afterFirst);
      // Held: not due again before the wait ends, so the rounds meanwhile do not even read them.
      const untried = msgs.filter((m) => !sent.includes(m.messageId));
      expect(untried.length).toBeGreaterThan(0);
      for (const m of untried) expect((await outbox.status(m.messageId))?.nextAttemptAt).toBe(clock.now + 1_000);
      clock.now += 2_000;
      await outbox.tick();
      expect(sent).toHaveLength(afterFirst + 1);
      await outbox.tick(); // the probe failed: held again, to the new end of the wait
      expect(sent).toHaveLength(afterFirst + 1);
      expect((await outbox.status(untried[1]!.messageId))?.nextAttemptAt).toBeGreaterThan(clock.now);
      // The partner is back, and an operator retries one held message before the wait ends: it goes as the
      // probe, is acknowledged, and everything else — held or waiting on a backoff — goes in the next round.
      sim.reachable = true;
      await outbox.retryNow(untried[0]!.messageId);
      await outbox.tick();
      expect((await outbox.status(untried[0]!.messageId))?.status).toBe("ACKNOWLEDGED");
      expect(events.filter((e) => e.type === "outbox.reachable")).toHaveLength(1);
      await outbox.tick();
      const statuses = await Promise.all(msgs.map((m) => outbox.status(m.messageId)));
      expect(statuses.every((r) => r?.status === "ACKNOWLEDGED")).toBe(true);
      // Far fewer attempts than one per message per round: each message at most twice (its failed first try, if it had one).
      expect(sent.length).toBeLessThan(msgs.length + outbox.lanesPerDestination + 3);

      // Unreachable again until past the deadline: messages never tried become FAILED with the alert.
      sim.reachable = false;
      const late = await Promise.all([1, 2, 3].map(() => message(newMessageId(), 1, CaseState.ACCEPTED)));
      for (const m of late) await sim.add(m);
      await outbox.tick();
      clock.now += 11_000;
      // One probe (itself past the deadline: FAILED), then the others expire without being sent.
      const before = sent.length;
      await outbox.tick();
      await outbox.tick();
      expect(sent.length - before).toBe(1);
      const lateStatus = await Promise.all(late.map((m) => outbox.status(m.messageId)));
      expect(lateStatus.map((r) => r?.status)).toEqual(["FAILED", "FAILED", "FAILED"]);
      expect(events.filter((e) => e.type === "outbox.failed").map((e) => e.messageId).sort()).toEqual(late.map((m) => m.messageId).sort());
    } finally {
      await sim.close();
    }
  });

  it("resume(): a destination that shows it is back (a pull partner connecting) has its held messages sent at once, before its wait ends", async () => {
    // An hour's wait after a failure: without resume() nothing would go again in this test.
    const sim = await simulatedPartnerOutbox({ ...FAST, baseDelayMs: 3_600_000, minDelayMs: 3_600_000, maxDelayMs: 3_600_000, deadlineMs: 86_400_000 });
    const { outbox, sent } = sim;
    try {
      const msgs = await Promise.all(Array.from({ length: 20 }, () => message(newMessageId(), 1, CaseState.ACCEPTED)));
      for (const m of msgs) await sim.add(m);
      await outbox.tick();
      expect(outbox.reachability(WUJIANG)).toBeDefined();
      const tried = sent.length;
      await outbox.tick();
      expect(sent).toHaveLength(tried); // held for the hour
      sim.reachable = true;
      expect(await outbox.resume(WUJIANG)).toBe(true);
      expect(outbox.reachability(WUJIANG)).toBeUndefined();
      await outbox.tick();
      await outbox.tick();
      const statuses = await Promise.all(msgs.map((m) => outbox.status(m.messageId)));
      expect(statuses.map((r) => r?.status)).toEqual(msgs.map(() => "ACKNOWLEDGED"));
      expect(await outbox.resume(WUJIANG)).toBe(false); // nothing was held any more
    } finally {
      await sim.close();
    }
  });

  it("a partner slow to answer delays only its own messages: the loop's rounds go on for the others", async () => {
    const store = await openLevelStore(newDir());
    const committer = new GroupCommitter(store);
    const JIASHAN = "cn.330421.jiashan";
    const digests = new Map<string, string>();
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const outbox = new Outbox({
      store,
      committer,
      // 吴江 takes its time (as a partner that accepts the connection and does not answer, up to the deadline).
      send: async (destination, envelope) => {
        const id = [...digests.keys()].find((k) => Buffer.from(envelope).includes(Buffer.from(k)))!;
        if (destination === WUJIANG) await held;
        return new TextEncoder().encode(`${destination} ${id}`);
      },
      verifyReceipt: async (bytes) => {
        const [signer, id] = new TextDecoder().decode(bytes).split(" ") as [string, string];
        return { signer: { nodeId: signer }, body: { kind: { case: "technicalReceipt", value: { receivedMessageId: id, receivedDigest: Buffer.from(digests.get(id)!, "hex") } } } } as never;
      },
      schedule: new RetrySchedule(FAST),
    });
    const add = async (destination: string) => {
      const m = await createEnvelope({ body: { kind: { case: "statusUpdate", value: { state: CaseState.ACCEPTED } } }, sender: QINGPU, recipient: destination, caseId: newMessageId(), sequence: 1, signer: identity(QINGPU).signer });
      digests.set(m.messageId, Buffer.from(m.receiptDigest).toString("hex"));
      await outbox.enqueue({ messageId: m.messageId, destination, caseId: m.header.caseId, envelope: m.bytes, receiptDigest: m.receiptDigest });
      outbox.poke();
      return m.messageId;
    };
    outbox.start(20);
    try {
      const slow = await add(WUJIANG);
      await until(async () => (await outbox.status(slow))?.status === "SENDING");
      // Enqueued while 吴江's attempt hangs: 嘉善's message is acknowledged anyway, and a second one for 吴江 waits.
      const quick = await add(JIASHAN);
      const later = await add(WUJIANG);
      await until(async () => (await outbox.status(quick))?.status === "ACKNOWLEDGED", 5_000);
      expect((await outbox.status(slow))?.status).toBe("SENDING");
      expect((await outbox.status(later))?.status).toBe("QUEUED");
      release();
      await until(async () => (await outbox.status(later))?.status === "ACKNOWLEDGED", 5_000);
      expect((await outbox.status(slow))?.status).toBe("ACKNOWLEDGED");
    } finally {
      release();
      await outbox.stop();
      await committer.close();
      await store.close();
    }
  });

  it("sends the queued bytes as they are and keeps the receipt as the partner sent it, not re-encoded", async () => {
    // Both envelopes in a valid but non-canonical encoding (fields in reverse order): re-encoding would change them.
    const reversed = (bytes: Uint8Array): Uint8Array => {
      const fields: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; ) {
        const start = i++;
        let len = 0;
        for (let shift = 0; ; shift += 7) {
          const b = bytes[i++]!;
          len += (b & 0x7f) * 2 ** shift;
          if ((b & 0x80) === 0) break;
        }
        fields.push(bytes.subarray(start, i + len));
        i += len;
      }
      return Buffer.concat(fields.reverse());
    };
    const received: Uint8Array[] = [];
    const receipts = new Map<string, Uint8Array>();
    const server = await startGrpcServer({
      credentials: serverCredentials({ ca: root.certificatePem, cert: nodes[WUJIANG]!.tls.certificatePem, key: nodes[WUJIANG]!.tls.privateKeyPem }),
      services: [
        [
          FederationService,
          {
            deliver: async (req) => {
              received.push(wireBytesOf(req)!);
              const v = await verifyEnvelope(req.envelope!, { self: WUJIANG, resolver: trust });
              const made = await createEnvelope({
                body: { kind: { case: "technicalReceipt", value: { receivedMessageId: v.header.messageId, receivedDigest: v.receiptDigest, status: ReceiptStatus.ACCEPTED } } },
                sender: WUJIANG,
                recipient: QINGPU,
                signer: identity(WUJIANG).signer,
              });
              const bytes = reversed(made.bytes);
              receipts.set(v.header.messageId, bytes);
              return rememberWireBytes(create(DeliverResponseSchema), encodeSingleMessageField(1, bytes));
            },
          },
        ],
      ],
    });
    const q = await qingpuOutbox(() => server.port);
    try {
      const caseId = newMessageId();
      const m = await message(caseId, 1, CaseState.ACCEPTED);
      const queued = reversed(m.bytes);
      expect(Buffer.from(queued)).not.toEqual(Buffer.from(m.bytes));
      await q.outbox.enqueue({ messageId: m.messageId, destination: WUJIANG, caseId, envelope: queued, receiptDigest: m.receiptDigest });
      await q.outbox.tick();
      const r = await q.outbox.status(m.messageId);
      expect(r?.status).toBe("ACKNOWLEDGED");
      expect(received).toHaveLength(1);
      expect(Buffer.from(received[0]!)).toEqual(Buffer.from(encodeSingleMessageField(1, queued)));
      expect(Buffer.from(r!.receipt!, "base64")).toEqual(Buffer.from(receipts.get(m.messageId)!));
    } finally {
      await q.stop();
      await server.shutdown(50);
    }
  });

  it("after a restart, a message left SENDING goes back to the queue and the receiver's dedupe keeps its effect single", async () => {
    const wujiang = await startWujiang();
    const dir = newDir();
    try {
      let q = await qingpuOutbox(() => wujiang.server.port, FAST, dir);
      const caseId = newMessageId();
      const m = await message(caseId, 1, CaseState.ACCEPTED);
      await enqueue(q.outbox, m, caseId);
      await q.outbox.tick();
      expect((await q.outbox.status(m.messageId))?.status).toBe("ACKNOWLEDGED");
      // Simulate a crash after sending, before the acknowledgement was recorded.
      const rec = (await q.outbox.status(m.messageId))!;
      rec.status = "SENDING";
      await q.store.batch([{ type: "put", key: storeKeys.outbox.key(m.messageId), value: new TextEncoder().encode(JSON.stringify(rec)) }]);
      await q.stop();

      q = await qingpuOutbox(() => wujiang.server.port, FAST, dir);
      expect(await q.outbox.recover()).toBe(1);
      await q.outbox.tick();
      expect((await q.outbox.status(m.messageId))?.status).toBe("ACKNOWLEDGED");
      expect(wujiang.applied).toEqual([m.messageId]);
      await q.stop();
    } finally {
      await wujiang.stop();
    }
  });
});
