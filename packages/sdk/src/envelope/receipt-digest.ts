import { createHash } from "node:crypto";

/** The four byte strings of an envelope a receipt digest binds. */
export interface EnvelopeParts {
  readonly header: Uint8Array;
  readonly body: Uint8Array;
  readonly signature?: { readonly protected: Uint8Array; readonly value: Uint8Array } | undefined;
}

/**
 * The receipt digest: SHA-256 over u32be(len) ‖ bytes for each of header,
 * body, signature.protected and signature.value, in that order. It names
 * exactly what was received, independent of how the outer Envelope message
 * happened to be encoded, and is what a TechnicalReceipt binds and what
 * duplicate detection compares.
 */
export function receiptDigestOf(envelope: EnvelopeParts): Uint8Array {
  const h = createHash("sha256");
  const len = Buffer.alloc(4);
  for (const part of [envelope.header, envelope.body, envelope.signature?.protected ?? new Uint8Array(), envelope.signature?.value ?? new Uint8Array()]) {
    len.writeUInt32BE(part.byteLength, 0);
    h.update(len);
    h.update(part);
  }
  return new Uint8Array(h.digest());
}
