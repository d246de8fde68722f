import { organizationCodeCheck } from "./organization-code.js";
import { provinceOf, regionName } from "./region.js";
import { finish, issue, partsOrThrow, requireString, show } from "./result.js";
import type { IdIssue, IdValidation } from "./types.js";

/** The 31 characters of GB 32100 in value order (no I, O, Z, S, V). */
export const USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";

const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;

/** Region part (positions 3–8) of organisations registered by central authorities. */
export const USCC_CENTRAL_REGION = "100000";

/** The parts of a valid 统一社会信用代码. */
export interface UsccParts {
  /** Position 1, 登记管理部门码 (e.g. '1' 机构编制, '5' 民政, '9' 工商). */
  readonly registrationAuthority: string;
  /** Position 2, 机构类别码 (meaning depends on position 1). */
  readonly institutionCategory: string;
  /** Positions 3–8, 登记管理机关行政区划码 (GB/T 2260, or 100000 for central registration). */
  readonly region: string;
  /** Name of the region when the code is in the vendored table (abolished codes may not be). */
  readonly regionName?: string;
  /** Positions 9–17, 主体标识码 (组织机构代码, GB 11714, with its own check character). */
  readonly organizationCode: string;
  /** Position 18, the MOD 31 check character. */
  readonly checkCharacter: string;
}

/** Options of {@link validateUscc}. */
export interface UsccOptions {
  /**
   * Check the GB 11714 check character of positions 9–17 (default true).
   * Turn off only for data known to carry codes that predate GB 32100.
   */
  readonly organizationCodeCheck?: boolean;
}

/**
 * The GB 32100 check character (position 18) for the first 17 characters,
 * or undefined when they are not 17 characters of {@link USCC_ALPHABET}.
 * check = (31 − Σ(value × weight) mod 31) mod 31, weights 3^(i) mod 31.
 */
export function usccCheckCharacter(first17: string): string | undefined {
  if (first17.length !== 17) return undefined;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_ALPHABET.indexOf(first17.charAt(i));
    if (v < 0) return undefined;
    sum += v * (WEIGHTS[i] ?? 0);
  }
  return USCC_ALPHABET[(31 - (sum % 31)) % 31];
}

/**
 * Validates a 统一社会信用代码 (GB 32100-2015).
 *
 * Exactly these rules, in this order:
 * - `length`: 18 characters.
 * - `charset`: every character in `0-9A-HJ-NP-RTUWXY` (no I, O, Z, S, V,
 *   no lower case — lower case is reported as `case`); positions 3–8 digits.
 * - `region-unknown`: positions 3–8 are 100000 (central registration) or start
 *   with a province code in the table. The county itself is not required to
 *   be in the table: a code keeps its region for life, and counties merged
 *   since registration (e.g. 330185 临安市, now 330112) have left the table.
 * - `organization-code-check`: position 17 is the GB 11714 check character
 *   of positions 9–16 (values A=10 … Z=35, weights 3,7,9,10,5,8,4,2). Both
 *   GB 32100 samples (91350100M000100Y43, 11100000000013338W) satisfy it; GB
 *   32100 §4.4 says positions 9–17 are coded per GB 11714, check included.
 * - `check-character`: position 18 is the MOD 31 check character over 1–17
 *   (weights 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28).
 *
 * Positions 1 and 2 are only checked for their character set: the list of
 * registration authorities and categories grows by amendment, and rejecting
 * a new one would reject a real organisation.
 *
 * Known exceptions: a few codes issued in the Xiamen pilot before GB 32100
 * (e.g. 91350203M0001FUE2P) fail `check-character`; they are rejected.
 *
 * @example
 * ```ts
 * validateUscc("91350100M000100Y43").ok; // true
 * ```
 */
export function validateUscc(value: string, options: UsccOptions = {}): IdValidation<UsccParts, "uscc"> {
  requireString(value, "validateUscc");
  return finish("uscc", value, usccIssues(value, 0, options), () => usccParts(value));
}

/**
 * The issues of a USCC that sits at `offset` inside a longer identifier
 * (positions are reported in the longer value).
 */
export function usccIssues(value: string, offset: number, options: UsccOptions = {}): IdIssue[] {
  const issues: IdIssue[] = [];
  const chars = Array.from(value);
  const at = (i: number): number => offset + i + 1;
  if (chars.length !== 18) {
    issues.push(issue("length", `a USCC has 18 characters, got ${chars.length}`));
    return issues;
  }
  let charsetOk = true;
  chars.forEach((ch, i) => {
    const p = at(i);
    if (i >= 2 && i <= 7) {
      if (ch < "0" || ch > "9") {
        charsetOk = false;
        issues.push(issue("charset", `character ${p} is ${show(ch)}; USCC positions 3-8 are the digits of a region code`, p));
      }
      return;
    }
    if (USCC_ALPHABET.includes(ch)) return;
    charsetOk = false;
    const upper = ch.toUpperCase();
    if (upper !== ch && USCC_ALPHABET.includes(upper)) {
      issues.push(issue("case", `character ${p} is '${ch}': USCC letters are upper case ('${upper}')`, p));
    } else if ("IOZSV".includes(ch)) {
      issues.push(issue("charset", `character ${p} is '${ch}', which GB 32100 never uses (no I, O, Z, S, V)`, p));
    } else {
      issues.push(issue("charset", `character ${p} is ${show(ch)}; a USCC uses 0-9 and A-Z except I, O, Z, S, V`, p));
    }
  });
  if (!charsetOk) return issues;
  const region = value.slice(2, 8);
  if (region !== USCC_CENTRAL_REGION && provinceOf(region) === undefined) {
    issues.push(issue("region-unknown", `characters ${at(2)}-${at(7)} are ${region}, whose first two digits name no province (nor 100000 for central registration)`, at(2)));
  }
  if (options.organizationCodeCheck !== false) {
    const expected = organizationCodeCheck(value.slice(8, 16));
    const actual = value.charAt(16);
    if (expected !== actual) {
      issues.push(issue("organization-code-check", `character ${at(16)} is '${actual}' but the GB 11714 check character of characters ${at(8)}-${at(15)} is '${expected ?? "?"}'`, at(16)));
    }
  }
  const expected = usccCheckCharacter(value.slice(0, 17));
  const actual = value.charAt(17);
  if (expected !== actual) {
    issues.push(issue("check-character", `character ${at(17)} is '${actual}' but the MOD 31 check character is '${expected ?? "?"}'`, at(17)));
  }
  return issues;
}

function usccParts(value: string): UsccParts {
  const region = value.slice(2, 8);
  const name = region === USCC_CENTRAL_REGION ? "中华人民共和国" : regionName(region);
  const base = {
    registrationAuthority: value.charAt(0),
    institutionCategory: value.charAt(1),
    region,
    organizationCode: value.slice(8, 17),
    checkCharacter: value.charAt(17),
  };
  return name === undefined ? base : { ...base, regionName: name };
}

/** Returns the parts of a valid USCC or throws IDENTIFIER_INVALID. */
export function assertUscc(value: string, options: UsccOptions = {}): UsccParts {
  return partsOrThrow(validateUscc(value, options), "USCC");
}
