import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeDerInteger, encodeDerInteger, normalizeSerial } from "./der-integer.js";

describe("DER INTEGER", () => {
  it("round-trips any non-negative integer up to 126 bytes", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 1000n) - 1n }), (n) => {
        const der = encodeDerInteger(n);
        // Positive: the first content byte never has its top bit set.
        expect((der[2] ?? 0) & 0x80).toBe(0);
        expect(decodeDerInteger(der)).toBe(n);
      }),
    );
  });

  it("encodes known values", () => {
    expect([...encodeDerInteger(0n)]).toEqual([2, 1, 0]);
    expect([...encodeDerInteger(128n)]).toEqual([2, 2, 0, 128]);
    expect(decodeDerInteger(new Uint8Array([4, 1, 0]))).toBeUndefined();
  });

  it("normalizes serials and rejects non-hex", () => {
    expect(normalizeSerial("00AB01")).toBe("ab01");
    expect(normalizeSerial("5")).toBe("05");
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 1n << 159n }), (n) => {
        const s = normalizeSerial(`00${n.toString(16)}`);
        expect(s.length % 2).toBe(0);
        expect(BigInt(`0x${s}`)).toBe(n);
        expect(s.startsWith("00")).toBe(false);
      }),
    );
    expect(() => normalizeSerial("xyz")).toThrow(TypeError);
  });
});
