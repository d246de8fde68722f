import { CaseState, HandlingMode } from "../gen/tongban/v1/common_pb.js";
import type { CaseAction, CaseRole } from "./case-action.js";

/** The handling modes with a case lifecycle. Joint cases use the sub-task machine. */
export type CaseMode = HandlingMode.REMOTE_RECEIPT | HandlingMode.FULL_ONLINE;

/**
 * Whether a row applies before or after 受理. CORRECTION_REQUESTED and
 * CORRECTED occur on both sides of acceptance (补正 before 受理, and 补正 during
 * examination) and lead to different places; the snapshot's `accepted` flag
 * picks the row.
 */
export type CasePhase = "before-acceptance" | "after-acceptance";

/** One row of {@link CASE_TRANSITIONS}. */
export interface CaseTransition {
  readonly modes: readonly CaseMode[];
  readonly from: CaseState;
  readonly action: CaseAction;
  readonly roles: readonly CaseRole[];
  /** Next state; equal to `from` for `evaluate`, which changes no state. */
  readonly to: CaseState;
  /** When present, the row applies only in this phase. */
  readonly phase?: CasePhase;
}

const S = CaseState;
const BOTH_MODES: readonly CaseMode[] = [HandlingMode.REMOTE_RECEIPT, HandlingMode.FULL_ONLINE];
const REMOTE: readonly CaseMode[] = [HandlingMode.REMOTE_RECEIPT];
const ONLINE: readonly CaseMode[] = [HandlingMode.FULL_ONLINE];
const H: readonly CaseRole[] = ["handling"];
const R: readonly CaseRole[] = ["receiving"];
const EITHER: readonly CaseRole[] = ["receiving", "handling"];

function row(
  modes: readonly CaseMode[],
  from: CaseState,
  action: CaseAction,
  roles: readonly CaseRole[],
  to: CaseState,
  phase?: CasePhase,
): CaseTransition {
  return Object.freeze(phase === undefined ? { modes, from, action, roles, to } : { modes, from, action, roles, to, phase });
}

/** States in which the applicant may still withdraw (撤回): no decision yet. */
const WITHDRAWABLE_BEFORE_FORWARDING = [S.RECEIVED, S.CHECKED] as const;
const WITHDRAWABLE_AT_HANDLING = [
  S.SUBMITTED,
  S.FORWARDED,
  S.DELIVERED,
  S.ACCEPTED,
  S.CORRECTION_REQUESTED,
  S.CORRECTED,
  S.SUSPENDED,
  S.RESUMED,
] as const;

/** States after which the applicant may evaluate (好差评), once. */
const EVALUABLE = [S.RESULT_DELIVERED, S.ARCHIVED, S.REFUSED, S.WITHDRAWN] as const;

/**
 * The one transition table for remote receipt (异地代收代办) and full online
 * (全程网办) cases: (mode, state, action, role[, phase]) → next state.
 * `transition`, `allowedActions`, `toMermaid` and docs/lifecycle.md are all
 * derived from it, so code and documentation cannot drift.
 *
 * Decisions written into the rows:
 * - correction (补正) may be requested before 受理 (from DELIVERED) and during
 *   examination (from ACCEPTED, CORRECTED, RESUMED); before 受理 an unanswered
 *   request ends in `refuse` (REFUSAL_REASON_CORRECTION_NOT_MADE), after 受理
 *   in `decide` (typically 不予许可);
 * - suspension (特别程序) only after 受理, and never while a correction is
 *   outstanding; a suspended case must resume before anything but withdrawal;
 * - REFUSED, WITHDRAWN and ARCHIVED are terminal; only `evaluate` remains;
 * - withdrawal is possible in every open state, i.e. until DECIDED.
 */
export const CASE_TRANSITIONS: readonly CaseTransition[] = Object.freeze([
  // 收件地: 形式审查 + 身份核验, then forward (remote receipt only).
  row(REMOTE, S.RECEIVED, "check", R, S.CHECKED),
  row(REMOTE, S.CHECKED, "forward", R, S.FORWARDED),
  row(REMOTE, S.FORWARDED, "deliver", H, S.DELIVERED),
  // Full online: submitted at the handling site's portal or through a platform.
  row(ONLINE, S.SUBMITTED, "deliver", H, S.DELIVERED),

  // 受理 / 不予受理, with 补正 before 受理.
  row(BOTH_MODES, S.DELIVERED, "accept", H, S.ACCEPTED),
  row(BOTH_MODES, S.DELIVERED, "refuse", H, S.REFUSED),
  row(BOTH_MODES, S.DELIVERED, "request-correction", H, S.CORRECTION_REQUESTED),
  row(BOTH_MODES, S.CORRECTION_REQUESTED, "correct", EITHER, S.CORRECTED),
  row(BOTH_MODES, S.CORRECTION_REQUESTED, "refuse", H, S.REFUSED, "before-acceptance"),
  row(BOTH_MODES, S.CORRECTED, "accept", H, S.ACCEPTED, "before-acceptance"),
  row(BOTH_MODES, S.CORRECTED, "refuse", H, S.REFUSED, "before-acceptance"),
  row(BOTH_MODES, S.CORRECTED, "request-correction", H, S.CORRECTION_REQUESTED),

  // Examination after 受理: correction, suspension, decision.
  row(BOTH_MODES, S.ACCEPTED, "request-correction", H, S.CORRECTION_REQUESTED),
  row(BOTH_MODES, S.ACCEPTED, "suspend", H, S.SUSPENDED),
  row(BOTH_MODES, S.ACCEPTED, "decide", H, S.DECIDED),
  row(BOTH_MODES, S.CORRECTION_REQUESTED, "decide", H, S.DECIDED, "after-acceptance"),
  row(BOTH_MODES, S.CORRECTED, "suspend", H, S.SUSPENDED, "after-acceptance"),
  row(BOTH_MODES, S.CORRECTED, "decide", H, S.DECIDED, "after-acceptance"),
  row(BOTH_MODES, S.SUSPENDED, "resume", H, S.RESUMED),
  row(BOTH_MODES, S.RESUMED, "request-correction", H, S.CORRECTION_REQUESTED),
  row(BOTH_MODES, S.RESUMED, "suspend", H, S.SUSPENDED),
  row(BOTH_MODES, S.RESUMED, "decide", H, S.DECIDED),

  // 办结 → 送达 → 归档.
  row(BOTH_MODES, S.DECIDED, "send-result", H, S.RESULT_SENT),
  row(BOTH_MODES, S.RESULT_SENT, "confirm-delivery", EITHER, S.RESULT_DELIVERED),
  row(BOTH_MODES, S.RESULT_DELIVERED, "archive", H, S.ARCHIVED),

  // 撤回 from every open state; before forwarding only the receiving site knows the case.
  ...WITHDRAWABLE_BEFORE_FORWARDING.map((from) => row(REMOTE, from, "withdraw", R, S.WITHDRAWN)),
  ...WITHDRAWABLE_AT_HANDLING.map((from) =>
    row(from === S.SUBMITTED ? ONLINE : from === S.FORWARDED ? REMOTE : BOTH_MODES, from, "withdraw", EITHER, S.WITHDRAWN),
  ),

  // 好差评: not a state change, allowed once after the case ended for the applicant.
  ...EVALUABLE.map((from) => row(BOTH_MODES, from, "evaluate", EITHER, from)),
]);

/**
 * The states a case may be opened in, per mode: remote receipt opens at
 * RECEIVED on the receiving node and at DELIVERED on the handling node (when
 * the APPLICATION_SUBMISSION arrives); full online opens at SUBMITTED on the
 * platform the applicant used and at DELIVERED on the handling node.
 */
export const CASE_ENTRY_STATES: Readonly<Record<CaseMode, readonly CaseState[]>> = Object.freeze({
  [HandlingMode.REMOTE_RECEIPT]: Object.freeze([S.RECEIVED, S.DELIVERED]),
  [HandlingMode.FULL_ONLINE]: Object.freeze([S.SUBMITTED, S.DELIVERED]),
});

const TERMINAL: ReadonlySet<CaseState> = new Set([S.REFUSED, S.WITHDRAWN, S.ARCHIVED]);
const OPEN: ReadonlySet<CaseState> = new Set([...WITHDRAWABLE_BEFORE_FORWARDING, ...WITHDRAWABLE_AT_HANDLING]);

/** True when no further state change is possible (REFUSED, WITHDRAWN, ARCHIVED). */
export function isTerminal(state: CaseState): boolean {
  return TERMINAL.has(state);
}

/**
 * True while the application is pending (在办): received but not yet decided,
 * refused or withdrawn. Withdrawal is allowed exactly in the open states.
 * DECIDED, RESULT_SENT and RESULT_DELIVERED are neither open nor terminal.
 */
export function isOpen(state: CaseState): boolean {
  return OPEN.has(state);
}

/** True when `mode` has a case lifecycle in {@link CASE_TRANSITIONS}. */
export function isCaseMode(mode: unknown): mode is CaseMode {
  return mode === HandlingMode.REMOTE_RECEIPT || mode === HandlingMode.FULL_ONLINE;
}

/** The states that appear in `mode`'s lifecycle, in enum order. */
export function caseStatesOf(mode: CaseMode): CaseState[] {
  const states = new Set<CaseState>(CASE_ENTRY_STATES[mode]);
  for (const t of CASE_TRANSITIONS) {
    if (!t.modes.includes(mode)) continue;
    states.add(t.from);
    states.add(t.to);
  }
  return [...states].sort((a, b) => a - b);
}
