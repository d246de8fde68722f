import { validateCitizenId, type CitizenIdParts } from "./citizen-id.js";
import { validateLicenseId, type LicenseIdParts } from "./license-id.js";
import { validateMessageId, type MessageIdParts } from "./message-id.js";
import { validateNodeId, type NodeIdParts } from "./node-id.js";
import { validateRegionCode, type RegionParts } from "./region.js";
import { requireString } from "./result.js";
import {
  validateBasicCode,
  validateCaseNumber,
  validateHandlingItemCode,
  validateImplementationCode,
  type BasicCodeParts,
  type CaseNumberParts,
  type HandlingItemCodeParts,
  type ImplementationCodeParts,
} from "./service-item.js";
import type { IdIssue, IdValidation, IdentifierKind } from "./types.js";
import { validateUscc, type UsccParts } from "./uscc.js";

/** The parts type of each identifier kind. */
export interface IdentifierPartsMap {
  region: RegionParts;
  "node-id": NodeIdParts;
  uscc: UsccParts;
  "citizen-id": CitizenIdParts;
  "basic-code": BasicCodeParts;
  "implementation-code": ImplementationCodeParts;
  "handling-item-code": HandlingItemCodeParts;
  "case-number": CaseNumberParts;
  "license-id": LicenseIdParts;
  "message-id": MessageIdParts;
}

/** A validation of any kind, discriminated by `kind`. */
export type AnyIdValidation = { [K in IdentifierKind]: IdValidation<IdentifierPartsMap[K], K> }[IdentifierKind];

/** What {@link detectIdentifier} answers for a value that has the shape of no kind. */
export interface UnknownIdValidation {
  readonly ok: false;
  readonly kind: "unknown";
  readonly value: string;
  readonly issues: readonly IdIssue[];
}

/** Every kind, in the order `--help` and docs list them. */
export const IDENTIFIER_KINDS: readonly IdentifierKind[] = Object.freeze([
  "region",
  "node-id",
  "uscc",
  "citizen-id",
  "basic-code",
  "implementation-code",
  "handling-item-code",
  "case-number",
  "license-id",
  "message-id",
] as const);

/** True when `kind` names an identifier kind. */
export function isIdentifierKind(kind: string): kind is IdentifierKind {
  return (IDENTIFIER_KINDS as readonly string[]).includes(kind);
}

/**
 * Validates `value` as the given kind (the dispatcher behind
 * `tongban id check --kind`). Throws TypeError for an unknown kind.
 */
export function validateIdentifier(kind: IdentifierKind, value: string): AnyIdValidation {
  requireString(value, "validateIdentifier");
  switch (kind) {
    case "region":
      return validateRegionCode(value);
    case "node-id":
      return validateNodeId(value);
    case "uscc":
      return validateUscc(value);
    case "citizen-id":
      return validateCitizenId(value);
    case "basic-code":
      return validateBasicCode(value);
    case "implementation-code":
      return validateImplementationCode(value);
    case "handling-item-code":
      return validateHandlingItemCode(value);
    case "case-number":
      return validateCaseNumber(value);
    case "license-id":
      return validateLicenseId(value);
    case "message-id":
      return validateMessageId(value);
    default:
      throw new TypeError(`validateIdentifier: unknown kind '${String(kind satisfies never)}'`);
  }
}

/**
 * Guesses the kind of `value` from its shape and returns the best validation:
 * a valid one when any candidate kind accepts the value, otherwise the
 * candidate with the fewest issues (ties go to the first candidate in the
 * order below). Shapes: `cn.` → node id; the 证照标识 root OID → license id;
 * 36 characters with hyphens → message id; then by length: 6 → region,
 * 12 → 基本编码, 18 → citizen ID number or USCC (tried in that order when
 * characters 1–17 are digits, USCC first otherwise), 31 → 实施编码,
 * 33 → 业务办理项编码, 43 → 办件编号; a value one character longer or shorter
 * than one of these lengths is validated as that kind (and fails on `length`).
 * Anything else is `kind: "unknown"`.
 *
 * @example
 * ```ts
 * detectIdentifier("91350100M000100Y43").kind; // "uscc"
 * ```
 */
export function detectIdentifier(value: string): AnyIdValidation | UnknownIdValidation {
  requireString(value, "detectIdentifier");
  const candidates = candidateKinds(value);
  if (candidates.length === 0) {
    return {
      ok: false,
      kind: "unknown",
      value,
      issues: [
        {
          rule: "shape",
          message: `no identifier kind has this shape (${Array.from(value).length} characters); pass --kind to validate as a given kind`,
        },
      ],
    };
  }
  let best: AnyIdValidation | undefined;
  for (const kind of candidates) {
    const v = validateIdentifier(kind, value);
    if (v.ok) return v;
    if (best === undefined || (!best.ok && v.issues.length < best.issues.length)) best = v;
  }
  return best as AnyIdValidation;
}

function candidateKinds(value: string): IdentifierKind[] {
  const lower = value.toLowerCase();
  if (lower.startsWith("cn.")) return ["node-id"];
  if (value.startsWith("1.2.156.3005.")) return ["license-id"];
  const n = Array.from(value).length;
  if (n === 36 && value.includes("-")) return ["message-id"];
  const exact = byLength(n, value);
  if (exact.length > 0) return exact;
  // One character dropped or doubled is the commonest typing mistake: answer
  // with the kind one off, whose validation then reports the length.
  return [...byLength(n + 1, value), ...byLength(n - 1, value)];
}

function byLength(n: number, value: string): IdentifierKind[] {
  switch (n) {
    case 6:
      return ["region"];
    case 12:
      return ["basic-code"];
    case 18:
      return /^[0-9]{17}/.test(value) ? ["citizen-id", "uscc"] : ["uscc", "citizen-id"];
    case 31:
      return ["implementation-code"];
    case 33:
      return ["handling-item-code"];
    case 43:
      return ["case-number"];
    default:
      return [];
  }
}
