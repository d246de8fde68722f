// Files made by another implementation (ofdrw / BouncyCastle): see
// ../shared/interop/ofdrw/README.md next to the repository root.
import { describe, expect, it } from "vitest";
import { parseCertificate } from "../gm/certificate.js";
import { toHex } from "../gm/hex.js";
import { GM_OIDS } from "../gm/oids.js";
import { decodeSeal } from "./decode-seal.js";
import { decodeSealSignature } from "./decode-signature.js";
import type { SealStepId, SealVerificationReport } from "./report.js";
import { pemToDer, readOfdrw } from "./testdata/ofdrw.js";
import { verifySeal, verifySealSignature } from "./verify.js";

const NOW = new Date("2026-01-01T00:00:00Z");

function statuses(report: SealVerificationReport): Partial<Record<SealStepId, string>> {
  return Object.fromEntries(report.steps.map((s) => [s.id, s.status]));
}

/** Replaces the first occurrence of `find` in `bytes` (same length, so DER lengths hold). */
function patch(bytes: Uint8Array, find: Uint8Array, replace: Uint8Array, from = 0): Uint8Array {
  expect(replace.length).toBe(find.length);
  const hex = toHex(bytes);
  let at = hex.indexOf(toHex(find), from * 2);
  while (at !== -1 && at % 2 !== 0) at = hex.indexOf(toHex(find), at + 1);
  expect(at, "pattern to patch not found").toBeGreaterThanOrEqual(0);
  const out = Uint8Array.from(bytes);
  out.set(replace, at / 2);
  return out;
}
const ascii = (s: string) => new TextEncoder().encode(s);

describe("ofdrw UserV4.esl (GB/T 38540 SESeal)", () => {
  const der = readOfdrw("UserV4.esl");

  it("decodes every field", () => {
    const seal = decodeSeal(der);
    expect(seal.layout).toBe("v4");
    expect(seal.sealInfo.header).toEqual({ id: "ES", version: 4, vid: "OFDR&WTest" });
    expect(seal.sealInfo.property.name).toBe("OFD R&W 测试用印章");
    expect(seal.sealInfo.property.validStart.toISOString()).toBe("2020-04-22T02:09:00.000Z");
    expect(seal.sealInfo.property.validEnd.toISOString()).toBe("2022-04-22T02:09:00.000Z");
    expect(seal.sealInfo.property.certList.kind).toBe("certs");
    expect(seal.sealInfo.picture.type).toBe("PNG");
    expect(toHex(seal.sealInfo.picture.data.subarray(0, 8))).toBe("89504e470d0a1a0a");
    expect(seal.sealInfo.picture.width).toBe(40);
    expect(seal.signatureAlgorithm).toBe(GM_OIDS.sm2WithSm3);
    expect(toHex(seal.der)).toBe(toHex(der));
  });

  it("verifies on its own: maker signature passes, seal expired now", async () => {
    const report = await verifySeal(der, { now: NOW });
    expect(statuses(report)).toEqual({
      "seal-maker-signature": "pass",
      "seal-maker-chain": "not-checked",
      "seal-valid-now": "fail",
      revocation: "not-checked",
    });
    expect(report.format).toBe("gbt38540-v4");
    expect(report.verdict).toBe("invalid");
    expect((await verifySeal(der, { now: new Date("2021-01-01T00:00:00Z") })).verdict).toBe("valid");
  });

  it("a changed byte of the seal name breaks the maker signature", async () => {
    const tampered = patch(der, ascii("OFD R&W"), ascii("OFD R&X"));
    const report = await verifySeal(tampered, { now: new Date("2021-01-01T00:00:00Z") });
    expect(statuses(report)["seal-maker-signature"]).toBe("fail");
    expect(report.verdict).toBe("invalid");
  });
});

describe("ofdrw UserV1.esl (GM/T 0031 SESeal)", () => {
  const der = readOfdrw("UserV1.esl");

  it("decodes the v1 layout (UTCTime dates, SES_SignInfo)", () => {
    const seal = decodeSeal(der);
    expect(seal.layout).toBe("v1");
    expect(seal.sealInfo.header.version).toBe(1);
    expect(seal.sealInfo.property.name).toBe("OFDRW测试用印章");
    expect(seal.sealInfo.property.validEnd.toISOString()).toBe("2022-04-22T02:18:07.000Z");
    expect(seal.signatureAlgorithm).toBe(GM_OIDS.sm2WithSm3);
  });

  it("its maker signature over DER(SEQUENCE { esealInfo, cert, signatureAlgorithm }) verifies", async () => {
    const report = await verifySeal(der, { now: new Date("2021-01-01T00:00:00Z") });
    expect(report.format).toBe("gmt0031-v1");
    expect(statuses(report)["seal-maker-signature"]).toBe("pass");
    expect(report.verdict).toBe("valid");
  });
});

describe("ofdrw SignedValueV4.dat (GB/T 38540 SES_Signature)", () => {
  const der = readOfdrw("SignedValueV4.dat");

  it("decodes the signature and its embedded seal", () => {
    const sig = decodeSealSignature(der);
    expect(sig.toSign.version).toBe(4);
    expect(sig.toSign.timeInfo.toISOString()).toBe("2020-10-12T11:14:03.000Z");
    expect(sig.toSign.propertyInfo).toBe("/Doc_0/Signs/Sign_0/Signature.xml");
    expect(sig.toSign.dataHash).toHaveLength(32);
    expect(sig.toSign.seal.sealInfo.property.name).toBe("OFD R&W 测试用印章");
    expect(toHex(sig.toSign.seal.der)).toBe(toHex(readOfdrw("UserV4.esl")));
  });

  it("gives the expected report: valid at signing time, expired now", async () => {
    const report = await verifySealSignature(der, { now: NOW });
    expect(statuses(report)).toEqual({
      "signature-value": "pass",
      "signer-cert-in-seal": "pass",
      "seal-maker-signature": "pass",
      "seal-maker-chain": "not-checked",
      "seal-valid-at-signing": "pass",
      "seal-valid-now": "fail",
      "cert-valid-at-signing": "pass",
      "cert-valid-now": "fail",
      "document-hash": "not-checked",
      revocation: "not-checked",
    });
    expect(report.verdict).toBe("valid-at-signing-time");
    expect(report.signature?.signedAt).toBe("2020-10-12T11:14:03.000Z");
    expect(report.notChecked).toEqual(["seal-maker-chain", "document-hash", "revocation"]);
  });

  it("a document that is not the signed one fails the document-hash step", async () => {
    const report = await verifySealSignature(der, { now: NOW, document: ascii("<Signature/>") });
    expect(statuses(report)["document-hash"]).toBe("fail");
    expect(report.verdict).toBe("invalid");
  });

  it("a changed byte of the seal name fails the maker signature (and the document signature over it)", async () => {
    const report = await verifySealSignature(patch(der, ascii("OFD R&W"), ascii("OFD R&X")), { now: NOW });
    expect(statuses(report)["seal-maker-signature"]).toBe("fail");
    expect(statuses(report)["signature-value"]).toBe("fail");
    expect(report.verdict).toBe("invalid");
  });

  it("a changed byte in the seal's certificate list fails signer-cert-in-seal and the maker signature", async () => {
    const sig = decodeSealSignature(der);
    const listed = sig.toSign.seal.sealInfo.property.certList;
    if (listed.kind !== "certs") throw new Error("expected a cert list");
    const first = listed.certs[0] as Uint8Array;
    // flip one byte inside the serial number of the listed certificate (first occurrence = inside certList)
    const serial = first.subarray(15, 21);
    const changed = Uint8Array.from(serial);
    changed[5] = (changed[5] ?? 0) ^ 0xff;
    const report = await verifySealSignature(patch(der, serial, changed), { now: NOW });
    expect(statuses(report)["signer-cert-in-seal"]).toBe("fail");
    expect(statuses(report)["seal-maker-signature"]).toBe("fail");
    expect(report.verdict).toBe("invalid");
  });

  it("a changed signing time fails the signature value only", async () => {
    const report = await verifySealSignature(patch(der, ascii("20201012111403Z"), ascii("20201012111404Z")), { now: NOW });
    const s = statuses(report);
    expect(s["signature-value"]).toBe("fail");
    expect(s["seal-maker-signature"]).toBe("pass");
    expect(report.verdict).toBe("invalid");
  });

  it("a signature made with the empty user ID is not the one in the file: verifying with userId '' fails", async () => {
    const report = await verifySealSignature(der, { now: NOW, userId: "" });
    expect(statuses(report)["signature-value"]).toBe("fail");
    expect(statuses(report)["seal-maker-signature"]).toBe("fail");
  });

  it("with the seal maker certificate as trust anchor the chain step passes", async () => {
    const maker = decodeSealSignature(der).toSign.seal.makerCert;
    const report = await verifySealSignature(der, { now: NOW, trustedSealMakers: [maker] });
    expect(statuses(report)["seal-maker-chain"]).toBe("pass");
    const other = await verifySealSignature(der, { now: NOW, trustedSealMakers: [pemToDer(readOfdrw("sign_cert.pem"))] });
    expect(statuses(other)["seal-maker-chain"]).toBe("fail");
  });

  it("the signer certificate validity windows come from the embedded certificate", () => {
    const info = parseCertificate(decodeSealSignature(der).signerCert);
    expect(info.notAfter.toISOString()).toBe("2022-04-21T14:39:08.000Z");
  });

  it("undecodable input throws SEAL_MALFORMED; nothing else throws", async () => {
    await expect(verifySealSignature(der.subarray(0, 100), { now: NOW })).rejects.toMatchObject({ code: "SEAL_MALFORMED" });
    await expect(verifySealSignature(ascii("hello"), { now: NOW })).rejects.toMatchObject({ code: "SEAL_MALFORMED" });
    await expect(verifySealSignature(readOfdrw("UserV4.esl"), { now: NOW })).rejects.toMatchObject({ code: "SEAL_MALFORMED" });
  });
});
