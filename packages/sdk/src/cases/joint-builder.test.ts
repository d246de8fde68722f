import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { loadTablesFromDirectory } from "../mapping/load-files.js";
import { assertJointCase, buildJointCase, expandBundle, jointOverall, type JointBundle } from "./joint-builder.js";

const examples = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "examples");
const registry = loadTablesFromDirectory(join(examples, "mapping"));
const bundle = (name: string) => JSON.parse(readFileSync(join(examples, "bundles", `${name}.json`), "utf8")) as JointBundle;
const LEAD = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const JIASHAN = "cn.330421.jiashan";

describe("buildJointCase", () => {
  it("resolves every task through the tables (joint mode) and orders the DAG", () => {
    const built = buildJointCase({ lead: LEAD, registry, date: "2026-06-01", tasks: expandBundle(bundle("household-move"), { origin: WUJIANG, destination: JIASHAN }) });
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    expect(built.order).toEqual(["hukou-out", "hukou-in", "pension-out", "pension-in"]);
    const out = built.tasks.find((t) => t.taskId === "hukou-out")!;
    expect(out.item).toMatchObject({ basicCode: "00TB00000501", name: expect.any(String) });
    expect(out.item.handlingCode).toContain("320509");
    expect(out.item.receivingCode).toContain("310118");
  });

  it("reports every problem at once: a cycle, a task at the lead, an unknown material and a gap", () => {
    const built = buildJointCase({
      lead: LEAD,
      registry,
      date: "2026-06-01",
      materials: ["M001"],
      tasks: [
        { taskId: "a", site: WUJIANG, item: "00TB00000501", dependsOn: ["b"] },
        { taskId: "b", site: JIASHAN, item: "00TB00000502", dependsOn: ["a"], materials: ["M999"] },
        { taskId: "c", site: LEAD, item: "00TB00000401" },
        { taskId: "d", site: "cn.361129.wannian", item: "00TB00000501" },
      ],
    });
    expect(built.ok).toBe(false);
    if (built.ok) return;
    const kinds = built.problems.map((p) => p.problem);
    expect(kinds).toEqual(expect.arrayContaining(["cycle", "lead-site", "unknown-material", "gap"]));
    expect(built.problems.find((p) => p.problem === "gap")).toMatchObject({ taskId: "d", code: expect.stringMatching(/^GAP_/) });
  });

  it("assertJointCase throws JOINT_PLAN_INVALID with the problems", () => {
    try {
      assertJointCase({ lead: LEAD, registry, tasks: [{ taskId: "x", site: WUJIANG, item: "00TB00000501", dependsOn: ["x"] }] });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TongbanError);
      expect((err as TongbanError).code).toBe("JOINT_PLAN_INVALID");
      expect((err as TongbanError).details).toMatchObject({ problems: [{ problem: "self-dependency", taskId: "x" }] });
    }
  });

  it("expands the newborn bundle and refuses a role without a site", () => {
    expect(expandBundle(bundle("newborn"), { hospital: WUJIANG, household: JIASHAN }).map((t) => t.site)).toEqual([WUJIANG, JIASHAN, JIASHAN, JIASHAN]);
    expect(() => expandBundle(bundle("newborn"), { hospital: WUJIANG })).toThrow(/household/);
  });

  it("composes the overall status", () => {
    expect(jointOverall(["COMPLETED", "IN_PROGRESS"])).toBe("open");
    expect(jointOverall(["COMPLETED", "COMPLETED"])).toBe("completed");
    expect(jointOverall(["COMPLETED", "REFUSED", "CANCELLED"])).toBe("failed");
  });
});
