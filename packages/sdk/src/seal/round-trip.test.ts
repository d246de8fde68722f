import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isTongbanError } from "../errors/index.js";
import { parseCertificate } from "../gm/certificate.js";
import { toHex } from "../gm/hex.js";
import { createSeal } from "./create-seal.js";
import { decodeSeal } from "./decode-seal.js";
import { decodeSealSignature } from "./decode-signature.js";
import type { SealStepId, SealVerificationReport } from "./report.js";
import { signDocument } from "./sign-document.js";
import { makeSm2Crl, makeSm2Pki, PNG, type Party } from "./testdata/sm2-fixtures.js";
import { verifySeal, verifySealSignature } from "./verify.js";

const pki = makeSm2Pki();
const VALID_START = new Date("2026-06-01T00:00:00Z");
const VALID_END = new Date("2027-06-01T00:00:00Z");
const SIGNED_AT = new Date("2027-01-15T08:30:00Z");
const NOW = new Date("2027-01-16T00:00:00Z");
const document = new TextEncoder().encode("<ofd:Document>准予行政许可决定书</ofd:Document>");

function seal(overrides: { certList?: Uint8Array[]; maker?: Party; userId?: string } = {}): Uint8Array {
  const maker = overrides.maker ?? pki.maker;
  return createSeal({
    maker: { certDer: maker.certDer, privateKey: maker.key.privateKey },
    header: { vid: "Tongban" },
    esId: "1101000000000001",
    property: {
      type: 1,
      name: "某市市场监督管理局行政审批专用章",
      certList: overrides.certList ?? [pki.signer.certDer],
      createDate: VALID_START,
      validStart: VALID_START,
      validEnd: VALID_END,
    },
    picture: { type: "PNG", data: PNG, width: 40, height: 40 },
    ...(overrides.userId === undefined ? {} : { userId: overrides.userId }),
  });
}

function sign(sealDer: Uint8Array, opts: { signer?: Party; time?: Date; userId?: string } = {}): Uint8Array {
  const signer = opts.signer ?? pki.signer;
  return signDocument({
    seal: sealDer,
    signer: { certDer: signer.certDer, privateKey: signer.key.privateKey },
    document,
    propertyInfo: "/Doc_0/Signs/Sign_0/Signature.xml",
    time: opts.time ?? SIGNED_AT,
    ...(opts.userId === undefined ? {} : { userId: opts.userId }),
  });
}

const statuses = (r: SealVerificationReport): Partial<Record<SealStepId, string>> => Object.fromEntries(r.steps.map((s) => [s.id, s.status]));
const trusted = { now: NOW, document, trustedSealMakers: [pki.ca.certDer] };

describe("GB/T 38540 round trip with our own SM2 keys", () => {
  const sealDer = seal();
  const sigDer = sign(sealDer);

  it("every step passes with the document, the seal CA and a CRL", async () => {
    const crl = makeSm2Crl(pki.ca, ["7f"]);
    const report = await verifySealSignature(sigDer, { ...trusted, crls: [crl] });
    expect(report.steps.map((s) => s.status)).toEqual(Array(10).fill("pass"));
    expect(report.verdict).toBe("valid");
    expect(report.notChecked).toEqual([]);
    expect(report.seal.name).toBe("某市市场监督管理局行政审批专用章");
    expect(report.signature?.signer).toBe("C=CN, CN=经办人");
  });

  it("decodes back to what was put in", () => {
    const s = decodeSeal(sealDer);
    expect(s.sealInfo.header).toEqual({ id: "ES", version: 4, vid: "Tongban" });
    expect(s.sealInfo.property.validEnd.toISOString()).toBe(VALID_END.toISOString());
    expect(toHex(s.sealInfo.picture.data)).toBe(toHex(PNG));
    const sig = decodeSealSignature(sigDer);
    expect(sig.toSign.timeInfo.toISOString()).toBe(SIGNED_AT.toISOString());
    expect(toHex(sig.toSign.seal.der)).toBe(toHex(sealDer));
  });

  it("the seal alone verifies", async () => {
    const report = await verifySeal(sealDer, trusted);
    expect(report.kind).toBe("seal");
    expect(report.verdict).toBe("valid");
  });

  it("after the seal and certificate expire the verdict is valid-at-signing-time", async () => {
    const report = await verifySealSignature(sigDer, { ...trusted, now: new Date("2029-01-01T00:00:00Z") });
    expect(statuses(report)["seal-valid-now"]).toBe("fail");
    expect(statuses(report)["cert-valid-now"]).toBe("fail");
    expect(report.verdict).toBe("valid-at-signing-time");
  });

  it("a signature made outside the seal's validity is invalid", async () => {
    const report = await verifySealSignature(sign(sealDer, { time: new Date("2027-07-01T00:00:00Z") }), trusted);
    expect(statuses(report)["seal-valid-at-signing"]).toBe("fail");
    expect(report.verdict).toBe("invalid");
  });

  it("a signer missing from the seal's list fails signer-cert-in-seal", async () => {
    const report = await verifySealSignature(sign(sealDer, { signer: pki.outsider }), trusted);
    expect(statuses(report)["signer-cert-in-seal"]).toBe("fail");
    expect(statuses(report)["signature-value"]).toBe("pass");
    expect(report.verdict).toBe("invalid");
  });

  it("a maker outside the trusted set fails seal-maker-chain", async () => {
    const report = await verifySealSignature(sigDer, { ...trusted, trustedSealMakers: [pki.outsider.certDer] });
    expect(statuses(report)["seal-maker-chain"]).toBe("fail");
    expect(report.verdict).toBe("invalid");
  });

  it("a revoked signer certificate fails the revocation step", async () => {
    const serial = parseCertificate(pki.signer.certDer).serialNumber;
    const report = await verifySealSignature(sigDer, { ...trusted, crls: [makeSm2Crl(pki.ca, [serial])] });
    expect(statuses(report).revocation).toBe("fail");
    expect(report.verdict).toBe("invalid");
  });

  it("an empty-user-ID signature is rejected under the default user ID", async () => {
    const report = await verifySealSignature(sign(sealDer, { userId: "" }), trusted);
    expect(statuses(report)["signature-value"]).toBe("fail");
    expect(report.verdict).toBe("invalid");
    const makerEmpty = await verifySeal(seal({ userId: "" }), trusted);
    expect(statuses(makerEmpty)["seal-maker-signature"]).toBe("fail");
  });

  it("a changed document byte fails document-hash only", async () => {
    const changed = Uint8Array.from(document);
    changed[3] = (changed[3] ?? 0) ^ 1;
    const report = await verifySealSignature(sigDer, { ...trusted, document: changed });
    expect(report.steps.filter((s) => s.status === "fail").map((s) => s.id)).toEqual(["document-hash"]);
  });

  it("refuses a key that does not belong to the certificate (TypeError)", () => {
    expect(() =>
      createSeal({
        maker: { certDer: pki.maker.certDer, privateKey: pki.signer.key.privateKey },
        header: { vid: "x" },
        esId: "1",
        property: { type: 1, name: "n", certList: [pki.signer.certDer], validStart: VALID_START, validEnd: VALID_END },
        picture: { type: "PNG", data: PNG, width: 1, height: 1 },
      }),
    ).toThrow(TypeError);
  });

  it("a shortened outer length (a child running past its parent) is SEAL_MALFORMED, not DER that verifies", async () => {
    const t = Uint8Array.from(sigDer);
    t[3] = (t[3] ?? 0) - 1;
    await expect(verifySealSignature(t, trusted)).rejects.toMatchObject({ code: "SEAL_MALFORMED" });
  });

  it("any flipped byte gives a non-valid report or SEAL_MALFORMED, never another error (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: sigDer.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const tampered = Uint8Array.from(sigDer);
        tampered[at] = (tampered[at] ?? 0) ^ xor;
        try {
          const report = await verifySealSignature(tampered, trusted);
          // a flip in the picture bytes or in signature padding could only ever
          // be caught by a signature step, so every non-throwing outcome must fail one
          expect(report.verdict).toBe("invalid");
        } catch (err) {
          expect(isTongbanError(err, "SEAL_MALFORMED"), String(err)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });
});
