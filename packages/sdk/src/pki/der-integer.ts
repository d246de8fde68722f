/** DER encoding of a non-negative INTEGER (used for the cRLNumber extension). */
export function encodeDerInteger(value: bigint): Uint8Array {
  if (value < 0n) throw new TypeError("only non-negative integers are encoded");
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  // A leading byte with the top bit set would read as negative: pad it.
  if (Number.parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  const body = Buffer.from(hex, "hex");
  if (body.length > 127) throw new TypeError("integer too large");
  return new Uint8Array([0x02, body.length, ...body]);
}

/** Decodes a DER INTEGER; undefined when the bytes are not one. */
export function decodeDerInteger(der: Uint8Array): bigint | undefined {
  const len = der[1];
  if (der[0] !== 0x02 || len === undefined || len > 127 || der.length !== len + 2 || len === 0) return undefined;
  return BigInt(`0x${Buffer.from(der.subarray(2)).toString("hex")}`);
}

/**
 * Canonical form of a hex serial number: lowercase, whole bytes, no leading
 * zero bytes (the sign padding of DER is not part of the number).
 */
export function normalizeSerial(serial: string): string {
  if (!/^[0-9a-fA-F]+$/.test(serial)) throw new TypeError(`not a hex serial number: ${serial}`);
  const hex = BigInt(`0x${serial}`).toString(16);
  return hex.length % 2 === 1 ? `0${hex}` : hex;
}
