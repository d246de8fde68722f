import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { assertLicenseId, computeLicenseCheck, formatLicenseId, validateLicenseId } from "./license-id.js";
import vectors from "./testdata/iso7064.json" with { type: "json" };

const SAMPLE = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U";

const rulesOf = (value: string): [string, number | undefined][] => {
  const v = validateLicenseId(value);
  return v.ok ? [] : v.issues.map((i) => [i.rule, i.position]);
};

describe("validateLicenseId", () => {
  it.each(vectors.licenseIds)("accepts the published identifier %s", (id) => {
    expect(validateLicenseId(id).ok).toBe(true);
  });

  it("decodes the fields", () => {
    expect(assertLicenseId(SAMPLE)).toEqual({
      type: "11100000000013338W011",
      issuer: "11430000006122244L",
      serial: "20230000403",
      version: "001",
      check: "U",
    });
  });

  it("computes and formats the check character", () => {
    const fields = { type: "11100000000013338W011", issuer: "11430000006122244L", serial: "20230000403", version: "001" };
    expect(computeLicenseCheck(fields)).toBe("U");
    expect(formatLicenseId(fields)).toBe(SAMPLE);
    expect(() => computeLicenseCheck({ ...fields, serial: "a-b" })).toThrow(TypeError);
  });

  it("names position and rule for a wrong check character", () => {
    expect(validateLicenseId(`${SAMPLE.slice(0, -1)}V`)).toMatchObject({
      ok: false,
      issues: [{ rule: "check-character", position: SAMPLE.length, message: `character ${SAMPLE.length} is 'V' but the MOD 37,36 check character is 'U'` }],
    });
  });

  it("rejects every single-character substitution of the sample", () => {
    const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZa.";
    for (let i = 0; i < SAMPLE.length; i++) {
      for (const ch of alphabet) {
        if (ch === SAMPLE.charAt(i)) continue;
        const changed = SAMPLE.slice(0, i) + ch + SAMPLE.slice(i + 1);
        expect(validateLicenseId(changed).ok, changed).toBe(false);
      }
    }
  });

  it("reports structure problems with rules and positions", () => {
    expect(rulesOf("1.2.156.3005.3.X")).toEqual([["prefix", 14]]);
    expect(rulesOf("1.2.156.3005.2.11100000000013338W011.11430000006122244L.001.U")).toEqual([["segment-count", undefined]]);
    expect(rulesOf(SAMPLE.toLowerCase())[0]).toEqual(["case", 33]);
    expect(rulesOf(SAMPLE.replace(".001.", ".000."))).toContainEqual(["version", 69]);
    expect(rulesOf(SAMPLE.replace("W011", "W01A"))).toContainEqual(["type-sequence", 36]);
    expect(rulesOf(SAMPLE.replace("11430000006122244L", "11430000006122244M"))).toContainEqual(["issuer-check-character", 55]);
    expect(rulesOf(SAMPLE.replace("11100000000013338W", "11100000000013338X"))).toContainEqual(["type-check-character", 33]);
    expect(rulesOf(SAMPLE.replace("W011", "W0111"))).toContainEqual(["type-length", 16]);
    expect(rulesOf(SAMPLE.replace(".20230000403.", ".."))).toContainEqual(["serial-length", 57]);
  });

  it("property: formatted ids validate and any single change is detected", () => {
    const fields = fc.record({
      type: fc.constant("11100000000013338W011"),
      issuer: fc.constantFrom("11430000006122244L", "11330105002500287C", "91350100M000100Y43"),
      serial: fc.stringMatching(/^[0-9A-Z]{1,32}$/),
      version: fc.integer({ min: 1, max: 999 }).map((n) => String(n).padStart(3, "0")),
    });
    fc.assert(
      fc.property(fields, fc.nat(), fc.constantFrom(..."0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.x"), (f, at, ch) => {
        const id = formatLicenseId(f);
        expect(validateLicenseId(id).ok).toBe(true);
        const i = at % id.length;
        fc.pre(id.charAt(i) !== ch);
        expect(validateLicenseId(id.slice(0, i) + ch + id.slice(i + 1)).ok).toBe(false);
      }),
    );
  });

  it("assertLicenseId throws IDENTIFIER_INVALID", () => {
    expect(() => assertLicenseId(`${SAMPLE.slice(0, -1)}V`)).toThrow(TongbanError);
  });
});
