import { JointTaskState } from "../gen/tongban/v1/joint_pb.js";
import { TongbanError } from "../errors/index.js";

/** The part of a `JointTask` (joint.proto) the plan checks look at; a generated `JointTask` fits. */
export interface JointPlanTask {
  readonly taskId: string;
  readonly dependsOn: readonly string[];
}

/** One reason a joint plan is not a valid DAG. */
export type JointPlanProblem =
  | { readonly problem: "empty-task-id"; readonly index: number }
  | { readonly problem: "duplicate-task"; readonly taskId: string }
  | { readonly problem: "unknown-dependency"; readonly taskId: string; readonly dependency: string }
  | { readonly problem: "self-dependency"; readonly taskId: string }
  | { readonly problem: "duplicate-dependency"; readonly taskId: string; readonly dependency: string }
  /** `cycle` starts and ends with the same task id: [a, b, c, a] means a → b → c → a (a depends on b …). */
  | { readonly problem: "cycle"; readonly cycle: readonly string[] };

/**
 * Every problem in a joint plan: empty or duplicate task ids, unknown,
 * duplicate or self dependencies, and dependency cycles (one per strongly
 * connected part found, with its path). An empty list means the plan is valid.
 */
export function findJointPlanProblems(plan: readonly JointPlanTask[]): JointPlanProblem[] {
  if (!Array.isArray(plan)) throw new TypeError("findJointPlanProblems: plan must be an array of tasks");
  const problems: JointPlanProblem[] = [];
  const ids = new Set<string>();
  plan.forEach((task, index) => {
    if (typeof task?.taskId !== "string" || task.taskId.length === 0) problems.push({ problem: "empty-task-id", index });
    else if (ids.has(task.taskId)) problems.push({ problem: "duplicate-task", taskId: task.taskId });
    else ids.add(task.taskId);
  });
  const edges = new Map<string, string[]>();
  for (const task of plan) {
    if (typeof task?.taskId !== "string" || task.taskId.length === 0 || edges.has(task.taskId)) continue;
    const deps: string[] = [];
    for (const dep of task.dependsOn ?? []) {
      if (dep === task.taskId) problems.push({ problem: "self-dependency", taskId: task.taskId });
      else if (!ids.has(dep)) problems.push({ problem: "unknown-dependency", taskId: task.taskId, dependency: dep });
      else if (deps.includes(dep)) problems.push({ problem: "duplicate-dependency", taskId: task.taskId, dependency: dep });
      else deps.push(dep);
    }
    edges.set(task.taskId, deps);
  }
  // Depth-first search with colours; a grey node reached again closes a cycle
  // whose path is the stack from that node. Iterative so deep plans cannot
  // overflow the call stack.
  const colour = new Map<string, "grey" | "black">();
  for (const root of edges.keys()) {
    if (colour.has(root)) continue;
    const stack: { id: string; next: number }[] = [{ id: root, next: 0 }];
    colour.set(root, "grey");
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const deps = edges.get(top.id) ?? [];
      if (top.next >= deps.length) {
        colour.set(top.id, "black");
        stack.pop();
        continue;
      }
      const dep = deps[top.next++]!;
      const c = colour.get(dep);
      if (c === "grey") {
        const start = stack.findIndex((f) => f.id === dep);
        problems.push({ problem: "cycle", cycle: [...stack.slice(start).map((f) => f.id), dep] });
      } else if (c === undefined) {
        colour.set(dep, "grey");
        stack.push({ id: dep, next: 0 });
      }
    }
  }
  return problems;
}

/**
 * Checks a joint plan and returns its task ids in a topological order
 * (dependencies first; ties keep plan order, so the result is deterministic).
 * Throws `TongbanError` JOINT_PLAN_INVALID with details `{ problems }` (see
 * {@link JointPlanProblem}) when the plan is not a valid DAG.
 *
 * @example
 * ```ts
 * validateJointPlan([{ taskId: "hukou-in", dependsOn: ["hukou-out"] }, { taskId: "hukou-out", dependsOn: [] }]);
 * // ["hukou-out", "hukou-in"]
 * ```
 */
export function validateJointPlan(plan: readonly JointPlanTask[]): string[] {
  const problems = findJointPlanProblems(plan);
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new TongbanError("JOINT_PLAN_INVALID", `joint plan is invalid: ${first.problem}${problems.length > 1 ? ` (+${problems.length - 1} more)` : ""}`, {
      details: { problems },
    });
  }
  const remaining = new Map(plan.map((t) => [t.taskId, new Set(t.dependsOn)]));
  const order: string[] = [];
  while (remaining.size > 0) {
    // A valid DAG always has a task with no unplaced dependencies.
    const ready = plan.find((t) => remaining.get(t.taskId)?.size === 0)!;
    order.push(ready.taskId);
    remaining.delete(ready.taskId);
    for (const deps of remaining.values()) deps.delete(ready.taskId);
  }
  return order;
}

/** Sub-task states by task id, as a Map or a plain record. */
export type JointTaskStates = ReadonlyMap<string, JointTaskState> | Readonly<Record<string, JointTaskState>>;

function stateOf(states: JointTaskStates, id: string): JointTaskState | undefined {
  return states instanceof Map ? states.get(id) : Object.hasOwn(states, id) ? (states as Record<string, JointTaskState>)[id] : undefined;
}

/**
 * The BLOCKED tasks whose dependencies are all COMPLETED — the ones the lead
 * may release (assign) now — in topological order. A task missing from
 * `states` counts as BLOCKED. Throws JOINT_PLAN_INVALID for an invalid plan.
 */
export function releasedTasks(plan: readonly JointPlanTask[], states: JointTaskStates): string[] {
  const order = validateJointPlan(plan);
  const byId = new Map(plan.map((t) => [t.taskId, t]));
  return order.filter((id) => {
    const state = stateOf(states, id) ?? JointTaskState.BLOCKED;
    return state === JointTaskState.BLOCKED && byId.get(id)!.dependsOn.every((dep) => stateOf(states, dep) === JointTaskState.COMPLETED);
  });
}

/**
 * The tasks that can never be released because a task they depend on,
 * directly or through others, ended REFUSED, FAILED or CANCELLED. The lead
 * cancels these (docs/lifecycle.md, "joint handling rules").
 */
export function strandedTasks(plan: readonly JointPlanTask[], states: JointTaskStates): string[] {
  const order = validateJointPlan(plan);
  const byId = new Map(plan.map((t) => [t.taskId, t]));
  const dead = new Set<string>();
  const stranded: string[] = [];
  for (const id of order) {
    const state = stateOf(states, id) ?? JointTaskState.BLOCKED;
    const blockedByDead = byId.get(id)!.dependsOn.some((dep) => dead.has(dep));
    if (state === JointTaskState.REFUSED || state === JointTaskState.FAILED || state === JointTaskState.CANCELLED) dead.add(id);
    else if (blockedByDead) {
      dead.add(id);
      if (state === JointTaskState.BLOCKED || state === JointTaskState.ON_HOLD) stranded.push(id);
    }
  }
  return stranded;
}
