// Small byte arrays carved from shared slabs, as Node's Buffer pool does,
// but returned as plain Uint8Arrays. A busy node makes thousands of short
// arrays a second — store keys, evidence entries, hash inputs — and each
// `new Uint8Array(n)` either costs a native allocation (above 64 bytes) or
// lives on the V8 heap, from where native code (LevelDB, node:crypto) can
// only read it after V8 has moved it to a native allocation of its own.
// Slab views are neither: one native allocation serves a whole slab.

const SLAB_BYTES = 16 * 1024;
/** Arrays above this size get their own memory. */
const MAX_POOLED = 1024;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/**
 * A zeroed `Uint8Array` of `n` bytes. Up to 1 KiB it is a view into a shared
 * 16 KiB slab (`byteOffset` is not 0 and `buffer` is the whole slab, so read
 * it through `byteOffset`/`byteLength`, as every view must be); larger ones
 * are `new Uint8Array(n)`. A view keeps its slab alive: for bytes held for
 * long in large numbers, copy them out (`slice()`).
 */
export function allocBytes(n: number): Uint8Array {
  if (n > MAX_POOLED) return new Uint8Array(n);
  if (used + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const out = new Uint8Array(slab, used, n);
  used += (n + 7) & ~7; // 8-byte aligned, as native allocations are
  return out;
}

/** True when every UTF-16 unit of `s` is below 0x80: its UTF-8 bytes are its char codes, one each. */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Writes the ASCII string `s` (see {@link isAscii}) into `out` at `at`: no TextEncoder result to allocate and copy. */
export function writeAscii(s: string, out: Uint8Array, at: number): void {
  for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
}
