import { chinaDate, isRealDate, parseCompactDate } from "./calendar.js";
import { MOD_11_2, pureCheckCharacter } from "./iso7064.js";
import { maskPersonalId } from "./mask.js";
import { provinceOf } from "./region.js";
import { finish, issue, partsOrThrow, requireString, show } from "./result.js";
import type { IdIssue, IdValidation } from "./types.js";

/** The parts of a valid 公民身份号码. Personal data: never log them. */
export interface CitizenIdParts {
  /** Characters 1–6, the address code (GB/T 2260 code of the place of first registration). */
  readonly region: string;
  /** Characters 7–14 as an ISO 8601 date, `YYYY-MM-DD`. */
  readonly birthDate: string;
  /** Characters 15–17, the sequence code. */
  readonly sequence: string;
  /** From the parity of character 17: odd is male, even is female. */
  readonly sex: "male" | "female";
}

/** Options of {@link validateCitizenId}. */
export interface CitizenIdOptions {
  /** The instant "today" is taken from for the not-in-the-future rule (default: now). */
  readonly now?: Date;
}

/**
 * Validates an 18-character 公民身份号码 (GB 11643-1999).
 *
 * Rules: `length`; `charset` (digits, and 'X' only at position 18; a lower
 * case 'x' is `case`); `region-unknown` (characters 1–2 must be a province
 * in the GB/T 2260 table — the county is not checked, because an address
 * code is kept for life even after its county is merged); `birth-date`
 * (characters 7–14 are a real calendar date, year ≥ 1900, not after today
 * in China); `check-character` (ISO 7064 MOD 11-2 over characters 1–17).
 *
 * Messages never quote the birth date or the whole value; `assertCitizenId`
 * quotes only the masked form (see {@link maskPersonalId}).
 *
 * @example
 * ```ts
 * const v = validateCitizenId("11010519491231002X");
 * if (v.ok) v.parts.sex; // "female"
 * ```
 */
export function validateCitizenId(value: string, options: CitizenIdOptions = {}): IdValidation<CitizenIdParts, "citizen-id"> {
  requireString(value, "validateCitizenId");
  const issues: IdIssue[] = [];
  const chars = Array.from(value);
  if (chars.length !== 18) {
    issues.push(issue("length", `a citizen ID number has 18 characters, got ${chars.length}`));
    return finish("citizen-id", value, issues, () => citizenParts(value));
  }
  chars.forEach((ch, i) => {
    const p = i + 1;
    if (ch >= "0" && ch <= "9") return;
    if (i === 17 && ch === "X") return;
    if (i === 17 && ch === "x") issues.push(issue("case", "character 18 is 'x': the check character is written upper case 'X'", p));
    else if (i === 17) issues.push(issue("charset", `character 18 is ${show(ch)}; the check character is a digit or 'X'`, p));
    else issues.push(issue("charset", `character ${p} is ${show(ch)}; characters 1-17 are digits`, p));
  });
  if (issues.length > 0) return finish("citizen-id", value, issues, () => citizenParts(value));

  if (provinceOf(value.slice(0, 6)) === undefined) {
    issues.push(issue("region-unknown", `characters 1-2 (${value.slice(0, 2)}) name no province in the GB/T 2260 table`, 1));
  }
  const date = parseCompactDate(value.slice(6, 14));
  if (date === undefined || !isRealDate(date.year, date.month, date.day)) {
    issues.push(issue("birth-date", "characters 7-14 are not a real calendar date (yyyyMMdd)", 7));
  } else if (date.year < 1900) {
    issues.push(issue("birth-date", "characters 7-10 give a birth year before 1900", 7));
  } else if (value.slice(6, 14) > chinaDate(options.now ?? new Date())) {
    issues.push(issue("birth-date", "characters 7-14 give a birth date after today", 7));
  }
  const expected = pureCheckCharacter(value.slice(0, 17), MOD_11_2);
  const actual = value.charAt(17);
  if (expected !== actual) {
    issues.push(issue("check-character", `character 18 is '${actual}' but the MOD 11-2 check character is '${expected ?? "?"}'`, 18));
  }
  return finish("citizen-id", value, issues, () => citizenParts(value));
}

function citizenParts(value: string): CitizenIdParts {
  const d = value.slice(6, 14);
  return {
    region: value.slice(0, 6),
    birthDate: `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`,
    sequence: value.slice(14, 17),
    sex: Number(value.charAt(16)) % 2 === 1 ? "male" : "female",
  };
}

/**
 * Returns the parts of a valid citizen ID number or throws IDENTIFIER_INVALID.
 * The error message quotes only the masked value.
 */
export function assertCitizenId(value: string, options: CitizenIdOptions = {}): CitizenIdParts {
  return partsOrThrow(validateCitizenId(value, options), "citizen ID number", maskPersonalId(value));
}
