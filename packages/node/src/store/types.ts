/**
 * The store's vocabulary. Keys and values are both bytes: keys because the
 * node's collections need order-preserving binary encodings (big-endian
 * numbers, digests) that strings cannot carry, values because every record is
 * a protobuf or other binary encoding already. Helpers in `keys.ts` build and
 * read keys; nothing else in the node should hand-assemble them.
 */

/** One operation of an atomic batch. */
export type BatchOp =
  | {
      readonly type: "put";
      readonly key: Uint8Array;
      readonly value: Uint8Array;
      /**
       * Not stored: what a batch hook may want to know about this put without
       * decoding the value (the evidence log takes the envelope as received
       * from here). Stores ignore it.
       */
      readonly note?: BatchNote;
    }
  | { readonly type: "del"; readonly key: Uint8Array };

/** Side information on a put for batch hooks; see {@link BatchOp}. */
export interface BatchNote {
  /** An evidence log entry this put stands for, with its payload (`AppendInput` of the SDK). */
  readonly evidence?: { readonly kind: "envelope-in" | "receipt-out"; readonly caseId: string; readonly messageId: string; readonly label: string; readonly payload: Uint8Array };
  /** What an outbox record put writes, for the outbox ledger (which then need not decode the record). */
  readonly outbox?: OutboxNote;
}

/** The facts of an outbox record the outbox ledger keeps. */
export interface OutboxNote {
  readonly status: string;
  readonly destination: string;
  /** The record carries an error (a failed attempt not yet made good). */
  readonly errored: boolean;
  /** When the message was first tried (or queued, if never tried): an acknowledged message's time of contact. */
  readonly at: number;
  /** The record's enqueue order. */
  readonly order: number;
}

/** One key-value pair yielded by {@link Store.iterate}. Both are fresh `Uint8Array`s the caller may keep. */
export interface StoreEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * A key range and how to walk it. Bounds compare bytewise (memcmp order, as
 * LevelDB's default comparator); at most one lower and one upper bound.
 */
export interface IterateOptions {
  /** Only keys strictly greater than this. */
  readonly gt?: Uint8Array;
  /** Only keys greater than or equal to this. */
  readonly gte?: Uint8Array;
  /** Only keys strictly less than this. */
  readonly lt?: Uint8Array;
  /** Only keys less than or equal to this. */
  readonly lte?: Uint8Array;
  /** Walk from the highest key down. Default false. */
  readonly reverse?: boolean;
  /** Yield at most this many entries (a non-negative integer). Default: no limit. */
  readonly limit?: number;
}

/**
 * What a store implementation guarantees, declared rather than guessed, so
 * callers and the compliance suite adapt by capability and never by name.
 */
export interface StoreCapabilities {
  /** Data survives `close()` and the end of the process; the same location can be opened again. */
  readonly persistent: boolean;
  /** A resolved `batch()` has been flushed to stable storage (fsync), so it survives a crash or power loss. */
  readonly durable: boolean;
  /**
   * Reads see a snapshot: `get` and `getMany` the store as it was when called,
   * `iterate` as it was at its first `next()`; writes after that are not seen.
   */
  readonly snapshots: boolean;
}

/** Where a store is in its life. Only `open` stores serve reads and writes. */
export type StoreStatus = "new" | "opening" | "open" | "closing" | "closed";

/**
 * The ordered key-value store the node keeps everything in. Implementations
 * extend {@link AbstractStore}; layers above depend only on this interface,
 * so their tests run on {@link MemoryStore}.
 *
 * Failures are `TongbanError`s: `STORE_UNAVAILABLE` (closed, locked, I/O
 * error — nothing of the failed call was applied) or `STORE_CORRUPT`.
 * Argument mistakes are `TypeError`s thrown before anything is done.
 */
export interface Store {
  /** What this implementation guarantees. */
  readonly capabilities: StoreCapabilities;
  /** Current life-cycle state. */
  readonly status: StoreStatus;
  /** Opens the store; a no-op when already open. */
  open(): Promise<void>;
  /** The value at `key`, or `undefined` when there is none. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /**
   * The value at `key` without waiting for another thread: for hot paths
   * that look up one small key per request (the intake's duplicate check),
   * where a thread-pool round trip costs more than the read. LevelDB answers
   * from its memtable, block cache and Bloom filters, and blocks the caller
   * only for a block it must read from disk. Optional: callers fall back to
   * `get` when a store lacks it.
   */
  getSync?(key: Uint8Array): Uint8Array | undefined;
  /** The values at `keys`, in the same order, `undefined` where missing; read from one snapshot. */
  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  /**
   * Walks a key range in order. Validation errors throw at once; the walk
   * starts on the first `next()`. Breaking out of a `for await` releases the
   * underlying iterator.
   */
  iterate(options?: IterateOptions): AsyncIterableIterator<StoreEntry>;
  /**
   * Applies all `ops` in order, atomically: either all of them or none. When
   * `capabilities.durable`, the promise resolves only after the whole batch is
   * on stable storage.
   */
  batch(ops: readonly BatchOp[]): Promise<void>;
  /** Closes the store. Pending operations finish first; a no-op when already closed. */
  close(): Promise<void>;
}
