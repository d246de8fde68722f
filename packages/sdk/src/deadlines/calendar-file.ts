import { TongbanError } from "../errors/index.js";
import { parseDayNumber, weekdayOf, yearOf } from "./calendar-date.js";

/** Days of the week as written in a calendar file. */
export type WeekdayName = "sunday" | "monday" | "tuesday" | "wednesday" | "thursday" | "friday" | "saturday";

const WEEKDAYS: readonly WeekdayName[] = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

/** The identifier a calendar file declares in `format`. */
export const CALENDAR_FORMAT = "tongban-calendar/1";

/** One year of a calendar file (docs/deadlines.md). */
export interface CalendarYearFile {
  /** Where the dates come from, e.g. the State Council notice. */
  readonly source?: string;
  /** Days off on what would be working days: `YYYY-MM-DD` or a range `YYYY-MM-DD/YYYY-MM-DD` (both ends included). */
  readonly holidays: readonly string[];
  /** Make-up working days (调休上班) on what would be weekend days, `YYYY-MM-DD`. */
  readonly workdays?: readonly string[];
}

/** A holiday calendar file, JSON or YAML (docs/deadlines.md). */
export interface CalendarFile {
  readonly format: typeof CALENDAR_FORMAT;
  readonly name: string;
  /** Weekend days; default Saturday and Sunday. */
  readonly weekend?: readonly WeekdayName[];
  /** Calendar years covered, keyed `"2025"`. Dates outside them are refused, not guessed. */
  readonly years: Readonly<Record<string, CalendarYearFile>>;
}

/** @internal A calendar file checked and reduced to day-number sets. */
export interface ParsedCalendar {
  readonly name: string;
  readonly weekend: ReadonlySet<number>;
  readonly years: ReadonlySet<number>;
  readonly holidays: ReadonlySet<number>;
  readonly workdays: ReadonlySet<number>;
  readonly sources: Readonly<Record<string, string>>;
}

function invalid(path: string, reason: string): TongbanError {
  return new TongbanError("CALENDAR_INVALID", `calendar file: ${path}: ${reason}`, { details: { path, reason } });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    // Unknown keys are refused: a misspelt "holiday" must not silently drop every holiday.
    if (!allowed.includes(key)) throw invalid(path === "" ? key : `${path}.${key}`, `unknown key (allowed: ${allowed.join(", ")})`);
  }
}

function stringList(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) throw invalid(path, "must be a list of dates");
  return value as string[];
}

function day(text: string, year: number, path: string): number {
  const n = parseDayNumber(text);
  if (n === undefined) throw invalid(path, `"${text}" is not a YYYY-MM-DD date`);
  if (yearOf(n) !== year) throw invalid(path, `"${text}" is not in ${year}`);
  return n;
}

/**
 * @internal Checks a parsed calendar document and reduces it to day sets.
 * Throws CALENDAR_INVALID naming the path of the first fault.
 */
export function parseCalendarFile(doc: unknown): ParsedCalendar {
  if (!isRecord(doc)) throw invalid("", "the document must be a mapping");
  checkKeys(doc, ["format", "name", "weekend", "years"], "");
  if (doc["format"] !== CALENDAR_FORMAT) throw invalid("format", `must be "${CALENDAR_FORMAT}"`);
  const name = doc["name"];
  if (typeof name !== "string" || name.length === 0) throw invalid("name", "must be a non-empty string");

  const weekendNames = doc["weekend"] === undefined ? ["saturday", "sunday"] : doc["weekend"];
  if (!Array.isArray(weekendNames)) throw invalid("weekend", "must be a list of weekday names");
  const weekend = new Set<number>();
  weekendNames.forEach((w, i) => {
    const index = WEEKDAYS.indexOf(w as WeekdayName);
    if (index < 0) throw invalid(`weekend[${i}]`, `"${String(w)}" is not a weekday name (${WEEKDAYS.join(", ")})`);
    if (weekend.has(index)) throw invalid(`weekend[${i}]`, `"${String(w)}" is listed twice`);
    weekend.add(index);
  });
  if (weekend.size === 7) throw invalid("weekend", "cannot contain every day of the week");

  const yearsDoc = doc["years"];
  if (!isRecord(yearsDoc) || Object.keys(yearsDoc).length === 0) throw invalid("years", "must map at least one year to its holidays");
  const years = new Set<number>();
  const holidays = new Set<number>();
  const workdays = new Set<number>();
  const sources: Record<string, string> = {};
  for (const [key, entry] of Object.entries(yearsDoc)) {
    const path = `years.${key}`;
    if (!/^\d{4}$/.test(key)) throw invalid(path, "a year key must be four digits");
    const year = Number(key);
    if (!isRecord(entry)) throw invalid(path, "must be a mapping with holidays and workdays");
    checkKeys(entry, ["source", "holidays", "workdays"], path);
    if (entry["source"] !== undefined) {
      if (typeof entry["source"] !== "string") throw invalid(`${path}.source`, "must be a string");
      sources[key] = entry["source"];
    }
    stringList(entry["holidays"], `${path}.holidays`).forEach((text, i) => {
      const where = `${path}.holidays[${i}]`;
      const [fromText, toText, ...rest] = text.split("/");
      if (fromText === undefined || rest.length > 0) throw invalid(where, `"${text}" is not a date or a date range`);
      const from = day(fromText, year, where);
      const to = toText === undefined ? from : day(toText, year, where);
      if (to < from) throw invalid(where, `range "${text}" ends before it starts`);
      for (let d = from; d <= to; d++) {
        if (holidays.has(d)) throw invalid(where, `"${text}" overlaps an earlier holiday entry`);
        holidays.add(d);
      }
    });
    stringList(entry["workdays"] ?? [], `${path}.workdays`).forEach((text, i) => {
      const where = `${path}.workdays[${i}]`;
      const d = day(text, year, where);
      // A make-up working day only means something on a weekend day; anything else is a typo.
      if (!weekend.has(weekdayOf(d))) throw invalid(where, `"${text}" is not a weekend day, so it cannot be a make-up working day`);
      if (holidays.has(d)) throw invalid(where, `"${text}" is also listed as a holiday`);
      if (workdays.has(d)) throw invalid(where, `"${text}" is listed twice`);
      workdays.add(d);
    });
    years.add(year);
  }
  return { name, weekend, years, holidays, workdays, sources };
}
