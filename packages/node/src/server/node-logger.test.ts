import { TongbanError } from "@tongban/sdk";
import { describe, expect, it } from "vitest";
import { createNodeLogger } from "./node-logger.js";

function logged(write: (log: ReturnType<typeof createNodeLogger>) => void): Record<string, unknown> {
  const lines: string[] = [];
  write(createNodeLogger({ nodeId: "cn.310118.qingpu", level: "info", destination: { write: (s: string) => void lines.push(s) } }));
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe("the node's logger", () => {
  it("censors personal-data fields at the top level and one object deep", () => {
    const line = logged((log) => log.info({ applicant: { name: "张三" }, form: { 生日: "1990/07/14" }, envelope: { body: "…", name: "李四" }, caseId: "c1" }, "case"));
    expect(line).toMatchObject({ applicant: "[redacted]", form: "[redacted]", envelope: { body: "[redacted]", name: "[redacted]" }, caseId: "c1", nodeId: "cn.310118.qingpu" });
    expect(JSON.stringify(line)).not.toMatch(/张三|李四|1990/);
  });

  it("logs an error with its type, code and message, without a censored name", () => {
    const line = logged((log) => log.error({ err: new TongbanError("AUTH_NOT_ALLOWED", "not allowed here") }, "refused"));
    expect(line["err"]).toMatchObject({ type: "TongbanError", code: "AUTH_NOT_ALLOWED", message: "not allowed here" });
    expect(line["err"]).not.toHaveProperty("name");
    expect(JSON.stringify(line)).not.toContain("[redacted]");
  });
});
