import { TongbanError } from "@tongban/sdk";
import { Level } from "level";
import { AbstractStore, unavailable, type NormalizedRange } from "./abstract-store.js";
import { asView } from "./bytes.js";
import type { BatchOp, StoreEntry } from "./types.js";

/** How to open a {@link LevelStore}. */
export interface LevelStoreOptions {
  /** Create the directory's database when it does not exist. Default true. */
  readonly createIfMissing?: boolean;
  /** LevelDB block cache, in bytes. Default 8 MiB (LevelDB's own default). */
  readonly cacheSize?: number;
  /**
   * LevelDB memtable size before it is written to a table file, in bytes.
   * Default 32 MiB ({@link DEFAULT_WRITE_BUFFER_SIZE}; LevelDB's own is 4 MiB).
   */
  readonly writeBufferSize?: number;
}

/**
 * The memtable size a {@link LevelStore} opens with unless told otherwise:
 * 32 MiB rather than LevelDB's 4 MiB. A node writes many small records (six
 * or so per delivery, with the evidence log's) that are seldom overwritten; a
 * larger memtable flushes an eighth as many level-0 tables, and the background
 * compaction that merges them takes less CPU from a 2-core machine
 * (docs/benchmarks.md). The cost: up to twice this in memory while a full
 * memtable is being flushed, and up to this much write-ahead log to replay
 * when the store opens after a crash.
 */
export const DEFAULT_WRITE_BUFFER_SIZE = 32 * 1024 * 1024;

/** The block cache a {@link LevelStore} opens with unless told otherwise: LevelDB's own 8 MiB. */
export const DEFAULT_CACHE_SIZE = 8 * 1024 * 1024;

// Entries read per native call; bounded by classic-level's highWaterMarkBytes as well.
const ITERATOR_CHUNK = 256;

type Db = Level<Uint8Array, Uint8Array>;

/**
 * The node's on-disk {@link Store}: LevelDB through classic-level (the
 * `level` package). Every batch is written with `sync: true`, so LevelDB
 * fsyncs its write-ahead log before the promise resolves: a resolved batch
 * survives a process crash and power loss, and LevelDB's batches are atomic
 * in its log, so a batch is never partly recovered. Put a
 * {@link GroupCommitter} in front of it to share one fsync among many
 * concurrent writers.
 *
 * Opening fails with `STORE_UNAVAILABLE` (`details.reason` = `"locked"` when
 * another process — or another store in this one — holds the directory,
 * `"io"` otherwise) or `STORE_CORRUPT` when LevelDB finds its files damaged.
 *
 * This is the only module of the node that imports `level`.
 *
 * @example
 * ```ts
 * const store = await openLevelStore("data/store");
 * const committer = new GroupCommitter(store);
 * await committer.commit([{ type: "put", key, value }]);
 * ```
 */
export class LevelStore extends AbstractStore {
  /** The directory holding the LevelDB files. */
  readonly location: string;
  /** The memtable size LevelDB was opened with, in bytes. */
  readonly writeBufferSize: number;
  /** The block cache LevelDB was opened with, in bytes. */
  readonly cacheSize: number;
  readonly #db: Db;

  constructor(location: string, options: LevelStoreOptions = {}) {
    super({ persistent: true, durable: true, snapshots: true });
    if (typeof location !== "string" || location.length === 0) throw new TypeError("location must be a non-empty path");
    const { createIfMissing = true, cacheSize, writeBufferSize } = options;
    if (typeof createIfMissing !== "boolean") throw new TypeError("createIfMissing must be a boolean");
    checkSize(cacheSize, "cacheSize");
    checkSize(writeBufferSize, "writeBufferSize");
    this.location = location;
    this.writeBufferSize = writeBufferSize ?? DEFAULT_WRITE_BUFFER_SIZE;
    this.cacheSize = cacheSize ?? DEFAULT_CACHE_SIZE;
    this.#db = new Level<Uint8Array, Uint8Array>(location, {
      keyEncoding: "view",
      valueEncoding: "view",
      createIfMissing,
      errorIfExists: false,
      cacheSize: this.cacheSize,
      writeBufferSize: this.writeBufferSize,
    });
  }

  protected override async _open(): Promise<void> {
    try {
      await this.#db.open();
    } catch (err) {
      throw fromLevelError(err, `cannot open the store at ${this.location}`);
    }
  }

  protected override async _close(): Promise<void> {
    try {
      await this.#db.close();
    } catch (err) {
      throw fromLevelError(err, "cannot close the store");
    }
  }

  protected override async _get(key: Uint8Array): Promise<Uint8Array | undefined> {
    try {
      const v = await this.#db.get(key);
      return v === undefined ? undefined : asView(v);
    } catch (err) {
      throw fromLevelError(err, "cannot read from the store");
    }
  }

  protected override _getSync(key: Uint8Array): Uint8Array | undefined {
    try {
      const v = this.#db.getSync(key);
      return v === undefined ? undefined : asView(v);
    } catch (err) {
      throw fromLevelError(err, "cannot read from the store");
    }
  }

  protected override async _getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    try {
      const values = await this.#db.getMany([...keys]);
      return values.map((v) => (v === undefined ? undefined : asView(v)));
    } catch (err) {
      throw fromLevelError(err, "cannot read from the store");
    }
  }

  protected override async *_iterate(range: NormalizedRange): AsyncGenerator<StoreEntry, void, undefined> {
    const it = this.#db.iterator({
      ...(range.gt === undefined ? {} : { gt: range.gt }),
      ...(range.gte === undefined ? {} : { gte: range.gte }),
      ...(range.lt === undefined ? {} : { lt: range.lt }),
      ...(range.lte === undefined ? {} : { lte: range.lte }),
      reverse: range.reverse,
      limit: range.limit === Infinity ? -1 : range.limit,
    });
    try {
      for (;;) {
        let chunk: [Uint8Array, Uint8Array][];
        try {
          chunk = await it.nextv(ITERATOR_CHUNK);
        } catch (err) {
          throw fromLevelError(err, "cannot read from the store");
        }
        if (chunk.length === 0) return;
        for (const [key, value] of chunk) {
          // Entries already fetched must not outlive close(): the memory store behaves the same.
          if (!this.isOpen) throw unavailable("the store was closed during iteration");
          yield { key: asView(key), value: asView(value) };
        }
      }
    } finally {
      // A consumer that stops early must not leave a native iterator pinning a snapshot.
      await it.close().catch(() => undefined);
    }
  }

  protected override async _batch(ops: readonly BatchOp[]): Promise<void> {
    try {
      // Straight to classic-level's implementation of batch (abstract-level's
      // contract for implementations): AbstractStore has checked the ops and
      // that the store is open, and every key and value is already a
      // Uint8Array, so abstract-level's per-operation copying and encoding
      // (a tenth of a busy intake's event loop) would change nothing.
      await (this.#db as unknown as RawBatch)._batch(ops, { sync: true });
    } catch (err) {
      throw fromLevelError(err, "cannot write to the store; nothing of the batch was applied");
    }
  }
}

/** classic-level's `_batch`: operations with Uint8Array keys and values, written as one atomic batch. */
interface RawBatch {
  _batch(ops: readonly BatchOp[], options: { sync: boolean }): Promise<void>;
}

/**
 * Creates and opens a {@link LevelStore}.
 *
 * @throws TongbanError `STORE_UNAVAILABLE` (locked, I/O) or `STORE_CORRUPT`
 */
export async function openLevelStore(location: string, options: LevelStoreOptions = {}): Promise<LevelStore> {
  const store = new LevelStore(location, options);
  await store.open();
  return store;
}

function checkSize(v: number | undefined, name: string): void {
  if (v !== undefined && !(Number.isSafeInteger(v) && v > 0)) throw new TypeError(`${name} must be a positive integer`);
}

/**
 * Maps an error from `level` to a TongbanError. abstract-level wraps open
 * failures in `LEVEL_DATABASE_NOT_OPEN` with the LevelDB status as `cause`,
 * so the whole cause chain is searched for the telling code.
 */
function fromLevelError(err: unknown, message: string): TongbanError {
  if (err instanceof TongbanError) return err;
  const codes: string[] = [];
  let detail = "";
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    detail = e.message;
  }
  if (codes.includes("LEVEL_CORRUPTION")) {
    return new TongbanError("STORE_CORRUPT", `${message}: ${detail}`, { cause: err, details: { reason: "corrupt" } });
  }
  const reason = codes.includes("LEVEL_LOCKED") ? "locked" : codes.some((c) => c.endsWith("_NOT_OPEN")) && codes.length === 1 ? "closed" : "io";
  const hint = reason === "locked" ? " (another process, or another store in this one, holds the directory)" : "";
  return unavailable(`${message}${hint}: ${detail}`, err, { reason });
}
