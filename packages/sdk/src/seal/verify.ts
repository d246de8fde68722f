import { malformed } from "./asn1-read.js";
import { decodeSeal } from "./decode-seal.js";
import { decodeSealSignature } from "./decode-signature.js";
import type { SealVerificationReport } from "./report.js";
import { verifyGbtSeal, verifyGbtSignature } from "./verify-gbt.js";
import type { SealVerifyOptions } from "./verify-options.js";
import { joseKind, verifyJoseSeal, verifyJoseSignature } from "./verify-jose.js";

type Detected = { format: "der"; der: Uint8Array } | { format: "jose"; jws: string };

/** DER starts with a SEQUENCE tag; a JOSE file is a compact JWS in ASCII. */
function detect(input: Uint8Array | string, what: string): Detected {
  if (typeof input === "string") return { format: "jose", jws: input.trim() };
  if (!(input instanceof Uint8Array)) throw new TypeError(`${what} must be bytes or a compact JWS string`);
  if (input[0] === 0x30) return { format: "der", der: input };
  const text = new TextDecoder().decode(input).trim();
  if (/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text)) return { format: "jose", jws: text };
  return malformed(what, "neither DER (GB/T 38540 / GM/T 0031) nor a compact JWS (JOSE profile)");
}

function checkOptions(options: SealVerifyOptions): void {
  if (options.now !== undefined && (!(options.now instanceof Date) || Number.isNaN(options.now.getTime()))) {
    throw new TypeError("now must be a valid Date");
  }
}

/**
 * Verifies a sealed signature — a GB/T 38540 SES_Signature (DER) or a JOSE
 * seal signature (compact JWS), detected from the input — and returns the
 * step-by-step report with a verdict. A bad seal or signature never throws:
 * it is a report with verdict `invalid`. Only input that cannot be decoded
 * at all throws SEAL_MALFORMED.
 *
 * @example
 * ```ts
 * const report = await verifySealSignature(sigBytes, { document, trustedSealMakers: [sealCa] });
 * if (report.verdict === "invalid") console.table(report.steps);
 * ```
 */
export async function verifySealSignature(signature: Uint8Array | string, options: SealVerifyOptions = {}): Promise<SealVerificationReport> {
  checkOptions(options);
  const d = detect(signature, "SES_Signature");
  if (d.format === "der") return verifyGbtSignature(decodeSealSignature(d.der), options);
  if (joseKind(d.jws) !== "signature") malformed("JWS.header.typ", "this is a seal, not a seal signature (use verifySeal)");
  return verifyJoseSignature(d.jws, options);
}

/**
 * Verifies a seal on its own — GB/T 38540 (v4) or GM/T 0031 (v1) SESeal, or
 * a JOSE seal — with the same report shape (maker signature, maker chain,
 * validity now, revocation). An expired seal is `invalid` here: there is no
 * signing time to judge it at.
 */
export async function verifySeal(seal: Uint8Array | string, options: SealVerifyOptions = {}): Promise<SealVerificationReport> {
  checkOptions(options);
  const d = detect(seal, "SESeal");
  if (d.format === "der") return verifyGbtSeal(decodeSeal(d.der), options);
  if (joseKind(d.jws) !== "seal") malformed("JWS.header.typ", "this is a seal signature, not a seal (use verifySealSignature)");
  return verifyJoseSeal(d.jws, options);
}

