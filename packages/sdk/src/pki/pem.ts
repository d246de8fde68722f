/**
 * Accepts a PEM string (any one block), PEM text as bytes, or DER bytes and returns the DER
 * bytes of the first block with (one of) the expected label(s).
 *
 * @throws TypeError when the input is neither DER bytes nor a PEM block with
 *   `label`.
 */
export function toDer(input: string | Uint8Array, label: string | readonly string[] = "CERTIFICATE"): Uint8Array {
  if (input instanceof Uint8Array) {
    // PEM read with readFile() arrives as bytes; DER always starts with 0x30
    // (SEQUENCE) and PEM with "-----", so the two cannot be confused.
    if (!startsWithPemMarker(input)) return input;
    input = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString("latin1");
  }
  if (typeof input !== "string") throw new TypeError("expected a PEM string or DER bytes");
  const labels = typeof label === "string" ? [label] : label;
  for (const l of labels) {
    const re = new RegExp(`-----BEGIN ${l}-----([A-Za-z0-9+/=\\s]+)-----END ${l}-----`);
    const m = re.exec(input);
    if (m?.[1] !== undefined) return new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ""), "base64"));
  }
  throw new TypeError(`expected a PEM block labelled ${labels.join(" or ")}`);
}

function startsWithPemMarker(bytes: Uint8Array): boolean {
  let i = 0;
  // Skip leading whitespace and a UTF-8 byte-order mark.
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09 || bytes[i] === 0xef || bytes[i] === 0xbb || bytes[i] === 0xbf)) i++;
  return bytes.length - i >= 5 && bytes[i] === 0x2d && bytes[i + 1] === 0x2d && bytes[i + 2] === 0x2d && bytes[i + 3] === 0x2d && bytes[i + 4] === 0x2d;
}

/** Encodes DER bytes as a PEM block with 64-character lines. */
export function toPem(der: Uint8Array | ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
