import { MessageType } from "../gen/tongban/v1/envelope_pb.js";
import { JointTaskState } from "../gen/tongban/v1/joint_pb.js";
import { TongbanError } from "../errors/index.js";
import { assertInstant } from "./case-snapshot.js";

/** What can happen to one sub-task of a joint case (多地联办). */
export type JointTaskAction = "release" | "accept" | "refuse" | "start" | "complete" | "fail" | "hold" | "resume" | "cancel";

/** `lead`: the site that accepted the joint case (一地受理); `participant`: the site the sub-task is assigned to. */
export type JointTaskRole = "lead" | "participant";

/** One row of {@link JOINT_TASK_TRANSITIONS}. */
export interface JointTaskTransition {
  readonly from: JointTaskState;
  readonly action: JointTaskAction;
  readonly role: JointTaskRole;
  readonly to: JointTaskState;
  /** For `resume`: the row applies only to a task held from this state. */
  readonly heldFrom?: JointTaskState;
}

const T = JointTaskState;
/** States a lead may put on hold or cancel: every state that is not final. */
const INTERRUPTIBLE = [T.BLOCKED, T.ASSIGNED, T.ACCEPTED, T.IN_PROGRESS] as const;

function row(from: JointTaskState, action: JointTaskAction, role: JointTaskRole, to: JointTaskState, heldFrom?: JointTaskState): JointTaskTransition {
  return Object.freeze(heldFrom === undefined ? { from, action, role, to } : { from, action, role, to, heldFrom });
}

/**
 * The sub-task transition table: (state, action, role) → next state.
 * A task starts BLOCKED when it has dependencies, ASSIGNED otherwise; the lead
 * releases a BLOCKED task when `releasedTasks` names it. ON_HOLD returns to the
 * state it was held from. COMPLETED, REFUSED, FAILED and CANCELLED are final.
 */
export const JOINT_TASK_TRANSITIONS: readonly JointTaskTransition[] = Object.freeze([
  row(T.BLOCKED, "release", "lead", T.ASSIGNED),
  row(T.ASSIGNED, "accept", "participant", T.ACCEPTED),
  row(T.ASSIGNED, "refuse", "participant", T.REFUSED),
  row(T.ACCEPTED, "start", "participant", T.IN_PROGRESS),
  row(T.ACCEPTED, "complete", "participant", T.COMPLETED),
  row(T.ACCEPTED, "fail", "participant", T.FAILED),
  row(T.IN_PROGRESS, "complete", "participant", T.COMPLETED),
  row(T.IN_PROGRESS, "fail", "participant", T.FAILED),
  ...INTERRUPTIBLE.map((from) => row(from, "hold", "lead", T.ON_HOLD)),
  ...INTERRUPTIBLE.map((to) => row(T.ON_HOLD, "resume", "lead", to, to)),
  ...[...INTERRUPTIBLE, T.ON_HOLD].map((from) => row(from, "cancel", "lead", T.CANCELLED)),
]);

/** The message each sub-task action travels as. */
export const JOINT_TASK_ACTION_MESSAGES: Readonly<Record<JointTaskAction, MessageType>> = Object.freeze({
  release: MessageType.JOINT_TASK_ASSIGNMENT,
  accept: MessageType.JOINT_TASK_RESPONSE,
  refuse: MessageType.JOINT_TASK_RESPONSE,
  start: MessageType.JOINT_TASK_PROGRESS,
  complete: MessageType.JOINT_TASK_RESULT,
  fail: MessageType.JOINT_TASK_RESULT,
  hold: MessageType.JOINT_TASK_CANCELLATION,
  // Re-sending the assignment lifts a hold; there is no separate message.
  resume: MessageType.JOINT_TASK_ASSIGNMENT,
  cancel: MessageType.JOINT_TASK_CANCELLATION,
});

const FINAL: ReadonlySet<JointTaskState> = new Set([T.COMPLETED, T.REFUSED, T.FAILED, T.CANCELLED]);

/** True for COMPLETED, REFUSED, FAILED and CANCELLED. */
export function isJointTaskFinal(state: JointTaskState): boolean {
  return FINAL.has(state);
}

/** The state of one sub-task as a plain, JSON-serializable value. */
export interface JointTaskSnapshot {
  readonly taskId: string;
  readonly state: JointTaskState;
  /** Set while ON_HOLD: the state `resume` returns to. */
  readonly heldFrom?: JointTaskState;
  readonly updatedAt: string;
  readonly version: number;
}

/** One thing that happened to a sub-task. */
export interface JointTaskEvent {
  readonly action: JointTaskAction;
  readonly role: JointTaskRole;
  readonly at: Date;
}

/**
 * Opens a sub-task: BLOCKED when it has dependencies, ASSIGNED when it has
 * none (the lead assigns it straight away).
 */
export function openJointTask(task: { readonly taskId: string; readonly dependsOn: readonly string[] }, at: Date): JointTaskSnapshot {
  if (typeof task?.taskId !== "string" || task.taskId.length === 0) throw new TypeError("openJointTask: taskId must be a non-empty string");
  assertInstant(at, "openJointTask: at");
  return Object.freeze({ taskId: task.taskId, state: task.dependsOn.length > 0 ? T.BLOCKED : T.ASSIGNED, updatedAt: at.toISOString(), version: 0 });
}

function applies(t: JointTaskTransition, s: JointTaskSnapshot): boolean {
  return t.from === s.state && (t.heldFrom === undefined || t.heldFrom === s.heldFrom);
}

/** The actions `role` may perform on the sub-task now. */
export function allowedJointTaskActions(snapshot: JointTaskSnapshot, role: JointTaskRole): JointTaskAction[] {
  if (role !== "lead" && role !== "participant") throw new TypeError(`allowedJointTaskActions: unknown role ${String(role)}`);
  const actions: JointTaskAction[] = [];
  for (const t of JOINT_TASK_TRANSITIONS) {
    if (t.role === role && applies(t, snapshot) && !actions.includes(t.action)) actions.push(t.action);
  }
  return actions;
}

/**
 * Applies one event to a sub-task. A step the table does not allow throws
 * `TongbanError` CASE_INVALID_TRANSITION with details
 * `{ taskId, from, action, role, allowed }`; it is never applied.
 */
export function transitionJointTask(snapshot: JointTaskSnapshot, event: JointTaskEvent): JointTaskSnapshot {
  if (typeof JointTaskState[snapshot?.state] !== "string") throw new TypeError("transitionJointTask: not a sub-task snapshot");
  if (!Object.hasOwn(JOINT_TASK_ACTION_MESSAGES, event?.action)) throw new TypeError(`transitionJointTask: unknown action ${String(event?.action)}`);
  const allowed = allowedJointTaskActions(snapshot, event.role);
  assertInstant(event.at, "transitionJointTask: event.at");
  const row = JOINT_TASK_TRANSITIONS.find((t) => t.action === event.action && t.role === event.role && applies(t, snapshot));
  if (row === undefined) {
    throw new TongbanError(
      "CASE_INVALID_TRANSITION",
      `${event.role} may not ${event.action} joint sub-task ${snapshot.taskId} in state ${JointTaskState[snapshot.state]}`,
      { details: { taskId: snapshot.taskId, from: JointTaskState[snapshot.state], action: event.action, role: event.role, allowed } },
    );
  }
  const base = { taskId: snapshot.taskId, state: row.to, updatedAt: event.at.toISOString(), version: snapshot.version + 1 };
  return Object.freeze(row.to === T.ON_HOLD ? { ...base, heldFrom: snapshot.state } : base);
}
