import { X509Certificate, createHash, createPrivateKey, createPublicKey } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { createCrl, readCrl, revokeCertificate } from "./crl.js";
import { describeCertificate } from "./describe-certificate.js";
import { createFederationRoot } from "./federation-root.js";
import { createIntermediateCa } from "./intermediate-ca.js";
import { keyIdOf } from "./key-id.js";
import { issueNodeCertificates } from "./node-certificates.js";
import { nodeIdOf } from "./node-id.js";
import type { FederationRoot, NodeCertificates } from "./types.js";

let root: FederationRoot;
let es: NodeCertificates;
let ed: NodeCertificates;

beforeAll(async () => {
  root = await createFederationRoot({ name: "Tongban Test Root", validityDays: 30 });
  es = await issueNodeCertificates({ ca: root, nodeId: "cn.110000.bj-gov", signingAlgorithm: "ES256", validityDays: 10, dnsNames: ["node.bj.example"], ipAddresses: ["10.0.0.7", "::1"] });
  ed = await issueNodeCertificates({ ca: root, nodeId: "cn.310000.sh-gov.intake", signingAlgorithm: "EdDSA", validityDays: 10 });
});

describe("createFederationRoot", () => {
  it("is a self-signed P-256 CA with CA usages", () => {
    const cert = new X509Certificate(root.certificatePem);
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    const d = describeCertificate(root.certificatePem);
    expect(d.subject).toBe("CN=Tongban Test Root");
    expect(d.isCa).toBe(true);
    expect(d.keyUsage).toEqual(["keyCertSign", "cRLSign"]);
    expect(d.nodeId).toBeUndefined();
    expect(d.serial).toBe(root.serial);
    // The private key belongs to the certificate.
    expect(createPublicKey(createPrivateKey(root.privateKeyPem)).export({ format: "der", type: "spki" })).toEqual(
      cert.publicKey.export({ format: "der", type: "spki" }),
    );
  });

  it("spans exactly validityDays from notBefore", async () => {
    const at = new Date("2030-01-01T00:00:00.700Z");
    const r = await createFederationRoot({ name: "R", validityDays: 2, notBefore: at });
    const d = describeCertificate(r.certificatePem);
    expect(d.notBefore.toISOString()).toBe("2030-01-01T00:00:00.000Z");
    expect(d.notAfter.toISOString()).toBe("2030-01-03T00:00:00.000Z");
    expect(r.notAfter).toEqual(d.notAfter);
  });

  it("rejects bad arguments with TypeError", async () => {
    await expect(createFederationRoot({ name: "", validityDays: 1 })).rejects.toThrow(TypeError);
    await expect(createFederationRoot({ name: "R", validityDays: 0 })).rejects.toThrow(TypeError);
  });
});

describe("issueNodeCertificates", () => {
  it("binds both certificates to the node id via CN and URI SAN", () => {
    for (const c of [es.tls, es.signing]) {
      expect(nodeIdOf(c.certificatePem)).toBe("cn.110000.bj-gov");
      expect(describeCertificate(c.certificatePem).subject).toBe("CN=cn.110000.bj-gov");
    }
    expect(nodeIdOf(ed.signing.certificatePem)).toBe("cn.310000.sh-gov.intake");
  });

  it("chains to the root with matching key identifiers", () => {
    const ca = new X509Certificate(root.certificatePem);
    for (const c of [es.tls, es.signing, ed.tls, ed.signing]) {
      const cert = new X509Certificate(c.certificatePem);
      expect(cert.ca).toBe(false);
      expect(cert.checkIssued(ca)).toBe(true);
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(BigInt(`0x${cert.serialNumber}`) > 0n).toBe(true);
      expect(cert.serialNumber.toLowerCase()).toBe(c.serial);
    }
  });

  it("gives the TLS certificate a P-256 key, TLS usages and the SANs", () => {
    const d = describeCertificate(es.tls.certificatePem);
    expect(d.keyAlgorithm).toBe("ec-P-256");
    expect(d.keyUsage).toEqual(["digitalSignature", "keyAgreement"]);
    expect(d.extendedKeyUsage).toEqual(["serverAuth", "clientAuth"]);
    expect(d.dnsNames).toEqual(["localhost", "node.bj.example"]);
    expect(d.ipAddresses).toEqual(["127.0.0.1", "10.0.0.7", "::1"]);
    expect(describeCertificate(ed.tls.certificatePem).dnsNames).toEqual(["localhost"]);
  });

  it("gives the signing certificate the requested algorithm and no TLS purpose", () => {
    const esSign = describeCertificate(es.signing.certificatePem);
    expect(esSign.keyAlgorithm).toBe("ec-P-256");
    expect(esSign.keyUsage).toEqual(["digitalSignature", "nonRepudiation"]);
    expect(esSign.extendedKeyUsage).toEqual([]);
    expect(esSign.dnsNames).toEqual([]);
    expect(describeCertificate(ed.signing.certificatePem).keyAlgorithm).toBe("ed25519");
    expect(createPrivateKey(ed.signing.privateKeyPem).asymmetricKeyType).toBe("ed25519");
  });

  it("computes kid as base64url(SHA-256(DER))", () => {
    const der = new X509Certificate(es.signing.certificatePem).raw;
    const expected = createHash("sha256").update(der).digest("base64url");
    expect(es.signing.kid).toBe(expected);
    expect(keyIdOf(es.signing.certificatePem)).toBe(expected);
    expect(keyIdOf(new Uint8Array(der))).toBe(expected);
    expect(es.signing.kid).not.toBe(es.tls.kid);
  });

  it("refuses malformed node ids, DNS names and IPs", async () => {
    const base = { ca: root, signingAlgorithm: "ES256", validityDays: 1 } as const;
    for (const nodeId of ["CN.110000.x", "cn.11000.x", "cn.110000.", "cn.110000.a.b.c", "cn.110000.a--b", "urn:tongban:node:cn.110000.x"])
      await expect(issueNodeCertificates({ ...base, nodeId })).rejects.toThrow(TypeError);
    await expect(issueNodeCertificates({ ...base, nodeId: "cn.110000.x", ipAddresses: ["300.1.1.1"] })).rejects.toThrow(TypeError);
    await expect(issueNodeCertificates({ ...base, nodeId: "cn.110000.x", dnsNames: ["bad name"] })).rejects.toThrow(TypeError);
  });

  it("issues under an intermediate CA", async () => {
    const mid = await createIntermediateCa({ ca: root, name: "Region CA", validityDays: 10 });
    const midCert = new X509Certificate(mid.certificatePem);
    expect(midCert.ca).toBe(true);
    expect(midCert.checkIssued(new X509Certificate(root.certificatePem))).toBe(true);
    const n = await issueNodeCertificates({ ca: mid, nodeId: "cn.440000.gd", signingAlgorithm: "EdDSA", validityDays: 5 });
    expect(new X509Certificate(n.signing.certificatePem).verify(midCert.publicKey)).toBe(true);
  });
});

describe("CRL", () => {
  it("round-trips entries, reasons and numbers", async () => {
    const thisUpdate = new Date("2026-01-01T00:00:00Z");
    const nextUpdate = new Date("2026-01-08T00:00:00Z");
    const pem = await createCrl({
      ca: root,
      revoked: [{ serial: es.signing.serial, date: thisUpdate, reason: "keyCompromise" }, { serial: "00ff", date: thisUpdate }],
      thisUpdate,
      nextUpdate,
      crlNumber: 7n,
    });
    expect(pem).toMatch(/^-----BEGIN X509 CRL-----/);
    const info = readCrl(pem);
    expect(info.issuer).toBe("CN=Tongban Test Root");
    expect(info.thisUpdate).toEqual(thisUpdate);
    expect(info.nextUpdate).toEqual(nextUpdate);
    expect(info.crlNumber).toBe(7n);
    expect(info.revoked).toEqual([
      { serial: es.signing.serial, date: thisUpdate, reason: "keyCompromise" },
      { serial: "ff", date: thisUpdate },
    ]);
  });

  it("revokeCertificate adds to the current list and bumps the number", async () => {
    const t0 = new Date("2026-01-01T00:00:00Z");
    const empty = await createCrl({ ca: root, revoked: [], thisUpdate: t0, nextUpdate: new Date("2026-01-02T00:00:00Z"), crlNumber: 5_000_000_000n });
    const one = await revokeCertificate({ ca: root, crl: empty, serial: es.tls.serial, reason: "superseded", date: t0, nextUpdate: new Date("2026-01-02T00:00:00Z") });
    const two = await revokeCertificate({ ca: root, crl: one, serial: ed.tls.serial, date: t0, nextUpdate: new Date("2026-01-02T00:00:00Z") });
    const again = await revokeCertificate({ ca: root, crl: two, serial: es.tls.serial, date: new Date("2026-01-01T00:00:05Z"), nextUpdate: new Date("2026-01-02T00:00:00Z") });
    expect(readCrl(one).crlNumber).toBe(5_000_000_001n);
    expect(readCrl(two).revoked.map((r) => r.serial)).toEqual([es.tls.serial, ed.tls.serial]);
    expect(readCrl(again).revoked).toHaveLength(2);
    expect(readCrl(again).revoked[0]?.reason).toBe("superseded");
    expect(readCrl(again).crlNumber).toBe(5_000_000_003n);
  });

  it("rejects a nextUpdate not after thisUpdate and unknown reasons", async () => {
    const t = new Date();
    await expect(createCrl({ ca: root, revoked: [], thisUpdate: t, nextUpdate: t })).rejects.toThrow(TypeError);
    await expect(
      createCrl({ ca: root, revoked: [{ serial: "01", date: t, reason: "because" as never }], thisUpdate: t, nextUpdate: new Date(t.getTime() + 1000) }),
    ).rejects.toThrow(TypeError);
    expect(() => readCrl("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")).toThrow(TypeError);
  });
});
