import type { Body } from "../gen/tongban/v1/envelope_pb.js";
import { MessageType } from "../gen/tongban/v1/envelope_pb.js";

/** The name of the member set in `Body.kind` (e.g. "applicationSubmission"). */
export type BodyCase = NonNullable<Body["kind"]["case"]>;

/**
 * The one table tying each MessageType to the Body oneof member it carries.
 * A header whose type disagrees with its body is ENVELOPE_BODY_TYPE_MISMATCH.
 */
export const MESSAGE_BODY_CASES: Readonly<Record<Exclude<MessageType, MessageType.UNSPECIFIED>, BodyCase>> = Object.freeze({
  [MessageType.APPLICATION_SUBMISSION]: "applicationSubmission",
  [MessageType.TECHNICAL_RECEIPT]: "technicalReceipt",
  [MessageType.ACCEPTANCE]: "acceptance",
  [MessageType.REFUSAL]: "refusal",
  [MessageType.CORRECTION_REQUEST]: "correctionRequest",
  [MessageType.CORRECTION_RESPONSE]: "correctionResponse",
  [MessageType.STATUS_UPDATE]: "statusUpdate",
  [MessageType.SUSPENSION]: "suspension",
  [MessageType.RESUMPTION]: "resumption",
  [MessageType.DECISION]: "decision",
  [MessageType.RESULT]: "result",
  [MessageType.DELIVERY_CONFIRMATION]: "deliveryConfirmation",
  [MessageType.WITHDRAWAL]: "withdrawal",
  [MessageType.EVALUATION]: "evaluation",
  [MessageType.JOINT_TASK_ASSIGNMENT]: "jointTaskAssignment",
  [MessageType.JOINT_TASK_RESPONSE]: "jointTaskResponse",
  [MessageType.JOINT_TASK_PROGRESS]: "jointTaskProgress",
  [MessageType.JOINT_TASK_RESULT]: "jointTaskResult",
  [MessageType.JOINT_TASK_CANCELLATION]: "jointTaskCancellation",
  [MessageType.JOINT_CASE_STATUS]: "jointCaseStatus",
  [MessageType.MAPPING_TABLE_PUBLICATION]: "mappingTablePublication",
  [MessageType.DIRECTORY_PUBLICATION]: "directoryPublication",
  [MessageType.CHECKPOINT_COSIGNATURE]: "checkpointCosignature",
});

const BY_CASE: ReadonlyMap<BodyCase, MessageType> = new Map(
  Object.entries(MESSAGE_BODY_CASES).map(([type, bodyCase]) => [bodyCase, Number(type) as MessageType]),
);

/** The Body member a message type carries, or undefined for UNSPECIFIED/unknown values. */
export function bodyCaseForMessageType(type: MessageType): BodyCase | undefined {
  return (MESSAGE_BODY_CASES as Record<number, BodyCase | undefined>)[type];
}

/** The message type a Body member travels as. */
export function messageTypeForBodyCase(bodyCase: BodyCase): MessageType {
  const t = BY_CASE.get(bodyCase);
  if (t === undefined) throw new TypeError(`unknown body member: ${String(bodyCase)}`);
  return t;
}

/**
 * Message types whose bodies carry personal data (applicant identity,
 * addresses, form contents) and so must be encrypted to the recipient node
 * (DESIGN §4: personal identifiers are encrypted in bodies that cross nodes).
 * `createEnvelope` refuses to send these in the clear; `verifyEnvelope`
 * refuses to accept them in the clear.
 */
export const ENCRYPTED_MESSAGE_TYPES: ReadonlySet<MessageType> = new Set([
  MessageType.APPLICATION_SUBMISSION,
  MessageType.CORRECTION_RESPONSE,
  MessageType.RESULT,
  MessageType.DELIVERY_CONFIRMATION,
  MessageType.JOINT_TASK_ASSIGNMENT,
  MessageType.JOINT_TASK_RESULT,
]);
