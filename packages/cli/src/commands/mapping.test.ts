import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../program.js";

const examples = fileURLToPath(new URL("../../../../examples/mapping/", import.meta.url));
let dir: string;

async function tongban(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tongban-cli-mapping-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("tongban mapping", () => {
  it("validates the example tables, alone and together", async () => {
    const files = readdirSync(examples).filter((f) => /\.(json|csv)$/.test(f) && !f.endsWith(".meta.json")).map((f) => join(examples, f));
    const r = await tongban("--json", "mapping", "validate", ...files);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, problems: [] });
  });

  it("reports file, row and field for a broken table and exits 1", async () => {
    const t = JSON.parse(readFileSync(join(examples, "310118.json"), "utf8")) as { items: { basicCode: string }[] };
    t.items[2]!.basicCode = "bad";
    writeFileSync(join(dir, "310118.json"), JSON.stringify(t));
    const r = await tongban("--json", "mapping", "validate", join(dir, "310118.json"));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).problems).toContainEqual(expect.objectContaining({ file: "310118.json", row: 3, field: "basicCode" }));
  });

  it("resolves across provinces and shows the 柯城/万年 gap with candidates (exit 3)", async () => {
    const ok = await tongban("--json", "mapping", "resolve", "--tables", examples, "--from", "310118", "--to", "330421", "--item", "00TB00000502", "--date", "2026-06-01");
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ ok: true, basicCode: "00TB00000502", handling: { region: "330421" } });
    const gap = await tongban("--json", "mapping", "resolve", "--tables", examples, "--from", "330802", "--to", "361129", "--item", "00TB00000102", "--date", "2026-06-01");
    expect(gap.code).toBe(3);
    expect(JSON.parse(gap.out)).toMatchObject({ ok: false, code: "GAP_ITEM_NOT_OFFERED", candidates: [{ name: "老年优待证申领" }] });
  });

  it("signs tables and resolves from the signed copies with a trust anchor; a tampered one is refused", async () => {
    expect((await tongban("pki", "init", "--out", join(dir, "ca"))).code).toBe(0);
    expect((await tongban("pki", "issue", "--ca", join(dir, "ca"), "--node-id", "cn.310118.qingpu", "--out", join(dir, "keys"))).code).toBe(0);
    const signed = join(dir, "signed");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(signed);
    for (const f of readdirSync(examples).filter((n) => /\.(json|csv)$/.test(n) && !n.endsWith(".meta.json"))) {
      if (f.endsWith(".csv")) copyFileSync(join(examples, f.replace(".csv", ".meta.json")), join(signed, f.replace(".csv", ".meta.json")));
      copyFileSync(join(examples, f), join(signed, f));
      const s = await tongban("mapping", "sign", join(signed, f), "--key", join(dir, "keys/cn.310118.qingpu.sign.key"), "--cert", join(dir, "keys/cn.310118.qingpu.sign.crt"));
      expect(s.code, s.err).toBe(0);
    }
    const trust = ["--trust", join(dir, "ca/root.crt"), "--cert", join(dir, "keys/cn.310118.qingpu.sign.crt")];
    const ok = await tongban("--json", "mapping", "resolve", "--tables", signed, "--from", "320509", "--to", "310118", "--item", "00TB00000101", "--date", "2026-06-01", ...trust);
    expect(ok.code).toBe(0);
    const jws = readFileSync(join(signed, "310118.jws"), "utf8").trim().split(".");
    const payload = Buffer.from(jws[1]!, "base64url").toString().replace("补领结婚证", "补领离婚证");
    writeFileSync(join(signed, "310118.jws"), `${jws[0]}.${Buffer.from(payload).toString("base64url")}.${jws[2]}`);
    const bad = await tongban("--json", "mapping", "resolve", "--tables", signed, "--from", "320509", "--to", "310118", "--item", "00TB00000101", ...trust);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).error.code).toBe("MAPPING_SIGNATURE_INVALID");
  });

  it("diffs two versions and flags a change without a version bump", async () => {
    const t = JSON.parse(readFileSync(join(examples, "320509.json"), "utf8")) as { version: number; items: { name: string }[] };
    t.items[0]!.name = "补发结婚证";
    writeFileSync(join(dir, "same-version.json"), JSON.stringify(t));
    const bad = await tongban("--json", "mapping", "diff", join(examples, "320509.json"), join(dir, "same-version.json"));
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).verdict).toContain("bump-on-change");
    t.version = 2;
    writeFileSync(join(dir, "v2.json"), JSON.stringify(t));
    const good = await tongban("--json", "mapping", "diff", join(examples, "320509.json"), join(dir, "v2.json"));
    expect(good.code).toBe(0);
    expect(JSON.parse(good.out).changed[0].fields[0].field).toBe("name");
  });

  it("imports a CSV implementation list", async () => {
    const r = await tongban("--json", "mapping", "import", "--csv", join(examples, "330421.csv"), "--publisher", "330421", "--issued", "2026-01-01", "--out", join(dir, "330421.json"));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, items: 11 });
    expect(JSON.parse(readFileSync(join(dir, "330421.json"), "utf8")).kind).toBe("implementation");
  });

  it("takes --version as the table version, not as `tongban --version`", async () => {
    const r = await tongban("mapping", "import", "--csv", join(examples, "330421.csv"), "--publisher", "330421", "--version", "3", "--out", join(dir, "330421-v3.json"));
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "330421-v3.json"), "utf8")).version).toBe(3);
    // The program's own version answers only as the first argument.
    const v = await tongban("--version");
    expect(v.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
