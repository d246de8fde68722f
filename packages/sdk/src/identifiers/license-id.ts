import { ALPHANUMERIC, hybridCheckCharacter } from "./iso7064.js";
import { finish, issue, partsOrThrow, requireString, show } from "./result.js";
import type { IdIssue, IdValidation } from "./types.js";
import { usccIssues } from "./uscc.js";

/** The root OID every 证照标识 starts with (GB/T 36904-2018). */
export const LICENSE_ROOT = "1.2.156.3005.2";

/** The longest 流水号 accepted (GB/T 36904 leaves the length to the issuer). */
export const LICENSE_SERIAL_MAX_LENGTH = 64;

/** The fields of a 证照标识 that its check character covers. */
export interface LicenseIdFields {
  /** 证照类型代码: the defining agency's USCC followed by three digits (21 characters). */
  readonly type: string;
  /** 证照颁发机构代码: the issuing agency's USCC (18 characters). */
  readonly issuer: string;
  /** 流水号: 1–64 characters of 0-9/A-Z, unique per issuer and type. */
  readonly serial: string;
  /** 版本号: three digits, starting at 001. */
  readonly version: string;
}

/** The parts of a valid 证照标识. */
export interface LicenseIdParts extends LicenseIdFields {
  /** The ISO/IEC 7064 MOD 37,36 check character. */
  readonly check: string;
}

/**
 * The ISO/IEC 7064 MOD 37,36 check character of a 证照标识: computed over
 * type + issuer + serial + version concatenated, without the root OID and
 * without the dots (see docs/decisions/0003-license-identifier.md).
 *
 * Throws TypeError when a field holds a character other than 0-9/A-Z; it
 * does not check the fields' structure — use {@link validateLicenseId} on
 * the result for that.
 *
 * @example
 * ```ts
 * computeLicenseCheck({ type: "11100000000013338W011", issuer: "11430000006122244L", serial: "20230000403", version: "001" }); // "U"
 * ```
 */
export function computeLicenseCheck(fields: LicenseIdFields): string {
  const body = `${fields.type}${fields.issuer}${fields.serial}${fields.version}`;
  const check = hybridCheckCharacter(body, ALPHANUMERIC);
  if (check === undefined) throw new TypeError("computeLicenseCheck: fields may hold only 0-9 and A-Z");
  return check;
}

/**
 * Builds a 证照标识 from its fields, appending the check character.
 *
 * @example
 * ```ts
 * formatLicenseId({ type: "11100000000013338W011", issuer: "11430000006122244L", serial: "20230000403", version: "001" });
 * // "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"
 * ```
 */
export function formatLicenseId(fields: LicenseIdFields): string {
  return `${LICENSE_ROOT}.${fields.type}.${fields.issuer}.${fields.serial}.${fields.version}.${computeLicenseCheck(fields)}`;
}

/**
 * Validates a 证照标识 (GB/T 36904-2018):
 * `1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>`.
 *
 * Rules: `prefix` (the root OID), `segment-count` (five fields after it),
 * `case` (lower-case letters), `charset`; `type-length` (21) and the
 * defining agency's USCC checks as `type-…` (e.g. `type-check-character`);
 * `type-sequence` (its last three characters are digits); `issuer-length`
 * (18) and the issuer USCC checks as `issuer-…`; `serial-length` (1–64);
 * `version` (three digits, not 000); `check-character` (MOD 37,36).
 *
 * @example
 * ```ts
 * validateLicenseId("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U").ok; // true
 * ```
 */
export function validateLicenseId(value: string): IdValidation<LicenseIdParts, "license-id"> {
  requireString(value, "validateLicenseId");
  const issues: IdIssue[] = [];
  const root = `${LICENSE_ROOT}.`;
  if (!value.startsWith(root)) {
    const chars = Array.from(value);
    const at = Array.from(root).findIndex((ch, i) => chars[i] !== ch);
    const p = at < 0 ? root.length + 1 : at + 1;
    issues.push(issue("prefix", `a 证照标识 starts with '${root}'; character ${p} differs`, p));
    return finish("license-id", value, issues, () => emptyParts());
  }
  const rest = value.slice(root.length);
  // Positions are 1-based in the whole value; fields are ASCII once charset passes.
  const fields: { text: string; start: number }[] = [];
  let start = root.length + 1;
  for (const text of rest.split(".")) {
    fields.push({ text, start });
    start += Array.from(text).length + 1;
  }
  Array.from(rest).forEach((ch, i) => {
    const p = root.length + i + 1;
    if (ch === "." || /[0-9A-Z]/.test(ch)) return;
    if (/[a-z]/.test(ch)) issues.push(issue("case", `character ${p} is '${ch}': a 证照标识 uses upper case letters ('${ch.toUpperCase()}')`, p));
    else issues.push(issue("charset", `character ${p} is ${show(ch)}; fields use 0-9 and A-Z`, p));
  });
  if (fields.length !== 5) {
    issues.push(issue("segment-count", `a 证照标识 has 5 fields after the root (type.issuer.serial.version.check), got ${fields.length}`));
    return finish("license-id", value, issues, () => emptyParts());
  }
  if (issues.length > 0) return finish("license-id", value, issues, () => emptyParts());
  const [type, issuer, serial, version, check] = fields as [typeof fields[0], typeof fields[0], typeof fields[0], typeof fields[0], typeof fields[0]];

  if (type.text.length !== 21) {
    issues.push(issue("type-length", `the 证照类型代码 at position ${type.start} has 21 characters (USCC + 3 digits), got ${type.text.length}`, type.start));
  } else {
    issues.push(...prefixed("type", usccIssues(type.text.slice(0, 18), type.start - 1)));
    for (let i = 18; i < 21; i++) {
      const ch = type.text.charAt(i);
      if (ch < "0" || ch > "9") issues.push(issue("type-sequence", `character ${type.start + i} is '${ch}'; the last three characters of the 证照类型代码 are digits`, type.start + i));
    }
  }
  if (issuer.text.length !== 18) {
    issues.push(issue("issuer-length", `the 证照颁发机构代码 at position ${issuer.start} is a USCC of 18 characters, got ${issuer.text.length}`, issuer.start));
  } else {
    issues.push(...prefixed("issuer", usccIssues(issuer.text, issuer.start - 1)));
  }
  if (serial.text.length < 1 || serial.text.length > LICENSE_SERIAL_MAX_LENGTH) {
    issues.push(issue("serial-length", `the 流水号 at position ${serial.start} has 1-${LICENSE_SERIAL_MAX_LENGTH} characters, got ${serial.text.length}`, serial.start));
  }
  if (!/^[0-9]{3}$/.test(version.text) || version.text === "000") {
    issues.push(issue("version", `the 版本号 at position ${version.start} is three digits from 001, got '${version.text}'`, version.start));
  }
  if (check.text.length !== 1) {
    issues.push(issue("check-character", `the check field at position ${check.start} is one character, got ${check.text.length}`, check.start));
  } else {
    const expected = hybridCheckCharacter(`${type.text}${issuer.text}${serial.text}${version.text}`, ALPHANUMERIC);
    if (expected !== check.text) {
      issues.push(issue("check-character", `character ${check.start} is '${check.text}' but the MOD 37,36 check character is '${expected ?? "?"}'`, check.start));
    }
  }
  return finish("license-id", value, issues, () => ({
    type: type.text,
    issuer: issuer.text,
    serial: serial.text,
    version: version.text,
    check: check.text,
  }));
}

/** Returns the parts of a valid 证照标识 or throws IDENTIFIER_INVALID. */
export function assertLicenseId(value: string): LicenseIdParts {
  return partsOrThrow(validateLicenseId(value), "license identifier (证照标识)");
}

function prefixed(field: string, issues: IdIssue[]): IdIssue[] {
  return issues.map((i) => {
    const message = `${field === "type" ? "证照类型代码" : "证照颁发机构代码"}: ${i.message}`;
    return i.position === undefined ? { rule: `${field}-${i.rule}`, message } : { rule: `${field}-${i.rule}`, position: i.position, message };
  });
}

function emptyParts(): LicenseIdParts {
  return { type: "", issuer: "", serial: "", version: "", check: "" };
}
