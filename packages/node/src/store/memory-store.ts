import { AbstractStore, inRange, unavailable, type NormalizedRange } from "./abstract-store.js";
import { compareBytes } from "./bytes.js";
import type { BatchOp, StoreEntry } from "./types.js";

interface Entry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * An in-memory {@link Store}: a sorted array with the same ordering,
 * atomicity, snapshot and error semantics as {@link LevelStore}, for unit
 * tests of the layers above. Not persistent and not durable (declared in
 * `capabilities`): `close()` discards the data.
 *
 * Snapshots are copy-on-write: an iterator keeps the array it started on, and
 * a batch that arrives while one is live writes to a copy.
 *
 * @example
 * ```ts
 * const store = new MemoryStore();
 * await store.open();
 * await store.batch([{ type: "put", key, value }]);
 * ```
 */
export class MemoryStore extends AbstractStore {
  #entries: Entry[] = [];
  // True when a live iterator may still read #entries, so the next batch must copy it first.
  #shared = false;

  constructor() {
    super({ persistent: false, durable: false, snapshots: true });
  }

  /** Number of keys held (for tests and diagnostics). */
  get size(): number {
    return this.#entries.length;
  }

  protected override async _open(): Promise<void> {
    // Nothing to open; data lives in this object.
  }

  protected override async _close(): Promise<void> {
    this.#entries = [];
    this.#shared = false;
  }

  protected override async _get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this._getSync(key);
  }

  protected override _getSync(key: Uint8Array): Uint8Array | undefined {
    const entries = this.#entries;
    const i = lowerBound(entries, key);
    const e = entries[i];
    return e !== undefined && compareBytes(e.key, key) === 0 ? e.value.slice() : undefined;
  }

  protected override async _getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    const entries = this.#entries;
    return keys.map((key) => {
      const e = entries[lowerBound(entries, key)];
      return e !== undefined && compareBytes(e.key, key) === 0 ? e.value.slice() : undefined;
    });
  }

  protected override async *_iterate(range: NormalizedRange): AsyncGenerator<StoreEntry, void, undefined> {
    const snapshot = this.#entries;
    this.#shared = true;
    let i: number;
    if (!range.reverse) {
      i = range.gte !== undefined ? lowerBound(snapshot, range.gte) : range.gt !== undefined ? upperBound(snapshot, range.gt) : 0;
    } else {
      i =
        (range.lte !== undefined
          ? upperBound(snapshot, range.lte)
          : range.lt !== undefined
            ? lowerBound(snapshot, range.lt)
            : snapshot.length) - 1;
    }
    const step = range.reverse ? -1 : 1;
    for (let n = 0; n < range.limit; n++, i += step) {
      const e = snapshot[i];
      if (e === undefined || !inRange(e.key, range)) return;
      if (!this.isOpen) throw unavailable("the store was closed during iteration");
      yield { key: e.key.slice(), value: e.value.slice() };
    }
  }

  protected override async _batch(ops: readonly BatchOp[]): Promise<void> {
    // Everything was validated before we got here and nothing below can throw, so the batch is all-or-nothing.
    if (this.#shared) {
      this.#entries = this.#entries.slice();
      this.#shared = false;
    }
    const entries = this.#entries;
    for (const op of ops) {
      const i = lowerBound(entries, op.key);
      const hit = entries[i] !== undefined && compareBytes(entries[i]!.key, op.key) === 0;
      if (op.type === "put") {
        const entry = { key: op.key.slice(), value: op.value.slice() };
        if (hit) entries[i] = entry;
        else entries.splice(i, 0, entry);
      } else if (hit) {
        entries.splice(i, 1);
      }
    }
  }
}

/** First index whose key is ≥ `key`. */
function lowerBound(entries: readonly Entry[], key: Uint8Array): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(entries[mid]!.key, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose key is > `key`. */
function upperBound(entries: readonly Entry[], key: Uint8Array): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(entries[mid]!.key, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
