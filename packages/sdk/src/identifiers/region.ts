import table from "./data/gbt2260.json" with { type: "json" };
import { finish, issue, partsOrThrow, requireString, show } from "./result.js";
import type { IdIssue, IdValidation } from "./types.js";

// Typed once here so the 3,000-key literal type never spreads into .d.ts files.
const REGIONS: Readonly<Record<string, string>> = table.regions;

/** Where the vendored GB/T 2260 table came from (package, version, data date). */
export const REGION_TABLE_SOURCE: Readonly<{ package: string; version: string; data: string }> = Object.freeze({
  package: table.source.package,
  version: table.source.version,
  data: table.source.data,
});

/** A region code and its name. */
export interface RegionEntry {
  readonly code: string;
  readonly name: string;
}

/** The parts of a valid GB/T 2260 code. */
export interface RegionParts extends RegionEntry {
  readonly level: "province" | "prefecture" | "county";
  readonly province: RegionEntry;
  /** Absent for provinces and for counties directly under a province. */
  readonly prefecture?: RegionEntry;
}

const SIX_DIGITS = /^[0-9]{6}$/;

/**
 * The name of a GB/T 2260 code (province, prefecture or county level), or
 * undefined when the code is not in the vendored table.
 *
 * @example
 * ```ts
 * regionName("310118"); // "青浦区"
 * ```
 */
export function regionName(code: string): string | undefined {
  requireString(code, "regionName");
  if (!SIX_DIGITS.test(code)) return undefined;
  return Object.hasOwn(REGIONS, code) ? REGIONS[code] : undefined;
}

/**
 * The province (省级) a six-digit code belongs to, or undefined when its
 * first two digits name no province in the table. Works for any six digits
 * with a known province prefix, so it also serves codes embedded in older
 * identifiers whose county has since been abolished.
 *
 * @example
 * ```ts
 * provinceOf("320509"); // { code: "320000", name: "江苏省" }
 * ```
 */
export function provinceOf(code: string): RegionEntry | undefined {
  requireString(code, "provinceOf");
  if (!SIX_DIGITS.test(code)) return undefined;
  const provinceCode = `${code.slice(0, 2)}0000`;
  const name = regionName(provinceCode);
  return name === undefined ? undefined : { code: provinceCode, name };
}

/**
 * Validates a GB/T 2260 six-digit region code against the vendored 民政部
 * table. Rules: `length`, `charset`, `region-unknown`.
 *
 * @example
 * ```ts
 * const v = validateRegionCode("330421");
 * if (v.ok) v.parts.name; // "嘉善县"
 * ```
 */
export function validateRegionCode(value: string): IdValidation<RegionParts, "region"> {
  requireString(value, "validateRegionCode");
  const issues: IdIssue[] = [];
  const chars = Array.from(value);
  if (chars.length !== 6) issues.push(issue("length", `a region code has 6 digits, got ${chars.length} characters`));
  chars.forEach((ch, i) => {
    if (ch < "0" || ch > "9") issues.push(issue("charset", `character ${i + 1} is ${show(ch)}, expected a digit`, i + 1));
  });
  if (issues.length === 0 && regionName(value) === undefined) {
    issues.push(issue("region-unknown", `${value} is not a GB/T 2260 code in the vendored table (${table.source.package}@${table.source.version})`, 1));
  }
  return finish("region", value, issues, () => regionParts(value));
}

/** Returns the parts of a valid region code or throws IDENTIFIER_INVALID. */
export function assertRegionCode(value: string): RegionParts {
  return partsOrThrow(validateRegionCode(value), "region code");
}

function regionParts(code: string): RegionParts {
  const name = REGIONS[code] ?? "";
  const province = provinceOf(code) ?? { code, name };
  if (code.endsWith("0000")) return { code, name, level: "province", province };
  const prefectureCode = `${code.slice(0, 4)}00`;
  const prefectureName = regionName(prefectureCode);
  if (code.endsWith("00")) return { code, name, level: "prefecture", province };
  return prefectureName === undefined
    ? { code, name, level: "county", province }
    : { code, name, level: "county", province, prefecture: { code: prefectureCode, name: prefectureName } };
}

