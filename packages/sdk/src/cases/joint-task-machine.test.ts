import { describe, expect, it } from "vitest";
import { JointTaskState } from "../gen/tongban/v1/joint_pb.js";
import { TongbanError } from "../errors/index.js";
import { allowedJointTaskActions, isJointTaskFinal, JOINT_TASK_TRANSITIONS, openJointTask, transitionJointTask, type JointTaskAction, type JointTaskRole, type JointTaskSnapshot } from "./joint-task-machine.js";

const at = new Date("2026-03-02T01:00:00Z");

function apply(s: JointTaskSnapshot, steps: readonly [JointTaskAction, JointTaskRole][]): JointTaskSnapshot {
  return steps.reduce((c, [action, role]) => transitionJointTask(c, { action, role, at }), s);
}

describe("joint sub-task machine", () => {
  it("opens BLOCKED with dependencies and ASSIGNED without", () => {
    expect(openJointTask({ taskId: "in", dependsOn: ["out"] }, at).state).toBe(JointTaskState.BLOCKED);
    expect(openJointTask({ taskId: "out", dependsOn: [] }, at).state).toBe(JointTaskState.ASSIGNED);
  });

  it("runs release → accept → start → complete", () => {
    const done = apply(openJointTask({ taskId: "in", dependsOn: ["out"] }, at), [
      ["release", "lead"],
      ["accept", "participant"],
      ["start", "participant"],
      ["complete", "participant"],
    ]);
    expect(done.state).toBe(JointTaskState.COMPLETED);
    expect(isJointTaskFinal(done.state)).toBe(true);
    expect(allowedJointTaskActions(done, "lead")).toEqual([]);
  });

  it("returns from ON_HOLD to the state it was held from", () => {
    const working = apply(openJointTask({ taskId: "t", dependsOn: [] }, at), [
      ["accept", "participant"],
      ["start", "participant"],
    ]);
    const held = transitionJointTask(working, { action: "hold", role: "lead", at });
    expect(held).toMatchObject({ state: JointTaskState.ON_HOLD, heldFrom: JointTaskState.IN_PROGRESS });
    expect(allowedJointTaskActions(held, "participant")).toEqual([]);
    expect(allowedJointTaskActions(held, "lead")).toEqual(["resume", "cancel"]);
    const resumed = transitionJointTask(held, { action: "resume", role: "lead", at });
    expect(resumed.state).toBe(JointTaskState.IN_PROGRESS);
    expect(resumed.heldFrom).toBeUndefined();
  });

  it("throws CASE_INVALID_TRANSITION with the allowed actions, never applying the step", () => {
    const assigned = openJointTask({ taskId: "t", dependsOn: [] }, at);
    try {
      transitionJointTask(assigned, { action: "accept", role: "lead", at });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TongbanError);
      expect((err as TongbanError).details).toEqual({ taskId: "t", from: "ASSIGNED", action: "accept", role: "lead", allowed: ["hold", "cancel"] });
    }
    expect(() => transitionJointTask(assigned, { action: "complete", role: "participant", at })).toThrow(TongbanError);
    expect(() => transitionJointTask(assigned, { action: "nap" as JointTaskAction, role: "participant", at })).toThrow(TypeError);
  });

  it("lets the lead cancel every non-final state and nothing move out of a final one", () => {
    for (const state of [JointTaskState.BLOCKED, JointTaskState.ASSIGNED, JointTaskState.ACCEPTED, JointTaskState.IN_PROGRESS, JointTaskState.ON_HOLD]) {
      expect(allowedJointTaskActions({ taskId: "t", state, updatedAt: at.toISOString(), version: 0, heldFrom: JointTaskState.ASSIGNED }, "lead")).toContain("cancel");
    }
    for (const t of JOINT_TASK_TRANSITIONS) expect(isJointTaskFinal(t.from)).toBe(false);
  });
});
