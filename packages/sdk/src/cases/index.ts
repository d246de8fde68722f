// Public surface of cases/: an explicit list of named exports.
export {
  CASE_ACTIONS,
  CASE_ACTION_MESSAGES,
  CASE_ROLES,
  caseActionForMessage,
  isCaseAction,
  isCaseRole,
  type CaseAction,
  type CaseRole,
} from "./case-action.js";
export { openCase, type CaseSnapshot, type OpenCaseOptions } from "./case-snapshot.js";
export {
  CASE_ENTRY_STATES,
  CASE_TRANSITIONS,
  caseStatesOf,
  isCaseMode,
  isOpen,
  isTerminal,
  type CaseMode,
  type CasePhase,
  type CaseTransition,
} from "./case-transitions.js";
export { allowedActions, transition, type CaseEvent } from "./transition.js";
export {
  JOINT_TASK_ACTION_MESSAGES,
  JOINT_TASK_TRANSITIONS,
  allowedJointTaskActions,
  isJointTaskFinal,
  openJointTask,
  transitionJointTask,
  type JointTaskAction,
  type JointTaskEvent,
  type JointTaskRole,
  type JointTaskSnapshot,
  type JointTaskTransition,
} from "./joint-task-machine.js";
export {
  findJointPlanProblems,
  releasedTasks,
  strandedTasks,
  validateJointPlan,
  type JointPlanProblem,
  type JointPlanTask,
  type JointTaskStates,
} from "./joint-plan.js";
export { toMarkdownTable, toMermaid, type Lifecycle } from "./to-mermaid.js";
export {
  assertJointCase,
  buildJointCase,
  expandBundle,
  jointOverall,
  type BuildJointCaseOptions,
  type JointBundle,
  type JointCaseBuilt,
  type JointCaseProblem,
  type JointTaskSpec,
  type ResolvedJointTask,
} from "./joint-builder.js";
