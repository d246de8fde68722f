/**
 * Byte helpers shared by the store implementations and key layout. Keys
 * compare bytewise (memcmp), which is LevelDB's default comparator; the
 * memory store must sort exactly the same way.
 */

/** Bytewise comparison: negative, zero or positive like memcmp, shorter-is-smaller on a common prefix. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.byteLength - b.byteLength;
}

/**
 * The smallest key greater than every key that starts with `prefix`, or
 * `undefined` when no such key exists (the prefix is all 0xff). Use it as the
 * exclusive upper bound of a prefix scan: `{ gte: prefix, lt: prefixEnd(prefix) }`.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  let end = prefix.byteLength;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  const out = prefix.slice(0, end);
  out[end - 1]! += 1;
  return out;
}

/** A plain `Uint8Array` over the same memory (Buffers from native code become views, so results compare equal everywhere). */
export function asView(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Concatenates byte arrays into one new `Uint8Array`. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
