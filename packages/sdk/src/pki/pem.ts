/**
 * Accepts a PEM string (any one block) or DER bytes and returns the DER
 * bytes of the first block with (one of) the expected label(s).
 *
 * @throws TypeError when the input is neither DER bytes nor a PEM block with
 *   `label`.
 */
export function toDer(input: string | Uint8Array, label: string | readonly string[] = "CERTIFICATE"): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (typeof input !== "string") throw new TypeError("expected a PEM string or DER bytes");
  const labels = typeof label === "string" ? [label] : label;
  for (const l of labels) {
    const re = new RegExp(`-----BEGIN ${l}-----([A-Za-z0-9+/=\\s]+)-----END ${l}-----`);
    const m = re.exec(input);
    if (m?.[1] !== undefined) return new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ""), "base64"));
  }
  throw new TypeError(`expected a PEM block labelled ${labels.join(" or ")}`);
}

/** Encodes DER bytes as a PEM block with 64-character lines. */
export function toPem(der: Uint8Array | ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
