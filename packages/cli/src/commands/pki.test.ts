import { spawnSync } from "node:child_process";
import { X509Certificate, createHash, createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../program.js";

let dir: string;

async function tongban(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await run(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

async function json(...args: string[]): Promise<Record<string, unknown>> {
  const r = await tongban(...args, "--json");
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function opensslVerify(...args: string[]): { ok: boolean; output: string } {
  const r = spawnSync("openssl", ["verify", ...args], { encoding: "utf8" });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tongban-cli-pki-"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("tongban pki", () => {
  const ca = (): string => join(dir, "ca");
  const nodes = (): string => join(dir, "nodes");

  it("init creates the CA files with a private key of mode 0600", async () => {
    const result = await json("pki", "init", "--out", ca(), "--name", "Test Federation Root", "--days", "30");
    expect(result).toMatchObject({ ok: true, files: { cert: "root.crt", key: "root.key", crl: "crl.pem", state: "ca.json" } });
    expect(mode(join(ca(), "root.key"))).toBe(0o600);
    const root = new X509Certificate(readFileSync(join(ca(), "root.crt")));
    expect(root.ca).toBe(true);
    expect(root.subject).toBe("CN=Test Federation Root");
    expect(result["kid"]).toBe(createHash("sha256").update(root.raw).digest("base64url"));
    const state = JSON.parse(readFileSync(join(ca(), "ca.json"), "utf8")) as { version: number; issued: unknown[] };
    expect(state).toMatchObject({ version: 1, issued: [] });
    expect(readFileSync(join(ca(), "crl.pem"), "utf8")).toMatch(/^-----BEGIN X509 CRL-----/);
    expect(opensslVerify("-CAfile", join(ca(), "root.crt"), join(ca(), "root.crt")).ok).toBe(true);
  });

  it("init refuses to overwrite an existing CA", async () => {
    const r = await tongban("pki", "init", "--out", ca(), "--json");
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: "FILE_EXISTS" } });
  });

  it("issue writes both certificates, keys with mode 0600, that openssl verifies", async () => {
    const result = await json("pki", "issue", "--ca", ca(), "--node-id", "cn.110000.bj-gov", "--alg", "EdDSA", "--out", nodes(), "--dns", "bj.example", "node.bj.example", "--ip", "10.1.2.3");
    expect(result).toMatchObject({ ok: true, nodeId: "cn.110000.bj-gov", tls: { file: "cn.110000.bj-gov.tls.crt", algorithm: "ES256" }, signing: { file: "cn.110000.bj-gov.sign.crt", algorithm: "EdDSA" } });
    for (const key of ["cn.110000.bj-gov.tls.key", "cn.110000.bj-gov.sign.key"]) expect(mode(join(nodes(), key))).toBe(0o600);
    expect(createPrivateKey(readFileSync(join(nodes(), "cn.110000.bj-gov.sign.key"))).asymmetricKeyType).toBe("ed25519");
    for (const cert of ["cn.110000.bj-gov.tls.crt", "cn.110000.bj-gov.sign.crt"]) {
      const r = opensslVerify("-CAfile", join(ca(), "root.crt"), "-crl_check", "-CRLfile", join(ca(), "crl.pem"), join(nodes(), cert));
      expect(r.ok, r.output).toBe(true);
    }
    const tls = new X509Certificate(readFileSync(join(nodes(), "cn.110000.bj-gov.tls.crt")));
    expect(tls.subjectAltName).toContain("URI:urn:tongban:node:cn.110000.bj-gov");
    expect(tls.subjectAltName).toContain("DNS:node.bj.example");
    expect(tls.subjectAltName).toContain("IP Address:10.1.2.3");
    const state = JSON.parse(readFileSync(join(ca(), "ca.json"), "utf8")) as { issued: { nodeId: string; kind: string; kid: string }[] };
    expect(state.issued.map((r) => [r.nodeId, r.kind])).toEqual([
      ["cn.110000.bj-gov", "tls"],
      ["cn.110000.bj-gov", "signing"],
    ]);
    expect(state.issued[1]?.kid).toBe((result["signing"] as { kid: string }).kid);
  });

  it("issue refuses a malformed node id, a bad algorithm and existing files", async () => {
    const bad = await tongban("pki", "issue", "--ca", ca(), "--node-id", "beijing", "--out", nodes(), "--json");
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, error: { code: "USAGE" } });
    const alg = await tongban("pki", "issue", "--ca", ca(), "--node-id", "cn.110000.x", "--alg", "RS256", "--out", nodes(), "--json");
    expect(JSON.parse(alg.stdout)).toMatchObject({ error: { code: "USAGE" } });
    const again = await tongban("pki", "issue", "--ca", ca(), "--node-id", "cn.110000.bj-gov", "--out", nodes(), "--json");
    expect(JSON.parse(again.stdout)).toMatchObject({ error: { code: "FILE_EXISTS" } });
    const days = await tongban("pki", "issue", "--ca", ca(), "--node-id", "cn.110000.y", "--days", "zero");
    expect(days.code).toBe(2);
  });

  it("show prints subject, node id, kid, validity and usages", async () => {
    const file = join(nodes(), "cn.110000.bj-gov.sign.crt");
    const human = await tongban("pki", "show", file);
    expect(human.code).toBe(0);
    for (const s of ["CN=cn.110000.bj-gov", "cn.110000.bj-gov", "digitalSignature, nonRepudiation", "ed25519", "not after"]) expect(human.stdout).toContain(s);
    const result = await json("pki", "show", file);
    expect(result).toMatchObject({ type: "certificate", nodeId: "cn.110000.bj-gov", keyUsage: ["digitalSignature", "nonRepudiation"], extendedKeyUsage: [], isCa: false });
    expect(result["kid"]).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("revoke updates crl.pem so that openssl -crl_check fails for that certificate only", async () => {
    const signCert = join(nodes(), "cn.110000.bj-gov.sign.crt");
    const result = await json("pki", "revoke", "--ca", ca(), "--cert", signCert, "--reason", "keyCompromise");
    expect(result).toMatchObject({ ok: true, nodeId: "cn.110000.bj-gov", reason: "keyCompromise" });
    const crlArgs = ["-CAfile", join(ca(), "root.crt"), "-crl_check", "-CRLfile", join(ca(), "crl.pem")];
    const revoked = opensslVerify(...crlArgs, signCert);
    expect(revoked.ok).toBe(false);
    expect(revoked.output).toMatch(/certificate revoked/);
    expect(opensslVerify(...crlArgs, join(nodes(), "cn.110000.bj-gov.tls.crt")).ok).toBe(true);
    const state = JSON.parse(readFileSync(join(ca(), "ca.json"), "utf8")) as { issued: { kind: string; revoked?: { reason: string } }[] };
    expect(state.issued.find((r) => r.kind === "signing")?.revoked?.reason).toBe("keyCompromise");
    const crl = await json("pki", "show", join(ca(), "crl.pem"));
    expect(crl).toMatchObject({ type: "crl", revoked: [{ serial: result["serial"], reason: "keyCompromise" }] });
  });

  it("revoke refuses unknown reasons and certificates of another CA", async () => {
    const reason = await tongban("pki", "revoke", "--ca", ca(), "--cert", join(nodes(), "cn.110000.bj-gov.tls.crt"), "--reason", "boredom", "--json");
    expect(JSON.parse(reason.stdout)).toMatchObject({ error: { code: "USAGE" } });
    const other = join(dir, "other");
    await json("pki", "init", "--out", other, "--days", "5");
    const foreign = await tongban("pki", "revoke", "--ca", other, "--cert", join(nodes(), "cn.110000.bj-gov.tls.crt"), "--json");
    expect(JSON.parse(foreign.stdout)).toMatchObject({ error: { code: "NOT_ISSUED_BY_CA" } });
  });

  it("crl re-signs the list with the same entries and a higher number", async () => {
    const before = await json("pki", "show", join(ca(), "crl.pem"));
    const result = await json("pki", "crl", "--ca", ca());
    const crl = result["crl"] as { crlNumber: string; revoked: unknown[] };
    expect(BigInt(crl.crlNumber) > BigInt(before["crlNumber"] as string)).toBe(true);
    expect(crl.revoked).toEqual(before["revoked"]);
  });

  it("has --help for every subcommand", async () => {
    for (const sub of ["init", "issue", "revoke", "crl", "show"]) {
      const r = await tongban("pki", sub, "--help");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: tongban pki ${sub}`);
    }
  });
});
