import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCrl, revokeCertificate } from "./crl.js";
import { createFederationRoot } from "./federation-root.js";
import { createIntermediateCa } from "./intermediate-ca.js";
import { issueNodeCertificates } from "./node-certificates.js";
import type { FederationRoot, NodeCertificates } from "./types.js";

// Interoperability check: what this module issues must satisfy OpenSSL's own
// chain, purpose and CRL checks, not only our own reading of X.509.
let dir: string;
let root: FederationRoot;
let node: NodeCertificates;

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function verify(...args: string[]): { ok: boolean; output: string } {
  const r = spawnSync("openssl", ["verify", "-x509_strict", ...args], { encoding: "utf8" });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-pki-"));
  root = await createFederationRoot({ name: "Tongban OpenSSL Root", validityDays: 30 });
  node = await issueNodeCertificates({ ca: root, nodeId: "cn.110000.bj-gov", signingAlgorithm: "EdDSA", validityDays: 10, dnsNames: ["bj.example"] });
  file("root.pem", root.certificatePem);
  file("tls.pem", node.tls.certificatePem);
  file("sign.pem", node.signing.certificatePem);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("openssl verify", () => {
  it("accepts the root and both node certificates", () => {
    const ca = join(dir, "root.pem");
    expect(verify("-CAfile", ca, ca)).toMatchObject({ ok: true });
    expect(verify("-CAfile", ca, join(dir, "tls.pem"))).toMatchObject({ ok: true });
    expect(verify("-CAfile", ca, join(dir, "sign.pem"))).toMatchObject({ ok: true });
  });

  // OpenSSL lets a certificate without EKU serve any purpose, so keeping the
  // signing certificate out of TLS is the trust store's job (tested there).
  it("accepts the TLS certificate for server and client use", () => {
    const ca = join(dir, "root.pem");
    expect(verify("-CAfile", ca, "-purpose", "sslserver", join(dir, "tls.pem"))).toMatchObject({ ok: true });
    expect(verify("-CAfile", ca, "-purpose", "sslclient", join(dir, "tls.pem"))).toMatchObject({ ok: true });
  });

  it("rejects a certificate from another root", async () => {
    const other = await createFederationRoot({ name: "Tongban OpenSSL Root", validityDays: 30 });
    const r = verify("-CAfile", file("other.pem", other.certificatePem), join(dir, "tls.pem"));
    expect(r.ok).toBe(false);
  });

  it("passes -crl_check with an empty CRL and fails once the certificate is revoked", async () => {
    const now = new Date();
    const nextUpdate = new Date(now.getTime() + 86_400_000);
    const ca = join(dir, "root.pem");
    const empty = await createCrl({ ca: root, revoked: [], thisUpdate: now, nextUpdate });
    expect(verify("-CAfile", ca, "-crl_check", "-CRLfile", file("empty.crl", empty), join(dir, "sign.pem"))).toMatchObject({ ok: true });
    const revoked = await revokeCertificate({ ca: root, crl: empty, serial: node.signing.serial, reason: "keyCompromise", nextUpdate });
    const crlFile = file("revoked.crl", revoked);
    const r = verify("-CAfile", ca, "-crl_check", "-CRLfile", crlFile, join(dir, "sign.pem"));
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/certificate revoked/);
    // Only the revoked serial is affected.
    expect(verify("-CAfile", ca, "-crl_check", "-CRLfile", crlFile, join(dir, "tls.pem"))).toMatchObject({ ok: true });
  });

  it("verifies a node certificate through an intermediate CA", async () => {
    const mid = await createIntermediateCa({ ca: root, name: "Tongban Region CA", validityDays: 20 });
    const n = await issueNodeCertificates({ ca: mid, nodeId: "cn.440000.gd", signingAlgorithm: "ES256", validityDays: 5 });
    const r = verify("-CAfile", join(dir, "root.pem"), "-untrusted", file("mid.pem", mid.certificatePem), file("gd.pem", n.tls.certificatePem));
    expect(r).toMatchObject({ ok: true });
  });
});
