import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createFederationRoot,
  exportSm2PrivateKeyPkcs8,
  generateSm2KeyPair,
  issueSm2Certificate,
} from "@tongban/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../program.js";

/** `<repo>/../shared/interop/ofdrw/`, from packages/cli/src/commands/. */
const OFDRW = fileURLToPath(new URL("../../../../../shared/interop/ofdrw/", import.meta.url));

function ofdrw(name: string): string {
  const path = join(OFDRW, name);
  if (!existsSync(path)) throw new Error(`ofdrw interop file missing: expected ${name} in ../shared/interop/ofdrw/ next to the repository root`);
  return path;
}

async function tongban(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await run(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

const pem = (der: Uint8Array, label: string) =>
  `-----BEGIN ${label}-----\n${(Buffer.from(der).toString("base64").match(/.{1,64}/g) ?? []).join("\n")}\n-----END ${label}-----\n`;

// a 1×1 PNG
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0a0b0e70000000049454e44ae426082",
  "hex",
);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tongban-seal-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("tongban seal verify on ofdrw files", () => {
  it("prints the step table and exits 0 for valid-at-signing-time", async () => {
    const r = await tongban("seal", "verify", ofdrw("SignedValueV4.dat"), "--now", "2026-01-01T00:00:00Z");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("seal-maker-signature");
    expect(r.stdout).toMatch(/signature-value\s*│\s*pass/);
    expect(r.stdout).toMatch(/document-hash\s*│\s*not-checked/);
    expect(r.stdout).toContain("verdict: VALID AT SIGNING TIME");
  });

  it("--json prints the report", async () => {
    const r = await tongban("seal", "verify", ofdrw("SignedValueV4.dat"), "--now", "2026-01-01T00:00:00Z", "--json");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { verdict: string; format: string; steps: { id: string; status: string }[] };
    expect(report.verdict).toBe("valid-at-signing-time");
    expect(report.format).toBe("gbt38540-v4");
    expect(report.steps.find((s) => s.id === "seal-valid-now")?.status).toBe("fail");
  });

  it("exits 1 when the given document is not the signed one", async () => {
    const doc = join(dir, "other.xml");
    await writeFile(doc, "<Signature/>");
    const r = await tongban("seal", "verify", ofdrw("SignedValueV4.dat"), "--document", doc, "--now", "2026-01-01T00:00:00Z");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/document-hash\s*│\s*fail/);
    expect(r.stdout).toContain("verdict: INVALID");
  });

  it("verifies a seal file on its own (v1 layout)", async () => {
    const r = await tongban("seal", "verify", ofdrw("UserV1.esl"), "--now", "2021-01-01T00:00:00Z", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: "seal", format: "gmt0031-v1", verdict: "valid" });
  });

  it("reports undecodable input as SEAL_MALFORMED", async () => {
    const bad = join(dir, "bad.dat");
    await writeFile(bad, "not a seal");
    const r = await tongban("seal", "verify", bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("SEAL_MALFORMED");
  });
});

describe("tongban seal create / sign / verify", () => {
  it("GB/T 38540 with SM2 keys: all steps pass", async () => {
    const notBefore = new Date(Date.now() - 86_400_000);
    const notAfter = new Date(Date.now() + 365 * 86_400_000);
    const ca = generateSm2KeyPair();
    const caCert = issueSm2Certificate({ subject: [["CN", "Seal CA"]], subjectPublicKey: ca.publicKey, selfSignedPrivateKey: ca.privateKey, isCa: true, notBefore, notAfter });
    const files: Record<string, string> = {};
    for (const who of ["maker", "signer"]) {
      const kp = generateSm2KeyPair();
      const cert = issueSm2Certificate({ subject: [["CN", who]], subjectPublicKey: kp.publicKey, issuer: { certDer: caCert, privateKey: ca.privateKey }, notBefore, notAfter });
      files[`${who}.crt`] = pem(cert, "CERTIFICATE");
      files[`${who}.key`] = pem(exportSm2PrivateKeyPkcs8(kp.privateKey), "PRIVATE KEY");
    }
    files["ca.crt"] = pem(caCert, "CERTIFICATE");
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    await writeFile(join(dir, "seal.png"), PNG);
    await writeFile(join(dir, "doc.ofd"), "准予行政许可决定书");
    const p = (f: string) => join(dir, f);

    const created = await tongban("seal", "create", "--maker-key", p("maker.key"), "--maker-cert", p("maker.crt"), "--signer-cert", p("signer.crt"),
      "--name", "某市市场监督管理局", "--picture", p("seal.png"), "--valid-from", notBefore.toISOString(), "--valid-to", notAfter.toISOString(), "--out", p("seal.esl"));
    expect(created.code, created.stderr).toBe(0);
    const signed = await tongban("seal", "sign", p("doc.ofd"), "--seal", p("seal.esl"), "--key", p("signer.key"), "--cert", p("signer.crt"), "--out", p("sig.dat"));
    expect(signed.code, signed.stderr).toBe(0);
    expect((await readFile(p("sig.dat")))[0]).toBe(0x30);

    const r = await tongban("seal", "verify", p("sig.dat"), "--document", p("doc.ofd"), "--trusted-maker", p("ca.crt"), "--json");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { verdict: string; steps: { id: string; status: string }[] };
    expect(report.verdict).toBe("valid");
    expect(report.steps.filter((s) => s.status !== "pass").map((s) => s.id)).toEqual(["revocation"]);

    // the signer key does not belong to the maker certificate: a usage error, nothing written
    const wrong = await tongban("seal", "create", "--maker-key", p("signer.key"), "--maker-cert", p("maker.crt"), "--signer-cert", p("signer.crt"),
      "--name", "x", "--picture", p("seal.png"), "--valid-from", notBefore.toISOString(), "--valid-to", notAfter.toISOString(), "--out", p("bad.esl"));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("USAGE");
  });

  it("JOSE profile with ES256 keys: all steps pass", async () => {
    const maker = await createFederationRoot({ name: "Seal maker", validityDays: 30 });
    const signer = await createFederationRoot({ name: "Signer", validityDays: 30 });
    const p = (f: string) => join(dir, f);
    await writeFile(p("jmaker.crt"), maker.certificatePem);
    await writeFile(p("jmaker.key"), maker.privateKeyPem);
    await writeFile(p("jsigner.crt"), signer.certificatePem);
    await writeFile(p("jsigner.key"), signer.privateKeyPem);
    await writeFile(p("seal.png"), PNG);
    await writeFile(p("doc.txt"), "hello");
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const created = await tongban("seal", "create", "--format", "jose", "--maker-key", p("jmaker.key"), "--maker-cert", p("jmaker.crt"),
      "--signer-cert", p("jsigner.crt"), "--name", "JOSE 印章", "--picture", p("seal.png"), "--valid-from", from, "--valid-to", to, "--out", p("seal.jws"));
    expect(created.code, created.stderr).toBe(0);
    const signed = await tongban("seal", "sign", p("doc.txt"), "--seal", p("seal.jws"), "--key", p("jsigner.key"), "--cert", p("jsigner.crt"), "--out", p("sig.jws"));
    expect(signed.code, signed.stderr).toBe(0);
    const r = await tongban("seal", "verify", p("sig.jws"), "--document", p("doc.txt"), "--trusted-maker", p("jmaker.crt"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("(jose)");
    expect(r.stdout).toContain("verdict: VALID");
  });
});
