import { describe, expect, it } from "vitest";
import { run } from "../program.js";

async function tongban(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await run(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

describe("tongban id check", () => {
  it("detects and accepts a valid USCC with exit code 0", async () => {
    const r = await tongban("id", "check", "91350100M000100Y43");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("kind   uscc");
    expect(r.stdout).toContain("valid  yes");
    expect(r.stdout).toContain("福州市");
  });

  it("prints the issues table and exits 1 for an invalid value", async () => {
    const r = await tongban("id", "check", "91350100M000100Y44");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("valid  no");
    expect(r.stdout).toMatch(/check-character.*18.*character 18 is '4' but the MOD 31 check character is '3'/);
  });

  it("prints the validation object with --json", async () => {
    const r = await tongban("id", "check", "cn.310118.QingPu", "--json");
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false,
      kind: "node-id",
      value: "cn.310118.QingPu",
      issues: [
        { rule: "case", position: 11, message: "character 11 is 'Q': node ids are lower case only ('q')" },
        { rule: "case", position: 15, message: "character 15 is 'P': node ids are lower case only ('p')" },
      ],
    });
    const ok = await tongban("id", "check", "cn.361129.wannian", "--json");
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, kind: "node-id", parts: { region: "361129", labels: ["wannian"] } });
  });

  it("validates as the kind given with --kind", async () => {
    const r = await tongban("id", "check", "330421", "--kind", "region", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, kind: "region", parts: { name: "嘉善县" } });
    const wrong = await tongban("id", "check", "330421", "--kind", "uscc", "--json");
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ ok: false, kind: "uscc", issues: [{ rule: "length" }] });
  });

  it("rejects an unknown --kind as a usage error (exit 2)", async () => {
    const r = await tongban("id", "check", "330421", "--kind", "passport");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown kind");
  });

  it("masks a citizen ID number in human output", async () => {
    const r = await tongban("id", "check", "11010519491231002X");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("kind   citizen-id");
    expect(r.stdout).toContain("110105***********X");
    expect(r.stdout).not.toContain("19491231");
  });

  it("checks a license identifier and a message id", async () => {
    const lic = await tongban("id", "check", "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.V");
    expect(lic.code).toBe(1);
    expect(lic.stdout).toContain("MOD 37,36 check character is 'U'");
    const msg = await tongban("id", "check", "0192f5a4-7c1e-7a3b-9f2d-5e8c1b2a3d4f", "--json");
    expect(JSON.parse(msg.stdout)).toMatchObject({ ok: true, kind: "message-id" });
  });

  it("reports a value of no known shape as kind unknown", async () => {
    const r = await tongban("id", "check", "hello, tongban!", "--json");
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, kind: "unknown", issues: [{ rule: "shape" }] });
  });
});
