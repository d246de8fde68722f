import type { CaseSnapshot } from "../cases/index.js";
import { CaseState } from "../gen/tongban/v1/common_pb.js";

/**
 * What a case transition does to its deadline clock (docs/deadlines.md):
 * start at 受理, stop for a correction or suspension after 受理, resume when
 * it ends, finish when the case is decided or withdrawn after 受理.
 */
export type CaseClockEffect = "start" | "stop-correction" | "stop-suspension" | "resume" | "finish";

/**
 * The clock operation a node performs for the transition `before → after`,
 * or `undefined` when the clock is untouched (everything before 受理, where
 * there is no clock yet, and steps after the decision).
 *
 * @example
 * ```ts
 * const next = transition(snapshot, event);
 * switch (caseClockEffect(snapshot, next)) {
 *   case "start": clock = DeadlineClock.start(calendar, event.at, promisedDays); break;
 *   case "stop-correction": clock = clock.stop(event.at, "correction"); break;
 *   case "stop-suspension": clock = clock.stop(event.at, "suspension"); break;
 *   case "resume": clock = clock.resume(event.at); break;
 * }
 * ```
 */
export function caseClockEffect(before: CaseSnapshot, after: CaseSnapshot): CaseClockEffect | undefined {
  if (before.state === after.state || !after.accepted) return undefined;
  if (after.state === CaseState.ACCEPTED) return "start";
  if (after.state === CaseState.DECIDED || after.state === CaseState.WITHDRAWN) return "finish";
  if (after.state === CaseState.CORRECTION_REQUESTED) return "stop-correction";
  if (after.state === CaseState.SUSPENDED) return "stop-suspension";
  if (before.state === CaseState.CORRECTION_REQUESTED || before.state === CaseState.SUSPENDED) return "resume";
  return undefined;
}
