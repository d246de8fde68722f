/** base64url without padding (RFC 4648 §5). */
export function toB64u(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

const B64U = /^[A-Za-z0-9_-]*$/;

/**
 * Strict base64url: no padding, no other characters, and only the canonical
 * encoding (zero unused bits), so every byte string has one text form and an
 * edited character is never silently ignored. Undefined when malformed.
 */
export function fromB64u(text: unknown): Uint8Array | undefined {
  if (typeof text !== "string" || !B64U.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, "base64url");
  if (bytes.toString("base64url") !== text) return undefined;
  return new Uint8Array(bytes);
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Strict UTF-8 decoding; undefined for malformed sequences. */
export function utf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Lowercase hex, for messages and details. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}
