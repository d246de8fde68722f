import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { toShanghaiDate } from "./calendar-date.js";
import { Calendar } from "./calendar.js";
import { loadChinaCalendar } from "./china-calendar.js";

const cal = loadChinaCalendar();

function calendarError(fn: () => unknown): TongbanError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TongbanError);
    expect((err as TongbanError).code).toBe("CALENDAR_INVALID");
    return err as TongbanError;
  }
  throw new Error("expected CALENDAR_INVALID");
}

describe("the shipped 2025–2026 calendar", () => {
  it("knows holidays, weekends and make-up working days", () => {
    expect(cal.years).toEqual([2025, 2026]);
    expect(cal.sourceOf(2025)).toContain("国办发明电〔2024〕12号");
    for (const d of ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11", "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]) {
      expect([d, cal.isWorkingDay(d)]).toEqual([d, true]);
    }
    for (const d of ["2025-01-01", "2025-01-28", "2025-02-04", "2025-04-04", "2025-05-05", "2025-06-02", "2025-10-08", "2026-01-02", "2026-02-23", "2026-06-19", "2026-09-25", "2026-10-07", "2025-10-12", "2026-03-01"]) {
      expect([d, cal.isWorkingDay(d)]).toEqual([d, false]);
    }
    expect(cal.isWorkingDay("2025-10-09")).toBe(true);
  });

  it("counts the make-up Sunday and skips the National Day holiday (2025-09-26 + 5)", () => {
    expect(cal.addWorkingDays("2025-09-26", 1)).toBe("2025-09-28");
    expect(cal.addWorkingDays("2025-09-26", 3)).toBe("2025-09-30");
    expect(cal.addWorkingDays("2025-09-26", 4)).toBe("2025-10-09");
    expect(cal.addWorkingDays("2025-09-26", 5)).toBe("2025-10-10");
    expect(cal.addWorkingDays("2025-09-26", 6)).toBe("2025-10-11");
    expect(cal.workingDaysBetween("2025-09-26", "2025-10-10")).toBe(5);
    expect(cal.workingDaysBetween("2025-10-10", "2025-09-26")).toBe(-5);
    expect(cal.dueAt(new Date("2025-09-26T02:00:00Z"), 5).toISOString()).toBe("2025-10-10T09:00:00.000Z");
  });

  it("crosses the Spring Festival and the year boundary", () => {
    expect(cal.addWorkingDays("2025-01-24", 1)).toBe("2025-01-26");
    expect(cal.addWorkingDays("2025-01-24", 3)).toBe("2025-02-05");
    expect(cal.addWorkingDays("2025-12-31", 1)).toBe("2026-01-04");
    expect(cal.addWorkingDays("2026-02-13", 2)).toBe("2026-02-24");
    expect(cal.addWorkingDays("2025-10-10", -1)).toBe("2025-10-09");
    expect(cal.addWorkingDays("2025-10-09", -1)).toBe("2025-09-30");
  });

  it("does not count the start day, even when it is a working day", () => {
    expect(cal.addWorkingDays("2025-10-09", 1)).toBe("2025-10-10");
    expect(cal.addWorkingDays("2025-10-09", 0)).toBe("2025-10-09");
    expect(cal.workingDaysBetween("2025-10-09", "2025-10-09")).toBe(0);
  });

  it("reads instants in Shanghai time whatever the host zone", () => {
    expect(toShanghaiDate(new Date("2025-09-30T15:59:59Z"))).toBe("2025-09-30");
    expect(toShanghaiDate(new Date("2025-09-30T16:00:00Z"))).toBe("2025-10-01");
    expect(cal.isWorkingDay(new Date("2025-09-30T15:59:59Z"))).toBe(true);
    expect(cal.isWorkingDay(new Date("2025-09-30T16:00:00Z"))).toBe(false);
    expect(cal.closeOfBusinessOn("2025-10-09").toISOString()).toBe("2025-10-09T09:00:00.000Z");
    expect(loadChinaCalendar({ closeOfBusiness: "17:30" }).closeOfBusinessOn("2025-10-09").toISOString()).toBe("2025-10-09T09:30:00.000Z");
  });

  it("refuses dates outside the covered years instead of guessing", () => {
    const err = calendarError(() => cal.isWorkingDay("2027-01-04"));
    expect(err.details).toEqual({ date: "2027-01-04", covered: [2025, 2026] });
    calendarError(() => cal.addWorkingDays("2026-12-30", 3));
    calendarError(() => cal.workingDaysBetween("2024-12-30", "2025-01-03"));
  });

  it("rejects bad arguments with TypeError", () => {
    expect(() => cal.isWorkingDay("2025-02-30")).toThrow(TypeError);
    expect(() => cal.addWorkingDays("2025-01-02", 1.5)).toThrow(TypeError);
    expect(() => cal.isWorkingDay(new Date(Number.NaN))).toThrow(TypeError);
    expect(() => loadChinaCalendar({ closeOfBusiness: "5pm" })).toThrow(TypeError);
  });
});

describe("working-day arithmetic properties", () => {
  // Starts end mid-2026 so that start + 2 × 60 working days stays inside the calendar.
  const start = fc.integer({ min: 0, max: 500 }).map((i) => new Date(Date.UTC(2025, 0, 1) + i * 86_400_000).toISOString().slice(0, 10));
  const n = fc.integer({ min: 1, max: 60 });

  it("addWorkingDays(d, n) is a working day and workingDaysBetween inverts it", () => {
    fc.assert(
      fc.property(start, n, (d, k) => {
        const due = cal.addWorkingDays(d, k);
        expect(cal.isWorkingDay(due)).toBe(true);
        expect(cal.workingDaysBetween(d, due)).toBe(k);
        expect(due > d).toBe(true);
      }),
    );
  });

  it("is strictly monotone in n", () => {
    fc.assert(
      fc.property(start, n, n, (d, a, b) => {
        fc.pre(a !== b);
        expect(cal.addWorkingDays(d, a) < cal.addWorkingDays(d, b)).toBe(a < b);
      }),
    );
  });

  it("adds in steps: addWorkingDays(addWorkingDays(d, a), b) = addWorkingDays(d, a + b)", () => {
    fc.assert(
      fc.property(start, n, n, (d, a, b) => {
        expect(cal.addWorkingDays(cal.addWorkingDays(d, a), b)).toBe(cal.addWorkingDays(d, a + b));
      }),
    );
  });
});

describe("calendar files", () => {
  const yaml = `
format: tongban-calendar/1
name: test
years:
  "2025":
    source: test
    holidays:
      - 2025-10-01/2025-10-08
    workdays: [2025-09-28, 2025-10-11]
`;

  it("loads YAML as well as JSON and defaults the weekend to Saturday and Sunday", () => {
    const c = Calendar.load(yaml);
    expect(c.name).toBe("test");
    expect(c.addWorkingDays("2025-09-26", 5)).toBe("2025-10-10");
    expect(Calendar.load(JSON.stringify({ format: "tongban-calendar/1", name: "j", years: { "2025": { holidays: [] } } })).isWorkingDay("2025-10-01")).toBe(true);
  });

  it("supports another weekend rule", () => {
    const c = Calendar.load({ format: "tongban-calendar/1", name: "fri-sat", weekend: ["friday", "saturday"], years: { "2025": { holidays: [], workdays: ["2025-10-10"] } } });
    expect(c.isWorkingDay("2025-10-12")).toBe(true);
    expect(c.isWorkingDay("2025-10-11")).toBe(false);
    expect(c.isWorkingDay("2025-10-10")).toBe(true);
  });

  const bad: [string, unknown, string][] = [
    ["not YAML", "{ : [", ""],
    ["wrong format", { format: "x", name: "n", years: { "2025": { holidays: [] } } }, "format"],
    ["unknown key", { format: "tongban-calendar/1", name: "n", years: { "2025": { holiday: [] } } }, "years.2025.holiday"],
    ["no years", { format: "tongban-calendar/1", name: "n", years: {} }, "years"],
    ["date in the wrong year", { format: "tongban-calendar/1", name: "n", years: { "2025": { holidays: ["2026-01-01"] } } }, "years.2025.holidays[0]"],
    ["impossible date", { format: "tongban-calendar/1", name: "n", years: { "2025": { holidays: ["2025-02-29"] } } }, "years.2025.holidays[0]"],
    ["reversed range", { format: "tongban-calendar/1", name: "n", years: { "2025": { holidays: ["2025-10-08/2025-10-01"] } } }, "years.2025.holidays[0]"],
    ["overlap", { format: "tongban-calendar/1", name: "n", years: { "2025": { holidays: ["2025-10-01/2025-10-08", "2025-10-03"] } } }, "years.2025.holidays[1]"],
    ["make-up day on a weekday", { format: "tongban-calendar/1", name: "n", years: { "2025": { holidays: [], workdays: ["2025-10-09"] } } }, "years.2025.workdays[0]"],
    ["day both holiday and workday", { format: "tongban-calendar/1", name: "n", years: { "2025": { holidays: ["2025-10-11"], workdays: ["2025-10-11"] } } }, "years.2025.workdays[0]"],
    ["bad weekend", { format: "tongban-calendar/1", name: "n", weekend: ["sabbath"], years: { "2025": { holidays: [] } } }, "weekend[0]"],
    ["bad year key", { format: "tongban-calendar/1", name: "n", years: { "25": { holidays: [] } } }, "years.25"],
  ];
  it.each(bad)("rejects a file with %s (CALENDAR_INVALID naming the path)", (_, doc, path) => {
    const err = calendarError(() => Calendar.load(doc as object));
    expect(err.details["path"]).toBe(path);
  });
});
