import { CaseState } from "../gen/tongban/v1/common_pb.js";
import { JointTaskState } from "../gen/tongban/v1/joint_pb.js";
import { MessageType } from "../gen/tongban/v1/envelope_pb.js";
import { CASE_ACTION_MESSAGES, type CaseRole } from "./case-action.js";
import { CASE_ENTRY_STATES, CASE_TRANSITIONS, isCaseMode, isTerminal, type CaseMode } from "./case-transitions.js";
import { JOINT_TASK_ACTION_MESSAGES, JOINT_TASK_TRANSITIONS, isJointTaskFinal } from "./joint-task-machine.js";

/** A lifecycle that can be rendered: a case mode, or the joint sub-task machine. */
export type Lifecycle = CaseMode | "joint-task";

function roleLabel(roles: readonly CaseRole[]): string {
  return roles.length === 2 ? "either site" : roles[0] === "handling" ? "办理地" : "收件地";
}

/**
 * Renders a lifecycle as a mermaid `stateDiagram-v2`, straight from the
 * transition table: `toMermaid(HandlingMode.REMOTE_RECEIPT)`,
 * `toMermaid(HandlingMode.FULL_ONLINE)` or `toMermaid("joint-task")`.
 * docs/lifecycle.md embeds the output verbatim and a test keeps them equal.
 * `evaluate` changes no state and is listed as a note instead of an edge.
 */
export function toMermaid(mode: Lifecycle): string {
  if (mode === "joint-task") return jointTaskMermaid();
  if (!isCaseMode(mode)) throw new TypeError(`toMermaid: no lifecycle for mode ${String(mode)}`);
  const lines = ["stateDiagram-v2"];
  for (const entry of CASE_ENTRY_STATES[mode]) {
    const where = entry === CaseState.DELIVERED ? " : opened at 办理地" : "";
    lines.push(`    [*] --> ${CaseState[entry]}${where}`);
  }
  const terminal = new Set<CaseState>();
  const evaluable: string[] = [];
  for (const t of CASE_TRANSITIONS) {
    if (!t.modes.includes(mode)) continue;
    if (t.action === "evaluate") {
      evaluable.push(CaseState[t.from]);
      continue;
    }
    const guard = t.phase === undefined ? "" : t.phase === "before-acceptance" ? " [before 受理]" : " [after 受理]";
    lines.push(`    ${CaseState[t.from]} --> ${CaseState[t.to]} : ${t.action} (${roleLabel(t.roles)})${guard}`);
    if (isTerminal(t.to)) terminal.add(t.to);
  }
  for (const state of [...terminal].sort((a, b) => a - b)) lines.push(`    ${CaseState[state]} --> [*]`);
  if (evaluable.length > 0) lines.push(`    note right of ${evaluable[0]} : evaluate (好差评) once, in ${evaluable.join(", ")}`);
  return `${lines.join("\n")}\n`;
}

function jointTaskMermaid(): string {
  const lines = ["stateDiagram-v2", `    [*] --> ${JointTaskState[JointTaskState.BLOCKED]} : has dependencies`, `    [*] --> ${JointTaskState[JointTaskState.ASSIGNED]} : no dependencies`];
  const final = new Set<JointTaskState>();
  for (const t of JOINT_TASK_TRANSITIONS) {
    const guard = t.heldFrom === undefined ? "" : ` [held from ${JointTaskState[t.heldFrom]}]`;
    lines.push(`    ${JointTaskState[t.from]} --> ${JointTaskState[t.to]} : ${t.action} (${t.role})${guard}`);
    if (isJointTaskFinal(t.to)) final.add(t.to);
  }
  for (const state of [...final].sort((a, b) => a - b)) lines.push(`    ${JointTaskState[state]} --> [*]`);
  return `${lines.join("\n")}\n`;
}

function phaseLabel(phase: "before-acceptance" | "after-acceptance" | undefined): string {
  return phase === undefined ? "" : phase === "before-acceptance" ? " (before 受理)" : " (after 受理)";
}

/**
 * Renders a lifecycle's transition table as a markdown table (state, action,
 * who, next state, message) for docs/lifecycle.md; generated from the same
 * table as {@link toMermaid}.
 */
export function toMarkdownTable(mode: Lifecycle): string {
  const rows = ["| state | action | performed by | next state | message |", "|---|---|---|---|---|"];
  if (mode === "joint-task") {
    for (const t of JOINT_TASK_TRANSITIONS) {
      const guard = t.heldFrom === undefined ? "" : ` (held from ${JointTaskState[t.heldFrom]})`;
      rows.push(`| ${JointTaskState[t.from]} | ${t.action}${guard} | ${t.role} | ${JointTaskState[t.to]} | ${MessageType[JOINT_TASK_ACTION_MESSAGES[t.action]]} |`);
    }
    return `${rows.join("\n")}\n`;
  }
  if (!isCaseMode(mode)) throw new TypeError(`toMarkdownTable: no lifecycle for mode ${String(mode)}`);
  for (const t of CASE_TRANSITIONS) {
    if (!t.modes.includes(mode)) continue;
    const message = CASE_ACTION_MESSAGES[t.action];
    const to = t.action === "evaluate" ? "(unchanged; once per case)" : CaseState[t.to];
    rows.push(`| ${CaseState[t.from]}${phaseLabel(t.phase)} | ${t.action} | ${roleLabel(t.roles)} | ${to} | ${message === undefined ? "— (local)" : MessageType[message]} |`);
  }
  return `${rows.join("\n")}\n`;
}
