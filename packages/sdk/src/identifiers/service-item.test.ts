import { describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import {
  assertBasicCode,
  assertCaseNumber,
  assertHandlingItemCode,
  assertImplementationCode,
  validateBasicCode,
  validateCaseNumber,
  validateHandlingItemCode,
  validateImplementationCode,
} from "./service-item.js";

const IMPL = "11370800MB285591843370117002011"; // a 实施编码 published by a 山东 agency
const NOW = new Date("2026-06-01T00:00:00Z");

const rulesOf = (v: { ok: boolean; issues?: readonly { rule: string; position?: number }[] }): [string, number | undefined][] =>
  v.ok ? [] : (v.issues ?? []).map((i) => [i.rule, i.position]);

describe("validateBasicCode", () => {
  it("accepts national and local items", () => {
    expect(assertBasicCode("000117001000")).toEqual({ code: "000117001000", scope: "national" });
    expect(assertBasicCode("370117002011")).toEqual({
      code: "370117002011",
      scope: "local",
      province: { code: "370000", name: "山东省" },
    });
    expect(validateBasicCode("33011700A01B").ok).toBe(true);
  });

  it("rejects length, charset, case and an unknown catalog prefix", () => {
    expect(rulesOf(validateBasicCode("00011700100"))).toEqual([["length", undefined]]);
    expect(rulesOf(validateBasicCode("0001170010_0"))).toEqual([["charset", 11]]);
    expect(rulesOf(validateBasicCode("00011700a000"))).toEqual([["case", 9]]);
    expect(rulesOf(validateBasicCode("990117001000"))).toEqual([["catalog-prefix", 1]]);
  });
});

describe("validateImplementationCode", () => {
  it("accepts a published code and splits it", () => {
    expect(assertImplementationCode(IMPL)).toEqual({
      agency: "11370800MB28559184",
      kindCharacter: "3",
      basicCode: { code: "370117002011", scope: "local", province: { code: "370000", name: "山东省" } },
    });
  });

  it("validates the agency USCC in full, with positions in the whole code", () => {
    const bad = `11370800MB28559185${IMPL.slice(18)}`;
    expect(rulesOf(validateImplementationCode(bad))).toEqual([["check-character", 18]]);
  });

  it("reports the 19th character and the 基本编码 at their positions", () => {
    expect(rulesOf(validateImplementationCode(`${IMPL.slice(0, 18)}-${IMPL.slice(19)}`))).toEqual([["charset", 19]]);
    expect(rulesOf(validateImplementationCode(`${IMPL.slice(0, 19)}99${IMPL.slice(21)}`))).toEqual([["catalog-prefix", 20]]);
    expect(rulesOf(validateImplementationCode(IMPL.slice(1)))).toEqual([["length", undefined]]);
    expect(rulesOf(validateImplementationCode(`${IMPL.slice(0, 30)}é`))).toEqual([["charset", 31]]);
  });
});

describe("validateHandlingItemCode", () => {
  it("accepts 实施编码 + two digits", () => {
    expect(assertHandlingItemCode(`${IMPL}01`)).toMatchObject({ implementationCode: IMPL, handlingItem: "01" });
  });

  it("rejects non-digits and wrong lengths", () => {
    expect(rulesOf(validateHandlingItemCode(`${IMPL}0A`))).toEqual([["charset", 33]]);
    expect(rulesOf(validateHandlingItemCode(`${IMPL}1`))).toEqual([["length", undefined]]);
  });
});

describe("validateCaseNumber", () => {
  it("accepts 实施编码 + yyyyMMdd + serial", () => {
    expect(assertCaseNumber(`${IMPL}202503010001`, { now: NOW })).toMatchObject({
      implementationCode: IMPL,
      date: "2025-03-01",
      serial: "0001",
    });
  });

  it("rejects an unreal, early or future date at position 32", () => {
    expect(rulesOf(validateCaseNumber(`${IMPL}202502290001`, { now: NOW }))).toEqual([["case-date", 32]]);
    expect(rulesOf(validateCaseNumber(`${IMPL}199912310001`, { now: NOW }))).toEqual([["case-date", 32]]);
    expect(rulesOf(validateCaseNumber(`${IMPL}202606020001`, { now: NOW }))).toEqual([["case-date", 32]]);
    expect(validateCaseNumber(`${IMPL}202606010001`, { now: NOW }).ok).toBe(true);
  });

  it("rejects a non-digit serial at its position", () => {
    expect(rulesOf(validateCaseNumber(`${IMPL}20250301000X`, { now: NOW }))).toEqual([["charset", 43]]);
  });

  it("throws IDENTIFIER_INVALID from the assert form", () => {
    expect(() => assertCaseNumber(`${IMPL}2025030100`)).toThrow(TongbanError);
  });
});
