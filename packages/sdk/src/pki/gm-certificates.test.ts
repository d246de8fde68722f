import { createPrivateKey, X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { sm2PublicKeyFromCertificate, verifySm2CertificateSignature } from "../gm/certificate.js";
import { sm2PublicKeyOf } from "../gm/key-object.js";
import { TrustStore } from "../trust/index.js";
import { createFederationRoot } from "./federation-root.js";
import { certificateKeyTypeOf, createSealCa, createSm2Ca, issueSealCertificate, issueSm2SigningCertificate } from "./gm-certificates.js";
import { describeCertificate } from "./describe-certificate.js";
import { toDer } from "./pem.js";
import type { FederationRoot } from "./types.js";

const T0 = new Date("2026-03-01T00:00:00Z");
let root: FederationRoot;

beforeAll(async () => {
  root = await createFederationRoot({ name: "Tongban Root", validityDays: 100, notBefore: T0 });
});

describe("SM2 node signing certificates", () => {
  it("carry the node id, an SM2 key and no EKU; the trust store resolves them as SM2SM3 signers but not as TLS peers", async () => {
    const c = await issueSm2SigningCertificate({ ca: root, nodeId: "cn.320509.wujiang", validityDays: 30, notBefore: T0 });
    const d = describeCertificate(c.certificatePem);
    expect(d).toMatchObject({ nodeId: "cn.320509.wujiang", keyAlgorithm: "sm2", isCa: false, extendedKeyUsage: [] });
    expect(d.keyUsage).toEqual(expect.arrayContaining(["digitalSignature", "nonRepudiation", "keyEncipherment"]));
    expect(new X509Certificate(c.certificatePem).verify(new X509Certificate(root.certificatePem).publicKey)).toBe(true);
    const store = new TrustStore({ anchor: root.certificatePem });
    store.addCertificate(c.certificatePem);
    const s = store.resolveSigner(c.kid, new Date(T0.getTime() + 86_400_000));
    expect(s.algorithm).toBe("SM2SM3");
    expect(Buffer.from(s.sm2PublicKey!)).toEqual(Buffer.from(sm2PublicKeyOf(createPrivateKey(c.privateKeyPem))!));
    expect(() => store.verifyPeerCertificate(c.certificatePem, new Date(T0.getTime() + 86_400_000))).toThrow(expect.objectContaining({ code: "TRUST_CERT_INVALID" }));
  });

  it("refuse a bad node id", async () => {
    await expect(issueSm2SigningCertificate({ ca: root, nodeId: "not a node", validityDays: 30 })).rejects.toThrow(TypeError);
  });

  it("an SM2 CA under the root signs with SM2-with-SM3, and its path length is enforced", async () => {
    const ca = await createSm2Ca({ ca: root, name: "GM CA", validityDays: 50, pathLength: 0, notBefore: T0 });
    const sub = await createSm2Ca({ ca, name: "GM Sub CA", validityDays: 50, notBefore: T0 });
    const leaf = await issueSm2SigningCertificate({ ca: sub, nodeId: "cn.330421.jiashan", validityDays: 30, notBefore: T0 });
    expect(verifySm2CertificateSignature(toDer(sub.certificatePem), toDer(ca.certificatePem))).toBe(true);
    const store = new TrustStore({ anchor: root.certificatePem });
    for (const c of [ca, sub, leaf]) store.addCertificate(c.certificatePem);
    expect(() => store.resolveSigner(leaf.kid, new Date(T0.getTime() + 86_400_000))).toThrow(expect.objectContaining({ code: "TRUST_UNTRUSTED_CHAIN" }));
  });
});

describe("seal certificates", () => {
  it("an SM2 seal CA under the federation root issues SM2 maker and signer certificates", async () => {
    const ca = await createSealCa({ ca: root, name: "Tongban Seal CA", keyType: "SM2", validityDays: 90, notBefore: T0 });
    expect(ca.keyType).toBe("SM2");
    expect(describeCertificate(ca.certificatePem)).toMatchObject({ isCa: true, issuer: "CN=Tongban Root", keyAlgorithm: "sm2" });
    for (const role of ["maker", "signer"] as const) {
      const c = await issueSealCertificate({ ca, role, name: `某市市场监督管理局 ${role}`, organization: "某市", keyType: "SM2", validityDays: 30, notBefore: T0 });
      expect(verifySm2CertificateSignature(toDer(c.certificatePem), toDer(ca.certificatePem))).toBe(true);
      expect(sm2PublicKeyFromCertificate(toDer(c.certificatePem))).toHaveLength(65);
      expect(describeCertificate(c.certificatePem).subject).toContain("某市市场监督管理局");
      expect(certificateKeyTypeOf(createPrivateKey(c.privateKeyPem))).toBe("SM2");
    }
  });

  it("a P-256 or Ed25519 seal CA issues P-256 and Ed25519 certificates for the JOSE profile", async () => {
    for (const caType of ["ES256", "EdDSA"] as const) {
      const ca = await createSealCa({ name: "Seal CA", keyType: caType, validityDays: 90, notBefore: T0 });
      for (const keyType of ["ES256", "EdDSA"] as const) {
        const c = await issueSealCertificate({ ca, role: "signer", name: "签章人", keyType, validityDays: 30, notBefore: T0 });
        const x = new X509Certificate(c.certificatePem);
        expect(x.checkIssued(new X509Certificate(ca.certificatePem))).toBe(true);
        expect(x.verify(new X509Certificate(ca.certificatePem).publicKey)).toBe(true);
        expect(certificateKeyTypeOf(createPrivateKey(c.privateKeyPem))).toBe(keyType);
      }
    }
  });

  it("refuses to mix key families between the seal CA and its certificates", async () => {
    const sm2 = await createSealCa({ name: "SM2 Seal CA", keyType: "SM2", validityDays: 90 });
    const ec = await createSealCa({ name: "EC Seal CA", keyType: "ES256", validityDays: 90 });
    await expect(issueSealCertificate({ ca: sm2, role: "maker", name: "x", keyType: "ES256", validityDays: 1 })).rejects.toThrow(TypeError);
    await expect(issueSealCertificate({ ca: ec, role: "maker", name: "x", keyType: "SM2", validityDays: 1 })).rejects.toThrow(TypeError);
    await expect(issueSealCertificate({ ca: ec, role: "boss" as "maker", name: "x", keyType: "ES256", validityDays: 1 })).rejects.toThrow(TypeError);
  });
});
