/** Whether year/month/day form a real Gregorian date. */
export function isRealDate(year: number, month: number, day: number): boolean {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return false;
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Parses yyyyMMdd digits into parts, or undefined when not eight digits. */
export function parseCompactDate(text: string): { year: number; month: number; day: number } | undefined {
  if (!/^[0-9]{8}$/.test(text)) return undefined;
  return { year: Number(text.slice(0, 4)), month: Number(text.slice(4, 6)), day: Number(text.slice(6, 8)) };
}

/** The calendar date in China (UTC+8, no daylight saving) at an instant, as yyyyMMdd. */
export function chinaDate(now: Date): string {
  const d = new Date(now.getTime() + 8 * 3_600_000);
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, "0")}${String(d.getUTCDate()).padStart(2, "0")}`;
}
