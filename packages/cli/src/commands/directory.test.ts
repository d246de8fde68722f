import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../program.js";

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "examples", "mapping");
const dir = mkdtempSync(join(tmpdir(), "tongban-cli-directory-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function tongban(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}
const NODES = [
  ["cn.310118.qingpu", "青浦", "310118"],
  ["cn.320509.wujiang", "吴江", "320509"],
  ["cn.330421.jiashan", "嘉善", "330421"],
] as const;

function source(version: number, nodes: readonly (typeof NODES)[number][]): string {
  const lines = [
    "federation: { id: yangtze-delta, name: 长三角生态绿色一体化发展示范区 }",
    `version: ${version}`,
    "validDays: 30",
    "crl: ca/crl.pem",
    "nodes:",
    ...nodes.flatMap(([id, name, region], i) => [
      `  - nodeId: ${id}`,
      `    name: ${name}`,
      `    regions: ["${region}"]`,
      `    endpoints: { federation: "127.0.0.1:${7443 + i}" }`,
      "    suite: jose-v1",
      `    certificates: { tls: [nodes/${id}.tls.crt], signing: [nodes/${id}.sign.crt] }`,
      `    contact: { name: ${name}政务服务中心 }`,
    ]),
  ];
  return `${lines.join("\n")}\n`;
}

beforeAll(async () => {
  expect((await tongban("pki", "init", "--out", join(dir, "ca"))).code).toBe(0);
  for (const [id] of NODES) expect((await tongban("pki", "issue", "--ca", join(dir, "ca"), "--node-id", id, "--out", join(dir, "nodes"))).code).toBe(0);
  writeFileSync(join(dir, "v1.yaml"), source(1, NODES));
  writeFileSync(join(dir, "v2.yaml"), source(2, NODES.slice(0, 2)));
}, 60_000);

describe("tongban directory", () => {
  it("builds, signs and verifies a directory; shows its nodes", async () => {
    const root = join(dir, "ca", "root.crt");
    const b = await tongban("--json", "directory", "build", join(dir, "v1.yaml"), "--anchor", root, "--out", join(dir, "v1.json"));
    expect(b.code, b.err).toBe(0);
    expect(JSON.parse(b.out)).toMatchObject({ ok: true, version: 1, nodes: 3 });
    const s = await tongban("directory", "sign", join(dir, "v1.json"), "--key", join(dir, "ca", "root.key"), "--cert", root, "--out", join(dir, "v1.jws"));
    expect(s.code, s.err).toBe(0);
    const v = await tongban("--json", "directory", "verify", join(dir, "v1.jws"), "--trust", root);
    expect(v.code, v.err).toBe(0);
    expect(JSON.parse(v.out)).toMatchObject({ ok: true, version: 1, status: "current", nodes: NODES.map(([id]) => id) });
  });

  it("refuses a tampered directory, one signed under another root, and a rollback", async () => {
    const root = join(dir, "ca", "root.crt");
    const jws = readFileSync(join(dir, "v1.jws"), "utf8");
    const [h, p, sig] = jws.split(".") as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as { version: number };
    payload.version = 99;
    writeFileSync(join(dir, "tampered.jws"), `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${sig}`);
    const t = await tongban("--json", "directory", "verify", join(dir, "tampered.jws"), "--trust", root);
    expect(t.code).toBe(1);
    expect(JSON.parse(t.out)).toMatchObject({ ok: false, code: "DIRECTORY_INVALID" });

    expect((await tongban("pki", "init", "--out", join(dir, "other"))).code).toBe(0);
    const o = await tongban("--json", "directory", "verify", join(dir, "v1.jws"), "--trust", join(dir, "other", "root.crt"));
    expect(o.code).toBe(1);

    await tongban("directory", "build", join(dir, "v2.yaml"), "--anchor", root, "--out", join(dir, "v2.json"));
    await tongban("directory", "sign", join(dir, "v2.json"), "--key", join(dir, "ca", "root.key"), "--cert", root, "--out", join(dir, "v2.jws"));
    expect((await tongban("directory", "verify", join(dir, "v2.jws"), "--trust", root, "--previous", join(dir, "v1.jws"))).code).toBe(0);
    const back = await tongban("--json", "directory", "verify", join(dir, "v1.jws"), "--trust", root, "--previous", join(dir, "v2.jws"));
    expect(back.code).toBe(1);
    expect(JSON.parse(back.out).ok).toBe(false);
  });

  it("diffs two versions", async () => {
    const d = await tongban("--json", "directory", "diff", join(dir, "v1.jws"), join(dir, "v2.json"));
    expect(d.code, d.err).toBe(0);
    const r = JSON.parse(d.out) as { changed: boolean; diff: { nodesRemoved: string[]; header: { field: string }[] } };
    expect(r.changed).toBe(true);
    expect(r.diff.nodesRemoved).toEqual(["cn.330421.jiashan"]);
    expect(r.diff.header.map((x) => x.field)).toContain("version");
    const table = await tongban("directory", "diff", join(dir, "v1.jws"), join(dir, "v2.json"));
    expect(table.out).toContain("cn.330421.jiashan");
    expect(table.out).toContain("removed");
  });

  it("lists the tables of tablesDir, signed ones verified against the nodes' certificates under --anchor", async () => {
    const tables = join(dir, "tables");
    cpSync(EXAMPLES, tables, { recursive: true });
    // 青浦 publishes version 2 of its list, signed with its node signing key, beside (and instead of) version 1.
    const v2 = { ...(JSON.parse(readFileSync(join(tables, "310118.json"), "utf8")) as { version: number }), version: 2 };
    writeFileSync(join(dir, "310118-v2.json"), JSON.stringify(v2));
    const signed = await tongban("mapping", "sign", join(dir, "310118-v2.json"), "--key", join(dir, "nodes", "cn.310118.qingpu.sign.key"), "--cert", join(dir, "nodes", "cn.310118.qingpu.sign.crt"), "--out", join(tables, "310118.jws"));
    expect(signed.code, signed.err).toBe(0);
    writeFileSync(join(dir, "tables.yaml"), `${source(3, NODES)}tablesDir: tables\n`);
    const root = join(dir, "ca", "root.crt");
    const b = await tongban("directory", "build", join(dir, "tables.yaml"), "--anchor", root, "--out", join(dir, "v3.json"));
    expect(b.code, b.err).toBe(0);
    const listed = (JSON.parse(readFileSync(join(dir, "v3.json"), "utf8")) as { mappingTables: { publisher: string; kind: string; version: number }[] }).mappingTables;
    expect(listed.find((t) => t.publisher === "310118")).toMatchObject({ kind: "implementation", version: 2 });
    expect(listed.map((t) => t.publisher).sort()).toEqual(["310118", "320509", "330421", "330802", "361129", "national", "yrd-and-partners"].sort());
    // Without the anchor the signed table cannot be checked: refused, not silently left out.
    const no = await tongban("--json", "directory", "build", join(dir, "tables.yaml"));
    expect(no.code).not.toBe(0);
    expect(JSON.parse(no.out)).toMatchObject({ ok: false, error: { code: "CONFIG_INVALID", message: expect.stringMatching(/--anchor/) } });
  });

  it("reports a bad source with a code", async () => {
    writeFileSync(join(dir, "bad.yaml"), "federation: { id: Bad Id, name: x }\nversion: 1\ncrl: ca/crl.pem\nnodes: []\n");
    const r = await tongban("--json", "directory", "build", join(dir, "bad.yaml"));
    expect(r.code).not.toBe(0);
    expect(r.out + r.err).toMatch(/DIRECTORY_INVALID|CONFIG_INVALID/);
  });
});
