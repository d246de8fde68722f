import { TongbanError } from "../errors/index.js";
import { shanghaiDayNumber, shanghaiInstant } from "./calendar-date.js";
import type { Calendar } from "./calendar.js";

/** Why a case's clock stopped: 补正 (correction) or 特别程序 (suspension). */
export type ClockStopReason = "correction" | "suspension";

/** One stop of the clock; `resumedAt` is absent while it lasts. */
export interface DeadlineClockStop {
  readonly reason: ClockStopReason;
  readonly stoppedAt: string;
  readonly resumedAt?: string;
}

/** The JSON form of a {@link DeadlineClock}, for a node to persist. */
export interface DeadlineClockJSON {
  /** ISO instant of 受理, when the clock started. */
  readonly startedAt: string;
  /** The promised working days (承诺时限). */
  readonly workingDays: number;
  readonly stops: readonly DeadlineClockStop[];
  /** Set when the clock was stopped after its due time had already passed: the lateness stays on record. */
  readonly breachedAt?: string;
}

/** Warning level of a deadline: 绿灯, 黄灯 (warning), 红灯 (overdue), or stopped. */
export type DeadlineLevel = "green" | "yellow" | "red" | "stopped";

/** Options for {@link DeadlineClock.status} and {@link DeadlineClock.nextTransitionAt}. */
export interface DeadlineStatusOptions {
  /**
   * Yellow once at most this many whole working days remain after today
   * (`remainingWorkingDays <= yellowBefore`), i.e. from 00:00 Shanghai on the
   * `yellowBefore`th working day before the due day. Default 1: yellow on the
   * working day before the due day. 0 disables yellow.
   */
  readonly yellowBefore?: number;
}

/** What {@link DeadlineClock.status} reports. */
export interface DeadlineStatus {
  /** When the period ends. While stopped: the due time if the clock resumed now. */
  readonly dueAt: Date;
  readonly level: DeadlineLevel;
  /**
   * Working days after today up to and including the due day: the promised
   * working days on the day of acceptance, 0 on the due day itself, and minus
   * the working days since the due day once overdue. While stopped: frozen
   * at its value when the clock stopped.
   */
  readonly remainingWorkingDays: number;
  /** When the clock turns (or turned) yellow; absent when yellow is disabled. */
  readonly yellowAt?: Date;
}

function instant(text: string, what: string): Date {
  const d = new Date(text);
  if (typeof text !== "string" || Number.isNaN(d.getTime())) throw new TypeError(`${what} must be an ISO 8601 instant`);
  return d;
}

function assertDate(at: unknown, what: string): asserts at is Date {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new TypeError(`${what} must be a valid Date`);
}

/**
 * The 承诺时限 clock of one case, immutable and JSON-serializable.
 *
 * Rules (docs/lifecycle.md, "deadlines"):
 * - it starts at 受理; the day of acceptance does not count, and the period
 *   ends at close of business on the `workingDays`th working day after it;
 * - correction and suspension stop it; on resumption the due date moves by
 *   `calendar.workingDaysBetween(stopDay, resumeDay)` working days — the day
 *   it stopped on counts as used, the day it resumes on does not (like the
 *   day of acceptance), and a stop and resume on the same day moves nothing;
 * - yellow once at most `yellowBefore` working days remain after today, red
 *   from the due time on (the due time itself is already red).
 *
 * @example
 * ```ts
 * let clock = DeadlineClock.start(calendar, acceptedAt, 5);
 * clock = clock.stop(correctionAt, "correction").resume(correctedAt);
 * const { level, dueAt } = clock.status(new Date());
 * ```
 */
export class DeadlineClock {
  readonly #calendar: Calendar;
  readonly #state: DeadlineClockJSON;

  private constructor(calendar: Calendar, state: DeadlineClockJSON) {
    this.#calendar = calendar;
    this.#state = state;
  }

  /** Starts a clock at `at` (受理) for `workingDays` working days (a positive integer). */
  static start(calendar: Calendar, at: Date, workingDays: number): DeadlineClock {
    assertDate(at, "DeadlineClock.start: at");
    if (!Number.isSafeInteger(workingDays) || workingDays < 1) {
      throw new TypeError(`DeadlineClock.start: workingDays must be a positive integer, got ${String(workingDays)}`);
    }
    const clock = new DeadlineClock(calendar, { startedAt: at.toISOString(), workingDays, stops: [] });
    clock.dueAt(); // fails now, with CALENDAR_INVALID, if the calendar does not reach the due date
    return clock;
  }

  /** Restores a clock from {@link DeadlineClock.toJSON} output. */
  static fromJSON(calendar: Calendar, json: DeadlineClockJSON): DeadlineClock {
    if (json === null || typeof json !== "object" || !Array.isArray(json.stops)) throw new TypeError("DeadlineClock.fromJSON: not a clock");
    let clock = DeadlineClock.start(calendar, instant(json.startedAt, "startedAt"), json.workingDays);
    // Replaying the stops re-checks their order and recomputes breachedAt.
    for (const [i, stop] of json.stops.entries()) {
      if (stop.reason !== "correction" && stop.reason !== "suspension") throw new TypeError(`DeadlineClock.fromJSON: stops[${i}].reason is invalid`);
      clock = clock.stop(instant(stop.stoppedAt, `stops[${i}].stoppedAt`), stop.reason);
      if (stop.resumedAt !== undefined) clock = clock.resume(instant(stop.resumedAt, `stops[${i}].resumedAt`));
      else if (i !== json.stops.length - 1) throw new TypeError(`DeadlineClock.fromJSON: only the last stop may be open (stops[${i}])`);
    }
    return clock;
  }

  /** True while a correction or suspension has the clock stopped. */
  get stopped(): boolean {
    const last = this.#state.stops.at(-1);
    return last !== undefined && last.resumedAt === undefined;
  }

  /** The reason of the current stop, if stopped. */
  get stopReason(): ClockStopReason | undefined {
    return this.stopped ? this.#state.stops.at(-1)?.reason : undefined;
  }

  /** Working days added to the period by completed stops. */
  get extensionWorkingDays(): number {
    let days = 0;
    for (const stop of this.#state.stops) {
      if (stop.resumedAt === undefined) continue;
      days += this.#extension(new Date(stop.stoppedAt), new Date(stop.resumedAt));
    }
    return days;
  }

  /** The due time given the stops completed so far (an open stop is not yet counted). */
  dueAt(): Date {
    return this.#dueWith(this.extensionWorkingDays);
  }

  /**
   * Stops the clock. Throws CASE_INVALID_TRANSITION when it is already
   * stopped (a node must resume before stopping again) and TypeError when
   * `at` is earlier than the clock's last event.
   */
  stop(at: Date, reason: ClockStopReason): DeadlineClock {
    assertDate(at, "DeadlineClock.stop: at");
    if (reason !== "correction" && reason !== "suspension") throw new TypeError(`DeadlineClock.stop: unknown reason ${String(reason)}`);
    if (this.stopped) {
      throw new TongbanError("CASE_INVALID_TRANSITION", "the deadline clock is already stopped", {
        details: { from: "stopped", action: "stop", allowed: ["resume"] },
      });
    }
    this.#assertNotBeforeLastEvent(at, "stop");
    const due = this.dueAt();
    const breachedAt = this.#state.breachedAt ?? (at.getTime() >= due.getTime() ? due.toISOString() : undefined);
    const stops = [...this.#state.stops, { reason, stoppedAt: at.toISOString() }];
    return new DeadlineClock(this.#calendar, breachedAt === undefined ? { ...this.#state, stops } : { ...this.#state, stops, breachedAt });
  }

  /**
   * Restarts a stopped clock; the due date moves by the working days the stop
   * covered (see the class rules). Throws CASE_INVALID_TRANSITION when the
   * clock is running.
   */
  resume(at: Date): DeadlineClock {
    assertDate(at, "DeadlineClock.resume: at");
    const last = this.#state.stops.at(-1);
    if (last === undefined || !this.stopped) {
      throw new TongbanError("CASE_INVALID_TRANSITION", "the deadline clock is not stopped", {
        details: { from: "running", action: "resume", allowed: ["stop"] },
      });
    }
    this.#assertNotBeforeLastEvent(at, "resume");
    const stops = [...this.#state.stops.slice(0, -1), { ...last, resumedAt: at.toISOString() }];
    const clock = new DeadlineClock(this.#calendar, { ...this.#state, stops });
    clock.dueAt();
    return clock;
  }

  /** Where the deadline stands at `now`. */
  status(now: Date, options: DeadlineStatusOptions = {}): DeadlineStatus {
    assertDate(now, "DeadlineClock.status: now");
    const yellowBefore = yellowOption(options);
    const last = this.#state.stops.at(-1);
    if (this.stopped && last !== undefined) {
      const stoppedAt = new Date(last.stoppedAt);
      const provisional = this.#dueWith(this.extensionWorkingDays + this.#extension(stoppedAt, now < stoppedAt ? stoppedAt : now));
      const remainingWorkingDays = this.#remaining(stoppedAt, this.dueAt());
      const level: DeadlineLevel = this.#state.breachedAt !== undefined ? "red" : "stopped";
      return withYellow({ dueAt: provisional, level, remainingWorkingDays }, this.#yellowAt(provisional, yellowBefore));
    }
    const dueAt = this.dueAt();
    const yellowAt = this.#yellowAt(dueAt, yellowBefore);
    const remainingWorkingDays = this.#remaining(now, dueAt);
    let level: DeadlineLevel = "green";
    if (this.#state.breachedAt !== undefined || now.getTime() >= dueAt.getTime()) level = "red";
    else if (yellowAt !== undefined && now.getTime() >= yellowAt.getTime()) level = "yellow";
    return withYellow({ dueAt, level, remainingWorkingDays }, yellowAt);
  }

  /**
   * The next instant after `now` at which {@link status}'s level changes on
   * its own (green → yellow, yellow → red), so a node can set one timer
   * instead of polling. `undefined` while stopped (only `resume` changes it)
   * and once red.
   */
  nextTransitionAt(now: Date, options: DeadlineStatusOptions = {}): Date | undefined {
    assertDate(now, "DeadlineClock.nextTransitionAt: now");
    if (this.stopped || this.#state.breachedAt !== undefined) return undefined;
    const dueAt = this.dueAt();
    const yellowAt = this.#yellowAt(dueAt, yellowOption(options));
    if (yellowAt !== undefined && now.getTime() < yellowAt.getTime()) return yellowAt;
    if (now.getTime() < dueAt.getTime()) return dueAt;
    return undefined;
  }

  /** The JSON form; `DeadlineClock.fromJSON(calendar, clock.toJSON())` restores it. */
  toJSON(): DeadlineClockJSON {
    return { ...this.#state, stops: this.#state.stops.map((s) => ({ ...s })) };
  }

  #dueWith(extension: number): Date {
    return this.#calendar.dueAt(new Date(this.#state.startedAt), this.#state.workingDays + extension);
  }

  #extension(stoppedAt: Date, resumedAt: Date): number {
    return this.#calendar.betweenDayNumbers(shanghaiDayNumber(stoppedAt), shanghaiDayNumber(resumedAt));
  }

  /** Working days after today up to the due day; minus those after the due day up to today once late. */
  #remaining(now: Date, due: Date): number {
    const nowDay = shanghaiDayNumber(now);
    const dueDay = shanghaiDayNumber(due);
    return now.getTime() < due.getTime() ? this.#calendar.betweenDayNumbers(nowDay, dueDay) : 0 - this.#calendar.betweenDayNumbers(dueDay, nowDay);
  }

  #yellowAt(due: Date, yellowBefore: number): Date | undefined {
    if (yellowBefore === 0) return undefined;
    const dueDay = shanghaiDayNumber(due);
    // 00:00 Shanghai on the `yellowBefore`th working day before the due day: from then on at most that many remain.
    return shanghaiInstant(this.#calendar.addDayNumbers(dueDay, -yellowBefore), 0);
  }

  #assertNotBeforeLastEvent(at: Date, what: string): void {
    const last = this.#state.stops.at(-1);
    const lastAt = last === undefined ? this.#state.startedAt : (last.resumedAt ?? last.stoppedAt);
    if (at.getTime() < new Date(lastAt).getTime()) throw new TypeError(`DeadlineClock.${what}: ${at.toISOString()} is before the clock's last event ${lastAt}`);
  }
}

function yellowOption(options: DeadlineStatusOptions): number {
  const y = options.yellowBefore ?? 1;
  // Whole days only: a fraction of a working day would need office opening
  // hours, which differ between offices; docs/deadlines.md explains.
  if (!Number.isSafeInteger(y) || y < 0) throw new TypeError(`yellowBefore must be a non-negative integer number of working days, got ${String(y)}`);
  return y;
}

function withYellow(status: Omit<DeadlineStatus, "yellowAt">, yellowAt: Date | undefined): DeadlineStatus {
  return yellowAt === undefined ? status : { ...status, yellowAt };
}
