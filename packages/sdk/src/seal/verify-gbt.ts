// Internal: verification of GB/T 38540 / GM/T 0031 structures.
import { parseCertificate, verifySm2CertificateSignature, type ParsedCertificate } from "../gm/certificate.js";
import { bytesEqual } from "../gm/hex.js";
import { GM_OIDS } from "../gm/oids.js";
import { sm2Verify } from "../gm/sm2-signature.js";
import { sm3 } from "../gm/sm3.js";
import { createHash } from "node:crypto";
import { sealVerdict, type SealVerificationReport, type SealVerificationStep } from "./report.js";
import { documentHashStep, revocationStep, step, windowStep } from "./steps.js";
import type { SesSeal, SesSignature } from "./types.js";
import type { SealVerifyOptions } from "./verify-options.js";

type CertResult = { ok: true; info: ParsedCertificate } | { ok: false; why: string };

function readCert(der: Uint8Array): CertResult {
  try {
    const info = parseCertificate(der);
    if (info.publicKeyCurve !== GM_OIDS.sm2p256v1) return { ok: false, why: "certificate key is not SM2" };
    return { ok: true, info };
  } catch {
    return { ok: false, why: "certificate cannot be parsed" };
  }
}

function userIdOpt(options: SealVerifyOptions): { userId?: string } {
  return options.userId === undefined ? {} : { userId: options.userId };
}

/** SM2-with-SM3 signature check as a step. */
function sm2Step(
  id: "signature-value" | "seal-maker-signature",
  who: string,
  alg: string,
  cert: CertResult,
  signed: Uint8Array,
  signature: Uint8Array,
  options: SealVerifyOptions,
): SealVerificationStep {
  if (alg !== GM_OIDS.sm2WithSm3) return step(id, "fail", `${who} signature algorithm ${alg} is not SM2-with-SM3`);
  if (!cert.ok) return step(id, "fail", `${who} ${cert.why}`);
  let ok: boolean;
  try {
    ok = sm2Verify(signed, signature, cert.info.publicKey, userIdOpt(options));
  } catch {
    return step(id, "fail", `${who} certificate public key is not a point on the SM2 curve`);
  }
  return ok
    ? step(id, "pass", `${who} SM2-with-SM3 signature verifies with ${cert.info.subject} (serial ${cert.info.serialNumber})`)
    : step(id, "fail", `${who} SM2-with-SM3 signature does not verify`);
}

function chainStep(seal: SesSeal, maker: CertResult, options: SealVerifyOptions): SealVerificationStep {
  const anchors = options.trustedSealMakers;
  if (anchors === undefined || anchors.length === 0) return step("seal-maker-chain", "not-checked", "no trusted seal makers given");
  if (!maker.ok) return step("seal-maker-chain", "fail", `maker ${maker.why}`);
  let trustedBy: string | undefined;
  for (const anchor of anchors) {
    if (bytesEqual(anchor, seal.makerCert)) {
      trustedBy = "is itself a trusted seal maker";
      break;
    }
    try {
      if (verifySm2CertificateSignature(seal.makerCert, anchor)) {
        trustedBy = `is issued by trusted ${parseCertificate(anchor).subject}`;
        break;
      }
    } catch {
      // an unusable anchor is skipped; others may still match
    }
  }
  if (trustedBy === undefined) return step("seal-maker-chain", "fail", "maker certificate does not chain to a trusted seal maker");
  const made = seal.sealInfo.property.createDate;
  const inner = windowStep("seal-maker-chain", "maker certificate", maker.info.notBefore, maker.info.notAfter, made, "seal creation");
  return inner.status === "pass"
    ? step("seal-maker-chain", "pass", `maker certificate ${trustedBy} and was valid when the seal was made`)
    : inner;
}

function summary(seal: SesSeal, maker: CertResult): SealVerificationReport["seal"] {
  const p = seal.sealInfo.property;
  return {
    esId: seal.sealInfo.esId,
    name: p.name,
    type: p.type,
    validStart: p.validStart.toISOString(),
    validEnd: p.validEnd.toISOString(),
    maker: maker.ok ? maker.info.subject : "(unreadable certificate)",
  };
}

function certListStep(seal: SesSeal, signerCert: Uint8Array): SealVerificationStep {
  const list = seal.sealInfo.property.certList;
  if (list.kind === "certs") {
    return list.certs.some((c) => bytesEqual(c, signerCert))
      ? step("signer-cert-in-seal", "pass", `signer certificate is one of the seal's ${list.certs.length} listed certificate(s)`)
      : step("signer-cert-in-seal", "fail", "signer certificate is not in the seal's certificate list");
  }
  const digests: Record<string, (d: Uint8Array) => Uint8Array> = {
    sm3,
    sha256: (d) => new Uint8Array(createHash("sha256").update(d).digest()),
  };
  const hit = list.digests.some((d) => {
    const f = digests[d.type.toLowerCase().replace("-", "")];
    return f !== undefined && bytesEqual(f(signerCert), d.value);
  });
  return hit
    ? step("signer-cert-in-seal", "pass", "signer certificate digest is in the seal's list")
    : step("signer-cert-in-seal", "fail", "signer certificate digest is not in the seal's list");
}

function report(
  format: SealVerificationReport["format"],
  kind: "signature" | "seal",
  steps: SealVerificationStep[],
  seal: SealVerificationReport["seal"],
  signature?: SealVerificationReport["signature"],
): SealVerificationReport {
  return {
    format,
    kind,
    verdict: sealVerdict(steps, kind),
    steps,
    seal,
    ...(signature === undefined ? {} : { signature }),
    notChecked: steps.filter((s) => s.status === "not-checked").map((s) => s.id),
  };
}

/** Verifies a decoded GB/T 38540 SES_Signature. @internal */
export function verifyGbtSignature(sig: SesSignature, options: SealVerifyOptions): SealVerificationReport {
  const now = options.now ?? new Date();
  const seal = sig.toSign.seal;
  const signer = readCert(sig.signerCert);
  const maker = readCert(seal.makerCert);
  const signedAt = sig.toSign.timeInfo;
  const p = seal.sealInfo.property;
  const steps: SealVerificationStep[] = [
    sm2Step("signature-value", "document", sig.signatureAlgorithm, signer, sig.toSignDer, sig.signature, options),
    certListStep(seal, sig.signerCert),
    sm2Step("seal-maker-signature", "seal maker", seal.signatureAlgorithm, maker, seal.makerSignedBytes, seal.signedValue, options),
    chainStep(seal, maker, options),
    windowStep("seal-valid-at-signing", "seal", p.validStart, p.validEnd, signedAt, "signing time"),
    windowStep("seal-valid-now", "seal", p.validStart, p.validEnd, now, "now"),
    signer.ok
      ? windowStep("cert-valid-at-signing", "signer certificate", signer.info.notBefore, signer.info.notAfter, signedAt, "signing time")
      : step("cert-valid-at-signing", "fail", `signer ${signer.why}`),
    signer.ok
      ? windowStep("cert-valid-now", "signer certificate", signer.info.notBefore, signer.info.notAfter, now, "now")
      : step("cert-valid-now", "fail", `signer ${signer.why}`),
    documentHashStep(options.document, sig.toSign.dataHash, sm3, "SM3"),
    revocationStep(
      [...(signer.ok ? [{ role: "signer", info: signer.info }] : []), ...(maker.ok ? [{ role: "seal maker", info: maker.info }] : [])],
      options.crls,
    ),
  ];
  return report("gbt38540-v4", "signature", steps, summary(seal, maker), {
    signedAt: signedAt.toISOString(),
    signer: signer.ok ? signer.info.subject : "(unreadable certificate)",
    propertyInfo: sig.toSign.propertyInfo,
  });
}

/** Verifies a decoded SESeal (v4 or v1) on its own. @internal */
export function verifyGbtSeal(seal: SesSeal, options: SealVerifyOptions): SealVerificationReport {
  const now = options.now ?? new Date();
  const maker = readCert(seal.makerCert);
  const p = seal.sealInfo.property;
  const steps: SealVerificationStep[] = [
    sm2Step("seal-maker-signature", "seal maker", seal.signatureAlgorithm, maker, seal.makerSignedBytes, seal.signedValue, options),
    chainStep(seal, maker, options),
    windowStep("seal-valid-now", "seal", p.validStart, p.validEnd, now, "now"),
    revocationStep(maker.ok ? [{ role: "seal maker", info: maker.info }] : [], options.crls),
  ];
  return report(seal.layout === "v4" ? "gbt38540-v4" : "gmt0031-v1", "seal", steps, summary(seal, maker));
}

/** Shared by the JOSE verifier. @internal */
export { report as buildReport };
