import { createHash, type KeyObject } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import {
  BodyEncoding,
  BodySchema,
  DigestAlgorithm,
  MessageType,
  type Body,
  type Envelope,
  type Header,
} from "../gen/tongban/v1/envelope_pb.js";
import { isSm2KeyObject } from "../gm/key-object.js";
import { sm3 } from "../gm/sm3.js";
import { newMessageId } from "../identifiers/index.js";
import type { SignatureAlgorithm, Suite } from "../trust/signer-resolver.js";
import { encryptBody } from "./body-encryption.js";
import { encryptBodyGm } from "./gm-body-encryption.js";
import { sha256 } from "../evidence/hash.js";
import { jwsSign, jwsSignWith, protectedFor, signingInput, sm2UserIdOf, type SignatureOffload } from "./jws.js";
import { ENCRYPTED_MESSAGE_TYPES, bodyCaseForMessageType, messageTypeForBodyCase } from "./message-types.js";
import { receiptDigestOf } from "./receipt-digest.js";
import { encodeBody, encodeEnvelope, encodeHeader } from "./wire-encode.js";

/** The protocol identifier of this version. */
export const PROTOCOL_V1 = "tongban/1";
/** The JOSE algorithm suite: ES256 or EdDSA signatures, SHA-256 body digest. */
export const SUITE_JOSE_V1 = "jose-v1";
/** The GM (国密) algorithm suite: SM2-with-SM3 signatures, SM3 body digest. */
export const SUITE_GM_V1 = "gm-v1";

/** The suite an algorithm belongs to: SM2SM3 is gm-v1, ES256 and EdDSA jose-v1. */
export function suiteOfAlgorithm(algorithm: SignatureAlgorithm): Suite {
  return algorithm === "SM2SM3" ? SUITE_GM_V1 : SUITE_JOSE_V1;
}
/** Default lifetime of an envelope: long enough for the outbox's retries. */
export const DEFAULT_TTL_SECONDS = 48 * 3600;

/** A node's signing key with the kid of its certificate. */
export interface EnvelopeSigner {
  /** base64url(SHA-256(signing certificate DER)). */
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly algorithm: SignatureAlgorithm;
  /** Optional DER certificates to carry as hints (leaf first). */
  readonly certificates?: readonly Uint8Array[];
  /**
   * SM2 user ID for SM2SM3 signatures; default `1234567812345678`. Every
   * verifier must be configured with the same value.
   */
  readonly sm2UserId?: string;
}

/** What to put in an envelope. */
export interface CreateEnvelopeOptions {
  /** Sign ES256 and EdDSA off the event loop (servers signing many at once, see `SignatureOffload`); default in line. */
  readonly offload?: SignatureOffload;
  /** The body; the message type follows from the member set in it. */
  readonly body: Body | MessageInitShape<typeof BodySchema>;
  /** Must agree with the body when given. */
  readonly type?: MessageType;
  readonly sender: string;
  readonly recipient: string;
  readonly signer: EnvelopeSigner;
  readonly caseId?: string;
  readonly correlationId?: string;
  readonly sequence?: number | bigint;
  readonly originalSender?: string;
  readonly finalRecipient?: string;
  /**
   * The recipient's public key; required for types that carry personal data.
   * A P-256 key (the recipient's TLS certificate key, for jose-v1 recipients)
   * gives a JWE body; an SM2 key (the recipient's SM2 certificate key, for
   * gm-v1 recipients) gives the GM container (SM2 + SM4-GCM). The body
   * encryption follows the recipient's suite, the signature the sender's.
   */
  readonly encryptTo?: KeyObject;
  /**
   * The signing suite; defaults to the one of `signer.algorithm` (SM2SM3 →
   * gm-v1, else jose-v1) and must agree with it when given.
   */
  readonly suite?: Suite;
  readonly messageId?: string;
  readonly now?: Date;
  readonly ttlSeconds?: number;
}

/** A built envelope with the facts the sender keeps. */
export interface CreatedEnvelope {
  readonly envelope: Envelope;
  /** Protobuf binary of the Envelope, ready to send or store. */
  readonly bytes: Uint8Array;
  readonly header: Header;
  readonly headerBytes: Uint8Array;
  readonly messageId: string;
  /** What the recipient's receipt must bind (see receiptDigestOf). */
  readonly receiptDigest: Uint8Array;
}

/**
 * Builds, (optionally) encrypts and signs an envelope. The header is encoded
 * once; the signature covers exactly those bytes, and the header binds the
 * digest (SHA-256 for jose-v1, SM3 for gm-v1) of exactly the body bytes
 * that travel. The suite follows from the signer's algorithm.
 *
 * @example
 * ```ts
 * const { bytes } = await createEnvelope({
 *   body: { kind: { case: "statusUpdate", value: { state: CaseState.ACCEPTED } } },
 *   sender: "cn.310118.qingpu", recipient: "cn.320509.wujiang",
 *   signer: { kid, privateKey, algorithm: "ES256" },
 * });
 * ```
 */
export async function createEnvelope(options: CreateEnvelopeOptions): Promise<CreatedEnvelope> {
  const body = isBodyMessage(options.body) ? options.body : create(BodySchema, options.body);
  const bodyCase = body.kind.case;
  if (bodyCase === undefined) throw new TypeError("the body has no member set");
  const type = messageTypeForBodyCase(bodyCase);
  if (options.type !== undefined && options.type !== type) {
    throw new TypeError(`type ${MessageType[options.type]} does not match the body member ${bodyCase} (${bodyCaseForMessageType(options.type) ?? "?"})`);
  }
  const mustEncrypt = ENCRYPTED_MESSAGE_TYPES.has(type);
  if (mustEncrypt && options.encryptTo === undefined) {
    throw new TypeError(`${MessageType[type]} carries personal data: pass encryptTo (the recipient's public key)`);
  }
  const suite = suiteOfAlgorithm(options.signer.algorithm);
  if (options.suite !== undefined && options.suite !== suite) {
    throw new TypeError(`suite ${options.suite} does not match the signer's algorithm ${options.signer.algorithm} (${suite})`);
  }
  const sm2UserId = options.signer.algorithm === "SM2SM3" ? sm2UserIdOf(options.signer.sm2UserId) : undefined;
  const clear = encodeBody(body);
  const encryptTo = options.encryptTo;
  let bodyBytes: Uint8Array = clear;
  let bodyEncoding = BodyEncoding.PROTOBUF;
  if (encryptTo !== undefined) {
    if (isSm2KeyObject(encryptTo)) {
      bodyBytes = encryptBodyGm(clear, encryptTo);
      bodyEncoding = BodyEncoding.GM_SM4;
    } else {
      bodyBytes = await encryptBody(clear, encryptTo);
      bodyEncoding = BodyEncoding.JWE;
    }
  }

  const nowMs = (options.now ?? new Date()).getTime();
  const ttl = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (!(ttl > 0)) throw new TypeError("ttlSeconds must be positive");
  const messageId = options.messageId ?? newMessageId(new Date(nowMs));
  // Built as the message object itself (what create() would make, without its reflection).
  const header: Header = {
    $typeName: "tongban.v1.Header",
    protocol: PROTOCOL_V1,
    messageId,
    type,
    sender: options.sender,
    recipient: options.recipient,
    originalSender: options.originalSender ?? "",
    finalRecipient: options.finalRecipient ?? "",
    caseId: options.caseId ?? "",
    correlationId: options.correlationId ?? "",
    sequence: BigInt(options.sequence ?? 0),
    createdAt: timestampFromMs(nowMs),
    expiresAt: timestampFromMs(nowMs + ttl * 1000),
    bodyDigest:
      suite === SUITE_GM_V1
        ? { $typeName: "tongban.v1.Digest", algorithm: DigestAlgorithm.SM3, value: sm3(bodyBytes) }
        : { $typeName: "tongban.v1.Digest", algorithm: DigestAlgorithm.SHA256, value: sha256(bodyBytes) },
    suite,
    bodyEncoding,
  };
  const headerBytes = encodeHeader(header);
  const prot = protectedFor(options.signer.algorithm, options.signer.kid);
  const protectedBytes = prot.bytes;
  const input = signingInput(prot.b64, headerBytes);
  const sm2 = sm2UserId === undefined ? {} : { sm2UserId };
  const value = options.offload !== undefined ? await jwsSignWith(options.offload, options.signer.algorithm, options.signer.privateKey, input, sm2) : jwsSign(options.signer.algorithm, options.signer.privateKey, input, sm2);
  const envelope: Envelope = {
    $typeName: "tongban.v1.Envelope",
    header: headerBytes,
    body: bodyBytes,
    signature: { $typeName: "tongban.v1.Signature", protected: protectedBytes, value, certificates: [...(options.signer.certificates ?? [])] },
  };
  return new Created(envelope, header, messageId);
}

/** The envelope made; its receipt digest is computed when asked for (a receipt's own is rarely needed). */
class Created implements CreatedEnvelope {
  readonly bytes: Uint8Array;
  readonly headerBytes: Uint8Array;
  #receiptDigest: Uint8Array | undefined;
  constructor(
    readonly envelope: Envelope,
    readonly header: Header,
    readonly messageId: string
  ) {
    this.bytes = encodeEnvelope(envelope);
    this.headerBytes = envelope.header;
  }
  get receiptDigest(): Uint8Array {
    const e = this.envelope;
    return (this.#receiptDigest ??= receiptDigestOf({ header: e.header, body: e.body, signature: e.signature }));
  }
}

/** A Timestamp for a time in ms, as protobuf-es's timestampFromMs makes it, without create()'s reflection. */
function timestampFromMs(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { $typeName: "google.protobuf.Timestamp", seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

function isBodyMessage(b: Body | MessageInitShape<typeof BodySchema>): b is Body {
  return (b as { $typeName?: string }).$typeName === "tongban.v1.Body";
}
