/**
 * Internal: a DER SEQUENCE around elements that are already encoded, kept
 * byte for byte. Signed parts (a maker's eSealInfo, a foreign SESeal) must
 * never be decoded and re-encoded, or their signatures could break.
 * @internal
 */
export function derSequence(parts: readonly Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const lenBytes: number[] = [];
  if (len < 0x80) lenBytes.push(len);
  else {
    for (let l = len; l > 0; l = Math.floor(l / 256)) lenBytes.unshift(l & 0xff);
    lenBytes.unshift(0x80 | lenBytes.length);
  }
  const out = new Uint8Array(1 + lenBytes.length + len);
  out[0] = 0x30;
  out.set(lenBytes, 1);
  let at = 1 + lenBytes.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
