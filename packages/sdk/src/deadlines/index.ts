// Public surface of deadlines/: an explicit list of named exports.
export { SHANGHAI_OFFSET_MS, toShanghaiDate, type CalendarDate } from "./calendar-date.js";
export { CALENDAR_FORMAT, type CalendarFile, type CalendarYearFile, type WeekdayName } from "./calendar-file.js";
export { Calendar, type CalendarOptions, type DateInput } from "./calendar.js";
export { loadChinaCalendar } from "./china-calendar.js";
export {
  DeadlineClock,
  type ClockStopReason,
  type DeadlineClockJSON,
  type DeadlineClockStop,
  type DeadlineLevel,
  type DeadlineStatus,
  type DeadlineStatusOptions,
} from "./deadline-clock.js";
export { caseClockEffect, type CaseClockEffect } from "./case-clock-effect.js";
