// What the direct protobuf readers (wire-decode.ts, schema-codec.ts) read with.

const utf8 = new TextDecoder(); // as protobuf-es: not fatal, bad sequences become U+FFFD

/** Thrown inside a reader to hand the input to fromBinary. */
export const FALLBACK = Symbol("fallback");

/** Reads protobuf values from bytes[pos, end). */
export class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, from: number, readonly end: number) {
    this.pos = from;
  }
  /** A varint below 2^53 (longer or larger ones fall back). */
  varint(): number {
    const b = this.buf;
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw FALLBACK;
      const x = b[this.pos++]!;
      v += (x & 0x7f) * mul;
      if (x < 0x80) {
        if (v > Number.MAX_SAFE_INTEGER) throw FALLBACK;
        return v;
      }
      mul *= 128;
    }
    throw FALLBACK;
  }
  /** A non-negative int32 (what enum and nanos values are in practice). */
  int32(): number {
    const v = this.varint();
    if (v > 0x7fffffff) throw FALLBACK;
    return v;
  }
  /** [start, end) of a length-delimited value. */
  span(): [number, number] {
    const n = this.varint();
    const start = this.pos;
    if (n > this.end - start) throw FALLBACK;
    this.pos = start + n;
    return [start, start + n];
  }
  bytes(): Uint8Array {
    const [s, e] = this.span();
    return this.buf.subarray(s, e);
  }
  string(): string {
    const [s, e] = this.span();
    return utf8.decode(this.buf.subarray(s, e));
  }
  /** A reader over the length-delimited sub-message here. */
  sub(): Reader {
    const [s, e] = this.span();
    return new Reader(this.buf, s, e);
  }
  /** The next field's number and wire type; a number seen before in this message falls back. */
  tag(seen: { mask: number }, wireTypeOf: (no: number) => number): number {
    const t = this.varint();
    const no = t >>> 3;
    const wt = t & 7;
    if (no === 0 || no > 30 || wt !== wireTypeOf(no)) throw FALLBACK;
    const bit = 1 << no;
    if ((seen.mask & bit) !== 0) throw FALLBACK;
    seen.mask |= bit;
    return no;
  }
}
