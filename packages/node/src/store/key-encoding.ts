import { TongbanError } from "@tongban/sdk";

/**
 * One typed component of a store key, encoded so that bytewise order of the
 * encodings equals the natural order of the values, and so that a tuple of
 * parts decodes unambiguously. Strings are UTF-8 with bytes 0x00 and 0x01
 * escaped as 0x01 0x01 and 0x01 0x02, then terminated by 0x00 — so the
 * terminator is the smallest byte and occurs nowhere else, which keeps a
 * string before its extensions and makes every string prefix-free (the
 * FoundationDB escape 0x00 0xff is not, when a part after the string may
 * start with 0xff). Numbers are big-endian fixed width; digests are
 * fixed-length raw bytes.
 */
export interface KeyPart<T> {
  /** A name for messages and docs (`"string"`, `"u64"`, `"bytes32"` …). */
  readonly kind: string;
  /** Appends the encoding of `value` to `out`; throws TypeError on a value the part cannot hold. */
  encode(value: T, out: Uint8Array[]): void;
  /** Reads one value at `at`; returns it and the offset after it, or throws when the bytes are not a valid encoding. */
  decode(bytes: Uint8Array, at: number): [T, number];
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });
// 0x00 ends a string and never occurs inside one, so no string's encoding is a prefix of another's.
const ESCAPED_00 = Uint8Array.of(0x01, 0x01);
const ESCAPED_01 = Uint8Array.of(0x01, 0x02);
const TERMINATOR = Uint8Array.of(0x00);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A malformed stored key: the store holds bytes the layout cannot read. */
export function corruptKey(message: string): TongbanError {
  return new TongbanError("STORE_CORRUPT", `malformed store key: ${message}`, { details: { reason: "key" } });
}

/**
 * A UTF-8 string part; any string without lone surrogates (they have no
 * UTF-8 form, and replacing them would make two ids share a key). Strings
 * sort by Unicode code point, and a string sorts before its extensions.
 */
export const stringPart: KeyPart<string> = Object.freeze({
  kind: "string",
  encode(value: string, out: Uint8Array[]): void {
    if (typeof value !== "string") throw new TypeError("a string key part must be a string");
    // Most key parts (node ids, message ids, case ids) are printable ASCII: one array, bytes and terminator.
    const n = value.length;
    let i = 0;
    for (; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c < 0x02 || c > 0x7f) break;
    }
    if (i === n) {
      const b = new Uint8Array(n + 1);
      for (let j = 0; j < n; j++) b[j] = value.charCodeAt(j);
      out.push(b);
      return;
    }
    if (LONE_SURROGATE.test(value)) throw new TypeError("a string key part must not contain lone surrogates");
    const bytes = utf8.encode(value);
    let from = 0;
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i]!;
      if (c <= 0x01) {
        out.push(bytes.subarray(from, i), c === 0x00 ? ESCAPED_00 : ESCAPED_01);
        from = i + 1;
      }
    }
    out.push(bytes.subarray(from), TERMINATOR);
  },
  decode(bytes: Uint8Array, at: number): [string, number] {
    const end = bytes.indexOf(0x00, at);
    if (end === -1) throw corruptKey("a string part has no terminator");
    const raw = bytes.subarray(at, end);
    if (!raw.includes(0x01)) {
      // The common case — ids never hold U+0000 or U+0001 — decodes in place.
      try {
        return [utf8Strict.decode(raw), end + 1];
      } catch {
        throw corruptKey("a string part is not valid UTF-8");
      }
    }
    const out: number[] = [];
    for (let i = at; i < bytes.length; i++) {
      const c = bytes[i]!;
      if (c === 0x00) {
        try {
          return [utf8Strict.decode(Uint8Array.from(out)), i + 1];
        } catch {
          throw corruptKey("a string part is not valid UTF-8");
        }
      }
      if (c === 0x01) {
        const next = bytes[++i];
        if (next !== 0x01 && next !== 0x02) throw corruptKey("a string part has a bad escape");
        out.push(next - 1);
      } else {
        out.push(c);
      }
    }
    throw corruptKey("a string part has no terminator");
  },
});

function fixedNumber(kind: string, width: 4 | 8, max: number): KeyPart<number> {
  return Object.freeze({
    kind,
    encode(value: number, out: Uint8Array[]): void {
      if (!Number.isSafeInteger(value) || value < 0 || value > max) {
        throw new TypeError(`a ${kind} key part must be an integer in [0, ${max}]`);
      }
      // Byte by byte: a DataView over a small new array would first move it off the V8 heap.
      const b = new Uint8Array(width);
      let v = value;
      for (let i = width - 1; i >= 0; i--) {
        b[i] = v % 256;
        v = Math.floor(v / 256);
      }
      out.push(b);
    },
    decode(bytes: Uint8Array, at: number): [number, number] {
      if (at + width > bytes.length) throw corruptKey(`a ${kind} part is cut short`);
      const view = new DataView(bytes.buffer, bytes.byteOffset + at, width);
      const value = width === 8 ? view.getUint32(0) * 2 ** 32 + view.getUint32(4) : view.getUint32(0);
      if (value > max) throw corruptKey(`a ${kind} part is out of range`);
      return [value, at + width];
    },
  });
}

/**
 * An unsigned 64-bit big-endian part holding a JavaScript number up to
 * `Number.MAX_SAFE_INTEGER` (2^53 − 1): enough for sequence numbers and epoch
 * milliseconds, and the width leaves room to widen to bigint later without
 * re-encoding stored keys.
 */
export const u64Part: KeyPart<number> = fixedNumber("u64", 8, Number.MAX_SAFE_INTEGER);

/** An unsigned 32-bit big-endian part. */
export const u32Part: KeyPart<number> = fixedNumber("u32", 4, 0xffff_ffff);

/** A fixed-length raw bytes part, e.g. `bytesPart(32)` for an SM3 or SHA-256 digest. */
export function bytesPart(length: number): KeyPart<Uint8Array> {
  if (!(Number.isSafeInteger(length) && length > 0)) throw new TypeError("length must be a positive integer");
  const kind = `bytes${length}`;
  return Object.freeze({
    kind,
    encode(value: Uint8Array, out: Uint8Array[]): void {
      if (!(value instanceof Uint8Array) || value.byteLength !== length) {
        throw new TypeError(`a ${kind} key part must be a Uint8Array of ${length} bytes`);
      }
      out.push(value.slice());
    },
    decode(b: Uint8Array, at: number): [Uint8Array, number] {
      if (at + length > b.length) throw corruptKey(`a ${kind} part is cut short`);
      return [b.slice(at, at + length), at + length];
    },
  });
}
