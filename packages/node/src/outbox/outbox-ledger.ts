import type { BatchHook } from "../store/group-committer.js";
import { storeKeys } from "../store/keys.js";
import type { BatchOp, Store } from "../store/types.js";
import type { OutboxStatus } from "./outbox.js";

const dec = new TextDecoder();
const STATUSES: readonly OutboxStatus[] = ["QUEUED", "SENDING", "RETRY_WAIT", "ACKNOWLEDGED", "FAILED", "REJECTED"];

/**
 * The outbox by status, kept as batches commit — so the node's gauge
 * (`tongban_outbox_messages`) and its restart need no walk over every message
 * it ever sent. Read once from the store at start ({@link load}, before
 * anything commits), then a {@link BatchHook} on the group committer: each
 * outbox record a durable batch writes moves its message to the status written.
 * Messages not yet ACKNOWLEDGED are held by id (few: what waits, and what
 * failed), acknowledged ones only counted.
 */
export class OutboxLedger implements BatchHook {
  readonly #open = new Map<string, OutboxStatus>();
  #acknowledged = 0;
  #maxOrder = 0;
  #loaded = false;
  #pending: [string, OutboxStatus][] = [];

  /** Reads every outbox record once. Call at start, before the first batch. */
  async load(store: Store): Promise<void> {
    this.#open.clear();
    this.#acknowledged = 0;
    for await (const e of store.iterate(storeKeys.outbox.range())) {
      const r = JSON.parse(dec.decode(e.value)) as { messageId: string; status: OutboxStatus; order: number };
      this.#maxOrder = Math.max(this.#maxOrder, r.order);
      if (r.status === "ACKNOWLEDGED") this.#acknowledged++;
      else this.#open.set(r.messageId, r.status);
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
    for (const s of this.#open.values()) out[s]++;
    out.ACKNOWLEDGED = this.#acknowledged;
    return out;
  }

  /** The messages not acknowledged, with their status (what a restart must look at). */
  unacknowledged(): ReadonlyMap<string, OutboxStatus> {
    return this.#open;
  }

  prepare(batch: readonly BatchOp[]): readonly BatchOp[] {
    for (const op of batch) {
      if (op.type !== "put" || !storeKeys.outbox.has(op.key)) continue;
      const [messageId] = storeKeys.outbox.decode(op.key);
      const status = (op.note?.outboxStatus ?? (JSON.parse(dec.decode(op.value)) as { status: string }).status) as OutboxStatus;
      this.#pending.push([messageId, status]);
    }
    return [];
  }

  settle(ok: boolean): void {
    if (ok) {
      for (const [id, status] of this.#pending) {
        if (status !== "ACKNOWLEDGED") this.#open.set(id, status);
        // Acknowledged once: a message leaves the open set and is counted (an acknowledged record written again is not).
        else if (this.#open.delete(id)) this.#acknowledged++;
      }
    }
    this.#pending = [];
  }
}
