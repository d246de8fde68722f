import { chinaDate, isRealDate, parseCompactDate } from "./calendar.js";
import { provinceOf, type RegionEntry } from "./region.js";
import { finish, issue, partsOrThrow, requireString, show } from "./result.js";
import type { IdIssue, IdValidation } from "./types.js";
import { usccIssues } from "./uscc.js";

/**
 * Service-item codes of the 政务服务事项 catalogs. Only their lengths,
 * character classes, the scope prefix of the 基本编码 and the embedded USCC
 * are checked; everything else is opaque and is mapped through the catalog
 * tables, never parsed for meaning.
 */

/** The parts of a valid 基本编码. */
export interface BasicCodeParts {
  readonly code: string;
  /** `national` for catalog items (prefix 00), `local` for items a province added. */
  readonly scope: "national" | "local";
  /** The province that added a local item. */
  readonly province?: RegionEntry;
}

/** The parts of a valid 实施编码. */
export interface ImplementationCodeParts {
  /** Characters 1–18: the implementing agency's USCC. */
  readonly agency: string;
  /** Character 19: opaque (its meaning is the catalog's). */
  readonly kindCharacter: string;
  /** Characters 20–31: the 基本编码. */
  readonly basicCode: BasicCodeParts;
}

/** The parts of a valid 业务办理项编码. */
export interface HandlingItemCodeParts {
  readonly implementationCode: string;
  readonly implementation: ImplementationCodeParts;
  /** Characters 32–33: the handling item's two digits. */
  readonly handlingItem: string;
}

/** The parts of a valid 办件编号. */
export interface CaseNumberParts {
  readonly implementationCode: string;
  readonly implementation: ImplementationCodeParts;
  /** Characters 32–39 as an ISO 8601 date, `YYYY-MM-DD`. */
  readonly date: string;
  /** Characters 40–43, the day's serial number. */
  readonly serial: string;
}

const BASIC_LENGTH = 12;
const IMPLEMENTATION_LENGTH = 31;
const HANDLING_LENGTH = 33;
const CASE_LENGTH = 43;

/**
 * Validates a 基本编码: 12 characters of 0-9/A-Z; national catalog items start
 * with `00`, locally added ones with the two-digit code of a province in the
 * GB/T 2260 table. Rules: `length`, `charset`, `case`, `catalog-prefix`.
 */
export function validateBasicCode(value: string): IdValidation<BasicCodeParts, "basic-code"> {
  requireString(value, "validateBasicCode");
  const issues = lengthIssues(value, BASIC_LENGTH, "a 基本编码");
  if (issues.length === 0) issues.push(...basicIssues(value, 0));
  return finish("basic-code", value, issues, () => basicParts(value));
}

/**
 * Validates a 实施编码 (31 characters): the implementing agency's USCC
 * (checked in full, see `validateUscc`), one opaque character of 0-9/A-Z,
 * and a 基本编码 (see {@link validateBasicCode}).
 */
export function validateImplementationCode(value: string): IdValidation<ImplementationCodeParts, "implementation-code"> {
  requireString(value, "validateImplementationCode");
  const issues = lengthIssues(value, IMPLEMENTATION_LENGTH, "a 实施编码 (USCC + 1 + 基本编码)");
  if (issues.length === 0) issues.push(...implementationIssues(value));
  return finish("implementation-code", value, issues, () => implementationParts(value));
}

/**
 * Validates a 业务办理项编码 (33 characters): a 实施编码 followed by two
 * digits. Rules as for {@link validateImplementationCode}, plus `charset`
 * for the two digits.
 */
export function validateHandlingItemCode(value: string): IdValidation<HandlingItemCodeParts, "handling-item-code"> {
  requireString(value, "validateHandlingItemCode");
  const issues = lengthIssues(value, HANDLING_LENGTH, "a 业务办理项编码 (实施编码 + 2 digits)");
  if (issues.length === 0) {
    issues.push(...implementationIssues(value.slice(0, IMPLEMENTATION_LENGTH)), ...digitIssues(value, IMPLEMENTATION_LENGTH, HANDLING_LENGTH, "the handling item number"));
  }
  return finish("handling-item-code", value, issues, () => ({
    implementationCode: value.slice(0, IMPLEMENTATION_LENGTH),
    implementation: implementationParts(value.slice(0, IMPLEMENTATION_LENGTH)),
    handlingItem: value.slice(IMPLEMENTATION_LENGTH),
  }));
}

/** Options of {@link validateCaseNumber}. */
export interface CaseNumberOptions {
  /** The instant "today" is taken from for the `case-date` rule (default: now). */
  readonly now?: Date;
}

/**
 * Validates a 办件编号 (43 characters): a 实施编码, the acceptance date as
 * `yyyyMMdd` and a four-digit serial. Rules as for
 * {@link validateImplementationCode}, plus `charset` for the digits and
 * `case-date` (a real calendar date, from 2000 on, not after today in China
 * — a case cannot be accepted in the future).
 */
export function validateCaseNumber(value: string, options: CaseNumberOptions = {}): IdValidation<CaseNumberParts, "case-number"> {
  requireString(value, "validateCaseNumber");
  const issues = lengthIssues(value, CASE_LENGTH, "a 办件编号 (实施编码 + yyyyMMdd + 4-digit serial)");
  if (issues.length === 0) {
    issues.push(...implementationIssues(value.slice(0, IMPLEMENTATION_LENGTH)));
    const digits = digitIssues(value, IMPLEMENTATION_LENGTH, CASE_LENGTH, "the date and serial");
    issues.push(...digits);
    if (digits.every((i) => (i.position ?? 0) > IMPLEMENTATION_LENGTH + 8)) {
      const text = value.slice(IMPLEMENTATION_LENGTH, IMPLEMENTATION_LENGTH + 8);
      const d = parseCompactDate(text);
      const first = IMPLEMENTATION_LENGTH + 1;
      if (d === undefined || !isRealDate(d.year, d.month, d.day)) {
        issues.push(issue("case-date", `characters ${first}-${first + 7} are '${text}', not a real calendar date (yyyyMMdd)`, first));
      } else if (d.year < 2000) {
        issues.push(issue("case-date", `characters ${first}-${first + 7} are '${text}', before 2000`, first));
      } else if (text > chinaDate(options.now ?? new Date())) {
        issues.push(issue("case-date", `characters ${first}-${first + 7} are '${text}', after today in China`, first));
      }
    }
  }
  return finish("case-number", value, issues, () => {
    const d = value.slice(IMPLEMENTATION_LENGTH, IMPLEMENTATION_LENGTH + 8);
    return {
      implementationCode: value.slice(0, IMPLEMENTATION_LENGTH),
      implementation: implementationParts(value.slice(0, IMPLEMENTATION_LENGTH)),
      date: `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`,
      serial: value.slice(IMPLEMENTATION_LENGTH + 8),
    };
  });
}

/** Returns the parts of a valid 基本编码 or throws IDENTIFIER_INVALID. */
export function assertBasicCode(value: string): BasicCodeParts {
  return partsOrThrow(validateBasicCode(value), "basic code (基本编码)");
}

/** Returns the parts of a valid 实施编码 or throws IDENTIFIER_INVALID. */
export function assertImplementationCode(value: string): ImplementationCodeParts {
  return partsOrThrow(validateImplementationCode(value), "implementation code (实施编码)");
}

/** Returns the parts of a valid 业务办理项编码 or throws IDENTIFIER_INVALID. */
export function assertHandlingItemCode(value: string): HandlingItemCodeParts {
  return partsOrThrow(validateHandlingItemCode(value), "handling item code (业务办理项编码)");
}

/** Returns the parts of a valid 办件编号 or throws IDENTIFIER_INVALID. */
export function assertCaseNumber(value: string, options: CaseNumberOptions = {}): CaseNumberParts {
  return partsOrThrow(validateCaseNumber(value, options), "case number (办件编号)");
}

function lengthIssues(value: string, length: number, what: string): IdIssue[] {
  const chars = Array.from(value);
  if (chars.length !== length) return [issue("length", `${what} has ${length} characters, got ${chars.length}`)];
  // Later checks slice by UTF-16 unit; non-ASCII input is reported here by
  // code point so positions stay right.
  const out: IdIssue[] = [];
  chars.forEach((ch, i) => {
    if (ch > "\u007f") out.push(issue("charset", `character ${i + 1} is ${show(ch)}; ${what} is ASCII letters and digits`, i + 1));
  });
  return out;
}

/** Issues for characters [from, to) that must be 0-9/A-Z (1-based positions at offset). */
function alnumIssues(value: string, from: number, to: number, what: string): IdIssue[] {
  const out: IdIssue[] = [];
  for (let i = from; i < to; i++) {
    const ch = value.charAt(i);
    if (/[0-9A-Z]/.test(ch)) continue;
    const p = i + 1;
    if (/[a-z]/.test(ch)) out.push(issue("case", `character ${p} is '${ch}': ${what} uses upper case letters ('${ch.toUpperCase()}')`, p));
    else out.push(issue("charset", `character ${p} is ${show(ch)}; ${what} uses 0-9 and A-Z`, p));
  }
  return out;
}

function digitIssues(value: string, from: number, to: number, what: string): IdIssue[] {
  const out: IdIssue[] = [];
  for (let i = from; i < to; i++) {
    const ch = value.charAt(i);
    if (ch >= "0" && ch <= "9") continue;
    out.push(issue("charset", `character ${i + 1} is ${show(ch)}; ${what} are digits`, i + 1));
  }
  return out;
}

/** Issues of a 12-character 基本编码 starting at 0-based `offset`. */
function basicIssues(value: string, offset: number): IdIssue[] {
  const code = value.slice(offset, offset + BASIC_LENGTH);
  const out = alnumIssues(value, offset, offset + BASIC_LENGTH, "a 基本编码");
  if (out.length > 0) return out;
  const prefix = code.slice(0, 2);
  if (prefix !== "00" && provinceOf(`${prefix}0000`) === undefined) {
    out.push(issue("catalog-prefix", `characters ${offset + 1}-${offset + 2} are '${prefix}': a 基本编码 starts with 00 (national catalog) or a province code`, offset + 1));
  }
  return out;
}

function implementationIssues(value: string): IdIssue[] {
  return [...usccIssues(value.slice(0, 18), 0), ...alnumIssues(value, 18, 19, "a 实施编码"), ...basicIssues(value, 19)];
}

function basicParts(code: string): BasicCodeParts {
  if (code.startsWith("00")) return { code, scope: "national" };
  const province = provinceOf(`${code.slice(0, 2)}0000`);
  return province === undefined ? { code, scope: "local" } : { code, scope: "local", province };
}

function implementationParts(value: string): ImplementationCodeParts {
  return { agency: value.slice(0, 18), kindCharacter: value.charAt(18), basicCode: basicParts(value.slice(19)) };
}
