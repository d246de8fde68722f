import { TongbanError } from "../errors/index.js";
import type { MappingRegistry } from "../mapping/registry.js";
import { resolveItem, type GapCode } from "../mapping/resolve.js";
import { findJointPlanProblems, validateJointPlan, type JointPlanProblem } from "./joint-plan.js";

/** One sub-task as a lead writes it: where, what, after what, with which shared materials. */
export interface JointTaskSpec {
  readonly taskId: string;
  /** The node id of the site that handles it (`cn.<region>.<name>`). */
  readonly site: string;
  /** Any code the mapping tables resolve: the lead's 实施编码, the site's, or the 基本编码. */
  readonly item: string;
  readonly dependsOn?: readonly string[];
  /** Ids of the shared materials this task needs (sent to its site only). */
  readonly materials?: readonly string[];
}

/** A resolved sub-task, ready to travel as a `JointTask` (joint.proto). */
export interface ResolvedJointTask {
  readonly taskId: string;
  readonly site: string;
  readonly dependsOn: readonly string[];
  readonly materials: readonly string[];
  readonly item: { readonly basicCode: string; readonly receivingCode: string; readonly handlingCode: string; readonly name: string };
  readonly promisedWorkingDays: number;
}

/** Why a joint case cannot be sent: a plan problem, or a sub-task that does not resolve. */
export type JointCaseProblem =
  | JointPlanProblem
  | { readonly problem: "gap"; readonly taskId: string; readonly code: GapCode; readonly message: string }
  | { readonly problem: "lead-site"; readonly taskId: string }
  | { readonly problem: "bad-site"; readonly taskId: string; readonly site: string }
  | { readonly problem: "unknown-material"; readonly taskId: string; readonly material: string };

/** What {@link buildJointCase} needs. */
export interface BuildJointCaseOptions {
  /** The lead node id (一地受理). */
  readonly lead: string;
  readonly tasks: readonly JointTaskSpec[];
  readonly registry: MappingRegistry;
  /** Ids of the shared materials the case carries (tasks may only name these). */
  readonly materials?: readonly string[];
  /** ISO date the agreements must be in force on (default today, UTC). */
  readonly date?: string;
}

/** A buildable joint case: tasks resolved, in dependency order. */
export interface JointCaseBuilt {
  readonly ok: true;
  readonly tasks: readonly ResolvedJointTask[];
  /** Task ids, dependencies first. */
  readonly order: readonly string[];
}

const regionOf = (nodeId: string): string | undefined => /^cn\.(\d{6})\.[a-z0-9-]+$/.exec(nodeId)?.[1];

/**
 * Builds a joint case (多地联办) before anything is sent: the plan must be a
 * DAG (no cycles, no unknown or duplicate tasks), every task must be at
 * another site than the lead, name known shared materials, and resolve from
 * the lead's region to its site's region in `joint` mode through the mapping
 * tables — which includes a partner agreement in force covering both
 * regions, the item and the mode. Every problem is reported at once.
 *
 * @example
 * ```ts
 * const built = buildJointCase({ lead: "cn.310118.qingpu", registry, tasks: [
 *   { taskId: "out", site: "cn.320509.wujiang", item: "00TB00000501" },
 *   { taskId: "in", site: "cn.330421.jiashan", item: "00TB00000502", dependsOn: ["out"] },
 * ] });
 * if (!built.ok) console.log(built.problems);
 * ```
 */
export function buildJointCase(options: BuildJointCaseOptions): JointCaseBuilt | { readonly ok: false; readonly problems: readonly JointCaseProblem[] } {
  const problems: JointCaseProblem[] = [...findJointPlanProblems(options.tasks.map((t) => ({ taskId: t.taskId, dependsOn: t.dependsOn ?? [] })))];
  const leadRegion = regionOf(options.lead);
  if (leadRegion === undefined) throw new TypeError(`buildJointCase: lead must be a node id, got ${options.lead}`);
  const known = options.materials === undefined ? undefined : new Set(options.materials);
  const resolved: ResolvedJointTask[] = [];
  for (const t of options.tasks) {
    const siteRegion = regionOf(t.site);
    if (siteRegion === undefined) {
      problems.push({ problem: "bad-site", taskId: t.taskId, site: t.site });
      continue;
    }
    if (t.site === options.lead) problems.push({ problem: "lead-site", taskId: t.taskId });
    for (const m of t.materials ?? []) if (known !== undefined && !known.has(m)) problems.push({ problem: "unknown-material", taskId: t.taskId, material: m });
    const r = resolveItem(options.registry, { receivingRegion: leadRegion, handlingRegion: siteRegion, item: t.item, mode: "joint", ...(options.date === undefined ? {} : { date: options.date }) });
    if (!r.ok) {
      problems.push({ problem: "gap", taskId: t.taskId, code: r.code, message: r.message });
      continue;
    }
    resolved.push({
      taskId: t.taskId,
      site: t.site,
      dependsOn: [...(t.dependsOn ?? [])],
      materials: [...(t.materials ?? [])],
      item: { basicCode: r.basicCode, receivingCode: r.receiving.item?.implementationCode ?? "", handlingCode: r.handling.item.implementationCode, name: r.handling.item.name },
      promisedWorkingDays: r.promisedWorkingDays,
    });
  }
  if (problems.length > 0) return { ok: false, problems };
  const order = validateJointPlan(resolved);
  return { ok: true, tasks: resolved, order };
}

/** Like {@link buildJointCase}, but throws JOINT_PLAN_INVALID with `details.problems`. */
export function assertJointCase(options: BuildJointCaseOptions): JointCaseBuilt {
  const built = buildJointCase(options);
  if (built.ok) return built;
  const first = built.problems[0]!;
  const what = first.problem === "gap" ? `task ${first.taskId}: ${first.code} (${first.message})` : first.problem;
  throw new TongbanError("JOINT_PLAN_INVALID", `the joint case cannot be sent: ${what}${built.problems.length > 1 ? ` (and ${built.problems.length - 1} more)` : ""}`, {
    details: { problems: built.problems.map((p) => ({ ...p })) },
  });
}

/** A 一件事 bundle: the items one life event needs, by the role of the site that owns each. */
export interface JointBundle {
  readonly name: string;
  readonly title: string;
  readonly tasks: readonly {
    readonly taskId: string;
    /** The 基本编码 of the item. */
    readonly basicCode: string;
    /** Which site owns it, as a role the caller maps to a node id (e.g. "origin", "destination"). */
    readonly siteRole: string;
    readonly dependsOn?: readonly string[];
    readonly materials?: readonly string[];
  }[];
}

/**
 * Expands a bundle into task specs for {@link buildJointCase}: each task goes
 * to the node the caller names for its site role.
 *
 * @throws TypeError when a role has no site.
 */
export function expandBundle(bundle: JointBundle, sites: Readonly<Record<string, string>>): JointTaskSpec[] {
  return bundle.tasks.map((t) => {
    const site = sites[t.siteRole];
    if (site === undefined) throw new TypeError(`bundle ${bundle.name}: no site given for role "${t.siteRole}" (task ${t.taskId})`);
    return { taskId: t.taskId, site, item: t.basicCode, ...(t.dependsOn === undefined ? {} : { dependsOn: t.dependsOn }), ...(t.materials === undefined ? {} : { materials: t.materials }) };
  });
}

/**
 * The overall status of a joint case from its tasks' states (docs/lifecycle.md
 * "Rules"): `open` while any task can still move, `completed` when every task
 * completed, `failed` when all are final and one did not complete.
 */
export function jointOverall(states: readonly string[]): "open" | "completed" | "failed" {
  const FINAL = new Set(["COMPLETED", "REFUSED", "FAILED", "CANCELLED"]);
  if (states.some((s) => !FINAL.has(s))) return "open";
  return states.every((s) => s === "COMPLETED") ? "completed" : "failed";
}
