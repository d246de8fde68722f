import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY, RetrySchedule, nextAttempt, type RetryPolicy } from "./retry-schedule.js";

const policy: RetryPolicy = { baseDelayMs: 100, factor: 2, minDelayMs: 10, maxDelayMs: 5_000, deadlineMs: 60_000, maxAttempts: 0 };

describe("nextAttempt", () => {
  it("grows the delay ceiling exponentially up to maxDelay", () => {
    const top = (n: number) => nextAttempt(policy, n, 0, 0, 0, () => 0.999999);
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => {
      const d = top(n);
      if (d.kind !== "retry") throw new Error("expected retry");
      return d.delayMs;
    });
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  it("uses the minimum delay when the jitter draws zero", () => {
    expect(nextAttempt(policy, 5, 0, 0, 0, () => 0)).toEqual({ kind: "retry", at: 10, delayMs: 10 });
  });

  it("honours a partner's advised delay as a lower bound, capped at maxDelay", () => {
    expect(nextAttempt(policy, 1, 0, 0, 900, () => 0)).toMatchObject({ kind: "retry", delayMs: 900 });
    expect(nextAttempt(policy, 1, 0, 0, 99_000, () => 0)).toMatchObject({ kind: "retry", delayMs: 5_000 });
  });

  it("gives up when the next attempt would pass the final deadline", () => {
    expect(nextAttempt(policy, 3, 0, 59_990, 0, () => 0.5)).toEqual({ kind: "give-up", reason: "deadline" });
  });

  it("gives up after maxAttempts when one is set", () => {
    const p = { ...policy, maxAttempts: 3 };
    expect(nextAttempt(p, 2, 0, 0, 0, () => 0).kind).toBe("retry");
    expect(nextAttempt(p, 3, 0, 0, 0, () => 0)).toEqual({ kind: "give-up", reason: "max-attempts" });
  });

  it("always stays within [minDelay, maxDelay] and never schedules past the deadline", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 70_000 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (n, now, r) => {
        const d = nextAttempt(policy, n, 0, now, 0, () => r);
        if (d.kind === "retry") {
          expect(d.delayMs).toBeGreaterThanOrEqual(policy.minDelayMs);
          expect(d.delayMs).toBeLessThanOrEqual(policy.maxDelayMs);
          expect(d.at).toBeLessThanOrEqual(policy.deadlineMs);
        } else {
          expect(d.reason).toBe("deadline");
        }
      }),
    );
  });

  it("rejects nonsense arguments as TypeError", () => {
    expect(() => nextAttempt(policy, 0, 0, 0)).toThrow(TypeError);
    expect(() => nextAttempt({ ...policy, factor: 0.5 }, 1, 0, 0)).toThrow(TypeError);
    expect(() => nextAttempt({ ...policy, minDelayMs: 9_999 }, 1, 0, 0)).toThrow(TypeError);
  });
});

describe("RetrySchedule", () => {
  it("gives a destination its own policy and the rest the default", () => {
    const s = new RetrySchedule(DEFAULT_RETRY_POLICY, { "cn.361129.wannian": { deadlineMs: 5_000 } });
    expect(s.policyFor("cn.361129.wannian").deadlineMs).toBe(5_000);
    expect(s.policyFor("cn.361129.wannian").baseDelayMs).toBe(DEFAULT_RETRY_POLICY.baseDelayMs);
    expect(s.policyFor("cn.310118.qingpu")).toBe(DEFAULT_RETRY_POLICY);
  });

  it("refuses an invalid per-destination override", () => {
    expect(() => new RetrySchedule(DEFAULT_RETRY_POLICY, { x: { maxDelayMs: -1 } })).toThrow(TypeError);
  });
});
