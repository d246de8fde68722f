/**
 * When the outbox tries a message again. Exponential backoff with full
 * jitter (AWS architecture blog, "Exponential Backoff and Jitter"): the delay
 * before attempt n+1 is uniform in [minDelay, min(maxDelay, base·factor^n)],
 * which spreads retries of many senders hitting one recovering partner. A
 * message whose next attempt would fall after its final deadline is not
 * retried: it becomes FAILED with an alert (never silent).
 */
export interface RetryPolicy {
  /** Delay ceiling for the first retry, in ms. */
  readonly baseDelayMs: number;
  /** Growth per attempt. */
  readonly factor: number;
  /** Smallest delay between attempts, in ms (keeps a storm from spinning). */
  readonly minDelayMs: number;
  /** Largest delay between attempts, in ms. */
  readonly maxDelayMs: number;
  /** Time after the first attempt when the message is given up, in ms. */
  readonly deadlineMs: number;
  /** Most attempts in all (first included); 0 for no limit but the deadline. */
  readonly maxAttempts: number;
}

/** Defaults for production: retries for up to 24 hours, at most every 10 minutes. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  baseDelayMs: 1_000,
  factor: 2,
  minDelayMs: 250,
  maxDelayMs: 10 * 60_000,
  deadlineMs: 24 * 60 * 60_000,
  maxAttempts: 0,
});

/** What to do after a failed attempt. */
export type RetryDecision =
  | { readonly kind: "retry"; readonly at: number; readonly delayMs: number }
  | { readonly kind: "give-up"; readonly reason: "deadline" | "max-attempts" };

/**
 * Decides the next attempt after `attempts` failed attempts (≥ 1).
 *
 * @param firstAttemptAt - epoch ms of the first attempt (the deadline counts from it)
 * @param now - epoch ms of the failure
 * @param advisedDelayMs - a retry-after the partner sent (RESOURCE_EXHAUSTED); honoured
 *   as a lower bound
 * @param random - a source of uniform [0,1) numbers; injectable for tests
 *
 * @example
 * ```ts
 * const d = nextAttempt(policy, 3, first, Date.now());
 * if (d.kind === "retry") schedule(d.at); else markFailed(d.reason);
 * ```
 */
export function nextAttempt(
  policy: RetryPolicy,
  attempts: number,
  firstAttemptAt: number,
  now: number,
  advisedDelayMs = 0,
  random: () => number = Math.random,
): RetryDecision {
  validatePolicy(policy);
  if (!Number.isInteger(attempts) || attempts < 1) throw new TypeError(`attempts must be an integer ≥ 1, got ${attempts}`);
  if (policy.maxAttempts > 0 && attempts >= policy.maxAttempts) return { kind: "give-up", reason: "max-attempts" };
  const delayMs = Math.round(Math.min(policy.maxDelayMs, Math.max(backoffDelay(policy, attempts, random), advisedDelayMs)));
  const at = now + delayMs;
  if (at > firstAttemptAt + policy.deadlineMs) return { kind: "give-up", reason: "deadline" };
  return { kind: "retry", at, delayMs };
}

/** The jittered delay after `attempts` failures (≥ 1): uniform in [minDelay, min(maxDelay, base·factor^(attempts−1))]. */
export function backoffDelay(policy: RetryPolicy, attempts: number, random: () => number = Math.random): number {
  // Cap the exponent so factor^n never overflows to Infinity.
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** Math.min(attempts - 1, 64));
  return policy.minDelayMs + random() * Math.max(0, ceiling - policy.minDelayMs);
}

/** Throws TypeError for a policy that could never work. */
export function validatePolicy(policy: RetryPolicy): void {
  const positive = ["baseDelayMs", "maxDelayMs", "deadlineMs"] as const;
  for (const k of positive) {
    if (!(Number.isFinite(policy[k]) && policy[k] > 0)) throw new TypeError(`retry policy ${k} must be a positive number`);
  }
  if (!(policy.factor >= 1)) throw new TypeError("retry policy factor must be ≥ 1");
  if (!(policy.minDelayMs >= 0 && policy.minDelayMs <= policy.maxDelayMs)) {
    throw new TypeError("retry policy minDelayMs must be between 0 and maxDelayMs");
  }
  if (!(Number.isInteger(policy.maxAttempts) && policy.maxAttempts >= 0)) {
    throw new TypeError("retry policy maxAttempts must be an integer ≥ 0");
  }
}

/**
 * Per-destination policies: a partner known to be slow or on a maintenance
 * schedule can get its own, the rest use the default.
 */
export class RetrySchedule {
  readonly #default: RetryPolicy;
  readonly #perDestination: ReadonlyMap<string, RetryPolicy>;

  constructor(defaultPolicy: RetryPolicy = DEFAULT_RETRY_POLICY, perDestination: Record<string, Partial<RetryPolicy>> = {}) {
    validatePolicy(defaultPolicy);
    this.#default = defaultPolicy;
    const m = new Map<string, RetryPolicy>();
    for (const [dest, p] of Object.entries(perDestination)) {
      const merged = { ...defaultPolicy, ...p };
      validatePolicy(merged);
      m.set(dest, Object.freeze(merged));
    }
    this.#perDestination = m;
  }

  /** The policy for a destination node id. */
  policyFor(destination: string): RetryPolicy {
    return this.#perDestination.get(destination) ?? this.#default;
  }
}
