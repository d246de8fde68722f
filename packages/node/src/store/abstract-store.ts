import { TongbanError } from "@tongban/sdk";
import { compareBytes } from "./bytes.js";
import type { BatchOp, IterateOptions, Store, StoreCapabilities, StoreEntry, StoreStatus } from "./types.js";

/**
 * A range after validation: at most one bound per side, `limit` a number
 * (`Infinity` for none). This is what backends receive.
 */
export interface NormalizedRange {
  readonly gt?: Uint8Array;
  readonly gte?: Uint8Array;
  readonly lt?: Uint8Array;
  readonly lte?: Uint8Array;
  readonly reverse: boolean;
  readonly limit: number;
}

/**
 * The base of every store implementation, in the abstract-level manner: each
 * public method checks its arguments and the store's state, then calls the
 * one protected `_method` a backend overrides. Backends therefore receive
 * only valid input and never re-check it; they translate their own failures
 * into `TongbanError`s (`STORE_UNAVAILABLE`, `STORE_CORRUPT`).
 */
export abstract class AbstractStore implements Store {
  /** What this implementation guarantees (frozen). */
  readonly capabilities: StoreCapabilities;
  #status: StoreStatus = "new";
  #opening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  /** Backends pass the capabilities they guarantee. */
  protected constructor(capabilities: StoreCapabilities) {
    this.capabilities = Object.freeze({ ...capabilities });
  }

  /** Current life-cycle state. */
  get status(): StoreStatus {
    return this.#status;
  }

  /** Opens the store (again, after `close()`, when the backend allows). Concurrent calls share one attempt. */
  open(): Promise<void> {
    if (this.#status === "open") return Promise.resolve();
    if (this.#status === "opening" && this.#opening) return this.#opening;
    if (this.#status === "closing") {
      return Promise.reject(unavailable("the store is closing; open it again after close() resolves"));
    }
    this.#status = "opening";
    this.#opening = this._open().then(
      () => {
        this.#status = "open";
        this.#opening = undefined;
      },
      (err: unknown) => {
        this.#status = "closed";
        this.#opening = undefined;
        throw err;
      },
    );
    return this.#opening;
  }

  /** Closes the store; concurrent calls share one attempt. */
  close(): Promise<void> {
    if (this.#status === "closed" || this.#status === "new") {
      this.#status = "closed";
      return Promise.resolve();
    }
    if (this.#status === "closing" && this.#closing) return this.#closing;
    const wait = this.#status === "opening" && this.#opening ? this.#opening.catch(() => undefined) : Promise.resolve();
    this.#status = "closing";
    this.#closing = wait
      .then(() => this._close())
      .finally(() => {
        this.#status = "closed";
        this.#closing = undefined;
      });
    return this.#closing;
  }

  /** The value at `key`, or `undefined`. */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    checkKey(key, "key");
    this.#checkOpen();
    return this._get(key);
  }

  /** The value at `key`, or `undefined`, read on the calling thread (see {@link Store.getSync}). */
  getSync(key: Uint8Array): Uint8Array | undefined {
    checkKey(key, "key");
    this.#checkOpen();
    return this._getSync(key);
  }

  /** The values at `keys`, in order, from one snapshot where the backend has snapshots. */
  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    if (!Array.isArray(keys)) throw new TypeError("keys must be an array of Uint8Array");
    keys.forEach((k, i) => checkKey(k, `keys[${i}]`));
    this.#checkOpen();
    if (keys.length === 0) return [];
    return this._getMany(keys);
  }

  /** Walks a key range; arguments are checked now, the state on the first `next()`. */
  iterate(options: IterateOptions = {}): AsyncIterableIterator<StoreEntry> {
    const range = normalizeRange(options);
    return this.#iterate(range);
  }

  async *#iterate(range: NormalizedRange): AsyncGenerator<StoreEntry, void, undefined> {
    this.#checkOpen();
    if (range.limit === 0 || isEmptyRange(range)) return;
    yield* this._iterate(range);
  }

  /** Applies `ops` atomically (and durably where `capabilities.durable`). */
  async batch(ops: readonly BatchOp[]): Promise<void> {
    checkBatch(ops);
    this.#checkOpen();
    if (ops.length === 0) return;
    return this._batch(ops);
  }

  /** Opens the backend. */
  protected abstract _open(): Promise<void>;
  /** Closes the backend after pending work. */
  protected abstract _close(): Promise<void>;
  /** Reads one key. */
  protected abstract _get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Reads many keys (at least one). */
  protected abstract _getSync(key: Uint8Array): Uint8Array | undefined;

  protected abstract _getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  /** Walks a non-empty, valid range, honouring `reverse` and `limit`; should check it is still open between chunks. */
  protected abstract _iterate(range: NormalizedRange): AsyncIterable<StoreEntry>;
  /** Applies a non-empty, valid batch atomically. */
  protected abstract _batch(ops: readonly BatchOp[]): Promise<void>;

  /** True while the store serves reads and writes; backends use it between iterator chunks. */
  protected get isOpen(): boolean {
    return this.#status === "open";
  }

  #checkOpen(): void {
    if (this.#status !== "open") throw unavailable(`the store is ${this.#status}, not open`);
  }
}

/** A `STORE_UNAVAILABLE` error: nothing of the failed call was applied. */
export function unavailable(message: string, cause?: unknown, details: Record<string, unknown> = {}): TongbanError {
  return new TongbanError("STORE_UNAVAILABLE", message, cause === undefined ? { details } : { cause, details });
}

function checkKey(key: unknown, name: string): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  // LevelDB accepts empty keys but other ordered stores do not; refusing them keeps backends interchangeable.
  if (key.byteLength === 0) throw new TypeError(`${name} must not be empty`);
}

/** Throws a TypeError unless `ops` is a valid batch (used by the store and by {@link GroupCommitter}). */
export function checkBatch(ops: unknown): asserts ops is readonly BatchOp[] {
  if (!Array.isArray(ops)) throw new TypeError("ops must be an array of batch operations");
  for (let i = 0; i < ops.length; i++) {
    const op: unknown = ops[i];
    if (typeof op !== "object" || op === null) throw new TypeError(`ops[${i}] must be an object`);
    const { type, key, value } = op as { type?: unknown; key?: unknown; value?: unknown };
    checkKey(key, `ops[${i}].key`);
    if (type === "put") {
      if (!(value instanceof Uint8Array)) throw new TypeError(`ops[${i}].value must be a Uint8Array`);
    } else if (type !== "del") {
      throw new TypeError(`ops[${i}].type must be "put" or "del"`);
    }
  }
}

/** Validates iterate options into a {@link NormalizedRange}. */
export function normalizeRange(options: IterateOptions): NormalizedRange {
  if (typeof options !== "object" || options === null) throw new TypeError("iterate options must be an object");
  const { gt, gte, lt, lte, reverse = false, limit = Infinity } = options;
  if (gt !== undefined && gte !== undefined) throw new TypeError("give gt or gte, not both");
  if (lt !== undefined && lte !== undefined) throw new TypeError("give lt or lte, not both");
  for (const [name, v] of [["gt", gt], ["gte", gte], ["lt", lt], ["lte", lte]] as const) {
    if (v !== undefined && !(v instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  }
  if (typeof reverse !== "boolean") throw new TypeError("reverse must be a boolean");
  if (typeof limit !== "number" || !(limit === Infinity || (Number.isInteger(limit) && limit >= 0))) {
    throw new TypeError("limit must be a non-negative integer or Infinity");
  }
  return {
    ...(gt === undefined ? {} : { gt }),
    ...(gte === undefined ? {} : { gte }),
    ...(lt === undefined ? {} : { lt }),
    ...(lte === undefined ? {} : { lte }),
    reverse,
    limit,
  };
}

function isEmptyRange(r: NormalizedRange): boolean {
  const lo = r.gt ?? r.gte;
  const hi = r.lt ?? r.lte;
  if (lo === undefined || hi === undefined) return false;
  const c = compareBytes(lo, hi);
  return c > 0 || (c === 0 && (r.gt !== undefined || r.lt !== undefined));
}

/** True when `key` lies inside the range's bounds (ignores `reverse` and `limit`). */
export function inRange(key: Uint8Array, r: NormalizedRange): boolean {
  if (r.gt !== undefined && compareBytes(key, r.gt) <= 0) return false;
  if (r.gte !== undefined && compareBytes(key, r.gte) < 0) return false;
  if (r.lt !== undefined && compareBytes(key, r.lt) >= 0) return false;
  if (r.lte !== undefined && compareBytes(key, r.lte) > 0) return false;
  return true;
}
