import { MessageType } from "../gen/tongban/v1/envelope_pb.js";

/**
 * What can happen to a case. Each action is performed by one site (see
 * {@link CaseRole}) and, where it crosses the wire, travels as the message in
 * {@link CASE_ACTION_MESSAGES}. `evaluate` (好差评) is a guarded action that
 * does not change the state.
 */
export type CaseAction =
  | "check"
  | "forward"
  | "deliver"
  | "accept"
  | "refuse"
  | "request-correction"
  | "correct"
  | "suspend"
  | "resume"
  | "decide"
  | "send-result"
  | "confirm-delivery"
  | "archive"
  | "withdraw"
  | "evaluate";

/** Every {@link CaseAction}, in lifecycle order. */
export const CASE_ACTIONS: readonly CaseAction[] = Object.freeze([
  "check",
  "forward",
  "deliver",
  "accept",
  "refuse",
  "request-correction",
  "correct",
  "suspend",
  "resume",
  "decide",
  "send-result",
  "confirm-delivery",
  "archive",
  "withdraw",
  "evaluate",
]);

/**
 * The site that performs an action — not the node that applies it. The
 * receiving node applies `accept` with role `handling` when the handling
 * site's ACCEPTANCE arrives.
 *
 * - `receiving`: 收件地, the window that took the application (remote
 *   receipt), or the platform the applicant applied through (full online).
 * - `handling`: 办理地, the authority that accepts and decides.
 *
 * Applicant actions (correct, withdraw, evaluate) are relayed by whichever
 * site the applicant used, so either role may perform them once the case has
 * reached the handling site.
 */
export type CaseRole = "receiving" | "handling";

/** Both {@link CaseRole}s. */
export const CASE_ROLES: readonly CaseRole[] = Object.freeze(["receiving", "handling"]);

/**
 * The message an action travels as. `undefined` for purely local steps
 * (`check`). `deliver` is the handling site's technical receipt for the
 * APPLICATION_SUBMISSION; `archive` travels as a STATUS_UPDATE whose state is
 * ARCHIVED.
 */
export const CASE_ACTION_MESSAGES: Readonly<Record<CaseAction, MessageType | undefined>> = Object.freeze({
  check: undefined,
  forward: MessageType.APPLICATION_SUBMISSION,
  deliver: MessageType.TECHNICAL_RECEIPT,
  accept: MessageType.ACCEPTANCE,
  refuse: MessageType.REFUSAL,
  "request-correction": MessageType.CORRECTION_REQUEST,
  correct: MessageType.CORRECTION_RESPONSE,
  suspend: MessageType.SUSPENSION,
  resume: MessageType.RESUMPTION,
  decide: MessageType.DECISION,
  "send-result": MessageType.RESULT,
  "confirm-delivery": MessageType.DELIVERY_CONFIRMATION,
  archive: MessageType.STATUS_UPDATE,
  withdraw: MessageType.WITHDRAWAL,
  evaluate: MessageType.EVALUATION,
});

/**
 * The case action a received message performs, for the message types that
 * name exactly one action. Returns `undefined` for APPLICATION_SUBMISSION
 * (it opens a case, see `openCase`), TECHNICAL_RECEIPT and STATUS_UPDATE
 * (their meaning depends on what they answer or carry) and for messages
 * outside the case lifecycle.
 *
 * @example
 * ```ts
 * caseActionForMessage(MessageType.ACCEPTANCE) // "accept"
 * ```
 */
export function caseActionForMessage(type: MessageType): CaseAction | undefined {
  switch (type) {
    case MessageType.ACCEPTANCE:
      return "accept";
    case MessageType.REFUSAL:
      return "refuse";
    case MessageType.CORRECTION_REQUEST:
      return "request-correction";
    case MessageType.CORRECTION_RESPONSE:
      return "correct";
    case MessageType.SUSPENSION:
      return "suspend";
    case MessageType.RESUMPTION:
      return "resume";
    case MessageType.DECISION:
      return "decide";
    case MessageType.RESULT:
      return "send-result";
    case MessageType.DELIVERY_CONFIRMATION:
      return "confirm-delivery";
    case MessageType.WITHDRAWAL:
      return "withdraw";
    case MessageType.EVALUATION:
      return "evaluate";
    default:
      return undefined;
  }
}

/** True when `value` is a {@link CaseAction}. */
export function isCaseAction(value: unknown): value is CaseAction {
  return typeof value === "string" && (CASE_ACTIONS as readonly string[]).includes(value);
}

/** True when `value` is a {@link CaseRole}. */
export function isCaseRole(value: unknown): value is CaseRole {
  return value === "receiving" || value === "handling";
}
