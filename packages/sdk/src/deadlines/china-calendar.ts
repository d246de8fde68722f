import data from "./data/cn-2025-2026.json" with { type: "json" };
import { Calendar, type CalendarOptions } from "./calendar.js";

/**
 * The mainland China working-day calendar shipped with the SDK: 2025 and
 * 2026, from the State Council's 放假安排 notices (sources in the file and in
 * docs/deadlines.md). Dates outside those years throw CALENDAR_INVALID; load
 * a newer file with `Calendar.load` when the next notice is published.
 */
export function loadChinaCalendar(options: CalendarOptions = {}): Calendar {
  return Calendar.load(data, options);
}
