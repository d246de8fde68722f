import { TongbanError } from "@tongban/sdk";
import { checkBatch, unavailable } from "./abstract-store.js";
import type { BatchOp, Store } from "./types.js";

/** How a {@link GroupCommitter} forms batches. */
/**
 * Sees every group batch just before it is written, in commit order (one
 * batch is in flight at a time), and may add operations to the same batch —
 * the evidence log appends its entries for the changes this way, so a change
 * and its evidence are durable together. `settle` reports whether the batch
 * was written, so the hook can roll back what it assumed.
 */
export interface BatchHook {
  prepare(batch: readonly BatchOp[]): readonly BatchOp[];
  settle(ok: boolean): void;
}

/**
 * Several hooks as one: each sees the batch as the callers made it, their
 * operations are added in order, and each hears how the batch settled (a hook
 * must take a `settle(false)` without a `prepare` calmly).
 */
export function combineHooks(...hooks: readonly BatchHook[]): BatchHook {
  return {
    prepare(batch) {
      const added: BatchOp[] = [];
      for (const h of hooks) added.push(...h.prepare(batch));
      return added;
    },
    settle(ok) {
      for (const h of hooks) h.settle(ok);
    },
  };
}

export interface GroupCommitOptions {
  /** Adds operations to every batch (see {@link BatchHook}). */
  readonly hook?: BatchHook;
  /**
   * How long an idle committer waits for more commits before writing, in ms.
   * Default 0: write on the next turn of the event loop. Under load the
   * window is the fsync itself: commits that arrive while a batch is being
   * written all go into the next one.
   */
  readonly windowMs?: number;
  /** Most operations in one batch. A single larger commit still goes through, alone. Default 10,000. */
  readonly maxOps?: number;
  /** Most key+value bytes in one batch. A single larger commit still goes through, alone. Default 16 MiB. */
  readonly maxBytes?: number;
}

/** Counters of a {@link GroupCommitter} since it was created. */
export interface GroupCommitStats {
  /** Commits accepted (resolved, rejected or pending). */
  readonly commits: number;
  /** Store batches written, successful or not. */
  readonly batches: number;
  /** Batches that failed (every commit in them was rejected). */
  readonly failedBatches: number;
  /** Operations written in successful batches. */
  readonly ops: number;
  /** The most commits merged into one batch. */
  readonly largestBatch: number;
}

/** The defaults of {@link GroupCommitOptions}. */
export const DEFAULT_GROUP_COMMIT_OPTIONS: Readonly<Required<Omit<GroupCommitOptions, "hook">>> = Object.freeze({
  windowMs: 0,
  maxOps: 10_000,
  maxBytes: 16 * 1024 * 1024,
});

interface Pending {
  readonly ops: readonly BatchOp[];
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Merges concurrent commits into one durable store batch, so many writers
 * share one fsync (group commit, as in database write-ahead logs).
 *
 * At most one batch is in flight; commits that arrive meanwhile queue and
 * form the next batch. Commits are applied in the order `commit()` was
 * called. Each caller's promise resolves only when the batch holding its
 * operations is durable (`store.batch` resolved). A failing batch rejects
 * every commit in it with `STORE_UNAVAILABLE` and, because the store's batch
 * is atomic, applies none of them; later commits are tried afresh.
 *
 * The committer does not own the store: `close()` drains it and refuses new
 * commits, and closing the store stays the caller's job.
 *
 * @example
 * ```ts
 * const committer = new GroupCommitter(store, { windowMs: 1 });
 * await committer.commit([{ type: "put", key: storeKeys.inbox.key(sender, id), value }]);
 * // now durable: safe to send the receipt
 * ```
 */
export class GroupCommitter {
  readonly #store: Store;
  readonly #windowMs: number;
  readonly #maxOps: number;
  readonly #maxBytes: number;
  #queue: Pending[] = [];
  #queuedOps = 0;
  #queuedBytes = 0;
  #inFlight = false;
  #timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined;
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  #stats = { commits: 0, batches: 0, failedBatches: 0, ops: 0, largestBatch: 0 };
  readonly #hook: BatchHook | undefined;

  constructor(store: Store, options: GroupCommitOptions = {}) {
    if (typeof store !== "object" || store === null || typeof store.batch !== "function") {
      throw new TypeError("store must be a Store");
    }
    const { windowMs, maxOps, maxBytes } = { ...DEFAULT_GROUP_COMMIT_OPTIONS, ...options };
    if (!(Number.isFinite(windowMs) && windowMs >= 0)) throw new TypeError("windowMs must be a finite number ≥ 0");
    if (!(Number.isSafeInteger(maxOps) && maxOps > 0)) throw new TypeError("maxOps must be a positive integer");
    if (!(Number.isSafeInteger(maxBytes) && maxBytes > 0)) throw new TypeError("maxBytes must be a positive integer");
    this.#store = store;
    this.#windowMs = windowMs;
    this.#maxOps = maxOps;
    this.#maxBytes = maxBytes;
    this.#hook = options.hook;
  }

  /** Counters since creation (a copy). */
  get stats(): GroupCommitStats {
    return { ...this.#stats };
  }

  /**
   * Queues `ops` for the next batch and resolves when that batch is durable.
   * An empty commit resolves once everything queued before it is settled.
   *
   * @throws TypeError when `ops` is not a valid batch (nothing is queued)
   * @throws TongbanError `STORE_UNAVAILABLE` when the committer is closed or the batch failed
   */
  commit(ops: readonly BatchOp[]): Promise<void> {
    try {
      checkBatch(ops);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#closed) return Promise.reject(unavailable("the group committer is closed"));
    // Copy the array so a caller reusing it cannot change what gets written.
    const own = ops.slice();
    let bytes = 0;
    for (const op of own) bytes += op.key.byteLength + (op.type === "put" ? op.value.byteLength : 0);
    this.#stats.commits++;
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ ops: own, bytes, resolve, reject });
      this.#queuedOps += own.length;
      this.#queuedBytes += bytes;
      this.#schedule();
    });
  }

  /** Writes whatever is queued without waiting for the window and resolves when all of it is settled. */
  flush(): Promise<void> {
    if (this.#queue.length === 0 && !this.#inFlight) return Promise.resolve();
    const idle = new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    if (!this.#inFlight) this.#start();
    return idle;
  }

  /** Refuses new commits and resolves once every accepted commit is settled. Does not close the store. */
  close(): Promise<void> {
    this.#closed = true;
    return this.flush();
  }

  #schedule(): void {
    if (this.#inFlight) return;
    if (this.#queuedOps >= this.#maxOps || this.#queuedBytes >= this.#maxBytes) {
      this.#start();
      return;
    }
    if (this.#timer !== undefined) return;
    this.#timer =
      this.#windowMs > 0 ? setTimeout(() => this.#start(), this.#windowMs) : setImmediate(() => this.#start());
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer as ReturnType<typeof setTimeout>);
    clearImmediate(this.#timer as ReturnType<typeof setImmediate>);
    this.#timer = undefined;
  }

  #start(): void {
    this.#clearTimer();
    if (this.#inFlight || this.#queue.length === 0) return;
    // Take commits in order while they fit; the first one always goes, however large.
    let n = 0;
    let ops = 0;
    let bytes = 0;
    for (const p of this.#queue) {
      if (n > 0 && (ops + p.ops.length > this.#maxOps || bytes + p.bytes > this.#maxBytes)) break;
      n++;
      ops += p.ops.length;
      bytes += p.bytes;
    }
    const group = this.#queue.splice(0, n);
    this.#queuedOps -= ops;
    this.#queuedBytes -= bytes;
    const batch: BatchOp[] = group.length === 1 ? [...group[0]!.ops] : group.flatMap((p) => p.ops);
    if (this.#hook !== undefined) {
      try {
        batch.push(...this.#hook.prepare(batch));
      } catch (err) {
        // The hook could not vouch for this batch: nothing of it is written.
        this.#hook.settle(false);
        this.#stats.failedBatches++;
        for (const p of group) p.reject(err);
        this.#inFlight = true;
        this.#done();
        return;
      }
    }
    this.#inFlight = true;
    this.#stats.batches++;
    this.#stats.largestBatch = Math.max(this.#stats.largestBatch, group.length);
    // A store that throws instead of rejecting must still settle every caller.
    new Promise<void>((resolve) => resolve(this.#store.batch(batch))).then(
      () => {
        this.#hook?.settle(true);
        this.#stats.ops += batch.length;
        for (const p of group) p.resolve();
        this.#done();
      },
      (err: unknown) => {
        this.#hook?.settle(false);
        this.#stats.failedBatches++;
        for (const p of group) {
          p.reject(
            new TongbanError("STORE_UNAVAILABLE", "the group commit failed; nothing of this batch was applied", {
              cause: err,
              details: { commitsInBatch: group.length, opsInBatch: batch.length },
            }),
          );
        }
        this.#done();
      },
    );
  }

  #done(): void {
    this.#inFlight = false;
    if (this.#queue.length > 0) {
      // What queued during the write is the next batch; waiting longer would only add latency.
      this.#start();
      return;
    }
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
