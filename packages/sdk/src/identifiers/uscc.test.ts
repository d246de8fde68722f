import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { organizationCodeCheck } from "./organization-code.js";
import { USCC_ALPHABET, assertUscc, usccCheckCharacter, validateUscc } from "./uscc.js";

const SAMPLES = ["91350100M000100Y43", "11100000000013338W"];

const issuesOf = (value: string): { rule: string; position?: number }[] => {
  const v = validateUscc(value);
  return v.ok ? [] : v.issues.map(({ rule, position }) => (position === undefined ? { rule } : { rule, position }));
};

/** Builds a valid USCC from its first 16 characters (positions 9-16 any alphabet letters). */
function complete(first16: string): string {
  const org = organizationCodeCheck(first16.slice(8)) ?? "";
  return `${first16}${org}${usccCheckCharacter(`${first16}${org}`) ?? ""}`;
}

const usccArb = fc
  .tuple(
    fc.constantFrom(..."123456789ANY"),
    fc.constantFrom(..."12359"),
    fc.constantFrom("100000", "310118", "320509", "330421", "350100", "361129"),
    fc.stringMatching(/^[0-9A-HJ-NP-RTUWXY]{8}$/),
  )
  .map(([a, b, region, body]) => complete(`${a}${b}${region}${body}`));

describe("validateUscc", () => {
  it.each(SAMPLES)("accepts the GB 32100 sample %s", (code) => {
    expect(validateUscc(code).ok).toBe(true);
  });

  it("decodes the parts", () => {
    expect(assertUscc("91350100M000100Y43")).toEqual({
      registrationAuthority: "9",
      institutionCategory: "1",
      region: "350100",
      regionName: "福州市",
      organizationCode: "M000100Y4",
      checkCharacter: "3",
    });
    expect(assertUscc("11100000000013338W")).toMatchObject({ region: "100000", organizationCode: "000013338" });
  });

  it("names position and rule for a wrong check character", () => {
    const v = validateUscc("91350100M000100Y44");
    expect(v).toMatchObject({
      ok: false,
      issues: [{ rule: "check-character", position: 18, message: "character 18 is '4' but the MOD 31 check character is '3'" }],
    });
  });

  it("checks the embedded GB 11714 organisation code at position 17", () => {
    // Keep the MOD 31 check right so only the GB 11714 rule fires.
    const first17 = "91350100M000100Y5";
    const code = `${first17}${usccCheckCharacter(first17) ?? ""}`;
    expect(issuesOf(code)).toEqual([{ rule: "organization-code-check", position: 17 }]);
    expect(validateUscc(code, { organizationCodeCheck: false }).ok).toBe(true);
  });

  it("rejects every single-character substitution of the samples at the right place", () => {
    for (const sample of SAMPLES) {
      for (let i = 0; i < 18; i++) {
        const alphabet = i >= 2 && i <= 7 ? "0123456789" : USCC_ALPHABET;
        for (const ch of alphabet) {
          if (ch === sample.charAt(i)) continue;
          const changed = sample.slice(0, i) + ch + sample.slice(i + 1);
          const found = issuesOf(changed);
          expect(found, changed).toContainEqual({ rule: "check-character", position: 18 });
          // GB 11714 values run to 35 but its check is MOD 11, so it misses a
          // change between values congruent mod 11 (e.g. 'M' 22 → '0').
          const v = (c: string): number => "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".indexOf(c);
          const mod11Differs = i === 16 || (v(ch) - v(sample.charAt(i))) % 11 !== 0;
          if (i >= 8 && i <= 16 && mod11Differs) {
            expect(found, changed).toContainEqual({ rule: "organization-code-check", position: 17 });
          }
        }
      }
    }
  });

  it("rejects letters GB 32100 never uses, lower case and digits-only positions", () => {
    expect(issuesOf("91350100M00010OY43")).toEqual([{ rule: "charset", position: 15 }]);
    expect(issuesOf("91350100m000100Y43")).toEqual([{ rule: "case", position: 9 }]);
    expect(issuesOf("913501A0M000100Y43")).toEqual([{ rule: "charset", position: 7 }]);
    expect(issuesOf("91350100M000100Y4")).toEqual([{ rule: "length" }]);
    expect(issuesOf("91350100M000100Y433")).toEqual([{ rule: "length" }]);
  });

  it("rejects a region whose province is unknown", () => {
    const first16 = "91990100M000100Y";
    expect(issuesOf(complete(first16))).toEqual([{ rule: "region-unknown", position: 3 }]);
  });

  it("rejects every adjacent transposition of the samples", () => {
    for (const sample of SAMPLES) {
      for (let i = 0; i < 17; i++) {
        if (sample.charAt(i) === sample.charAt(i + 1)) continue;
        const swapped = sample.slice(0, i) + sample.charAt(i + 1) + sample.charAt(i) + sample.slice(i + 2);
        expect(validateUscc(swapped).ok, swapped).toBe(false);
      }
    }
  });

  it("documents the Xiamen pilot exception: rejected by the MOD 31 check", () => {
    expect(issuesOf("91350203M0001FUE2P")).toEqual([{ rule: "check-character", position: 18 }]);
  });

  it("property: generated codes validate, and any single change is caught by the check character", () => {
    fc.assert(
      fc.property(usccArb, fc.integer({ min: 0, max: 16 }), fc.integer({ min: 1, max: 30 }), (code, i, shift) => {
        expect(validateUscc(code).ok).toBe(true);
        const alphabet = i >= 2 && i <= 7 ? "0123456789" : USCC_ALPHABET;
        const v = alphabet.indexOf(code.charAt(i));
        const changed = code.slice(0, i) + alphabet.charAt((v + 1 + (shift % (alphabet.length - 1))) % alphabet.length) + code.slice(i + 1);
        expect(issuesOf(changed)).toContainEqual({ rule: "check-character", position: 18 });
      }),
    );
  });

  it("assertUscc throws IDENTIFIER_INVALID with the issues in details", () => {
    expect(() => assertUscc("91350100M000100Y44")).toThrow(TongbanError);
    try {
      assertUscc("91350100M000100Y44");
    } catch (err) {
      expect(err).toMatchObject({ code: "IDENTIFIER_INVALID", details: { kind: "uscc", issues: [{ rule: "check-character", position: 18 }] } });
    }
  });
});
