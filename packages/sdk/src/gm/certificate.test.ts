import { describe, expect, it } from "vitest";
import { readOfdrw, pemToDer } from "../seal/testdata/ofdrw.js";
import { parseCertificate, sm2PublicKeyFromCertificate, verifySm2CertificateSignature } from "./certificate.js";
import { toHex } from "./hex.js";
import { issueSm2Certificate } from "./issue-certificate.js";
import { GM_OIDS } from "./oids.js";
import { exportSm2PrivateKeyPkcs8, importSm2PrivateKey } from "./sm2-key-encoding.js";
import { generateSm2KeyPair } from "./sm2-keys.js";

const notBefore = new Date("2026-01-01T00:00:00Z");
const notAfter = new Date("2028-01-01T00:00:00Z");

describe("SM2 certificates", () => {
  it("reads the SM2 public key out of the ofdrw sign_cert.pem", () => {
    const der = pemToDer(readOfdrw("sign_cert.pem"));
    const info = parseCertificate(der);
    expect(info.publicKeyAlgorithm).toBe(GM_OIDS.ecPublicKey);
    expect(info.publicKeyCurve).toBe(GM_OIDS.sm2p256v1);
    expect(info.signatureAlgorithm).toBe(GM_OIDS.sm2WithSm3);
    expect(info.subject).toContain("CN=Test Certificate");
    expect(info.notAfter.toISOString()).toBe("2023-07-29T11:37:34.000Z");
    expect(toHex(sm2PublicKeyFromCertificate(der))).toMatch(/^0488a463449258a5c3e5/);
  });

  it("issues a CA and a leaf that verify against their issuer, and not otherwise", () => {
    const ca = generateSm2KeyPair();
    const caCert = issueSm2Certificate({
      subject: [["C", "CN"], ["O", "通办"], ["CN", "Seal CA"]],
      subjectPublicKey: ca.publicKey,
      selfSignedPrivateKey: ca.privateKey,
      isCa: true,
      notBefore,
      notAfter,
    });
    const leafKey = generateSm2KeyPair();
    const leaf = issueSm2Certificate({
      subject: [["CN", "某市市场监督管理局"]],
      subjectPublicKey: leafKey.publicKey,
      issuer: { certDer: caCert, privateKey: ca.privateKey },
      notBefore,
      notAfter,
    });
    expect(verifySm2CertificateSignature(caCert, caCert)).toBe(true);
    expect(verifySm2CertificateSignature(leaf, caCert)).toBe(true);
    expect(verifySm2CertificateSignature(leaf, leaf)).toBe(false);
    const info = parseCertificate(leaf);
    expect(info.issuer).toBe("C=CN, O=通办, CN=Seal CA");
    expect(info.subject).toBe("CN=某市市场监督管理局");
    expect(toHex(sm2PublicKeyFromCertificate(leaf))).toBe(toHex(leafKey.publicKey));
    expect(info.notBefore.toISOString()).toBe(notBefore.toISOString());
    // tamper with one byte of the TBS (inside the subject name)
    const tampered = Uint8Array.from(leaf);
    const at = toHex(leaf).indexOf(toHex(new TextEncoder().encode("某市"))) / 2;
    tampered[at] = (tampered[at] ?? 0) ^ 1;
    expect(verifySm2CertificateSignature(tampered, caCert)).toBe(false);
  });

  it("refuses non-certificates with TRUST_CERT_INVALID", () => {
    expect(() => parseCertificate(new Uint8Array([1, 2, 3]))).toThrow(expect.objectContaining({ code: "TRUST_CERT_INVALID" }));
  });

  it("PKCS#8 export and import round-trip", () => {
    const kp = generateSm2KeyPair();
    const back = importSm2PrivateKey(exportSm2PrivateKeyPkcs8(kp.privateKey));
    expect(toHex(back.privateKey)).toBe(toHex(kp.privateKey));
    expect(toHex(back.publicKey)).toBe(toHex(kp.publicKey));
  });
});
