/** The verification steps, in the order a report lists them. */
export const SEAL_STEP_IDS = [
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
] as const;

/** One verification step's id. */
export type SealStepId = (typeof SEAL_STEP_IDS)[number];

/** `not-checked` means the input needed for the step was not given (e.g. no document, no trust anchors). */
export type SealStepStatus = "pass" | "fail" | "not-checked";

/** One line of a verification report. */
export interface SealVerificationStep {
  readonly id: SealStepId;
  readonly status: SealStepStatus;
  /** A sentence for people; not for parsing. */
  readonly detail: string;
}

/**
 * - `valid`: no step failed.
 * - `valid-at-signing-time`: only the "now" validity steps failed — the seal
 *   or certificate has expired since, but the signature was made while both
 *   were valid.
 * - `invalid`: any other step failed.
 *
 * `not-checked` steps never fail a verdict; callers that require them (a
 * trust anchor, the document) must pass the inputs or inspect `steps`.
 */
export type SealVerdict = "valid" | "valid-at-signing-time" | "invalid";

/** Which encoding the verified input was in. */
export type SealFormat = "gbt38540-v4" | "gmt0031-v1" | "jose";

/** The result of verifying a seal or a sealed signature. Same shape for every format. */
export interface SealVerificationReport {
  readonly format: SealFormat;
  /** A signature over a document, or a seal on its own. */
  readonly kind: "signature" | "seal";
  readonly verdict: SealVerdict;
  readonly steps: readonly SealVerificationStep[];
  readonly seal: {
    readonly esId: string;
    readonly name: string;
    readonly type: number;
    readonly validStart: string;
    readonly validEnd: string;
    /** Seal maker certificate subject. */
    readonly maker: string;
  };
  /** Present for signatures. */
  readonly signature?: {
    readonly signedAt: string;
    /** Signer certificate subject. */
    readonly signer: string;
    readonly propertyInfo: string;
  };
  /** Steps that were not checked, for callers that insist on all of them. */
  readonly notChecked: readonly SealStepId[];
}

/** Steps whose failure alone means "expired since signing", not "invalid". */
const NOW_STEPS: ReadonlySet<SealStepId> = new Set(["seal-valid-now", "cert-valid-now"]);

/** Computes the verdict from the steps (see SealVerdict). */
export function sealVerdict(steps: readonly SealVerificationStep[], kind: "signature" | "seal"): SealVerdict {
  const failed = steps.filter((s) => s.status === "fail");
  if (failed.length === 0) return "valid";
  // A seal on its own has no signing time to fall back on.
  if (kind === "signature" && failed.every((s) => NOW_STEPS.has(s.id))) {
    const atSigning = steps.filter((s) => s.id === "seal-valid-at-signing" || s.id === "cert-valid-at-signing");
    if (atSigning.length === 2 && atSigning.every((s) => s.status === "pass")) return "valid-at-signing-time";
  }
  return "invalid";
}
