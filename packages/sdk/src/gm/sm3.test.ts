import { describe, expect, it } from "vitest";
import { toHex } from "./hex.js";
import { sm3, sm3Hmac } from "./sm3.js";
import vectors from "./testdata/vectors.json" with { type: "json" };

describe("sm3", () => {
  for (const v of vectors.sm3) {
    it(`matches ${v.source}`, () => {
      expect(toHex(sm3(new TextEncoder().encode(v.inputUtf8)))).toBe(v.digest);
    });
  }

  it("refuses a non-byte input", () => {
    expect(() => sm3("abc" as unknown as Uint8Array)).toThrow(TypeError);
  });

  it("HMAC-SM3 depends on the key and gives 32 bytes", () => {
    const data = new TextEncoder().encode("data");
    const a = sm3Hmac(new Uint8Array(16).fill(1), data);
    const b = sm3Hmac(new Uint8Array(16).fill(2), data);
    expect(a).toHaveLength(32);
    expect(toHex(a)).not.toBe(toHex(b));
  });
});
