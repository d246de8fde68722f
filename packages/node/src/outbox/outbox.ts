import { ERROR_CODES, TongbanError, isErrorCode, type VerifiedEnvelope } from "@tongban/sdk";
import type { GroupCommitter } from "../store/group-committer.js";
import { storeKeys } from "../store/keys.js";
import type { OutboxLedger } from "./outbox-ledger.js";
import type { BatchOp, OutboxNote, Store } from "../store/types.js";
import { backoffDelay, nextAttempt, type RetrySchedule } from "./retry-schedule.js";

/** The AS4-style life of an outbound message (docs/node.md "Outbox"). */
export type OutboxStatus = "QUEUED" | "SENDING" | "ACKNOWLEDGED" | "RETRY_WAIT" | "FAILED" | "REJECTED";

/** An outbound message as the outbox keeps it. */
export interface OutboxRecord {
  readonly messageId: string;
  readonly destination: string;
  readonly caseId: string;
  /** Enqueue order, for sending in order. */
  readonly order: number;
  /** The signed envelope (protobuf), base64. */
  readonly envelope: string;
  /** What the receipt must bind (hex). */
  readonly receiptDigest: string;
  status: OutboxStatus;
  attempts: number;
  enqueuedAt: number;
  firstAttemptAt?: number;
  nextAttemptAt?: number;
  lastError?: { code: string; message: string };
  /** The destination's signed receipt (protobuf), base64, once acknowledged. */
  receipt?: string;
  /** When the message was last given up (FAILED), if ever. */
  failedAt?: number;
  /** True when the receipt came after the message had been given up (FAILED) and was retried. */
  lateAcknowledged?: boolean;
}

/** An event the outbox raises; `outbox.failed` and `outbox.rejected` are alerts. */
export interface OutboxEvent {
  /**
   * Per message: acknowledged, retry, failed, rejected. Per destination: `outbox.unreachable` when it stops answering
   * at the transport level (its messages then wait, and one probe goes at a time on the backoff), `outbox.reachable`
   * when it answers again — `messageId` is the message that found out.
   */
  readonly type: "outbox.acknowledged" | "outbox.retry" | "outbox.failed" | "outbox.rejected" | "outbox.unreachable" | "outbox.reachable";
  readonly messageId: string;
  readonly destination: string;
  readonly attempts: number;
  readonly error?: { code: string; message: string };
}

/** Delivers one envelope to a destination node and returns its receipt envelope (protobuf). */
export type Sender = (destination: string, envelope: Uint8Array) => Promise<Uint8Array>;

/** Verifies a receipt envelope addressed to this node (the SDK's verifyEnvelope). */
export type ReceiptVerifier = (receipt: Uint8Array) => Promise<VerifiedEnvelope>;

/** The parts the outbox is built from. */
export interface OutboxComponents {
  readonly store: Store;
  readonly committer: GroupCommitter;
  readonly send: Sender;
  readonly verifyReceipt: ReceiptVerifier;
  readonly schedule: RetrySchedule;
  readonly onEvent?: (event: OutboxEvent) => void;
  readonly now?: () => number;
  readonly random?: () => number;
  /**
   * The outbox by status, kept as batches commit (a hook on the same committer, loaded at start): with it the
   * outbox's restart reads only the messages not yet acknowledged, and the next enqueue order comes without a scan.
   */
  readonly ledger?: OutboxLedger;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const encode = (r: OutboxRecord) => enc.encode(JSON.stringify(r));
const decode = (b: Uint8Array) => JSON.parse(dec.decode(b)) as OutboxRecord;
const EMPTY = new Uint8Array();
/**
 * The operations that write an outbox record: the record, noted for the outbox ledger (which then need not decode
 * it), and its `outbox-open` index entry — put while the message is not acknowledged, deleted once it is.
 */
const recordPut = (r: OutboxRecord): BatchOp[] => [
  { type: "put", key: storeKeys.outbox.key(r.messageId), value: encode(r), note: { outbox: noteOf(r) } },
  r.status === "ACKNOWLEDGED" ? { type: "del", key: storeKeys.outboxOpen.key(r.messageId) } : { type: "put", key: storeKeys.outboxOpen.key(r.messageId), value: EMPTY },
];
/** The facts of a record the outbox ledger keeps. */
export const noteOf = (r: OutboxRecord): OutboxNote => ({ status: r.status, destination: r.destination, errored: r.lastError !== undefined, at: r.firstAttemptAt ?? r.enqueuedAt, order: r.order });

/** A message to hand to the outbox. */
export interface OutboundMessage {
  readonly messageId: string;
  readonly destination: string;
  readonly caseId: string;
  readonly envelope: Uint8Array;
  readonly receiptDigest: Uint8Array;
}

/**
 * The store operations that put a message in the outbox. Callers add them to
 * the SAME batch as the state change that produced the message, so a change
 * and its outbound messages become durable together.
 */
export function outboxOps(message: OutboundMessage, order: number, now: number): BatchOp[] {
  const record: OutboxRecord = {
    messageId: message.messageId,
    destination: message.destination,
    caseId: message.caseId,
    order,
    envelope: Buffer.from(message.envelope).toString("base64"),
    receiptDigest: Buffer.from(message.receiptDigest).toString("hex"),
    status: "QUEUED",
    attempts: 0,
    enqueuedAt: now,
    nextAttemptAt: now,
  };
  return [
    ...recordPut(record),
    { type: "put", key: storeKeys.outboxDue.key(now, message.messageId), value: EMPTY },
  ];
}

/** Failures that say the destination is not answering at all (rather than answering no): they open its breaker. */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set(["TRANSPORT_UNAVAILABLE", "TRANSPORT_DEADLINE_EXCEEDED", "DELIVERY_FAILED"]);

/** True when retrying cannot help: the receiver judged the message itself. */
function isPermanent(code: string): boolean {
  if (!isErrorCode(code)) return false;
  const status = ERROR_CODES[code].grpc;
  return status === "INVALID_ARGUMENT" || status === "PERMISSION_DENIED" || status === "UNAUTHENTICATED" || status === "FAILED_PRECONDITION" || status === "ALREADY_EXISTS";
}

/**
 * The outbox dispatcher: sends what is due in lanes (the messages of one
 * case one at a time in enqueue order, cases in parallel), verifies each
 * receipt (signed by the destination, answering the message, binding
 * exactly the bytes sent), retries transient failures on the destination's
 * schedule (backoff with jitter, honouring a partner's retry advice) and
 * gives up at the final deadline: FAILED with an `outbox.failed` alert,
 * never silently. When a destination that was failing acknowledges a
 * message again, its other waiting messages become due at once.
 */
export class Outbox {
  readonly #c: OutboxComponents;
  readonly #now: () => number;
  #order = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #stopped = true;
  #again = false;
  #loop: (() => void) | undefined;
  /** Destinations with messages waiting after a failure: the next acknowledgement from one pulls them forward. */
  readonly #failing = new Set<string>();
  /**
   * Destinations that do not answer at the transport level (a circuit breaker): their lanes wait until `until`, then
   * one probe lane goes; its acknowledgement closes the breaker. Without it every waiting case of an unreachable
   * partner would be tried, logged and rescheduled on its own — thousands of attempts for one fact.
   */
  readonly #unreachable = new Map<string, { failures: number; until: number }>();
  /** Destinations with lanes in flight, and their work: a round leaves them be (see #startRound). */
  readonly #busy = new Map<string, Promise<number>>();

  constructor(components: OutboxComponents) {
    this.#c = components;
    this.#now = components.now ?? Date.now;
  }

  /** Enqueues a message on its own (most callers use {@link outboxOps} in their batch). */
  async enqueue(message: OutboundMessage): Promise<void> {
    await this.#c.committer.commit(outboxOps(message, await this.nextOrder(), this.#now()));
  }

  /** The next enqueue order number (monotonic across restarts). */
  async nextOrder(): Promise<number> {
    if (this.#order === 0) {
      const ledger = this.#c.ledger;
      if (ledger?.loaded === true) this.#order = ledger.maxOrder;
      else for await (const e of this.#c.store.iterate({ ...storeKeys.outbox.range() })) this.#order = Math.max(this.#order, decode(e.value).order);
    }
    return ++this.#order;
  }

  /**
   * Resumes after a restart: a message found SENDING may or may not have
   * arrived; it goes back to RETRY_WAIT, due now — the receiver's durable
   * dedupe makes a second delivery harmless. Returns how many were reset.
   */
  async recover(): Promise<number> {
    const ops: BatchOp[] = [];
    const now = this.#now();
    let reset = 0;
    for await (const r of this.#unacknowledged()) {
      if (r.status === "SENDING") {
        r.status = "RETRY_WAIT";
        ops.push(...this.#reschedule(r, now));
        reset++;
      }
      // Destinations that were failing before the restart: their first acknowledgement pulls the rest forward.
      if (r.status === "RETRY_WAIT" && r.lastError !== undefined) this.#failing.add(r.destination);
    }
    if (ops.length > 0) await this.#c.committer.commit(ops);
    return reset;
  }

  /** The records of messages not yet acknowledged: from the ledger's list when there is one, else a walk over every record. */
  async *#unacknowledged(): AsyncGenerator<OutboxRecord> {
    const ledger = this.#c.ledger;
    if (ledger?.loaded === true) {
      for (const id of [...ledger.unacknowledged().keys()]) {
        const r = await this.status(id);
        if (r !== undefined) yield r;
      }
      return;
    }
    for await (const e of this.#c.store.iterate(storeKeys.outbox.range())) yield decode(e.value);
  }

  /** Whether the outbox holds `destination` as unreachable: its failed probes so far and when the next may go; undefined while it answers. */
  reachability(destination: string): { readonly failures: number; readonly nextProbeAt: number } | undefined {
    const b = this.#unreachable.get(destination);
    return b === undefined ? undefined : { failures: b.failures, nextProbeAt: b.until };
  }

  /**
   * The destination showed it is back without an acknowledgement — a pull destination opened a PullEvents stream:
   * the breaker closes and its waiting messages are due now. Returns true if it was held as unreachable.
   */
  async resume(destination: string): Promise<boolean> {
    const was = this.#unreachable.delete(destination);
    this.#failing.delete(destination);
    await this.#pullForward(destination);
    this.poke();
    return was;
  }

  /** A message's record, or undefined. */
  async status(messageId: string): Promise<OutboxRecord | undefined> {
    const v = await this.#c.store.get(storeKeys.outbox.key(messageId));
    return v === undefined ? undefined : decode(v);
  }

  /** Operator action: try a waiting or FAILED message again now (a fresh deadline), as a probe if its destination is unreachable. */
  async retryNow(messageId: string): Promise<void> {
    const r = await this.status(messageId);
    if (r === undefined) throw new TongbanError("CASE_NOT_FOUND", `no outbound message ${messageId}`);
    if (r.status === "ACKNOWLEDGED" || r.status === "SENDING") return;
    const breaker = this.#unreachable.get(r.destination);
    if (breaker !== undefined) breaker.until = Math.min(breaker.until, this.#now());
    const ops = this.#unschedule(r);
    if (r.status === "FAILED" || r.status === "REJECTED") {
      delete r.firstAttemptAt;
      r.attempts = 0;
    }
    r.status = "RETRY_WAIT";
    ops.push(...this.#reschedule(r, this.#now()));
    await this.#c.committer.commit(ops);
  }

  /** Operator action: give up a waiting message (FAILED with an alert). */
  async giveUp(messageId: string): Promise<void> {
    const r = await this.status(messageId);
    if (r === undefined) throw new TongbanError("CASE_NOT_FOUND", `no outbound message ${messageId}`);
    if (r.status === "ACKNOWLEDGED" || r.status === "FAILED") return;
    const ops = this.#unschedule(r);
    r.status = "FAILED";
    r.failedAt = this.#now();
    r.lastError = { code: "DELIVERY_DEADLINE_EXCEEDED", message: "given up by the operator" };
    ops.push(...recordPut(r));
    await this.#c.committer.commit(ops);
    this.#emit("outbox.failed", r);
  }

  /**
   * One dispatch round: sends every message due now. Messages travel in
   * lanes — one per (destination, case), one per message without a case —
   * so cases proceed in parallel while the messages of one case go one at a
   * time in enqueue order; a failure stops that lane's round (its later
   * messages must not overtake it). At most {@link Outbox.lanesPerDestination}
   * lanes of one destination are in flight at once. Returns how many were
   * acknowledged, once every destination this round started on is done.
   */
  async tick(): Promise<number> {
    const counts = await Promise.all(await this.#startRound());
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * Reads what is due and starts each destination's lanes, without waiting for them: a destination still busy from
   * an earlier round is left to it (its due messages go in a later round), so one partner that is slow to answer —
   * up to the sender's deadline — never holds back the others. Returns the destinations' work, each resolving to
   * how many it got acknowledged.
   */
  async #startRound(): Promise<Promise<number>[]> {
    const now = this.#now();
    const due: OutboxRecord[] = [];
    for await (const e of this.#c.store.iterate({ ...storeKeys.outboxDue.range(), lt: storeKeys.outboxDue.key(now + 1, "") })) {
      const [, messageId] = storeKeys.outboxDue.decode(e.key);
      const r = await this.status(messageId);
      if (r !== undefined && (r.status === "QUEUED" || r.status === "RETRY_WAIT") && !this.#busy.has(r.destination)) due.push(r);
    }
    const byDestination = new Map<string, Map<string, OutboxRecord[]>>();
    for (const r of due.sort((a, b) => a.order - b.order)) {
      const lanes = byDestination.get(r.destination) ?? new Map<string, OutboxRecord[]>();
      const lane = r.caseId === "" ? `msg ${r.messageId}` : `case ${r.caseId}`;
      lanes.set(lane, [...(lanes.get(lane) ?? []), r]);
      byDestination.set(r.destination, lanes);
    }
    const started: Promise<number>[] = [];
    for (const [destination, lanes] of byDestination) {
      if (this.#busy.has(destination)) continue;
      const work = this.#sendTo(destination, [...lanes.values()], now).finally(() => {
        this.#busy.delete(destination);
        // What it found (a partner back: its waiting messages pulled forward) goes in a round now, not at the interval.
        if (this.#again) this.poke();
      });
      this.#busy.set(destination, work);
      started.push(work);
    }
    return started;
  }

  /** One destination's part of a round: its lanes, or holding them while it is unreachable. */
  async #sendTo(destination: string, queue: OutboxRecord[][], now: number): Promise<number> {
    const breaker = this.#unreachable.get(destination);
    if (breaker !== undefined && breaker.until > now) {
      // Not tried while the destination is unreachable: due again when its wait ends (so rounds meanwhile do
      // not read them), or FAILED at their final deadline.
      await this.#hold(queue.flat(), breaker.until, now);
      return 0;
    }
    let ok = 0;
    const runLane = async (): Promise<void> => {
      for (let list = queue.shift(); list !== undefined; list = queue.shift()) {
        for (const r of list) {
          const open = this.#unreachable.get(destination);
          if (open !== undefined && open !== breaker) return; // it became unreachable during this round
          if (!(await this.#attempt(r))) break;
          ok++;
        }
      }
    };
    // A destination coming off its wait gets one probe lane; once it answers, the next round sends the rest.
    const width = breaker === undefined ? this.lanesPerDestination : 1;
    await Promise.all(Array.from({ length: Math.min(width, queue.length) }, runLane));
    return ok;
  }

  /** Lanes of one destination sent at once (default 16). */
  lanesPerDestination = 16;

  /**
   * Runs a round every `intervalMs` until {@link stop}; {@link poke} runs one sooner. A round starts each
   * destination's lanes and does not wait for them, so a partner slow to answer delays only its own messages.
   */
  start(intervalMs = 250): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const loop = () => {
      this.#timer = undefined;
      if (this.#stopped) return;
      this.#again = false;
      // The round returns once its destinations are started; each finishes on its own (#startRound).
      this.#running = this.#startRound().then(
        (works) => {
          for (const w of works) w.catch(() => 0); // a destination's failure is its own; the loop goes on
          return 0;
        },
        () => 0,
      );
      void this.#running.then(() => {
        this.#running = undefined;
        if (!this.#stopped) this.#timer = setTimeout(loop, this.#again ? 0 : intervalMs);
      });
    };
    this.#loop = loop;
    loop();
  }

  /** Something was enqueued: run a dispatch round now rather than at the next interval. */
  poke(): void {
    if (this.#stopped || this.#loop === undefined) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#loop();
  }

  /** Stops the loop after the round in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
    await Promise.all([...this.#busy.values()].map((w) => w.catch(() => 0)));
  }

  async #attempt(r: OutboxRecord): Promise<boolean> {
    const now = this.#now();
    const ops = this.#unschedule(r);
    r.status = "SENDING";
    r.attempts++;
    r.firstAttemptAt ??= now;
    ops.push(...recordPut(r));
    await this.#c.committer.commit(ops);

    let error: { code: string; message: string; retryAfterMs?: number } | undefined;
    try {
      const receiptBytes = await this.#c.send(r.destination, Buffer.from(r.envelope, "base64"));
      const receipt = await this.#c.verifyReceipt(receiptBytes);
      const body = receipt.body?.kind.case === "technicalReceipt" ? receipt.body.kind.value : undefined;
      if (receipt.signer.nodeId !== r.destination || body === undefined || body.receivedMessageId !== r.messageId || Buffer.from(body.receivedDigest).toString("hex") !== r.receiptDigest) {
        throw new TongbanError("RECEIPT_INVALID", "the receipt is not the destination's acknowledgement of exactly this message", { details: { messageId: r.messageId } });
      }
      r.status = "ACKNOWLEDGED";
      if (r.failedAt !== undefined) r.lateAcknowledged = true;
      r.receipt = Buffer.from(receiptBytes).toString("base64");
      delete r.nextAttemptAt;
      delete r.lastError;
      await this.#c.committer.commit(recordPut(r));
      this.#emit("outbox.acknowledged", r);
      if (this.#unreachable.delete(r.destination)) {
        this.#emit("outbox.reachable", r);
        this.#again = true; // the rest of its lanes go in the next round, at once
      }
      if (this.#failing.delete(r.destination)) await this.#pullForward(r.destination);
      return true;
    } catch (err) {
      const e = err instanceof TongbanError ? err : new TongbanError("DELIVERY_FAILED", String(err));
      const advice = Number(e.details.retryAfterMs);
      error = { code: e.code, message: e.message, ...(Number.isFinite(advice) ? { retryAfterMs: advice } : {}) };
    }

    r.lastError = { code: error.code, message: error.message };
    if (UNREACHABLE_CODES.has(error.code)) this.#unreachableFrom(r);
    if (isPermanent(error.code) && error.code !== "RECEIPT_INVALID") {
      r.status = "REJECTED";
      await this.#c.committer.commit(recordPut(r));
      this.#emit("outbox.rejected", r);
      return false;
    }
    const decision = nextAttempt(this.#c.schedule.policyFor(r.destination), r.attempts, r.firstAttemptAt, this.#now(), error.retryAfterMs ?? 0, this.#c.random);
    if (decision.kind === "give-up") {
      r.status = "FAILED";
      r.failedAt = this.#now();
      delete r.nextAttemptAt;
      await this.#c.committer.commit(recordPut(r));
      this.#emit("outbox.failed", r);
      return false;
    }
    r.status = "RETRY_WAIT";
    await this.#c.committer.commit(this.#reschedule(r, decision.at));
    this.#failing.add(r.destination);
    this.#emit("outbox.retry", r);
    return false;
  }

  /** `r` found its destination not answering: it waits (longer each time) before the next probe. */
  #unreachableFrom(r: OutboxRecord): void {
    const breaker = this.#unreachable.get(r.destination);
    const failures = (breaker?.failures ?? 0) + 1;
    const policy = this.#c.schedule.policyFor(r.destination);
    this.#unreachable.set(r.destination, { failures, until: this.#now() + Math.round(backoffDelay(policy, failures, this.#c.random)) });
    if (breaker === undefined) this.#emit("outbox.unreachable", r);
  }

  /**
   * Messages of an unreachable destination: due again at `until` (or just after their final deadline, if sooner);
   * those past the deadline (counted from their first attempt, or enqueueing if never tried) FAILED with the alert.
   */
  async #hold(records: readonly OutboxRecord[], until: number, now: number): Promise<void> {
    const ops: BatchOp[] = [];
    const failed: OutboxRecord[] = [];
    for (const r of records) {
      const deadline = (r.firstAttemptAt ?? r.enqueuedAt) + this.#c.schedule.policyFor(r.destination).deadlineMs;
      if (now <= deadline) {
        ops.push(...this.#reschedule(r, Math.min(until, deadline + 1)));
        continue;
      }
      ops.push(...this.#unschedule(r));
      r.status = "FAILED";
      r.failedAt = now;
      delete r.nextAttemptAt;
      r.lastError ??= { code: "DELIVERY_DEADLINE_EXCEEDED", message: "the destination was unreachable until the final deadline" };
      ops.push(...recordPut(r));
      failed.push(r);
    }
    if (ops.length > 0) await this.#c.committer.commit(ops);
    for (const r of failed) this.#emit("outbox.failed", r);
  }

  /**
   * The destination answers again: its messages waiting on a backoff, or held while it was unreachable, are due now
   * rather than up to `maxDelayMs` later — except those the partner itself paced (RATE_LIMITED / OVERLOADED advice).
   */
  async #pullForward(destination: string): Promise<void> {
    const now = this.#now();
    const ops: BatchOp[] = [];
    for await (const e of this.#c.store.iterate({ ...storeKeys.outboxDue.range(), gte: storeKeys.outboxDue.key(now + 1, "") })) {
      const [, messageId] = storeKeys.outboxDue.decode(e.key);
      const r = await this.status(messageId);
      // QUEUED too: messages held while the destination was unreachable were never tried.
      if (r === undefined || r.destination !== destination || (r.status !== "RETRY_WAIT" && r.status !== "QUEUED")) continue;
      if (r.lastError?.code === "RATE_LIMITED" || r.lastError?.code === "OVERLOADED") continue;
      ops.push(...this.#reschedule(r, now));
    }
    if (ops.length === 0) return;
    await this.#c.committer.commit(ops);
    this.#again = true; // the loop runs its next round at once
  }

  #unschedule(r: OutboxRecord): BatchOp[] {
    return r.nextAttemptAt === undefined ? [] : [{ type: "del", key: storeKeys.outboxDue.key(r.nextAttemptAt, r.messageId) }];
  }

  #reschedule(r: OutboxRecord, at: number): BatchOp[] {
    const ops = this.#unschedule(r);
    r.nextAttemptAt = at;
    ops.push(...recordPut(r), { type: "put", key: storeKeys.outboxDue.key(at, r.messageId), value: EMPTY });
    return ops;
  }

  #emit(type: OutboxEvent["type"], r: OutboxRecord): void {
    this.#c.onEvent?.({ type, messageId: r.messageId, destination: r.destination, attempts: r.attempts, ...(r.lastError ? { error: r.lastError } : {}) });
  }
}
