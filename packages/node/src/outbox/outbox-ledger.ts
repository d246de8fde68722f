import type { BatchHook } from "../store/group-committer.js";
import { storeKeys } from "../store/keys.js";
import type { BatchOp, OutboxNote, Store } from "../store/types.js";
import { noteOf, type OutboxRecord, type OutboxStatus } from "./outbox.js";

const dec = new TextDecoder();
const STATUSES: readonly OutboxStatus[] = ["QUEUED", "SENDING", "RETRY_WAIT", "ACKNOWLEDGED", "FAILED", "REJECTED"];

/** A destination's deliveries as the ledger counts them. */
export interface DestinationTally {
  /** Messages sent to it (queued, in any status). */
  readonly sent: number;
  /** Of them, FAILED, REJECTED, or waiting after a failed attempt. */
  readonly failed: number;
  /** The latest acknowledged message's first attempt (epoch ms), 0 if none. */
  readonly lastContact: number;
}

/**
 * The outbox by status, kept as batches commit — so the node's gauge
 * (`tongban_outbox_messages`), its console and its restart need no walk over
 * every message it ever sent. Read once from the store at start
 * ({@link load}, before anything commits), then a {@link BatchHook} on the
 * group committer: each outbox record a durable batch writes moves its
 * message to what the record says. Messages not yet ACKNOWLEDGED are held by
 * id (few: what waits, and what failed); acknowledged ones only counted, per
 * destination.
 */
export class OutboxLedger implements BatchHook {
  readonly #open = new Map<string, OutboxNote>();
  readonly #acked = new Map<string, { count: number; last: number }>();
  #maxOrder = 0;
  #loaded = false;
  #pending: [string, OutboxNote][] = [];

  /** Reads every outbox record once. Call at start, before the first batch. */
  async load(store: Store): Promise<void> {
    this.#open.clear();
    this.#acked.clear();
    for await (const e of store.iterate(storeKeys.outbox.range())) {
      const r = JSON.parse(dec.decode(e.value)) as OutboxRecord;
      this.#maxOrder = Math.max(this.#maxOrder, r.order);
      this.#apply(r.messageId, noteOf(r), true);
    }
    this.#loaded = true;
  }

  get loaded(): boolean {
    return this.#loaded;
  }

  /** The highest enqueue order found at load. */
  get maxOrder(): number {
    return this.#maxOrder;
  }

  /** Messages by status. */
  counts(): Record<OutboxStatus, number> {
    const out = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<OutboxStatus, number>;
    for (const n of this.#open.values()) out[n.status as OutboxStatus]++;
    for (const a of this.#acked.values()) out.ACKNOWLEDGED += a.count;
    return out;
  }

  /** Per destination: messages sent, failed, and the last contact. */
  destinations(): Map<string, DestinationTally> {
    const out = new Map<string, { sent: number; failed: number; lastContact: number }>();
    const of = (d: string) => out.get(d) ?? (out.set(d, { sent: 0, failed: 0, lastContact: 0 }), out.get(d)!);
    for (const [d, a] of this.#acked) Object.assign(of(d), { sent: a.count, lastContact: a.last });
    for (const n of this.#open.values()) {
      const t = of(n.destination);
      t.sent++;
      if (n.status === "FAILED" || n.status === "REJECTED" || n.errored) t.failed++;
    }
    return out;
  }

  /** The messages not acknowledged, with their status (what a restart and the console's deliveries page look at). */
  unacknowledged(): ReadonlyMap<string, OutboxNote> {
    return this.#open;
  }

  prepare(batch: readonly BatchOp[]): readonly BatchOp[] {
    for (const op of batch) {
      if (op.type !== "put" || !storeKeys.outbox.has(op.key)) continue;
      const [messageId] = storeKeys.outbox.decode(op.key);
      this.#pending.push([messageId, op.note?.outbox ?? noteOf(JSON.parse(dec.decode(op.value)) as OutboxRecord)]);
    }
    return [];
  }

  settle(ok: boolean): void {
    if (ok) for (const [id, note] of this.#pending) this.#apply(id, note, false);
    this.#pending = [];
  }

  #apply(id: string, note: OutboxNote, loading: boolean): void {
    if (note.status !== "ACKNOWLEDGED") {
      this.#open.set(id, note);
      return;
    }
    // Acknowledged once: the message leaves the open set and is counted (an acknowledged record written again is not).
    if (!this.#open.delete(id) && !loading) return;
    const a = this.#acked.get(note.destination) ?? { count: 0, last: 0 };
    a.count++;
    a.last = Math.max(a.last, note.at);
    this.#acked.set(note.destination, a);
  }
}
