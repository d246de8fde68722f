import { storeKeys } from "../store/keys.js";
import type { BatchOp, Store } from "../store/types.js";

/**
 * What the node tells its platform and its operators (docs/node.md
 * "Events"). `alert: true` marks events somebody must act on.
 */
export interface NodeEvent {
  /** Position in the node's event log, increasing (gaps are possible after a failed batch). */
  readonly seq: number;
  readonly at: string;
  /** `case.opened`, `case.state`, `deadline.yellow`, `deadline.red`, `outbox.failed`, … */
  readonly type: string;
  readonly caseId?: string;
  readonly messageId?: string;
  readonly partner?: string;
  readonly state?: string;
  readonly alert?: boolean;
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** An event before it has a position. */
export type NodeEventInit = Omit<NodeEvent, "seq" | "at"> & { readonly at?: string };

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * The node's durable event log (collection `event`, keyed by sequence). An
 * event is written by the same batch as the change it reports, via
 * {@link EventLog.ops}, and settled with {@link EventLog.settle} once that
 * batch is durable (or failed); readers see settled events only.
 */
export class EventLog {
  readonly #store: Store;
  #next = -1;
  /** Positions handed out whose batch is not settled yet; readers stop before the lowest. */
  readonly #pending = new Set<number>();
  readonly #listeners = new Set<() => void>();

  constructor(store: Store) {
    this.#store = store;
  }

  /** Finds the next free sequence number. Call once at start. */
  async open(): Promise<void> {
    if (this.#next >= 0) return;
    let last = -1;
    for await (const e of this.#store.iterate({ ...storeKeys.event.range(), reverse: true, limit: 1 })) last = storeKeys.event.decode(e.key)[0];
    this.#next = last + 1;
  }

  /** The event with its position, and the operation that writes it. */
  ops(init: NodeEventInit, now: Date = new Date()): { event: NodeEvent; op: BatchOp } {
    if (this.#next < 0) throw new Error("EventLog.open() was not called");
    const event: NodeEvent = { ...init, seq: this.#next++, at: init.at ?? now.toISOString() };
    this.#pending.add(event.seq);
    return { event, op: { type: "put", key: storeKeys.event.key(event.seq), value: enc.encode(JSON.stringify(event)) } };
  }

  /**
   * Settles events whose batch was committed (or failed: then the position
   * stays a gap) and wakes subscribers, who read the durable log.
   */
  settle(events: readonly NodeEvent[]): void {
    for (const e of events) this.#pending.delete(e.seq);
    for (const l of this.#listeners) l();
  }

  /** Every position below this is settled: readers never pass it, so no event is skipped. */
  get watermark(): number {
    let low = this.#next;
    for (const s of this.#pending) low = Math.min(low, s);
    return low;
  }

  /** Wakes `listener` whenever events settle; returns the function that stops listening. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The newest settled events, newest first: at most `limit` of them (those
   * `match` accepts, when given), looking back over at most `scan` events.
   * The operator console's latest alerts come from here: reading from the
   * start would show old ones once the log is long.
   */
  async latest(options: { readonly limit: number; readonly match?: (e: NodeEvent) => boolean; readonly scan?: number }): Promise<NodeEvent[]> {
    const out: NodeEvent[] = [];
    const range = storeKeys.event.range();
    const end = this.#next < 0 ? range.lt : storeKeys.event.key(this.watermark);
    for await (const e of this.#store.iterate({ gte: range.gte, lt: end, reverse: true, limit: options.scan ?? 100_000 })) {
      const ev = JSON.parse(dec.decode(e.value)) as NodeEvent;
      if (options.match !== undefined && !options.match(ev)) continue;
      out.push(ev);
      if (out.length >= options.limit) break;
    }
    return out;
  }

  /** Settled events after `afterSeq` (exclusive), oldest first. */
  async *read(afterSeq = -1, limit = 1000): AsyncGenerator<NodeEvent> {
    let n = 0;
    const end = this.#next < 0 ? storeKeys.event.range().lt : storeKeys.event.key(this.watermark);
    for await (const e of this.#store.iterate({ gte: storeKeys.event.key(afterSeq + 1), lt: end })) {
      yield JSON.parse(dec.decode(e.value)) as NodeEvent;
      if (++n >= limit) return;
    }
  }
}
