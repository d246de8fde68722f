import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalFederation, type LocalFederation } from "@tongban/node";
import { readTableFile, tableDigest, type ImplementationList } from "@tongban/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../program.js";

// `tongban mapping fetch` against a running node (mTLS, the asking node's identity from its node.yaml).
const examples = fileURLToPath(new URL("../../../../examples/mapping/", import.meta.url));
const QINGPU = "cn.310118.qingpu";
const JIASHAN = "cn.330421.jiashan";
let dir: string;
let fed: LocalFederation;
let v2: ImplementationList;

async function tongban(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-cli-fetch-"));
  const tables = join(dir, "tables-jiashan");
  cpSync(examples, tables, { recursive: true });
  fed = await startLocalFederation({ dir, nodes: [{ nodeId: QINGPU, tablesDir: examples }, { nodeId: JIASHAN, tablesDir: tables }] });
  // 嘉善 signs version 2 of its list with its node signing key and restarts on it.
  v2 = { ...(readTableFile(join(tables, "330421.csv")) as ImplementationList), version: 2 };
  writeFileSync(join(tables, "330421.jws"), fed.signTableAs(JIASHAN, v2));
  await fed.stopNode(JIASHAN);
  await fed.startNode(JIASHAN);
}, 60_000);
afterAll(async () => {
  await fed?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("tongban mapping fetch", () => {
  it("fetches a signed table as 青浦, verifies it with 嘉善's certificate and prints the digest a directory lists", async () => {
    const j = fed.node(JIASHAN);
    const out = join(dir, "fetched.jws");
    const r = await tongban("--json", "mapping", "fetch", "--config", fed.node(QINGPU).configFile, "--from", JIASHAN, "--address", j.node!.addresses!.federation, "--publisher", "330421", "--cert", join(j.dir, "pki", "sign.crt"), "--out", out);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ ok: true, file: out, kind: "implementation", publisher: "330421", version: 2, digest: tableDigest(v2), verified: true });
    expect(readFileSync(out, "utf8").trim()).toBe(readFileSync(join(dir, "tables-jiashan", "330421.jws"), "utf8").trim());
    // The file is one the other tools read: validate verifies it under the root with the same certificate.
    const v = await tongban("--json", "mapping", "validate", out, "--trust", fed.node(QINGPU).config.trust.anchor, "--cert", join(j.dir, "pki", "sign.crt"));
    expect(v.code, v.out).toBe(0);
  });

  it("says when it did not check the signature, and refuses with the node's code", async () => {
    const j = fed.node(JIASHAN);
    const addr = j.node!.addresses!.federation;
    const unchecked = await tongban("mapping", "fetch", "--config", fed.node(QINGPU).configFile, "--from", JIASHAN, "--address", addr, "--publisher", "330421", "--out", join(dir, "unchecked.jws"));
    expect(unchecked.code, unchecked.err).toBe(0);
    expect(unchecked.out).toMatch(/signature not checked/);
    const missing = await tongban("--json", "mapping", "fetch", "--config", fed.node(QINGPU).configFile, "--from", JIASHAN, "--address", addr, "--publisher", "330421", "--version", "9");
    expect(missing.code).not.toBe(0);
    expect(JSON.parse(missing.out)).toMatchObject({ ok: false, error: { code: "MAPPING_TABLE_NOT_FOUND" } });
  });
});
