/**
 * A civil date in China Standard Time, `YYYY-MM-DD`. Deadlines are counted
 * in these, whatever the host's time zone.
 */
export type CalendarDate = string;

/**
 * Asia/Shanghai is UTC+08:00 all year: China has observed no daylight saving
 * time since 1991, so a fixed offset is exact for every year a calendar file
 * can cover and needs no time-zone database on the host.
 */
export const SHANGHAI_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** @internal Days since 1970-01-01 for a valid `YYYY-MM-DD`, or undefined. */
export function parseDayNumber(date: string): number | undefined {
  const m = DATE_RE.exec(date);
  if (m === null) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  // Date.UTC rolls 2025-02-30 over to March; a round trip rejects it.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return ms / DAY_MS;
}

/** @internal `YYYY-MM-DD` for a day number. */
export function formatDayNumber(day: number): CalendarDate {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** @internal The Shanghai civil day an instant falls on. */
export function shanghaiDayNumber(at: Date): number {
  return Math.floor((at.getTime() + SHANGHAI_OFFSET_MS) / DAY_MS);
}

/** @internal The instant of `minutes` past Shanghai midnight on `day`. */
export function shanghaiInstant(day: number, minutes: number): Date {
  return new Date(day * DAY_MS + minutes * 60_000 - SHANGHAI_OFFSET_MS);
}

/** @internal Day of week of a day number, 0 = Sunday … 6 = Saturday. */
export function weekdayOf(day: number): number {
  // 1970-01-01 was a Thursday.
  return (((day + 4) % 7) + 7) % 7;
}

/** @internal The calendar year of a day number. */
export function yearOf(day: number): number {
  return new Date(day * DAY_MS).getUTCFullYear();
}

/**
 * The Shanghai civil date an instant falls on.
 *
 * @example
 * ```ts
 * toShanghaiDate(new Date("2025-09-30T17:00:00Z")) // "2025-10-01"
 * ```
 */
export function toShanghaiDate(at: Date): CalendarDate {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new TypeError("toShanghaiDate: at must be a valid Date");
  return formatDayNumber(shanghaiDayNumber(at));
}
