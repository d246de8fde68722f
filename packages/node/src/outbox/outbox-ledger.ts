import type { BatchHook } from "../store/group-committer.js";
import { storeKeys } from "../store/keys.js";
import type { BatchOp, OutboxNote, Store } from "../store/types.js";
import { noteOf, type OutboxRecord, type OutboxStatus } from "./outbox.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const STATUSES: readonly OutboxStatus[] = ["QUEUED", "SENDING", "RETRY_WAIT", "ACKNOWLEDGED", "FAILED", "REJECTED"];
const LEDGER_KEY = storeKeys.meta.key("outbox-ledger");
const EMPTY = new Uint8Array(0);

/** A destination's deliveries as the ledger counts them. */
export interface DestinationTally {
  /** Messages sent to it (queued, in any status). */
  readonly sent: number;
  /** Of them, FAILED, REJECTED, or waiting after a failed attempt. */
  readonly failed: number;
  /** The latest acknowledged message's first attempt (epoch ms), 0 if none. */
  readonly lastContact: number;
}

/** What the ledger stores (meta `outbox-ledger`): acknowledged messages per destination as [count, last contact]. */
interface StoredLedger {
  readonly v: 1;
  readonly maxOrder: number;
  readonly acked: Record<string, [number, number]>;
}

type Undo = { readonly open: [string, OutboxNote | undefined][]; readonly acked: [string, { count: number; last: number } | undefined][]; readonly maxOrder: number };

/**
 * The outbox by status, kept as batches commit — so the node's gauge
 * (`tongban_outbox_messages`), its console and its restart never walk every
 * message it ever sent. A {@link BatchHook} on the group committer: each
 * outbox record a batch writes moves its message to what the record says, and
 * the batch also stores the acknowledged messages' tally (meta
 * `outbox-ledger`); the messages not acknowledged are listed by the
 * `outbox-open` index the outbox writes with each record. So {@link load}
 * at start reads the tally and the open messages' records only — what waits,
 * and what failed — except once, on a store from before the ledger, which it
 * reads whole and indexes.
 */
export class OutboxLedger implements BatchHook {
  readonly #open = new Map<string, OutboxNote>();
  readonly #acked = new Map<string, { count: number; last: number }>();
  #maxOrder = 0;
  #loaded = false;
  #undo: Undo | undefined;

  /**
   * Reads the ledger: the stored tally and the records of the messages not
   * acknowledged. Call at start, before the first batch. Returns how many
   * records it read (all of them, once, on a store from before the ledger).
   */
  async load(store: Store): Promise<number> {
    this.#open.clear();
    this.#acked.clear();
    this.#maxOrder = 0;
    let read = 0;
    const raw = await store.get(LEDGER_KEY);
    if (raw !== undefined) {
      const stored = JSON.parse(dec.decode(raw)) as StoredLedger;
      this.#maxOrder = stored.maxOrder;
      for (const [d, [count, last]] of Object.entries(stored.acked)) this.#acked.set(d, { count, last });
      for await (const e of store.iterate(storeKeys.outboxOpen.range())) {
        const [id] = storeKeys.outboxOpen.decode(e.key);
        const v = await store.get(storeKeys.outbox.key(id));
        read++;
        if (v !== undefined) this.#take(id, noteOf(JSON.parse(dec.decode(v)) as OutboxRecord), true);
      }
    } else {
      // A store from before the ledger: read every record once, index the open ones, store the tally.
      let ops: BatchOp[] = [];
      for await (const e of store.iterate(storeKeys.outbox.range())) {
        const r = JSON.parse(dec.decode(e.value)) as OutboxRecord;
        read++;
        this.#take(r.messageId, noteOf(r), true);
        if (r.status !== "ACKNOWLEDGED") ops.push({ type: "put", key: storeKeys.outboxOpen.key(r.messageId), value: EMPTY });
        if (ops.length >= 1_000) {
          await store.batch(ops);
          ops = [];
        }
      }
      await store.batch([...ops, this.#stored()]);
    }
    this.#loaded = true;
    return read;
  }

  get loaded(): boolean {
    return this.#loaded;
  }

  /** The highest enqueue order of any message written. */
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

  /** Applies the batch's outbox records now (undone if the batch fails) and stores the tally with them. */
  prepare(batch: readonly BatchOp[]): readonly BatchOp[] {
    let undo: Undo | undefined;
    for (const op of batch) {
      if (op.type !== "put" || !storeKeys.outbox.has(op.key)) continue;
      const [messageId] = storeKeys.outbox.decode(op.key);
      // Kept at once, so that a throw part way (a record that does not decode) is undone by settle(false) too.
      undo = this.#undo ??= { open: [], acked: [], maxOrder: this.#maxOrder };
      this.#take(messageId, op.note?.outbox ?? noteOf(JSON.parse(dec.decode(op.value)) as OutboxRecord), false, undo);
    }
    return undo === undefined ? [] : [this.#stored()];
  }

  settle(ok: boolean): void {
    const undo = this.#undo;
    this.#undo = undefined;
    if (ok || undo === undefined) return;
    // The batch was not written: put back what it changed, last change first.
    for (const [id, was] of undo.open.reverse()) {
      if (was === undefined) this.#open.delete(id);
      else this.#open.set(id, was);
    }
    for (const [d, was] of undo.acked.reverse()) {
      if (was === undefined) this.#acked.delete(d);
      else this.#acked.set(d, was);
    }
    this.#maxOrder = undo.maxOrder;
  }

  #take(id: string, note: OutboxNote, loading: boolean, undo?: Undo): void {
    this.#maxOrder = Math.max(this.#maxOrder, note.order);
    const was = this.#open.get(id);
    if (note.status !== "ACKNOWLEDGED") {
      undo?.open.push([id, was]);
      this.#open.set(id, note);
      return;
    }
    // Acknowledged once: the message leaves the open set and is counted (an acknowledged record written again is not).
    if (was === undefined && !loading) return;
    if (was !== undefined) {
      undo?.open.push([id, was]);
      this.#open.delete(id);
    }
    const a = this.#acked.get(note.destination);
    undo?.acked.push([note.destination, a === undefined ? undefined : { ...a }]);
    this.#acked.set(note.destination, { count: (a?.count ?? 0) + 1, last: Math.max(a?.last ?? 0, note.at) });
  }

  #stored(): BatchOp {
    const acked: Record<string, [number, number]> = {};
    for (const [d, a] of this.#acked) acked[d] = [a.count, a.last];
    return { type: "put", key: LEDGER_KEY, value: enc.encode(JSON.stringify({ v: 1, maxOrder: this.#maxOrder, acked } satisfies StoredLedger)) };
  }
}
