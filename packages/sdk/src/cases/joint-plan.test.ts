import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JointTaskState } from "../gen/tongban/v1/joint_pb.js";
import { TongbanError } from "../errors/index.js";
import { findJointPlanProblems, releasedTasks, strandedTasks, validateJointPlan, type JointPlanTask } from "./joint-plan.js";

const t = (taskId: string, ...dependsOn: string[]): JointPlanTask => ({ taskId, dependsOn });

function planError(plan: JointPlanTask[]): TongbanError {
  try {
    validateJointPlan(plan);
  } catch (err) {
    expect(err).toBeInstanceOf(TongbanError);
    expect((err as TongbanError).code).toBe("JOINT_PLAN_INVALID");
    return err as TongbanError;
  }
  throw new Error("expected JOINT_PLAN_INVALID");
}

describe("joint plan validation", () => {
  it("orders 户口迁出 before 户口迁入 and social-insurance transfers", () => {
    const plan = [t("hukou-in", "hukou-out"), t("si-in", "si-out", "hukou-in"), t("hukou-out"), t("si-out")];
    expect(validateJointPlan(plan)).toEqual(["hukou-out", "hukou-in", "si-out", "si-in"]);
  });

  it("reports the cycle path", () => {
    const err = planError([t("a", "b"), t("b", "c"), t("c", "a"), t("d")]);
    expect(err.details["problems"]).toEqual([{ problem: "cycle", cycle: ["a", "b", "c", "a"] }]);
  });

  it("reports unknown ids, self-dependencies, duplicates and empty ids", () => {
    expect(findJointPlanProblems([t("a", "zzz"), t("b", "b"), t("c"), t("c"), t("", "a"), t("d", "a", "a")])).toEqual([
      { problem: "duplicate-task", taskId: "c" },
      { problem: "empty-task-id", index: 4 },
      { problem: "unknown-dependency", taskId: "a", dependency: "zzz" },
      { problem: "self-dependency", taskId: "b" },
      { problem: "duplicate-dependency", taskId: "d", dependency: "a" },
    ]);
    expect(findJointPlanProblems([])).toEqual([]);
    expect(() => findJointPlanProblems("nope" as unknown as JointPlanTask[])).toThrow(TypeError);
  });

  it("releases BLOCKED tasks whose dependencies are all COMPLETED", () => {
    const plan = [t("out"), t("in", "out"), t("si-out"), t("si-in", "si-out", "in")];
    const S = JointTaskState;
    expect(releasedTasks(plan, {})).toEqual(["out", "si-out"]);
    expect(releasedTasks(plan, { out: S.ASSIGNED, "si-out": S.COMPLETED, in: S.BLOCKED, "si-in": S.BLOCKED })).toEqual([]);
    expect(releasedTasks(plan, new Map([["out", S.COMPLETED], ["si-out", S.COMPLETED], ["in", S.BLOCKED]]))).toEqual(["in"]);
    expect(releasedTasks(plan, { out: S.COMPLETED, in: S.COMPLETED, "si-out": S.COMPLETED, "si-in": S.BLOCKED })).toEqual(["si-in"]);
    expect(() => releasedTasks([t("a", "a")], {})).toThrow(TongbanError);
  });

  it("names tasks stranded behind a refused, failed or cancelled dependency", () => {
    const plan = [t("out"), t("in", "out"), t("si-in", "in"), t("other")];
    const S = JointTaskState;
    expect(strandedTasks(plan, { out: S.REFUSED, in: S.BLOCKED, "si-in": S.BLOCKED, other: S.IN_PROGRESS })).toEqual(["in", "si-in"]);
    expect(strandedTasks(plan, { out: S.COMPLETED })).toEqual([]);
  });

  it("accepts every DAG and orders dependencies first (property)", () => {
    const dag = fc.integer({ min: 1, max: 25 }).chain((n) =>
      fc.array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: n, maxLength: n }).map((edges) =>
        // Edges only point to earlier tasks, so the graph is acyclic; shuffle to hide that order.
        edges.map((deps, i) => t(`t${i}`, ...[...new Set(i === 0 ? [] : deps.map((d) => `t${d % i}`))])).reverse(),
      ),
    );
    fc.assert(
      fc.property(dag, (plan) => {
        const order = validateJointPlan(plan);
        expect(order).toHaveLength(plan.length);
        const pos = new Map(order.map((id, i) => [id, i]));
        for (const task of plan) for (const dep of task.dependsOn) expect(pos.get(dep)!).toBeLessThan(pos.get(task.taskId)!);
      }),
    );
  });

  it("finds a real cycle whenever a back edge closes one (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 15 }), fc.nat(), (n, k) => {
        // A chain t0 ← t1 ← … ← t(n-1) plus an edge from some ti back to a later task closes a cycle.
        const i = k % (n - 1);
        const plan = Array.from({ length: n }, (_, j) => t(`t${j}`, ...(j > 0 ? [`t${j - 1}`] : []), ...(j === i ? [`t${n - 1}`] : [])));
        const cycles = findJointPlanProblems(plan).filter((p) => p.problem === "cycle");
        expect(cycles).toHaveLength(1);
        const first = cycles[0];
        const cycle = first?.problem === "cycle" ? first.cycle : [];
        expect(cycle.length).toBeGreaterThan(2);
        expect(cycle[0]).toBe(cycle.at(-1));
        const byId = new Map(plan.map((p) => [p.taskId, p]));
        for (let j = 0; j + 1 < cycle.length; j++) expect(byId.get(cycle[j]!)!.dependsOn).toContain(cycle[j + 1]);
      }),
    );
  });
});
