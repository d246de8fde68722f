import { randomBytes } from "node:crypto";
import { TongbanError, newMessageId } from "@tongban/sdk";
import { describe, expect, it } from "vitest";
import { GroupCommitter, combineHooks } from "../store/group-committer.js";
import { storeKeys } from "../store/keys.js";
import { MemoryStore } from "../store/memory-store.js";
import type { Store } from "../store/types.js";
import { OutboxLedger } from "./outbox-ledger.js";
import { Outbox, outboxOps, type OutboxRecord, type OutboxStatus } from "./outbox.js";
import { RetrySchedule } from "./retry-schedule.js";

const WUJIANG = "cn.320509.wujiang";
const JIASHAN = "cn.330421.jiashan";

/** Counts by status, read the slow way: every record. */
async function scanCounts(store: Store): Promise<Record<string, number>> {
  const out: Record<string, number> = { QUEUED: 0, SENDING: 0, RETRY_WAIT: 0, ACKNOWLEDGED: 0, FAILED: 0, REJECTED: 0 };
  for await (const e of store.iterate(storeKeys.outbox.range())) out[(JSON.parse(new TextDecoder().decode(e.value)) as OutboxRecord).status]!++;
  return out;
}

/** Per destination, read the slow way (as the console did): sent, failed, last contact. */
async function scanDestinations(store: Store): Promise<Map<string, { sent: number; failed: number; lastContact: number }>> {
  const out = new Map<string, { sent: number; failed: number; lastContact: number }>();
  for await (const e of store.iterate(storeKeys.outbox.range())) {
    const r = JSON.parse(new TextDecoder().decode(e.value)) as OutboxRecord;
    const t = out.get(r.destination) ?? { sent: 0, failed: 0, lastContact: 0 };
    t.sent++;
    if (r.status === "FAILED" || r.status === "REJECTED" || r.lastError !== undefined) t.failed++;
    if (r.status === "ACKNOWLEDGED") t.lastContact = Math.max(t.lastContact, r.firstAttemptAt ?? r.enqueuedAt);
    out.set(r.destination, t);
  }
  return out;
}

/** A seeded generator (mulberry32): the same run every time. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function outboxOn(store: Store, random: () => number, clock: { now: number }) {
  const ledger = new OutboxLedger();
  await ledger.load(store);
  const committer = new GroupCommitter(store, { hook: combineHooks(ledger) });
  const digests = new Map<string, string>();
  const outbox = new Outbox({
    store,
    committer,
    ledger,
    now: () => clock.now,
    random,
    send: async (_destination, envelope) => {
      const id = new TextDecoder().decode(envelope);
      const roll = random();
      if (roll < 0.3) throw new TongbanError("TRANSPORT_UNAVAILABLE", "down");
      if (roll < 0.35) throw new TongbanError("AUTH_NOT_ALLOWED", "refused for good");
      return new TextEncoder().encode(id);
    },
    verifyReceipt: async (bytes) => {
      const [destination, id] = new TextDecoder().decode(bytes).split("|") as [string, string];
      return { signer: { nodeId: destination }, body: { kind: { case: "technicalReceipt", value: { receivedMessageId: id, receivedDigest: Buffer.from(digests.get(id)!, "hex") } } } } as never;
    },
    schedule: new RetrySchedule({ baseDelayMs: 10, factor: 2, minDelayMs: 5, maxDelayMs: 40, deadlineMs: 400, maxAttempts: 0 }),
  });
  const enqueue = async (destination = WUJIANG) => {
    const messageId = newMessageId();
    const receiptDigest = randomBytes(32);
    digests.set(messageId, receiptDigest.toString("hex"));
    await committer.commit(outboxOps({ messageId, destination, caseId: "", envelope: new TextEncoder().encode(`${destination}|${messageId}`), receiptDigest }, await outbox.nextOrder(), clock.now));
    return messageId;
  };
  return { ledger, committer, outbox, enqueue, digests };
}

describe("OutboxLedger", () => {
  it("keeps the outbox's counts by status through sends, retries, failures, rejections and operator actions, as a scan of every record finds them", async () => {
    const store = new MemoryStore();
    await store.open();
    const random = prng(20261207);
    const clock = { now: 1_000_000 };
    const o = await outboxOn(store, random, clock);
    const ids: string[] = [];
    const seen = new Set<OutboxStatus>();
    for (let step = 0; step < 400; step++) {
      const r = random();
      if (r < 0.35) ids.push(await o.enqueue(random() < 0.5 ? WUJIANG : JIASHAN));
      else if (r < 0.85) await o.outbox.tick();
      else if (r < 0.93 && ids.length > 0) await o.outbox.retryNow(ids[Math.floor(random() * ids.length)]!);
      else if (ids.length > 0) await o.outbox.giveUp(ids[Math.floor(random() * ids.length)]!);
      clock.now += Math.floor(random() * 60);
      const counts = o.ledger.counts();
      for (const [s, n] of Object.entries(counts)) if (n > 0) seen.add(s as OutboxStatus);
      expect(counts).toEqual(await scanCounts(store));
      expect(o.ledger.destinations()).toEqual(await scanDestinations(store));
    }
    // The run went through every status but SENDING (between two steps nothing is in flight).
    expect([...seen].sort()).toEqual(["ACKNOWLEDGED", "FAILED", "QUEUED", "REJECTED", "RETRY_WAIT"]);
    // Loaded afresh (a restart), the ledger finds the same, and the next order follows the highest.
    const again = new OutboxLedger();
    await again.load(store);
    expect(again.counts()).toEqual(await scanCounts(store));
    expect(again.destinations()).toEqual(await scanDestinations(store));
    expect(again.maxOrder).toBe(ids.length);
    await o.committer.close();
  });

  it("a restart resends what was SENDING, reading only the messages not acknowledged", async () => {
    const store = new MemoryStore();
    await store.open();
    const clock = { now: 2_000_000 };
    const first = await outboxOn(store, () => 0.9, clock);
    const done = await first.enqueue();
    await first.outbox.tick();
    const inFlight = await first.enqueue();
    // The node died while this one was on the wire: its record says SENDING.
    const r = (await first.outbox.status(inFlight))!;
    await first.committer.commit([{ type: "put", key: storeKeys.outbox.key(inFlight), value: new TextEncoder().encode(JSON.stringify({ ...r, status: "SENDING", attempts: 1 })) }]);
    await first.committer.close();

    const second = await outboxOn(store, () => 0.9, clock);
    for (const [id, d] of first.digests) second.digests.set(id, d);
    expect(second.ledger.counts()).toMatchObject({ ACKNOWLEDGED: 1, SENDING: 1 });
    expect([...second.ledger.unacknowledged().keys()]).toEqual([inFlight]);
    expect(await second.outbox.recover()).toBe(1);
    expect(second.ledger.counts()).toMatchObject({ SENDING: 0, RETRY_WAIT: 1 });
    await second.outbox.tick();
    expect((await second.outbox.status(inFlight))?.status).toBe("ACKNOWLEDGED");
    expect((await second.outbox.status(done))?.status).toBe("ACKNOWLEDGED");
    expect(second.ledger.counts()).toEqual(await scanCounts(store));
    expect(await second.outbox.nextOrder()).toBe(3);
    await second.committer.close();
  });

  it("a store from before the ledger is read whole once and indexed; later starts read only the messages not acknowledged", async () => {
    const store = new MemoryStore();
    await store.open();
    const clock = { now: 3_000_000 };
    const o = await outboxOn(store, () => 0.9, clock);
    for (let i = 0; i < 6; i++) await o.enqueue();
    await o.outbox.tick();
    const waiting = await o.enqueue();
    await o.committer.close();
    // What an older node left: the records alone (no index, no stored tally).
    await store.batch([{ type: "del", key: storeKeys.meta.key("outbox-ledger") }, { type: "del", key: storeKeys.outboxOpen.key(waiting) }]);
    const first = new OutboxLedger();
    expect(await first.load(store)).toBe(7);
    expect(first.counts()).toEqual(await scanCounts(store));
    const again = new OutboxLedger();
    expect(await again.load(store)).toBe(1);
    expect(again.counts()).toEqual(await scanCounts(store));
    expect(again.destinations()).toEqual(await scanDestinations(store));
    expect(again.maxOrder).toBe(7);
  });

  it("a batch that fails leaves the ledger as it was, in memory and as stored", async () => {
    const inner = new MemoryStore();
    await inner.open();
    let fail = false;
    const store = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === "batch") return (ops: never) => (fail ? Promise.reject(new Error("disk full")) : target.batch(ops));
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const clock = { now: 4_000_000 };
    const o = await outboxOn(store, () => 0.9, clock);
    const id = await o.enqueue();
    const before = o.ledger.counts();
    fail = true;
    await expect(o.outbox.tick()).rejects.toThrow();
    fail = false;
    expect(o.ledger.counts()).toEqual(before);
    expect(o.ledger.counts()).toEqual(await scanCounts(store));
    const reread = new OutboxLedger();
    await reread.load(store);
    expect(reread.counts()).toEqual(before);
    expect([...reread.unacknowledged().keys()]).toEqual([id]);
    await o.committer.close();
  });

  it("a batch whose outbox record cannot be read is refused whole, and the ledger keeps what it had", async () => {
    const store = new MemoryStore();
    await store.open();
    const o = await outboxOn(store, () => 0.9, { now: 5_000_000 });
    await o.enqueue();
    const before = o.ledger.counts();
    const good = outboxOps({ messageId: newMessageId(), destination: WUJIANG, caseId: "", envelope: new Uint8Array([1]), receiptDigest: randomBytes(32) }, 99, 5_000_000);
    const garbage = { type: "put" as const, key: storeKeys.outbox.key(newMessageId()), value: new TextEncoder().encode("not json") };
    await expect(o.committer.commit([...good, garbage])).rejects.toThrow();
    expect(o.ledger.counts()).toEqual(before);
    expect(o.ledger.maxOrder).toBe(1);
    expect(o.ledger.counts()).toEqual(await scanCounts(store));
    await o.committer.close();
  });
});
