import type { GrpcStatusName } from "./grpc-status.js";

/** What the error table says about one code. */
export interface ErrorCodeInfo {
  /** The gRPC status this code travels as. Exactly one per code. */
  readonly grpc: GrpcStatusName;
  /** One line saying what went wrong; docs/errors.md repeats it. */
  readonly summary: string;
}

/**
 * The closed list of Tongban protocol error codes and the one table mapping
 * each to a gRPC status. `docs/errors.md` lists the same codes; a test fails
 * when the two disagree.
 *
 * Codes are stable strings: never rename or reuse one. Add new codes inside
 * the section of the area they belong to.
 */
export const ERROR_CODES = {
  // ── identifiers ─────────────────────────────────────────────────────────
  IDENTIFIER_INVALID: { grpc: "INVALID_ARGUMENT", summary: "an identifier failed validation (details name the position and rule)" },

  // ── envelope ────────────────────────────────────────────────────────────
  ENVELOPE_MALFORMED: { grpc: "INVALID_ARGUMENT", summary: "the envelope, its header or its body cannot be decoded" },
  ENVELOPE_TOO_LARGE: { grpc: "RESOURCE_EXHAUSTED", summary: "the envelope or one of its parts exceeds the size limit" },
  ENVELOPE_UNSUPPORTED_PROTOCOL: { grpc: "INVALID_ARGUMENT", summary: "the header names a protocol version this node does not speak" },
  ENVELOPE_UNSUPPORTED_SUITE: { grpc: "INVALID_ARGUMENT", summary: "the suite or algorithm is unknown or not allowed for the signer" },
  ENVELOPE_BAD_SIGNATURE: { grpc: "UNAUTHENTICATED", summary: "the signature does not verify over the header bytes" },
  ENVELOPE_BODY_DIGEST_MISMATCH: { grpc: "INVALID_ARGUMENT", summary: "the body bytes do not match the digest in the signed header" },
  ENVELOPE_BODY_TYPE_MISMATCH: { grpc: "INVALID_ARGUMENT", summary: "the body kind differs from the message type in the header" },
  ENVELOPE_WRONG_RECIPIENT: { grpc: "PERMISSION_DENIED", summary: "the envelope is addressed to another node" },
  ENVELOPE_TIMESTAMP_OUT_OF_WINDOW: { grpc: "FAILED_PRECONDITION", summary: "created_at lies outside the accepted clock window" },
  ENVELOPE_EXPIRED: { grpc: "FAILED_PRECONDITION", summary: "the envelope's expires_at has passed" },
  ENVELOPE_REPLAYED: { grpc: "ALREADY_EXISTS", summary: "a different envelope with this sender and message id was already seen" },
  ENVELOPE_DECRYPTION_FAILED: { grpc: "INVALID_ARGUMENT", summary: "the encrypted body cannot be decrypted by this node" },
  ENVELOPE_HEADER_INVALID: { grpc: "INVALID_ARGUMENT", summary: "a required header field is missing or malformed" },

  // ── trust ───────────────────────────────────────────────────────────────
  TRUST_UNKNOWN_SIGNER: { grpc: "UNAUTHENTICATED", summary: "no certificate is known for the signer's key id" },
  TRUST_UNTRUSTED_CHAIN: { grpc: "UNAUTHENTICATED", summary: "the signer's certificate does not chain to the federation anchor" },
  TRUST_CERT_EXPIRED: { grpc: "UNAUTHENTICATED", summary: "the signer's certificate is expired or not yet valid" },
  TRUST_CERT_REVOKED: { grpc: "UNAUTHENTICATED", summary: "the signer's certificate is on the revocation list" },
  TRUST_SIGNER_MISMATCH: { grpc: "PERMISSION_DENIED", summary: "the certificate does not belong to the node named as sender" },
  TRUST_CERT_INVALID: { grpc: "INVALID_ARGUMENT", summary: "a certificate or CRL cannot be parsed or is not fit for its use" },
  TRUST_CRL_STALE: { grpc: "UNAVAILABLE", summary: "revocation data is past its next-update time and the grace period" },

  // ── transport / authorisation ───────────────────────────────────────────
  TRANSPORT_PEER_MISMATCH: { grpc: "PERMISSION_DENIED", summary: "the TLS client identity is not the node that signed the envelope" },
  TRANSPORT_UNAUTHENTICATED: { grpc: "UNAUTHENTICATED", summary: "no or bad credentials on the connection" },
  TRANSPORT_CANCELLED: { grpc: "CANCELLED", summary: "the call was cancelled by the caller or its connection closed before it completed" },
  TRANSPORT_DEADLINE_EXCEEDED: { grpc: "DEADLINE_EXCEEDED", summary: "the call's own deadline passed before it completed" },
  TRANSPORT_UNAVAILABLE: { grpc: "UNAVAILABLE", summary: "the peer cannot be reached or refused the connection (TLS handshake included)" },
  TRANSPORT_RESOURCE_EXHAUSTED: { grpc: "RESOURCE_EXHAUSTED", summary: "the transport refused a message over its size limit or the call for lack of resources" },
  TRANSPORT_UNKNOWN_STATUS: { grpc: "UNKNOWN", summary: "the peer answered with a gRPC status that carries no Tongban error code" },
  AUTH_NOT_ALLOWED: { grpc: "PERMISSION_DENIED", summary: "the sender is not allowed this item or action under the partner agreements" },
  RATE_LIMITED: { grpc: "RESOURCE_EXHAUSTED", summary: "the caller exceeded its rate or concurrency limit; retry after the advised delay" },
  OVERLOADED: { grpc: "RESOURCE_EXHAUSTED", summary: "the node is shedding load; retry after the advised delay" },

  // ── mapping ─────────────────────────────────────────────────────────────
  MAPPING_TABLE_INVALID: { grpc: "INVALID_ARGUMENT", summary: "a mapping table failed its schema or reference checks (file, row, field)" },
  MAPPING_VERSION_RULE: { grpc: "FAILED_PRECONDITION", summary: "a new table version breaks the versioning rules" },
  MAPPING_SIGNATURE_INVALID: { grpc: "UNAUTHENTICATED", summary: "a signed mapping table does not verify" },
  MAPPING_TABLE_NOT_FOUND: { grpc: "NOT_FOUND", summary: "the node holds no signed mapping table by that publisher, kind and version" },
  GAP_ITEM_NOT_OFFERED: { grpc: "NOT_FOUND", summary: "the handling region does not offer the item" },
  GAP_ITEM_UNKNOWN: { grpc: "NOT_FOUND", summary: "the item code is unknown to every loaded table" },
  GAP_MODE_NOT_SUPPORTED: { grpc: "FAILED_PRECONDITION", summary: "the item is offered but not in the requested handling mode" },
  GAP_NO_AGREEMENT: { grpc: "FAILED_PRECONDITION", summary: "no partner agreement in force covers the regions and item" },
  GAP_MATERIAL_UNMAPPED: { grpc: "FAILED_PRECONDITION", summary: "a required material has no counterpart on the receiving side" },
  GAP_NOT_RECEIVING: { grpc: "FAILED_PRECONDITION", summary: "the receiving region does not receive this item for others" },
  TRANSFORM_FAILED: { grpc: "INVALID_ARGUMENT", summary: "a form field transform cannot be applied to the given value" },

  // ── cases and deadlines ─────────────────────────────────────────────────
  CASE_NOT_FOUND: { grpc: "NOT_FOUND", summary: "no such case at this node" },
  CASE_INVALID_TRANSITION: { grpc: "FAILED_PRECONDITION", summary: "the action is not allowed in the case's current state" },
  CASE_OUT_OF_ORDER: { grpc: "ABORTED", summary: "the message's predecessor in the case has not arrived; it is held, not applied" },
  CASE_SEQUENCE_CONFLICT: { grpc: "ALREADY_EXISTS", summary: "another message from the sender already took this per-case sequence number" },
  CASE_MATERIAL_MISSING: { grpc: "FAILED_PRECONDITION", summary: "a material named by digest has not been received" },
  CASE_MATERIAL_DIGEST_MISMATCH: { grpc: "DATA_LOSS", summary: "material content does not match its digest" },
  CASE_FORM_INCOMPLETE: { grpc: "INVALID_ARGUMENT", summary: "the application form lacks fields the handling site needs, or a value cannot be translated" },
  JOINT_PLAN_INVALID: { grpc: "INVALID_ARGUMENT", summary: "a joint case plan is not a valid DAG or names unknown tasks" },
  CALENDAR_INVALID: { grpc: "INVALID_ARGUMENT", summary: "a holiday calendar file is malformed or does not cover the dates asked" },

  // ── seals and GM suite ──────────────────────────────────────────────────
  SEAL_MALFORMED: { grpc: "INVALID_ARGUMENT", summary: "a seal or seal signature cannot be parsed" },
  SEAL_INVALID: { grpc: "FAILED_PRECONDITION", summary: "a seal or seal signature failed verification (the report says which step)" },
  GM_CRYPTO_FAILED: { grpc: "INVALID_ARGUMENT", summary: "an SM2/SM3/SM4 operation failed on its input" },

  // ── store, delivery, evidence ───────────────────────────────────────────
  STORE_UNAVAILABLE: { grpc: "UNAVAILABLE", summary: "the node's store cannot be written now; nothing was accepted" },
  STORE_CORRUPT: { grpc: "DATA_LOSS", summary: "stored data failed an integrity check" },
  BACKUP_INVALID: { grpc: "DATA_LOSS", summary: "a store backup file is not a backup, is truncated or damaged, or fails its checksum" },
  BACKUP_TARGET_EXISTS: { grpc: "FAILED_PRECONDITION", summary: "a restore would write into a data directory that already holds data" },
  DELIVERY_FAILED: { grpc: "UNAVAILABLE", summary: "delivery to the partner failed; the outbox will retry" },
  DELIVERY_DEADLINE_EXCEEDED: { grpc: "DEADLINE_EXCEEDED", summary: "delivery retries reached the final deadline; the message is FAILED" },
  RECEIPT_INVALID: { grpc: "INVALID_ARGUMENT", summary: "a technical receipt does not verify or does not bind the sent message" },
  AUDIT_CHAIN_BROKEN: { grpc: "DATA_LOSS", summary: "the evidence log's hash chain or Merkle tree does not verify" },
  AUDIT_CHECKPOINT_CONFLICT: { grpc: "DATA_LOSS", summary: "two signed checkpoints for one log disagree (a forked history)" },
  AUDIT_CHECKPOINT_INVALID: { grpc: "INVALID_ARGUMENT", summary: "a signed checkpoint or cosignature is malformed, or its signature does not verify" },
  BUNDLE_INVALID: { grpc: "INVALID_ARGUMENT", summary: "an evidence bundle is malformed or does not verify" },

  // ── directory and configuration ─────────────────────────────────────────
  DIRECTORY_INVALID: { grpc: "INVALID_ARGUMENT", summary: "a federation directory is malformed or its signature does not verify" },
  DIRECTORY_STALE: { grpc: "FAILED_PRECONDITION", summary: "the directory is expired beyond the grace period, or older than the one held" },
  DIRECTORY_NOT_HELD: { grpc: "NOT_FOUND", summary: "the node holds no federation directory (GetDirectory)" },
  CONFIG_INVALID: { grpc: "INVALID_ARGUMENT", summary: "a configuration file is malformed (details name the field)" },

  // ── generic ─────────────────────────────────────────────────────────────
  INTERNAL: { grpc: "INTERNAL", summary: "an unexpected fault inside the node; nothing was accepted" },
  UNIMPLEMENTED: { grpc: "UNIMPLEMENTED", summary: "the node does not implement this operation or message type" },
} as const satisfies Record<string, ErrorCodeInfo>;

/** Every stable Tongban error code, as a union so `switch (err.code)` narrows. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `value` is one of the codes in {@link ERROR_CODES}. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}
