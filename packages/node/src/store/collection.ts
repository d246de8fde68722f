import { allocBytes } from "@tongban/sdk";
import { compareBytes, concatBytes, prefixEnd } from "./bytes.js";
import { corruptKey, type KeyPart } from "./key-encoding.js";

/** The value types of a tuple of key parts: `[KeyPart<string>, KeyPart<number>]` → `[string, number]`. */
export type PartValues<P extends readonly KeyPart<unknown>[]> = {
  -readonly [I in keyof P]: P[I] extends KeyPart<infer T> ? T : never;
};

/** Every leading sub-tuple of `T`, `[]` included: the arguments a prefix scan accepts. */
export type Leading<T extends readonly unknown[]> = T extends readonly [...infer Init, unknown] ? T | Leading<Init> : T;

/** A key range covering one prefix, ready for {@link Store.iterate}. */
export interface PrefixRange {
  readonly gte: Uint8Array;
  readonly lt: Uint8Array;
}

const NAME = /^[a-z][a-z0-9-]*$/;
const ascii = new TextEncoder();

/**
 * A typed sublevel: every key starts with the collection's name and a 0x00
 * byte, then its parts in order. Because names are lower-case ASCII without
 * 0x00, no collection's prefix is a prefix of another's, so collections never
 * overlap in a range scan. Parts are order-preserving (see `key-encoding.ts`),
 * so a scan over leading parts walks the rest in their natural order.
 *
 * @example
 * ```ts
 * const due = new Collection("outbox-due", [u64Part, stringPart]);
 * await store.batch([{ type: "put", key: due.key(at, messageId), value: new Uint8Array() }]);
 * for await (const { key } of store.iterate({ gte: due.prefix, lt: due.prefixOf(now + 1) })) {
 *   const [when, id] = due.decode(key);
 * }
 * ```
 */
export class Collection<P extends readonly KeyPart<unknown>[]> {
  /** The collection's name, also the readable start of each of its keys. */
  readonly name: string;
  /** The parts after the prefix, in order. */
  readonly parts: P;
  /** `name` + 0x00: every key of this collection starts with it. */
  readonly prefix: Uint8Array;

  constructor(name: string, parts: P) {
    if (typeof name !== "string" || !NAME.test(name)) throw new TypeError("a collection name must be lower-case ASCII: [a-z][a-z0-9-]*");
    if (!Array.isArray(parts) || parts.length === 0) throw new TypeError("a collection needs at least one key part");
    this.name = name;
    this.parts = Object.freeze([...parts]) as unknown as P;
    this.prefix = concatBytes([ascii.encode(name), Uint8Array.of(0)]);
  }

  /** The full key for one record. Throws TypeError on a value a part cannot hold. */
  key(...values: PartValues<P>): Uint8Array {
    if (values.length !== this.parts.length) {
      throw new TypeError(`${this.name} keys have ${this.parts.length} parts, got ${values.length}`);
    }
    return this.prefixOf(...(values as unknown as Leading<PartValues<P>>));
  }

  /** The bytes every key whose leading parts equal `values` starts with (the prefix alone for no values). */
  prefixOf(...values: Leading<PartValues<P>>): Uint8Array {
    const given = values as readonly unknown[];
    if (given.length > this.parts.length) throw new TypeError(`${this.name} keys have ${this.parts.length} parts, got ${given.length}`);
    const out: Uint8Array[] = [this.prefix];
    given.forEach((v, i) => (this.parts[i] as KeyPart<unknown>).encode(v, out));
    // Keys go to LevelDB by the thousand: slab memory, which native code reads in place.
    let size = 0;
    for (const p of out) size += p.byteLength;
    const key = allocBytes(size);
    let at = 0;
    for (const p of out) {
      key.set(p, at);
      at += p.byteLength;
    }
    return key;
  }

  /** The range of all keys whose leading parts equal `values`; the whole collection for none. */
  range(...values: Leading<PartValues<P>>): PrefixRange {
    const gte = this.prefixOf(...values);
    const lt = prefixEnd(gte);
    // Cannot happen: the prefix starts with a lower-case ASCII name, so it is never all 0xff.
    if (lt === undefined) throw new Error("unreachable: collection prefix has no end");
    return { gte, lt };
  }

  /** True when `key` belongs to this collection. */
  has(key: Uint8Array): boolean {
    return key.byteLength > this.prefix.byteLength && compareBytes(key.subarray(0, this.prefix.byteLength), this.prefix) === 0;
  }

  /**
   * The parts of one of this collection's keys.
   *
   * @throws TypeError when the key is not in this collection
   * @throws TongbanError `STORE_CORRUPT` when the rest of the key is not a valid encoding
   */
  decode(key: Uint8Array): PartValues<P> {
    if (!(key instanceof Uint8Array) || !this.has(key)) throw new TypeError(`the key is not in collection ${this.name}`);
    const values: unknown[] = [];
    let at = this.prefix.byteLength;
    for (const part of this.parts) {
      const [v, next] = (part as KeyPart<unknown>).decode(key, at);
      values.push(v);
      at = next;
    }
    if (at !== key.byteLength) throw corruptKey(`${key.byteLength - at} bytes left over after the last ${this.name} part`);
    return values as PartValues<P>;
  }
}
