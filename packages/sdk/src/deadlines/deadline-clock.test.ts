import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { loadChinaCalendar } from "./china-calendar.js";
import { DeadlineClock } from "./deadline-clock.js";

const cal = loadChinaCalendar();
const accepted = new Date("2025-09-26T02:00:00Z"); // Friday 10:00 in Shanghai
const iso = (d: Date | undefined): string | undefined => d?.toISOString();

describe("DeadlineClock", () => {
  it("is due at 17:00 Shanghai on the 5th working day, across the make-up Sunday and National Day", () => {
    const clock = DeadlineClock.start(cal, accepted, 5);
    expect(clock.status(accepted)).toEqual({
      dueAt: new Date("2025-10-10T09:00:00Z"),
      level: "green",
      remainingWorkingDays: 5,
      yellowAt: new Date("2025-10-08T16:00:00Z"), // 00:00 on Thursday 10-09, the last working day before the due day
    });
    expect(clock.status(new Date("2025-09-28T12:00:00Z")).remainingWorkingDays).toBe(4);
  });

  it("turns yellow, then red the moment the due time passes, and says when", () => {
    const clock = DeadlineClock.start(cal, accepted, 5);
    const yellowAt = clock.nextTransitionAt(accepted);
    expect(iso(yellowAt)).toBe("2025-10-08T16:00:00.000Z");
    expect(clock.status(new Date(yellowAt!.getTime() - 1)).level).toBe("green");
    expect(clock.status(yellowAt!)).toMatchObject({ level: "yellow", remainingWorkingDays: 1 });
    const dueAt = clock.nextTransitionAt(yellowAt!);
    expect(iso(dueAt)).toBe("2025-10-10T09:00:00.000Z");
    expect(clock.status(new Date(dueAt!.getTime() - 1))).toMatchObject({ level: "yellow", remainingWorkingDays: 0 });
    expect(clock.status(dueAt!)).toMatchObject({ level: "red", remainingWorkingDays: 0 });
    expect(clock.nextTransitionAt(dueAt!)).toBeUndefined();
    expect(clock.status(new Date("2025-10-11T02:00:00Z")).remainingWorkingDays).toBe(-1); // the make-up Saturday counts
  });

  it("takes a configurable yellow threshold, 0 disabling it", () => {
    const clock = DeadlineClock.start(cal, accepted, 5);
    expect(iso(clock.status(accepted, { yellowBefore: 2 }).yellowAt)).toBe("2025-09-29T16:00:00.000Z");
    expect(clock.status(accepted, { yellowBefore: 5 }).level).toBe("yellow");
    expect(clock.status(accepted, { yellowBefore: 0 }).yellowAt).toBeUndefined();
    expect(iso(clock.nextTransitionAt(accepted, { yellowBefore: 0 }))).toBe("2025-10-10T09:00:00.000Z");
    expect(() => clock.status(accepted, { yellowBefore: 0.5 })).toThrow(TypeError);
  });

  it("stops during correction and extends the due date by the working days stopped", () => {
    const stoppedAt = new Date("2025-09-29T03:00:00Z"); // Monday 11:00
    const resumedAt = new Date("2025-10-09T03:00:00Z"); // Thursday 11:00, after the holiday
    const stopped = DeadlineClock.start(cal, accepted, 5).stop(stoppedAt, "correction");
    expect(stopped.stopped).toBe(true);
    expect(stopped.stopReason).toBe("correction");
    const during = stopped.status(new Date("2025-10-09T02:00:00Z"));
    expect(during).toMatchObject({ level: "stopped", remainingWorkingDays: 3 });
    expect(iso(during.dueAt)).toBe("2025-10-13T09:00:00.000Z"); // provisional: if resumed now
    expect(stopped.nextTransitionAt(new Date("2025-10-01T00:00:00Z"))).toBeUndefined();
    // The stop day (Monday) counts as used; 09-30 and the resume day 10-09 do not.
    const resumed = stopped.resume(resumedAt);
    expect(resumed.extensionWorkingDays).toBe(2);
    expect(resumed.status(resumedAt)).toMatchObject({ level: "green", remainingWorkingDays: 3, dueAt: new Date("2025-10-13T09:00:00Z") });
  });

  it("moves nothing for a stop and resume on the same day, and adds up several stops", () => {
    const clock = DeadlineClock.start(cal, accepted, 5)
      .stop(new Date("2025-09-29T01:00:00Z"), "suspension")
      .resume(new Date("2025-09-29T08:00:00Z"));
    expect(clock.extensionWorkingDays).toBe(0);
    const twice = clock
      .stop(new Date("2025-09-29T09:00:00Z"), "correction")
      .resume(new Date("2025-09-30T09:00:00Z")) // +1 (09-30)
      .stop(new Date("2025-10-09T01:00:00Z"), "suspension")
      .resume(new Date("2025-10-13T01:00:00Z")); // +3 (10-10, 10-11 make-up Saturday, 10-13)
    expect(twice.extensionWorkingDays).toBe(4);
    expect(iso(twice.dueAt())).toBe(iso(cal.dueAt(accepted, 9)));
  });

  it("keeps a clock red that was stopped after its due time", () => {
    const late = DeadlineClock.start(cal, accepted, 1).stop(new Date("2025-09-29T10:00:00Z"), "suspension");
    expect(late.status(new Date("2025-09-29T11:00:00Z")).level).toBe("red");
    const resumed = late.resume(new Date("2025-10-20T01:00:00Z"));
    expect(resumed.toJSON().breachedAt).toBe("2025-09-28T09:00:00.000Z");
    expect(resumed.status(new Date("2025-10-20T02:00:00Z")).level).toBe("red");
    expect(resumed.nextTransitionAt(new Date("2025-10-20T02:00:00Z"))).toBeUndefined();
  });

  it("refuses to stop twice or resume a running clock, and time running backwards", () => {
    const clock = DeadlineClock.start(cal, accepted, 5);
    expect(() => clock.resume(accepted)).toThrow(TongbanError);
    const stopped = clock.stop(new Date("2025-09-29T01:00:00Z"), "correction");
    try {
      stopped.stop(new Date("2025-09-29T02:00:00Z"), "suspension");
      expect.unreachable();
    } catch (err) {
      expect((err as TongbanError).code).toBe("CASE_INVALID_TRANSITION");
      expect((err as TongbanError).details).toEqual({ from: "stopped", action: "stop", allowed: ["resume"] });
    }
    expect(() => stopped.resume(new Date("2025-09-28T00:00:00Z"))).toThrow(TypeError);
    expect(() => DeadlineClock.start(cal, accepted, 0)).toThrow(TypeError);
    expect(() => DeadlineClock.start(cal, new Date("2026-12-20T00:00:00Z"), 30)).toThrow(TongbanError); // due date beyond 2026
  });

  it("round-trips through JSON", () => {
    const clock = DeadlineClock.start(cal, accepted, 5)
      .stop(new Date("2025-09-29T03:00:00Z"), "correction")
      .resume(new Date("2025-10-09T03:00:00Z"))
      .stop(new Date("2025-10-10T03:00:00Z"), "suspension");
    const json = JSON.parse(JSON.stringify(clock));
    const back = DeadlineClock.fromJSON(cal, json);
    expect(back.toJSON()).toEqual(clock.toJSON());
    const now = new Date("2025-10-15T00:00:00Z");
    expect(back.status(now)).toEqual(clock.status(now));
    expect(() => DeadlineClock.fromJSON(cal, { ...json, stops: [{ reason: "lunch", stoppedAt: json.startedAt }] })).toThrow(TypeError);
  });

  it("keeps the remaining working days across a stop (property)", () => {
    const day = 86_400_000;
    const base = Date.UTC(2025, 0, 2);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 60 * day }),
        fc.integer({ min: 0, max: 60 * day }),
        (startDay, n, untilStop, stopLength) => {
          const start = new Date(base + startDay * day);
          const clock = DeadlineClock.start(cal, start, n);
          const stopAt = new Date(start.getTime() + untilStop);
          fc.pre(stopAt < clock.dueAt());
          const before = clock.status(stopAt).remainingWorkingDays;
          const resumeAt = new Date(stopAt.getTime() + stopLength);
          const resumed = clock.stop(stopAt, "correction").resume(resumeAt);
          expect(resumed.status(resumeAt).remainingWorkingDays).toBe(before);
          expect(resumed.dueAt().getTime()).toBeGreaterThanOrEqual(clock.dueAt().getTime());
        },
      ),
    );
  });
});

describe("host time zone", () => {
  const original = process.env["TZ"];
  afterEach(() => {
    if (original === undefined) delete process.env["TZ"];
    else process.env["TZ"] = original;
  });

  it("gives the same answers in New York as in Shanghai", () => {
    const answers = () => {
      const clock = DeadlineClock.start(cal, accepted, 5);
      return [iso(clock.dueAt()), iso(clock.nextTransitionAt(accepted)), cal.isWorkingDay(new Date("2025-09-30T16:00:00Z"))];
    };
    process.env["TZ"] = "Asia/Shanghai";
    const shanghai = answers();
    process.env["TZ"] = "America/New_York";
    expect(new Date(2025, 0, 1).getTimezoneOffset()).toBe(300); // the zone really changed
    expect(answers()).toEqual(shanghai);
  });
});
