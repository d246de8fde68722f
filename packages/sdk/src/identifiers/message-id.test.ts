import { describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { assertMessageId, newMessageId, validateMessageId } from "./message-id.js";

const rulesOf = (value: string): [string, number | undefined][] => {
  const v = validateMessageId(value);
  return v.ok ? [] : v.issues.map((i) => [i.rule, i.position]);
};

describe("newMessageId", () => {
  it("creates a lower-case RFC 9562 UUIDv7 carrying the time", () => {
    const at = Date.UTC(2026, 10, 22, 12, 0, 0, 123);
    const id = newMessageId(new Date(at));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(assertMessageId(id)).toEqual({ unixMs: at, time: "2026-11-22T12:00:00.123Z" });
    expect(id.slice(0, 13).replace("-", "")).toBe(at.toString(16).padStart(12, "0"));
  });

  it("is strictly increasing within one millisecond and across calls", () => {
    // The counter starts below 2048, so 2048 ids fit in one explicit millisecond.
    const at = Date.UTC(2030, 0, 1);
    const ids = Array.from({ length: 2048 }, () => newMessageId(at));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // With the system clock, overflowing a millisecond borrows the next one.
    const live = Array.from({ length: 10_000 }, () => newMessageId());
    expect([...live].sort()).toEqual(live);
  });

  it("fills the random bits from a CSPRNG (no two ids alike across milliseconds)", () => {
    const ids = new Set(Array.from({ length: 1000 }, (_, i) => newMessageId(1_700_000_000_000 + i)));
    expect(ids.size).toBe(1000);
    const tails = new Set([...ids].map((id) => id.slice(24)));
    expect(tails.size).toBe(1000);
  });

  it("rejects a time outside the 48-bit range as a programmer error", () => {
    expect(() => newMessageId(-1)).toThrow(TypeError);
    expect(() => newMessageId(2 ** 48)).toThrow(TypeError);
    expect(() => newMessageId(new Date(Number.NaN))).toThrow(TypeError);
  });
});

describe("validateMessageId", () => {
  const ID = "0192f5a4-7c1e-7a3b-9f2d-5e8c1b2a3d4f";

  it("accepts a canonical UUIDv7", () => {
    expect(validateMessageId(ID).ok).toBe(true);
  });

  it("names the rule and position of each problem", () => {
    expect(rulesOf(ID.toUpperCase())[0]).toEqual(["case", 5]);
    expect(rulesOf(ID.replace("-7a3b", "-4a3b"))).toEqual([["version", 15]]);
    expect(rulesOf(ID.replace("-9f2d", "-cf2d"))).toEqual([["variant", 20]]);
    expect(rulesOf(ID.replace("7c1e-", "7c1eg"))).toEqual([["hyphen", 14]]);
    expect(rulesOf(ID.replace("5e8c", "5g8c"))).toEqual([["charset", 26]]);
    expect(rulesOf(ID.replaceAll("-", ""))).toEqual([["length", undefined]]);
  });

  it("assertMessageId throws IDENTIFIER_INVALID", () => {
    expect(() => assertMessageId("not-a-uuid")).toThrow(TongbanError);
  });
});
