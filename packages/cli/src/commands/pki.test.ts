import { spawnSync } from "node:child_process";
import { X509Certificate, createHash, createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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

describe("tongban pki seal certificates and SM2 node certificates", () => {
  const fed = (): string => join(dir, "seal-fed");
  // a 1×1 PNG
  const PNG = Buffer.from(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0a0b0e70000000049454e44ae426082",
    "hex",
  );

  beforeAll(async () => {
    await json("pki", "init", "--out", fed(), "--name", "Seal Test Federation Root", "--days", "30");
    writeFileSync(join(dir, "seal.png"), PNG);
    writeFileSync(join(dir, "decision.ofd"), "准予行政许可决定书");
  });

  it("issue --alg SM2SM3 gives an SM2 signing certificate for a gm-v1 node, chained to the root", async () => {
    const out = join(dir, "gm-node");
    const result = await json("pki", "issue", "--ca", fed(), "--node-id", "cn.320509.wujiang", "--alg", "SM2SM3", "--out", out);
    expect(result).toMatchObject({ tls: { algorithm: "ES256" }, signing: { algorithm: "SM2SM3" } });
    const shown = await json("pki", "show", join(out, "cn.320509.wujiang.sign.crt"));
    expect(shown).toMatchObject({ nodeId: "cn.320509.wujiang", keyAlgorithm: "sm2", extendedKeyUsage: [] });
    expect(shown["keyUsage"]).toEqual(expect.arrayContaining(["digitalSignature", "keyEncipherment"]));
    const r = opensslVerify("-CAfile", join(fed(), "root.crt"), join(out, "cn.320509.wujiang.sign.crt"));
    expect(r.ok, r.output).toBe(true);
    expect(mode(join(out, "cn.320509.wujiang.sign.key"))).toBe(0o600);
  });

  it("seal-ca / seal-maker / seal-signer (SM2) make certificates that tongban seal create, sign and verify accept", async () => {
    const sealCa = join(dir, "seal-ca");
    const ca = await json("pki", "seal-ca", "--ca", fed(), "--out", sealCa, "--alg", "SM2", "--name", "Tongban Seal CA", "--org", "通办联盟");
    expect(ca).toMatchObject({ ok: true, keyType: "SM2", issuer: "CN=Seal Test Federation Root", files: { cert: "seal-ca.crt", key: "seal-ca.key", state: "seal-ca.json" } });
    expect(mode(join(sealCa, "seal-ca.key"))).toBe(0o600);
    const fedState = JSON.parse(readFileSync(join(fed(), "ca.json"), "utf8")) as { issued: { kind: string; serial: string }[] };
    expect(fedState.issued.find((r) => r.kind === "seal-ca")?.serial).toBe(ca["serial"]);

    const certs = join(dir, "seal-certs");
    const maker = await json("pki", "seal-maker", "--seal-ca", sealCa, "--name", "某市市场监督管理局", "--out", certs);
    expect(maker).toMatchObject({ role: "maker", keyType: "SM2", file: "seal-maker.crt", keyFile: "seal-maker.key" });
    const signer = await json("pki", "seal-signer", "--seal-ca", sealCa, "--name", "张三", "--alg", "SM2", "--out", certs);
    expect(signer).toMatchObject({ role: "signer", keyType: "SM2", file: "seal-signer.crt" });
    expect(mode(join(certs, "seal-signer.key"))).toBe(0o600);
    const state = JSON.parse(readFileSync(join(sealCa, "seal-ca.json"), "utf8")) as { issued: { role: string; kid: string }[] };
    expect(state.issued.map((r) => r.role)).toEqual(["maker", "signer"]);

    const p = (f: string) => join(certs, f);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const created = await tongban("seal", "create", "--maker-key", p("seal-maker.key"), "--maker-cert", p("seal-maker.crt"), "--signer-cert", p("seal-signer.crt"),
      "--name", "某市市场监督管理局行政许可专用章", "--picture", join(dir, "seal.png"), "--valid-from", from, "--valid-to", to, "--out", p("seal.esl"));
    expect(created.code, created.stderr).toBe(0);
    const signed = await tongban("seal", "sign", join(dir, "decision.ofd"), "--seal", p("seal.esl"), "--key", p("seal-signer.key"), "--cert", p("seal-signer.crt"), "--out", p("sig.dat"));
    expect(signed.code, signed.stderr).toBe(0);
    const r = await tongban("seal", "verify", p("sig.dat"), "--document", join(dir, "decision.ofd"), "--trusted-maker", join(sealCa, "seal-ca.crt"), "--json");
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { verdict: string; format: string; steps: { id: string; status: string }[] };
    expect(report).toMatchObject({ verdict: "valid", format: "gbt38540-v4" });
    expect(report.steps.filter((s) => s.status !== "pass").map((s) => s.id)).toEqual(["revocation"]);
    // a seal CA from elsewhere is not trusted
    const other = join(dir, "other-seal-ca");
    await json("pki", "seal-ca", "--out", other, "--alg", "SM2");
    const untrusted = await tongban("seal", "verify", p("sig.dat"), "--document", join(dir, "decision.ofd"), "--trusted-maker", join(other, "seal-ca.crt"));
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout).toMatch(/seal-maker-chain\s*│\s*fail/);
  });

  it("an ES256 seal CA issues ES256 and EdDSA certificates for JOSE seals", async () => {
    const sealCa = join(dir, "jose-seal-ca");
    await json("pki", "seal-ca", "--ca", fed(), "--out", sealCa, "--alg", "ES256");
    const certs = join(dir, "jose-seal-certs");
    expect(await json("pki", "seal-maker", "--seal-ca", sealCa, "--name", "JOSE maker", "--out", certs)).toMatchObject({ keyType: "ES256" });
    expect(await json("pki", "seal-signer", "--seal-ca", sealCa, "--name", "JOSE signer", "--alg", "EdDSA", "--out", certs, "--file", "signer-ed")).toMatchObject({ keyType: "EdDSA", file: "signer-ed.crt" });
    expect(createPrivateKey(readFileSync(join(certs, "signer-ed.key"))).asymmetricKeyType).toBe("ed25519");
    const p = (f: string) => join(certs, f);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const created = await tongban("seal", "create", "--format", "jose", "--maker-key", p("seal-maker.key"), "--maker-cert", p("seal-maker.crt"), "--signer-cert", p("signer-ed.crt"),
      "--name", "JOSE 印章", "--picture", join(dir, "seal.png"), "--valid-from", from, "--valid-to", to, "--out", p("seal.jws"));
    expect(created.code, created.stderr).toBe(0);
    const signed = await tongban("seal", "sign", join(dir, "decision.ofd"), "--seal", p("seal.jws"), "--key", p("signer-ed.key"), "--cert", p("signer-ed.crt"), "--out", p("sig.jws"));
    expect(signed.code, signed.stderr).toBe(0);
    const r = await tongban("seal", "verify", p("sig.jws"), "--document", join(dir, "decision.ofd"), "--trusted-maker", join(sealCa, "seal-ca.crt"), "--json");
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { verdict: string; steps: { id: string; status: string }[] };
    expect(report.verdict).toBe("valid");
    expect(report.steps.find((s) => s.id === "seal-maker-chain")?.status).toBe("pass");
  });

  it("refuses mixed key families, unknown algorithms and existing files", async () => {
    const sealCa = join(dir, "seal-ca");
    const mixed = await tongban("pki", "seal-maker", "--seal-ca", sealCa, "--name", "x", "--alg", "ES256", "--out", join(dir, "mixed"), "--json");
    expect(mixed.code).toBe(2);
    expect(JSON.parse(mixed.stdout)).toMatchObject({ ok: false, error: { code: "USAGE" } });
    const alg = await tongban("pki", "seal-ca", "--out", join(dir, "rsa"), "--alg", "RS256");
    expect(alg.code).toBe(2);
    const again = await tongban("pki", "seal-maker", "--seal-ca", sealCa, "--name", "x", "--out", join(dir, "seal-certs"), "--json");
    expect(JSON.parse(again.stdout)).toMatchObject({ error: { code: "FILE_EXISTS" } });
    for (const sub of ["seal-ca", "seal-maker", "seal-signer"]) {
      const r = await tongban("pki", sub, "--help");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: tongban pki ${sub}`);
    }
  });
});
