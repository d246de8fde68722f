import type { KeyObject } from "node:crypto";
import { createEnvelope, verifyEnvelope, type EnvelopeSigner, type SignatureOffload, type SignerResolver, type VerifyEnvelopeOptions } from "@tongban/sdk";
import { ReceiptStatus } from "@tongban/sdk/gen";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { EnvelopeVerifier, ReceiptSigner } from "./intake.js";

/** Who this node is, as the intake needs it. */
export interface NodeIdentity {
  readonly nodeId: string;
  /** The envelope signing key with its certificate's kid. */
  readonly signer: EnvelopeSigner;
  /** The TLS key, which opens JWE bodies addressed to this node; several (newest first) while a replaced key is still kept. */
  readonly decryptionKey: KeyObject | readonly KeyObject[];
  /** For a gm-v1 node: its SM2 signing key(s), which open SM2/SM4 bodies addressed to it. */
  readonly sm2DecryptionKey?: KeyObject | readonly KeyObject[];
}

/**
 * The intake's verifier: the SDK's verifyEnvelope for this node, with the
 * federation trust store. No replay guard here — the intake's durable inbox
 * is the replay and duplicate check, and survives restarts. `clock` is the
 * node's clock (timestamps and certificate validity are judged by it).
 */
export function verifierFor(identity: NodeIdentity, resolver: SignerResolver, options: Partial<VerifyEnvelopeOptions> = {}, clock?: () => Date): EnvelopeVerifier {
  return (envelope) => verifyEnvelope(envelope, { ...options, ...(clock === undefined ? {} : { now: clock() }), self: identity.nodeId, resolver, decryptionKey: identity.decryptionKey, ...(identity.sm2DecryptionKey === undefined ? {} : { sm2DecryptionKey: identity.sm2DecryptionKey }) });
}

/**
 * Signs technical receipts: a TECHNICAL_RECEIPT envelope from this node to
 * the sender, answering the message id and binding its receipt digest.
 */
export function receiptSignerFor(identity: NodeIdentity, options: { readonly offload?: SignatureOffload } = {}): ReceiptSigner {
  return async (m, receivedAt) => {
    const made = await createEnvelope({
      // The Body message itself (no create() reflection: one is made per message received).
      body: {
        $typeName: "tongban.v1.Body",
        kind: {
          case: "technicalReceipt",
          value: {
            $typeName: "tongban.v1.TechnicalReceipt",
            receivedMessageId: m.header.messageId,
            receivedDigest: m.receiptDigest,
            receivedAt: timestampFromDate(receivedAt),
            status: ReceiptStatus.ACCEPTED,
            errorCode: "",
            errorMessage: "",
            duplicate: false,
            receivedFrom: m.header.sender,
          },
        },
      },
      sender: identity.nodeId,
      recipient: m.header.sender,
      caseId: m.header.caseId,
      correlationId: m.header.messageId,
      signer: identity.signer,
      now: receivedAt,
      ...(options.offload === undefined ? {} : { offload: options.offload }),
    });
    return { envelope: made.envelope, bytes: made.bytes, messageId: made.messageId };
  };
}
