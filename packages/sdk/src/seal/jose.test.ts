import { X509Certificate as NodeX509, generateKeyPairSync, webcrypto, type KeyObject } from "node:crypto";
import { PeculiarCertificate, X509CertificateGenerator, subtleProvider } from "../pki/x509-library.js";
import { describe, expect, it } from "vitest";
import { createJoseSeal, signDocumentJose } from "./jose-profile.js";
import type { SealStepId, SealVerificationReport } from "./report.js";
import { PNG } from "./testdata/sm2-fixtures.js";
import { verifySeal, verifySealSignature } from "./verify.js";

interface Party {
  readonly certDer: Uint8Array;
  readonly privateKey: KeyObject;
}

const VALID_START = new Date("2026-06-01T00:00:00Z");
const VALID_END = new Date("2027-06-01T00:00:00Z");
const SIGNED_AT = new Date("2027-01-15T08:30:00Z");
const NOW = new Date("2027-01-16T00:00:00Z");
const document = new TextEncoder().encode("准予行政许可决定书");

/** Issues a certificate for a node:crypto key pair with @peculiar/x509 (P-256 or Ed25519). */
async function issue(
  name: string,
  kind: "ec" | "ed25519",
  issuer?: { cert: PeculiarCertificate; key: webcrypto.CryptoKey },
  notAfter = new Date("2028-01-01T00:00:00Z"),
): Promise<Party & { cert: PeculiarCertificate; key: webcrypto.CryptoKey }> {
  const pair = kind === "ec" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("ed25519");
  const alg = kind === "ec" ? { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } : { name: "Ed25519" };
  const keyAlg = kind === "ec" ? { name: "ECDSA", namedCurve: "P-256" } : { name: "Ed25519" };
  const publicKey = await webcrypto.subtle.importKey("spki", pair.publicKey.export({ format: "der", type: "spki" }), keyAlg, true, ["verify"]);
  const privateKey = await webcrypto.subtle.importKey("pkcs8", pair.privateKey.export({ format: "der", type: "pkcs8" }), keyAlg, true, ["sign"]);
  const cert = await X509CertificateGenerator.create({
    serialNumber: Math.floor(Math.random() * 1e9).toString(16).padStart(8, "1"),
    subject: `CN=${name}`,
    issuer: issuer?.cert.subject ?? `CN=${name}`,
    notBefore: new Date("2026-01-01T00:00:00Z"),
    notAfter,
    signingAlgorithm: alg,
    publicKey,
    signingKey: issuer?.key ?? privateKey,
  }, subtleProvider);
  return { certDer: new Uint8Array(cert.rawData), privateKey: pair.privateKey, cert, key: privateKey };
}

const statuses = (r: SealVerificationReport): Partial<Record<SealStepId, string>> => Object.fromEntries(r.steps.map((s) => [s.id, s.status]));

describe.each(["ec", "ed25519"] as const)("JOSE seal profile (%s)", (kind) => {
  const setup = (async () => {
    const ca = await issue("Seal CA", kind);
    const maker = await issue("Seal maker", kind, ca);
    const signer = await issue("Signer", kind, ca);
    const outsider = await issue("Outsider", kind, ca);
    const seal = await createJoseSeal({
      maker,
      header: { vid: "Tongban" },
      esId: "1101000000000001",
      property: { type: 1, name: "某市市场监督管理局", certList: [signer.certDer], createDate: VALID_START, validStart: VALID_START, validEnd: VALID_END },
      picture: { type: "PNG", data: PNG, width: 40, height: 40 },
    });
    const sig = await signDocumentJose({ seal, signer, document, propertyInfo: "/Doc_0/Signs/Sign_0/Signature.xml", time: SIGNED_AT });
    return { ca, maker, signer, outsider, seal, sig };
  })();

  it("round-trips with every step passing and the same report shape as GB/T 38540", async () => {
    const { ca, sig } = await setup;
    const report = await verifySealSignature(sig, { now: NOW, document, trustedSealMakers: [ca.certDer] });
    expect(report.format).toBe("jose");
    expect(report.steps.map((s) => s.id)).toEqual([
      "signature-value",
      "signer-cert-in-seal",
      "seal-maker-signature",
      "seal-maker-chain",
      "seal-valid-at-signing",
      "seal-valid-now",
      "cert-valid-at-signing",
      "cert-valid-now",
      "document-hash",
      "revocation",
    ]);
    expect(statuses(report)).toMatchObject({
      "signature-value": "pass",
      "signer-cert-in-seal": "pass",
      "seal-maker-signature": "pass",
      "seal-maker-chain": "pass",
      "document-hash": "pass",
      revocation: "not-checked",
    });
    expect(report.verdict).toBe("valid");
    expect(report.signature?.signedAt).toBe(SIGNED_AT.toISOString());
  });

  it("accepts the signature as bytes (format detected) and the seal alone", async () => {
    const { sig, seal } = await setup;
    expect((await verifySealSignature(new TextEncoder().encode(`${sig}\n`), { now: NOW })).format).toBe("jose");
    const sealReport = await verifySeal(seal, { now: NOW });
    expect(sealReport.kind).toBe("seal");
    expect(statuses(sealReport)["seal-maker-signature"]).toBe("pass");
  });

  it("expired now but valid at signing time", async () => {
    const { sig } = await setup;
    const report = await verifySealSignature(sig, { now: new Date("2029-01-01T00:00:00Z"), document });
    expect(report.verdict).toBe("valid-at-signing-time");
  });

  it("tampering: document, signer outside the list, changed payload, wrong anchor", async () => {
    const { sig, seal, outsider, maker } = await setup;
    const other = await verifySealSignature(sig, { now: NOW, document: new TextEncoder().encode("x") });
    expect(statuses(other)["document-hash"]).toBe("fail");

    const byOutsider = await signDocumentJose({ seal, signer: outsider, document, propertyInfo: "p", time: SIGNED_AT });
    const r2 = await verifySealSignature(byOutsider, { now: NOW });
    expect(statuses(r2)["signer-cert-in-seal"]).toBe("fail");
    expect(r2.verdict).toBe("invalid");

    // swap the seal's payload for one naming another seal but keep the maker's signature
    const [h, p, s] = seal.split(".");
    const payload = JSON.parse(Buffer.from(p ?? "", "base64url").toString()) as { property: { name: string } };
    payload.property.name = "伪造印章";
    const forgedSeal = `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`;
    const r3 = await verifySeal(forgedSeal, { now: NOW });
    expect(statuses(r3)["seal-maker-signature"]).toBe("fail");

    const r4 = await verifySealSignature(sig, { now: NOW, trustedSealMakers: [outsider.certDer] });
    expect(statuses(r4)["seal-maker-chain"]).toBe("fail");
    const r5 = await verifySealSignature(sig, { now: NOW, trustedSealMakers: [maker.certDer] });
    expect(statuses(r5)["seal-maker-chain"]).toBe("pass");
  });

  it("refuses a key that does not belong to the certificate", async () => {
    const { seal, signer, outsider } = await setup;
    await expect(
      signDocumentJose({ seal, signer: { certDer: signer.certDer, privateKey: outsider.privateKey }, document, propertyInfo: "p" }),
    ).rejects.toThrow(TypeError);
    expect(new NodeX509(signer.certDer).checkPrivateKey(signer.privateKey)).toBe(true);
  });

  it("a JWS of the wrong kind or garbage is SEAL_MALFORMED", async () => {
    const { seal } = await setup;
    await expect(verifySealSignature(seal, { now: NOW })).rejects.toMatchObject({ code: "SEAL_MALFORMED" });
    await expect(verifySealSignature("a.b.c", { now: NOW })).rejects.toMatchObject({ code: "SEAL_MALFORMED" });
  });
});
