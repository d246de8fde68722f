// Public surface of outbox/: an explicit list of named exports.
export { DEFAULT_RETRY_POLICY, RetrySchedule, nextAttempt, validatePolicy } from "./retry-schedule.js";
export type { RetryDecision, RetryPolicy } from "./retry-schedule.js";
