import { CaseState, HandlingMode } from "../gen/tongban/v1/common_pb.js";
import { TongbanError } from "../errors/index.js";
import { isCaseAction, isCaseRole, type CaseAction, type CaseRole } from "./case-action.js";
import { assertInstant, type CaseSnapshot } from "./case-snapshot.js";
import { CASE_TRANSITIONS, isCaseMode, type CaseTransition } from "./case-transitions.js";

/** Something that happened to a case: who did what, when. */
export interface CaseEvent {
  readonly action: CaseAction;
  /** The site that performed the action (not necessarily the node applying it). */
  readonly role: CaseRole;
  readonly at: Date;
}

function applies(t: CaseTransition, snapshot: CaseSnapshot): boolean {
  if (t.from !== snapshot.state || !t.modes.includes(snapshot.mode)) return false;
  if (t.phase === "before-acceptance" && snapshot.accepted) return false;
  if (t.phase === "after-acceptance" && !snapshot.accepted) return false;
  if (t.action === "evaluate" && snapshot.evaluated) return false;
  return true;
}

function assertSnapshot(snapshot: CaseSnapshot, what: string): void {
  if (snapshot === null || typeof snapshot !== "object" || !isCaseMode(snapshot.mode) || typeof CaseState[snapshot.state] !== "string") {
    throw new TypeError(`${what}: not a case snapshot`);
  }
}

/**
 * The actions `role` may perform on the case now, in table order and without
 * duplicates. Includes `evaluate` while it is allowed and not yet used.
 */
export function allowedActions(snapshot: CaseSnapshot, role: CaseRole): CaseAction[] {
  assertSnapshot(snapshot, "allowedActions");
  if (!isCaseRole(role)) throw new TypeError(`allowedActions: unknown role ${String(role)}`);
  const actions: CaseAction[] = [];
  for (const t of CASE_TRANSITIONS) {
    if (applies(t, snapshot) && t.roles.includes(role) && !actions.includes(t.action)) actions.push(t.action);
  }
  return actions;
}

/**
 * Applies one event to a case and returns the new snapshot. An action the
 * table does not allow for this mode, state, phase and role is never applied:
 * it throws `TongbanError` CASE_INVALID_TRANSITION with details
 * `{ caseId, mode, from, action, role, allowed }` (state and mode by name,
 * `allowed` = what this role could do instead).
 *
 * @example
 * ```ts
 * let c = openCase({ caseId, mode: HandlingMode.REMOTE_RECEIPT, at });
 * c = transition(c, { action: "check", role: "receiving", at });
 * transition(c, { action: "accept", role: "handling", at }); // throws CASE_INVALID_TRANSITION
 * ```
 */
export function transition(snapshot: CaseSnapshot, event: CaseEvent): CaseSnapshot {
  assertSnapshot(snapshot, "transition");
  if (event === null || typeof event !== "object") throw new TypeError("transition: event must be an object");
  if (!isCaseAction(event.action)) throw new TypeError(`transition: unknown action ${String(event.action)}`);
  if (!isCaseRole(event.role)) throw new TypeError(`transition: unknown role ${String(event.role)}`);
  assertInstant(event.at, "transition: event.at");

  const row = CASE_TRANSITIONS.find((t) => t.action === event.action && t.roles.includes(event.role) && applies(t, snapshot));
  if (row === undefined) {
    const allowed = allowedActions(snapshot, event.role);
    const repeatEvaluation = event.action === "evaluate" && snapshot.evaluated;
    throw new TongbanError(
      "CASE_INVALID_TRANSITION",
      repeatEvaluation
        ? `case ${snapshot.caseId} was already evaluated`
        : `${event.role} site may not ${event.action} a ${HandlingMode[snapshot.mode]} case in state ${CaseState[snapshot.state]}`,
      {
        details: {
          caseId: snapshot.caseId,
          mode: HandlingMode[snapshot.mode],
          from: CaseState[snapshot.state],
          action: event.action,
          role: event.role,
          allowed,
          ...(repeatEvaluation ? { reason: "already-evaluated" } : {}),
        },
      },
    );
  }
  return Object.freeze({
    caseId: snapshot.caseId,
    mode: snapshot.mode,
    state: row.to,
    accepted: snapshot.accepted || row.to === CaseState.ACCEPTED,
    evaluated: snapshot.evaluated || row.action === "evaluate",
    updatedAt: event.at.toISOString(),
    version: snapshot.version + 1,
  });
}
