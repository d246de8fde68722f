import { createHash, type KeyObject } from "node:crypto";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  BodyEncoding,
  BodySchema,
  DigestAlgorithm,
  EnvelopeSchema,
  HeaderSchema,
  MessageType,
  type Body,
  type Envelope,
  type Header,
} from "../gen/tongban/v1/envelope_pb.js";
import { newMessageId } from "../identifiers/index.js";
import type { SignatureAlgorithm } from "../trust/signer-resolver.js";
import { encryptBody } from "./body-encryption.js";
import { jwsSign, protectedFor, signingInput } from "./jws.js";
import { ENCRYPTED_MESSAGE_TYPES, bodyCaseForMessageType, messageTypeForBodyCase } from "./message-types.js";
import { receiptDigestOf } from "./receipt-digest.js";

/** The protocol identifier of this version. */
export const PROTOCOL_V1 = "tongban/1";
/** The JOSE algorithm suite. */
export const SUITE_JOSE_V1 = "jose-v1";
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
}

/** What to put in an envelope. */
export interface CreateEnvelopeOptions {
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
  /** The recipient's P-256 public key; required for types that carry personal data. */
  readonly encryptTo?: KeyObject;
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
 * SHA-256 of exactly the body bytes that travel.
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
  const clear = toBinary(BodySchema, body);
  const encrypted = options.encryptTo !== undefined;
  const bodyBytes = encrypted ? await encryptBody(clear, options.encryptTo as KeyObject) : clear;

  const nowMs = (options.now ?? new Date()).getTime();
  const ttl = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (!(ttl > 0)) throw new TypeError("ttlSeconds must be positive");
  const messageId = options.messageId ?? newMessageId(new Date(nowMs));
  const header = create(HeaderSchema, {
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
    bodyDigest: { algorithm: DigestAlgorithm.SHA256, value: createHash("sha256").update(bodyBytes).digest() },
    suite: SUITE_JOSE_V1,
    bodyEncoding: encrypted ? BodyEncoding.JWE : BodyEncoding.PROTOBUF,
  });
  const headerBytes = toBinary(HeaderSchema, header);
  const prot = protectedFor(options.signer.algorithm, options.signer.kid);
  const protectedBytes = prot.bytes;
  const value = jwsSign(options.signer.algorithm, options.signer.privateKey, signingInput(prot.b64, headerBytes));
  const envelope = create(EnvelopeSchema, {
    header: headerBytes,
    body: bodyBytes,
    signature: { protected: protectedBytes, value, certificates: [...(options.signer.certificates ?? [])] },
  });
  return {
    envelope,
    bytes: toBinary(EnvelopeSchema, envelope),
    header,
    headerBytes,
    messageId,
    receiptDigest: receiptDigestOf({ header: headerBytes, body: bodyBytes, signature: { protected: protectedBytes, value } }),
  };
}

function isBodyMessage(b: Body | MessageInitShape<typeof BodySchema>): b is Body {
  return (b as { $typeName?: string }).$typeName === "tongban.v1.Body";
}
