import { parse as parseYaml } from "yaml";
import { TongbanError } from "../errors/index.js";
import {
  formatDayNumber,
  parseDayNumber,
  shanghaiDayNumber,
  shanghaiInstant,
  weekdayOf,
  yearOf,
  type CalendarDate,
} from "./calendar-date.js";
import { parseCalendarFile, type ParsedCalendar } from "./calendar-file.js";

/** Options for {@link Calendar.load}. */
export interface CalendarOptions {
  /**
   * When the office stops business, `HH:MM` in Shanghai time; the last day of
   * a period ends then (民法典 art. 203: 有业务时间的，停止业务活动的时间为截止时间).
   * Default `"17:00"`.
   */
  readonly closeOfBusiness?: string;
}

/** A date argument: a `YYYY-MM-DD` Shanghai date, or an instant (taken in Shanghai time). */
export type DateInput = CalendarDate | Date;

/**
 * A working-day calendar: weekends, public holidays and make-up working days
 * (调休), for the years its file covers. Every question about a day outside
 * those years throws CALENDAR_INVALID rather than guessing.
 *
 * Counting follows 民法典 art. 201: the day a period starts on does not count;
 * the period ends at close of business on its last working day.
 *
 * @example
 * ```ts
 * const cal = loadChinaCalendar();
 * cal.addWorkingDays("2025-09-26", 5);      // "2025-10-10"
 * cal.dueAt(new Date("2025-09-26T02:00:00Z"), 5); // 2025-10-10T09:00:00Z (17:00 in Shanghai)
 * ```
 */
export class Calendar {
  /** The calendar's name from its file. */
  readonly name: string;
  /** Minutes after Shanghai midnight at which a working day's business ends. */
  readonly closeOfBusinessMinutes: number;
  readonly #data: ParsedCalendar;

  private constructor(data: ParsedCalendar, closeOfBusinessMinutes: number) {
    this.name = data.name;
    this.#data = data;
    this.closeOfBusinessMinutes = closeOfBusinessMinutes;
  }

  /**
   * Loads a calendar from a file's text (JSON or YAML) or from an already
   * parsed document. Throws CALENDAR_INVALID, naming the path of the fault,
   * when the file breaks the format in docs/deadlines.md.
   */
  static load(input: string | object, options: CalendarOptions = {}): Calendar {
    let doc: unknown = input;
    if (typeof input === "string") {
      try {
        // YAML 1.2 is a superset of JSON, so one parser reads both formats.
        doc = parseYaml(input);
      } catch (cause) {
        throw new TongbanError("CALENDAR_INVALID", "calendar file is neither valid JSON nor valid YAML", { cause, details: { path: "", reason: "parse error" } });
      }
    }
    const cob = options.closeOfBusiness ?? "17:00";
    const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(cob);
    if (m === null) throw new TypeError(`Calendar.load: closeOfBusiness must be HH:MM, got ${String(cob)}`);
    return new Calendar(parseCalendarFile(doc), Number(m[1]) * 60 + Number(m[2]));
  }

  /** The calendar years this calendar covers, ascending. */
  get years(): number[] {
    return [...this.#data.years].sort((a, b) => a - b);
  }

  /** The source noted for a year in the file, if any. */
  sourceOf(year: number): string | undefined {
    return this.#data.sources[String(year)];
  }

  /** True when `date` (a Shanghai date) is a working day. */
  isWorkingDay(date: DateInput): boolean {
    return this.#isWorking(toDay(date, "isWorkingDay"));
  }

  /**
   * The `n`th working day after `start` (the start day itself never counts,
   * whether or not it is a working day). `n = 0` returns `start`; negative
   * `n` counts backwards to the `|n|`th working day before `start`.
   */
  addWorkingDays(start: DateInput, n: number): CalendarDate {
    if (!Number.isSafeInteger(n)) throw new TypeError(`addWorkingDays: n must be an integer, got ${String(n)}`);
    return formatDayNumber(this.#addDays(toDay(start, "addWorkingDays"), n));
  }

  /**
   * The number of working days in (a, b]: after `a`, up to and including `b`;
   * `-workingDaysBetween(b, a)` when `b` is before `a`. For `n >= 0` it is
   * the inverse of {@link addWorkingDays}:
   * `workingDaysBetween(d, addWorkingDays(d, n)) === n`.
   */
  workingDaysBetween(a: DateInput, b: DateInput): number {
    return this.#between(toDay(a, "workingDaysBetween"), toDay(b, "workingDaysBetween"));
  }

  /** The instant business closes on `date` (Shanghai time). */
  closeOfBusinessOn(date: DateInput): Date {
    return shanghaiInstant(toDay(date, "closeOfBusinessOn"), this.closeOfBusinessMinutes);
  }

  /**
   * When a period of `n` working days starting at `start` ends: close of
   * business on `addWorkingDays(start, n)`.
   */
  dueAt(start: Date, n: number): Date {
    if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`dueAt: n must be a non-negative integer, got ${String(n)}`);
    return this.closeOfBusinessOn(this.addWorkingDays(start, n));
  }

  /** @internal Day-number form of {@link addWorkingDays}. */
  addDayNumbers(start: number, n: number): number {
    return this.#addDays(start, n);
  }

  /** @internal Day-number form of {@link workingDaysBetween}. */
  betweenDayNumbers(a: number, b: number): number {
    return this.#between(a, b);
  }

  /** @internal Day-number form of {@link isWorkingDay}. */
  isWorkingDayNumber(day: number): boolean {
    return this.#isWorking(day);
  }

  #isWorking(day: number): boolean {
    const year = yearOf(day);
    if (!this.#data.years.has(year)) {
      throw new TongbanError("CALENDAR_INVALID", `calendar "${this.name}" does not cover ${formatDayNumber(day)}`, {
        details: { date: formatDayNumber(day), covered: this.years },
      });
    }
    if (this.#data.holidays.has(day)) return false;
    if (this.#data.workdays.has(day)) return true;
    return !this.#data.weekend.has(weekdayOf(day));
  }

  #addDays(start: number, n: number): number {
    const step = n < 0 ? -1 : 1;
    let day = start;
    for (let left = Math.abs(n); left > 0; ) {
      day += step;
      if (this.#isWorking(day)) left--;
    }
    return day;
  }

  #between(a: number, b: number): number {
    if (b < a) return 0 - this.#between(b, a);
    let count = 0;
    for (let day = a + 1; day <= b; day++) if (this.#isWorking(day)) count++;
    return count;
  }
}

function toDay(date: DateInput, what: string): number {
  if (date instanceof Date) {
    if (Number.isNaN(date.getTime())) throw new TypeError(`${what}: invalid Date`);
    return shanghaiDayNumber(date);
  }
  const day = typeof date === "string" ? parseDayNumber(date) : undefined;
  if (day === undefined) throw new TypeError(`${what}: expected a YYYY-MM-DD date or a Date, got ${String(date)}`);
  return day;
}
