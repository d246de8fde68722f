import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { assertCitizenId, validateCitizenId } from "./citizen-id.js";
import { MOD_11_2, pureCheckCharacter } from "./iso7064.js";
import { maskPersonalId } from "./mask.js";

const SAMPLE = "11010519491231002X";
const NOW = new Date("2026-06-01T00:00:00Z");

const issuesOf = (value: string, now = NOW): { rule: string; position?: number }[] => {
  const v = validateCitizenId(value, { now });
  return v.ok ? [] : v.issues.map(({ rule, position }) => (position === undefined ? { rule } : { rule, position }));
};
const withCheck = (first17: string): string => `${first17}${pureCheckCharacter(first17, MOD_11_2) ?? ""}`;

describe("validateCitizenId", () => {
  it("accepts the GB 11643 sample and decodes it", () => {
    expect(validateCitizenId(SAMPLE, { now: NOW })).toEqual({
      ok: true,
      kind: "citizen-id",
      value: SAMPLE,
      parts: { region: "110105", birthDate: "1949-12-31", sequence: "002", sex: "female" },
    });
    expect(assertCitizenId(withCheck("33042119800101001")).sex).toBe("male");
  });

  it("names position and rule for a wrong check character", () => {
    const v = validateCitizenId("110105194912310025", { now: NOW });
    expect(v).toMatchObject({
      ok: false,
      issues: [{ rule: "check-character", position: 18, message: "character 18 is '5' but the MOD 11-2 check character is 'X'" }],
    });
  });

  it("rejects every single-digit substitution of the sample with a check-character issue", () => {
    for (let i = 0; i < 18; i++) {
      for (const ch of "0123456789X") {
        if (ch === SAMPLE.charAt(i) || (ch === "X" && i < 17)) continue;
        const changed = SAMPLE.slice(0, i) + ch + SAMPLE.slice(i + 1);
        expect(issuesOf(changed), changed).toContainEqual({ rule: "check-character", position: 18 });
      }
    }
  });

  it("rejects every adjacent transposition of the sample", () => {
    for (let i = 0; i < 17; i++) {
      if (SAMPLE.charAt(i) === SAMPLE.charAt(i + 1)) continue;
      const swapped = SAMPLE.slice(0, i) + SAMPLE.charAt(i + 1) + SAMPLE.charAt(i) + SAMPLE.slice(i + 2);
      expect(validateCitizenId(swapped, { now: NOW }).ok, swapped).toBe(false);
    }
  });

  it("rejects lower-case x, letters, and wrong lengths", () => {
    expect(issuesOf("11010519491231002x")).toEqual([{ rule: "case", position: 18 }]);
    expect(issuesOf("1101051949123100XX")).toEqual([{ rule: "charset", position: 17 }]);
    expect(issuesOf("11010519491231002")).toEqual([{ rule: "length" }]);
  });

  it("checks the birth date: real, from 1900, not in the future", () => {
    expect(issuesOf(withCheck("11010519490230002"))).toEqual([{ rule: "birth-date", position: 7 }]);
    expect(issuesOf(withCheck("11010518991231002"))).toEqual([{ rule: "birth-date", position: 7 }]);
    expect(issuesOf(withCheck("11010520260602002"))).toEqual([{ rule: "birth-date", position: 7 }]);
    expect(issuesOf(withCheck("11010520260601002"))).toEqual([]);
    expect(issuesOf(withCheck("11010520000229002"))).toEqual([]);
    expect(issuesOf(withCheck("11010519000229002"))).toEqual([{ rule: "birth-date", position: 7 }]);
  });

  it("checks the province of the address code but keeps abolished counties", () => {
    expect(issuesOf(withCheck("99010519491231002"))).toEqual([{ rule: "region-unknown", position: 1 }]);
    expect(issuesOf(withCheck("33018519800101001"))).toEqual([]);
  });

  it("never puts the birth date or the whole number into messages", () => {
    const bad = ["110105194912310025", withCheck("11010519490230002"), withCheck("11010520991231002")];
    for (const value of bad) {
      const v = validateCitizenId(value, { now: NOW });
      expect(v.ok).toBe(false);
      for (const i of v.ok ? [] : v.issues) {
        expect(i.message).not.toContain(value.slice(6, 14));
        expect(i.message).not.toContain(value);
      }
    }
  });

  it("assertCitizenId quotes only the masked value", () => {
    try {
      assertCitizenId("110105194912310025");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TongbanError);
      const e = err as TongbanError;
      expect(e.code).toBe("IDENTIFIER_INVALID");
      expect(e.message).toContain("110105***********5");
      expect(e.message).not.toContain("19491231");
      expect(JSON.stringify(e.toJSON())).not.toContain("110105194912310025");
    }
  });

  it("property: any single change of a valid number is detected", () => {
    const idArb = fc
      .tuple(fc.constantFrom("110105", "310118", "330421", "361129"), fc.date({ min: new Date("1900-01-01"), max: new Date("2020-12-31"), noInvalidDate: true }), fc.stringMatching(/^[0-9]{3}$/))
      .map(([region, d, seq]) => withCheck(`${region}${d.toISOString().slice(0, 10).replaceAll("-", "")}${seq}`));
    fc.assert(
      fc.property(idArb, fc.integer({ min: 0, max: 17 }), fc.integer({ min: 1, max: 9 }), (id, i, shift) => {
        expect(validateCitizenId(id, { now: NOW }).ok).toBe(true);
        const ch = i === 17 ? "0123456789X".charAt(("0123456789X".indexOf(id.charAt(17)) + shift) % 11) : String((Number(id.charAt(i)) + shift) % 10);
        const changed = id.slice(0, i) + ch + id.slice(i + 1);
        expect(validateCitizenId(changed, { now: NOW }).ok).toBe(false);
      }),
    );
  });
});

describe("maskPersonalId", () => {
  it("keeps the first six and the last character", () => {
    expect(maskPersonalId(SAMPLE)).toBe("110105***********X");
    expect(maskPersonalId("1234567")).toBe("*******");
    expect(maskPersonalId("")).toBe("");
  });
});
