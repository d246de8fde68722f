/**
 * The few JWS compact-serialization helpers the directory needs. The
 * signature is made with node:crypto directly (as mapping/ does for tables)
 * so signing is synchronous and the exact header bytes are ours.
 */

/** base64url without padding (RFC 7515 §2). */
export function b64u(data: string | Uint8Array): string {
  return Buffer.from(typeof data === "string" ? Buffer.from(data, "utf8") : data).toString("base64url");
}

const B64U = /^[A-Za-z0-9_-]*$/;

/** Decodes strict base64url (no padding, no other characters); undefined when malformed. */
export function fromB64u(text: string): Uint8Array | undefined {
  if (!B64U.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, "base64url");
  // Node ignores the unused low bits of the last character; refusing
  // non-zero ones gives every byte string exactly one encoding, so a
  // signature cannot be altered without being rejected.
  if (bytes.toString("base64url") !== text) return undefined;
  return new Uint8Array(bytes);
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes UTF-8, refusing malformed sequences instead of replacing them; undefined when malformed. */
export function utf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}
