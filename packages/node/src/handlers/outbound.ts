import type { KeyObject } from "node:crypto";
import { ENCRYPTED_MESSAGE_TYPES, TongbanError, createEnvelope, messageTypeForBodyCase, type EnvelopeSigner } from "@tongban/sdk";
import type { Body, MessageType } from "@tongban/sdk/gen";
import { outboxOps, type Outbox } from "../outbox/outbox.js";
import type { BatchOp } from "../store/types.js";

/** Who sends: what every outbound message of the node is made with. */
export interface OutboundSender {
  readonly nodeId: string;
  readonly signer: EnvelopeSigner;
  readonly outbox: Outbox;
  /** The key personal-data bodies to a partner are encrypted to; needed only for those types. */
  readonly encryptionKeyOf?: (nodeId: string) => KeyObject | undefined;
}

/** One message to a partner. */
export interface OutboundInput {
  readonly destination: string;
  readonly body: Body;
  readonly now: Date;
  /** Empty for a message outside any case (then `sequence` is ignored). */
  readonly caseId: string;
  readonly sequence?: number;
}

/**
 * Signs (and, for the types that carry personal data, encrypts to the
 * partner) one message and returns the outbox operations that queue it — to
 * be written in the same batch as the change that produced it. The one way
 * the case desk, the joint desk and the evidence checkpoints send.
 *
 * @throws TongbanError TRUST_UNKNOWN_SIGNER when a personal-data body has no key to go to.
 */
export async function outboundMessage(from: OutboundSender, m: OutboundInput): Promise<{ messageId: string; type: MessageType; ops: BatchOp[] }> {
  const kind = m.body.kind.case;
  if (kind === undefined) throw new TongbanError("ENVELOPE_MALFORMED", "an outbound message needs a body");
  const type = messageTypeForBodyCase(kind);
  const encryptTo = ENCRYPTED_MESSAGE_TYPES.has(type) ? from.encryptionKeyOf?.(m.destination) : undefined;
  if (ENCRYPTED_MESSAGE_TYPES.has(type) && encryptTo === undefined) {
    throw new TongbanError("TRUST_UNKNOWN_SIGNER", `no certificate known for partner ${m.destination} to encrypt to`, { details: { partner: m.destination } });
  }
  const made = await createEnvelope({
    body: m.body,
    sender: from.nodeId,
    recipient: m.destination,
    ...(m.caseId === "" ? {} : { caseId: m.caseId, sequence: m.sequence ?? 0 }),
    signer: from.signer,
    now: m.now,
    ...(encryptTo === undefined ? {} : { encryptTo }),
  });
  const ops = outboxOps({ messageId: made.messageId, destination: m.destination, caseId: m.caseId, envelope: made.bytes, receiptDigest: made.receiptDigest }, await from.outbox.nextOrder(), m.now.getTime());
  return { messageId: made.messageId, type, ops };
}
