import { timingSafeEqual, type KeyObject } from "node:crypto";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { TongbanError } from "../errors/index.js";
import {
  BodyEncoding,
  BodySchema,
  DigestAlgorithm,
  MessageType,
  type Body,
  type Envelope,
  type Header,
} from "../gen/tongban/v1/envelope_pb.js";
import { sm3 } from "../gm/sm3.js";
import type { ResolvedSigner, SignatureAlgorithm, SignerResolver } from "../trust/signer-resolver.js";
import { decryptBody } from "./body-encryption.js";
import { PROTOCOL_V1, SUITE_GM_V1, SUITE_JOSE_V1, suiteOfAlgorithm } from "./create-envelope.js";
import { decryptBodyGm } from "./gm-body-encryption.js";
import { sha256 } from "../evidence/hash.js";
import { ENVELOPE_ALGORITHMS, ENVELOPE_JWS_TYPE, jwsVerify, jwsVerifyWith, signingInput, sm2UserIdOf, type SignatureOffload } from "./jws.js";
import { DEFAULT_ENVELOPE_LIMITS, type EnvelopeLimits } from "./limits.js";
import { ENCRYPTED_MESSAGE_TYPES, bodyCaseForMessageType } from "./message-types.js";
import { receiptDigestOf } from "./receipt-digest.js";
import { schemaCodec } from "./schema-codec.js";
import { decodeEnvelope, decodeHeader } from "./wire-decode.js";
import type { ReplayGuard } from "./replay-guard.js";

/** Default tolerance for a sender's clock running ahead of ours. */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000;
/** Default oldest created_at accepted (and longest allowed lifetime). */
export const DEFAULT_MAX_AGE_MS = 72 * 3600_000;

/** How to verify. */
export interface VerifyEnvelopeOptions {
  /** This node's id: the envelope must be addressed to it. */
  readonly self: string;
  readonly resolver: SignerResolver;
  /** Records (sender, message id); without it no replay check is made. */
  readonly replay?: ReplayGuard;
  /**
   * This node's private key for JWE bodies (its TLS key). Several are tried in
   * order, the first that opens the body wins: after a key rotation, bodies
   * encrypted to the previous key by partners that had not yet switched still open.
   */
  readonly decryptionKey?: KeyObject | readonly KeyObject[];
  /** This node's SM2 private key(s) for GM-container bodies (BODY_ENCODING_GM_SM4), tried like `decryptionKey`. */
  readonly sm2DecryptionKey?: KeyObject | readonly KeyObject[];
  /**
   * The SM2 user ID SM2SM3 signatures were made with; default
   * `1234567812345678`. The empty string is refused (TypeError).
   */
  readonly sm2UserId?: string;
  /**
   * Stop after the signature, header, digest and replay checks, leaving an
   * encrypted body closed (a relaying hop checks origin without reading).
   */
  readonly skipBody?: boolean;
  readonly now?: Date;
  readonly clockSkewMs?: number;
  readonly maxAgeMs?: number;
  readonly limits?: Partial<EnvelopeLimits>;
  /**
   * Algorithms accepted; defaults to both suites (ES256, EdDSA, SM2SM3) so a
   * node verifies every member of a mixed federation. The signer's
   * certificate, not the message, fixes which one a given sender uses.
   */
  readonly algorithms?: ReadonlySet<SignatureAlgorithm>;
  /**
   * Check ES256 and EdDSA signatures off the event loop (a server verifying
   * many envelopes at once): {@link threadPoolSignatures} or a
   * {@link startSignatureWorker}. Slower for one envelope at a time.
   * Default: in line.
   */
  readonly offload?: SignatureOffload;
}

/** A verified envelope. */
export interface VerifiedEnvelope {
  readonly envelope: Envelope;
  readonly header: Header;
  /** The decoded body; undefined only with `skipBody`. */
  readonly body: Body | undefined;
  readonly signer: ResolvedSigner;
  readonly receiptDigest: Uint8Array;
  /** True when the replay guard had seen this exact envelope before. */
  readonly duplicate: boolean;
}

const bodyCodec = schemaCodec(BodySchema);

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Verifies an envelope in the order of docs/protocol.md §"Verification
 * order"; the first failing step throws its error code. Nothing taken from
 * the header is trusted before the signature over the header bytes has been
 * checked, and the per-message cost is one signature check plus two hashes
 * (the resolver caches certificate chains).
 */
export async function verifyEnvelope(input: Uint8Array | Envelope, options: VerifyEnvelopeOptions): Promise<VerifiedEnvelope> {
  const limits = options.limits === undefined ? DEFAULT_ENVELOPE_LIMITS : { ...DEFAULT_ENVELOPE_LIMITS, ...options.limits };
  const sm2UserId = sm2UserIdOf(options.sm2UserId);
  const now = (options.now ?? new Date()).getTime();

  // 1. size, before decoding anything
  let envelope: Envelope;
  if (input instanceof Uint8Array) {
    if (input.byteLength > limits.maxEnvelopeBytes) tooLarge("envelope", input.byteLength, limits.maxEnvelopeBytes);
    try {
      envelope = decodeEnvelope(input);
    } catch (err) {
      throw new TongbanError("ENVELOPE_MALFORMED", "the envelope is not a valid tongban.v1.Envelope", { cause: err });
    }
  } else {
    envelope = input;
  }
  const sig = envelope.signature;
  if (sig === undefined) throw new TongbanError("ENVELOPE_MALFORMED", "the envelope has no signature");
  if (envelope.header.byteLength > limits.maxHeaderBytes) tooLarge("header", envelope.header.byteLength, limits.maxHeaderBytes);
  if (envelope.body.byteLength > limits.maxBodyBytes) tooLarge("body", envelope.body.byteLength, limits.maxBodyBytes);
  if (sig.protected.byteLength > limits.maxProtectedBytes) tooLarge("protected header", sig.protected.byteLength, limits.maxProtectedBytes);

  // 2. protected header
  const prot = parseProtected(sig.protected);
  const allowed = options.algorithms ?? ENVELOPE_ALGORITHMS;
  if (!allowed.has(prot.alg as SignatureAlgorithm)) {
    throw new TongbanError("ENVELOPE_UNSUPPORTED_SUITE", `signature algorithm ${JSON.stringify(prot.alg)} is not accepted`, { details: { alg: prot.alg } });
  }
  const alg = prot.alg as SignatureAlgorithm;

  // 3. signer (chain, validity, revocation: the resolver's job, cached)
  const signer = options.resolver.resolveSigner(prot.kid, new Date(now));
  if (signer.algorithm !== alg) {
    throw new TongbanError("ENVELOPE_UNSUPPORTED_SUITE", `the signer's key signs with ${signer.algorithm}, not ${alg}`, { details: { alg, kid: prot.kid } });
  }

  // 4. signature over the exact header bytes
  const signed = signingInput(prot.b64, envelope.header);
  const jwsOptions = { sm2UserId, sm2PublicKey: signer.sm2PublicKey };
  if (!(options.offload !== undefined ? await jwsVerifyWith(options.offload, alg, signer.publicKey, signed, sig.value, jwsOptions) : jwsVerify(alg, signer.publicKey, signed, sig.value, jwsOptions))) {
    throw new TongbanError("ENVELOPE_BAD_SIGNATURE", "the signature does not verify over the header", { details: { kid: prot.kid } });
  }

  // 5. header
  let header: Header;
  try {
    header = decodeHeader(envelope.header);
  } catch (err) {
    throw new TongbanError("ENVELOPE_MALFORMED", "the signed header is not a valid tongban.v1.Header", { cause: err });
  }
  if (header.protocol !== PROTOCOL_V1) {
    throw new TongbanError("ENVELOPE_UNSUPPORTED_PROTOCOL", `protocol ${JSON.stringify(header.protocol)} is not spoken here`, { details: { protocol: header.protocol } });
  }
  checkHeaderFields(header);
  if (header.suite !== suiteOfAlgorithm(alg)) {
    throw new TongbanError("ENVELOPE_UNSUPPORTED_SUITE", `suite ${header.suite} cannot be signed with ${alg}`, { details: { suite: header.suite, alg } });
  }

  // 6. the signer is the sender
  if (signer.nodeId !== header.sender) {
    throw new TongbanError("TRUST_SIGNER_MISMATCH", `signed by ${signer.nodeId} but sent as ${header.sender}`, {
      details: { signer: signer.nodeId, sender: header.sender },
    });
  }
  // 7. addressed to us
  if (header.recipient !== options.self) {
    throw new TongbanError("ENVELOPE_WRONG_RECIPIENT", `addressed to ${header.recipient}, not to ${options.self}`, {
      details: { recipient: header.recipient, self: options.self },
    });
  }
  // 8. time
  const createdAt = timestampMs(header.createdAt!);
  const expiresAt = timestampMs(header.expiresAt!);
  const skew = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const maxAge = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  if (createdAt > now + skew || createdAt < now - maxAge) {
    throw new TongbanError("ENVELOPE_TIMESTAMP_OUT_OF_WINDOW", "created_at lies outside the accepted window", {
      details: { createdAt: new Date(createdAt).toISOString(), now: new Date(now).toISOString(), skewMs: skew, maxAgeMs: maxAge },
    });
  }
  if (expiresAt <= createdAt || expiresAt - createdAt > maxAge) {
    throw new TongbanError("ENVELOPE_HEADER_INVALID", "expires_at must follow created_at within the maximum lifetime", { details: { field: "expires_at" } });
  }
  if (now > expiresAt) {
    throw new TongbanError("ENVELOPE_EXPIRED", "the envelope has expired", { details: { expiresAt: new Date(expiresAt).toISOString() } });
  }
  // 9. body digest
  const digest = header.suite === SUITE_GM_V1 ? sm3(envelope.body) : sha256(envelope.body);
  const bound = header.bodyDigest!.value;
  if (bound.byteLength !== digest.byteLength || !timingSafeEqual(bound, digest)) {
    throw new TongbanError("ENVELOPE_BODY_DIGEST_MISMATCH", "the body does not match the signed digest");
  }
  // 10. replay / duplicate
  const receiptDigest = receiptDigestOf({ header: envelope.header, body: envelope.body, signature: sig });
  const duplicate = options.replay !== undefined && options.replay.check(header.sender, header.messageId, receiptDigest, expiresAt) === "duplicate";

  // 11. body
  if (options.skipBody === true) return { envelope, header, body: undefined, signer, receiptDigest, duplicate };
  let clear: Uint8Array;
  if (header.bodyEncoding === BodyEncoding.JWE) {
    const keys = keyList(options.decryptionKey);
    if (keys.length === 0) throw new TongbanError("ENVELOPE_DECRYPTION_FAILED", "the body is encrypted and no decryption key was given");
    clear = await firstThatOpens(keys, (key) => decryptBody(envelope.body, key));
  } else if (header.bodyEncoding === BodyEncoding.GM_SM4) {
    const keys = keyList(options.sm2DecryptionKey);
    if (keys.length === 0) throw new TongbanError("ENVELOPE_DECRYPTION_FAILED", "the body is encrypted to an SM2 key and no SM2 decryption key was given");
    clear = await firstThatOpens(keys, (key) => decryptBodyGm(envelope.body, key));
  } else {
    clear = envelope.body;
  }
  let body: Body;
  try {
    body = bodyCodec.decode(clear);
  } catch (err) {
    throw new TongbanError("ENVELOPE_MALFORMED", "the body is not a valid tongban.v1.Body", { cause: err });
  }
  const expected = bodyCaseForMessageType(header.type);
  if (body.kind.case !== expected) {
    throw new TongbanError("ENVELOPE_BODY_TYPE_MISMATCH", `header type ${MessageType[header.type] ?? header.type} but body member ${String(body.kind.case)}`, {
      details: { type: MessageType[header.type] ?? header.type, bodyCase: body.kind.case ?? null },
    });
  }
  return { envelope, header, body, signer, receiptDigest, duplicate };
}

function tooLarge(part: string, size: number, limit: number): never {
  throw new TongbanError("ENVELOPE_TOO_LARGE", `the ${part} is ${size} bytes; the limit is ${limit}`, { details: { part, size, limit } });
}

/** Parsed protected headers, cached by their exact bytes: senders reuse one per key. */
const protectedCache = new Map<string, { alg: string; kid: string; b64: string }>();

function parseProtected(bytes: Uint8Array): { alg: string; kid: string; b64: string } {
  const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  const hit = protectedCache.get(key);
  if (hit !== undefined) return hit;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new TongbanError("ENVELOPE_MALFORMED", "the signature's protected header is not JSON", { cause: err });
  }
  const p = parsed as Record<string, unknown> | null;
  if (p === null || typeof p !== "object" || typeof p.alg !== "string" || typeof p.kid !== "string" || p.typ !== ENVELOPE_JWS_TYPE) {
    throw new TongbanError("ENVELOPE_MALFORMED", `the protected header must hold string alg and kid and typ "${ENVELOPE_JWS_TYPE}"`);
  }
  // JWS "crit" names extensions the verifier must understand; we understand none.
  if ("crit" in p) throw new TongbanError("ENVELOPE_MALFORMED", "the protected header names critical extensions this node does not support");
  const result = { alg: p.alg, kid: p.kid, b64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url") };
  if (protectedCache.size > 10_000) protectedCache.clear();
  protectedCache.set(key, result);
  return result;
}

function checkHeaderFields(h: Header): void {
  const bad = (field: string, reason: string): never => {
    throw new TongbanError("ENVELOPE_HEADER_INVALID", `header ${field}: ${reason}`, { details: { field, reason } });
  };
  if (!UUID_V7.test(h.messageId)) bad("message_id", "must be a lower-case UUIDv7");
  if (bodyCaseForMessageType(h.type) === undefined) bad("type", "unknown message type");
  if (h.sender === "") bad("sender", "missing");
  if (h.recipient === "") bad("recipient", "missing");
  if (h.createdAt === undefined) bad("created_at", "missing");
  if (h.expiresAt === undefined) bad("expires_at", "missing");
  if (h.suite !== SUITE_JOSE_V1 && h.suite !== SUITE_GM_V1) bad("suite", `must be ${SUITE_JOSE_V1} or ${SUITE_GM_V1}`);
  // The body digest algorithm is the suite's: SHA-256 for jose-v1, SM3 for gm-v1.
  const digestAlgorithm = h.suite === SUITE_GM_V1 ? DigestAlgorithm.SM3 : DigestAlgorithm.SHA256;
  if (h.bodyDigest === undefined || h.bodyDigest.algorithm !== digestAlgorithm || h.bodyDigest.value.byteLength !== 32) {
    bad("body_digest", `must be a 32-byte ${h.suite === SUITE_GM_V1 ? "SM3" : "SHA-256"}`);
  }
  const encrypted = h.bodyEncoding === BodyEncoding.JWE || h.bodyEncoding === BodyEncoding.GM_SM4;
  if (h.bodyEncoding !== BodyEncoding.PROTOBUF && !encrypted) bad("body_encoding", "must be PROTOBUF, JWE or GM_SM4");
  if (ENCRYPTED_MESSAGE_TYPES.has(h.type) && !encrypted) bad("body_encoding", `${MessageType[h.type]} carries personal data and must be encrypted`);
  if (h.caseId !== "" && !UUID_V7.test(h.caseId)) bad("case_id", "must be empty or a lower-case UUIDv7");
}

const keyList = (k: KeyObject | readonly KeyObject[] | undefined): readonly KeyObject[] => (k === undefined ? [] : Array.isArray(k) ? (k as readonly KeyObject[]) : [k as KeyObject]);

/** Tries each key in turn; the last key's failure (ENVELOPE_DECRYPTION_FAILED) is the one reported. */
async function firstThatOpens(keys: readonly KeyObject[], open: (key: KeyObject) => Uint8Array | Promise<Uint8Array>): Promise<Uint8Array> {
  for (let i = 0; ; i++) {
    try {
      return await open(keys[i]!);
    } catch (err) {
      if (i === keys.length - 1) throw err;
    }
  }
}
