import { allocBytes } from "../evidence/alloc-bytes.js";
import { sha256 } from "../evidence/hash.js";

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
  const parts = [envelope.header, envelope.body, envelope.signature?.protected ?? new Uint8Array(), envelope.signature?.value ?? new Uint8Array()];
  const input = allocBytes(16 + parts.reduce((n, p) => n + p.byteLength, 0));
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let at = 0;
  for (const part of parts) {
    view.setUint32(at, part.byteLength);
    input.set(part, at + 4);
    at += 4 + part.byteLength;
  }
  return sha256(input);
}
