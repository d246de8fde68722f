import { TongbanError } from "../errors/index.js";

/** What the replay guard found for a (sender, message id). */
export type ReplayVerdict = "new" | "duplicate";

/**
 * Remembers which (sender, message id) pairs were seen and with what content,
 * until the message expires. The same id with the same receipt digest is a
 * duplicate delivery (at-least-once transport): the caller answers with the
 * receipt it gave before and applies nothing. The same id with different
 * content is a replay: ENVELOPE_REPLAYED.
 *
 * A node keeps this in its durable store; {@link MemoryReplayGuard} serves
 * SDK users and tests.
 */
export interface ReplayGuard {
  /**
   * Checks and records. Throws ENVELOPE_REPLAYED for a conflicting reuse.
   * @param expiresAt - epoch ms after which the message can no longer be
   *   accepted, so the entry may be forgotten.
   */
  check(sender: string, messageId: string, receiptDigest: Uint8Array, expiresAt: number): ReplayVerdict;
}

/**
 * An in-memory, bounded {@link ReplayGuard}. Entries are dropped once their
 * message has expired (an expired message is refused by the timestamp
 * checks anyway). When more than `maxEntries` unexpired ids are held the
 * guard refuses new ones with OVERLOADED rather than forgetting ids early,
 * which would reopen the replay window.
 */
export class MemoryReplayGuard implements ReplayGuard {
  readonly #seen = new Map<string, { digest: string; expiresAt: number }>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  #nextSweep = 0;

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.#maxEntries = options.maxEntries ?? 1_000_000;
    this.#now = options.now ?? Date.now;
    if (!(Number.isInteger(this.#maxEntries) && this.#maxEntries > 0)) throw new TypeError("maxEntries must be a positive integer");
  }

  /** How many ids are remembered now. */
  get size(): number {
    return this.#seen.size;
  }

  check(sender: string, messageId: string, receiptDigest: Uint8Array, expiresAt: number): ReplayVerdict {
    const key = `${sender}\u0000${messageId}`;
    const digest = Buffer.from(receiptDigest).toString("hex");
    const prior = this.#seen.get(key);
    if (prior !== undefined) {
      if (prior.digest === digest) return "duplicate";
      throw new TongbanError("ENVELOPE_REPLAYED", `message ${messageId} from ${sender} was already received with different content`, {
        details: { sender, messageId },
      });
    }
    this.#sweep();
    if (this.#seen.size >= this.#maxEntries) {
      throw new TongbanError("OVERLOADED", "replay guard is full; retry later", { details: { retryAfterMs: 1_000 } });
    }
    this.#seen.set(key, { digest, expiresAt });
    return "new";
  }

  #sweep(): void {
    const now = this.#now();
    // Sweeping is O(n); doing it at most once a second keeps intake O(1) amortised.
    if (now < this.#nextSweep && this.#seen.size < this.#maxEntries) return;
    this.#nextSweep = now + 1_000;
    for (const [k, v] of this.#seen) if (v.expiresAt < now) this.#seen.delete(k);
  }
}
