// The buffer the direct protobuf writers (wire-encode.ts, schema-codec.ts) write into.

export const T_VARINT = 0;
export const T_LEN = 2;

/** A growing buffer protobuf values are written into. */
export class Writer {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  /** An unsigned varint below 2^53. */
  varint(v: number): void {
    this.ensure(10);
    const b = this.buf;
    while (v > 0x7f) {
      b[this.pos++] = v % 128 | 0x80;
      v = Math.floor(v / 128);
    }
    b[this.pos++] = v;
  }
  /** A varint of the 64-bit two's complement of `v`. */
  varint64(v: bigint): void {
    let u = BigInt.asUintN(64, v);
    this.ensure(10);
    while (u > 0x7fn) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }
  tag(no: number, type: number): void {
    this.varint((no << 3) | type);
  }
  /** An int32 (or enum) field, left out when zero. */
  int32(no: number, v: number): void {
    if (v === 0) return;
    this.tag(no, T_VARINT);
    if (v > 0) this.varint(v);
    else this.varint64(BigInt(v));
  }
  string(no: number, s: string): void {
    if (s.length === 0) return;
    this.tag(no, T_LEN);
    this.stringValue(s);
  }
  /** A string's length and UTF-8 bytes (lone surrogates become U+FFFD, as with TextEncoder). */
  stringValue(s: string): void {
    const n = Buffer.byteLength(s, "utf8");
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, n, "utf8");
  }
  bytes(no: number, b: Uint8Array): void {
    if (b.byteLength === 0) return;
    this.repeatedBytes(no, b);
  }
  /** A bytes value written even when empty (an element of a repeated field). */
  repeatedBytes(no: number, b: Uint8Array): void {
    this.tag(no, T_LEN);
    this.varint(b.byteLength);
    this.raw(b);
  }
  /** Bytes as they are. */
  raw(b: Uint8Array): void {
    this.ensure(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }
  /** A length-delimited sub-message whose body `write` produces. */
  message(no: number, write: () => void): void {
    this.tag(no, T_LEN);
    // Sub-messages here are short: reserve one length byte, widen if needed.
    this.ensure(1);
    const at = this.pos++;
    write();
    const len = this.pos - at - 1;
    if (len < 0x80) {
      this.buf[at] = len;
      return;
    }
    const lenBytes = varintLength(len);
    this.ensure(lenBytes - 1);
    this.buf.copy(this.buf, at + lenBytes, at + 1, this.pos);
    this.pos += lenBytes - 1;
    const end = this.pos;
    this.pos = at;
    this.varint(len);
    this.pos = end;
  }
  finish(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.pos);
  }
}

export function varintLength(v: number): number {
  let n = 1;
  while (v > 0x7f) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}
