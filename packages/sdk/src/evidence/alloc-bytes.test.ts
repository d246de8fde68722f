import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocBytes, isAscii, writeAscii } from "./alloc-bytes.js";
import { GENESIS_PREV_HASH, decodeEntry, encodeEntry } from "./entry.js";
import { leafHash, nodeHash, sha256 } from "./hash.js";

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const ref = (...parts: Uint8Array[]) => new Uint8Array(createHash("sha256").update(Buffer.concat(parts)).digest());

describe("allocBytes", () => {
  it("gives zeroed, separate arrays of the asked length, from slabs when small", () => {
    const a = allocBytes(10);
    const b = allocBytes(10);
    expect([a.byteLength, b.byteLength]).toEqual([10, 10]);
    expect([...a, ...b].every((x) => x === 0)).toBe(true);
    a.fill(0xff);
    expect([...b].every((x) => x === 0)).toBe(true);
    expect(a.constructor).toBe(Uint8Array);
    // Many small arrays share one native buffer; a large one has its own.
    const small = Array.from({ length: 50 }, () => allocBytes(100));
    expect(new Set(small.map((x) => x.buffer)).size).toBeLessThan(3);
    const large = allocBytes(4096);
    expect([large.byteOffset, large.buffer.byteLength]).toEqual([0, 4096]);
  });

  it("never hands out overlapping memory, across slab boundaries", () => {
    const arrays = Array.from({ length: 400 }, (_, i) => allocBytes(1 + ((i * 37) % 1024)));
    arrays.forEach((x, i) => x.fill(i % 251));
    arrays.forEach((x, i) => expect(x.every((v) => v === i % 251)).toBe(true));
  });
});

describe("isAscii / writeAscii", () => {
  it("writes exactly the UTF-8 of ASCII strings and recognises the others", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (s) => {
        const utf8 = new TextEncoder().encode(s);
        expect(isAscii(s)).toBe(utf8.byteLength === s.length && [...utf8].every((b) => b < 0x80));
        if (isAscii(s)) {
          const out = new Uint8Array(s.length + 2);
          writeAscii(s, out, 1);
          expect(Buffer.from(out.subarray(1, 1 + s.length)).equals(Buffer.from(utf8))).toBe(true);
        }
      }),
    );
    expect(isAscii("\ud800")).toBe(false);
  });
});

describe("encodeEntry with the ASCII fast path", () => {
  it("writes the same bytes as a TextEncoder-based encoding, for any strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }), (caseId, messageId, label) => {
        const e = { index: 3, kind: "envelope-in" as const, timestamp: 1772416800123, prevHash: GENESIS_PREV_HASH, payloadDigest: sha256(new Uint8Array()), payloadLength: 0, caseId, messageId, label };
        const bytes = encodeEntry(e);
        const strings = Buffer.concat(
          [caseId, messageId, label].map((s) => {
            const b = Buffer.from(new TextEncoder().encode(s));
            const len = Buffer.alloc(2);
            len.writeUInt16BE(b.byteLength);
            return Buffer.concat([len, b]);
          }),
        );
        expect(Buffer.from(bytes.subarray(90)).equals(strings)).toBe(true);
        // Lone surrogates become U+FFFD in UTF-8, so only well-formed strings round-trip.
        if ([caseId, messageId, label].every((s) => !LONE_SURROGATE.test(s))) expect(decodeEntry(bytes)).toMatchObject({ caseId, messageId, label });
      }),
      { numRuns: 300 },
    );
  });
});

describe("leaf and node hashes through the reused input buffer", () => {
  it("equal SHA-256 of the prefixed input, for small, growing and very large inputs, one after another", () => {
    for (const n of [0, 1, 63, 64, 65, 1023, 1024, 5000, 70_000, 10]) {
      const leaf = new Uint8Array(n).map((_, i) => (i * 7 + n) % 256);
      expect(leafHash(leaf)).toEqual(ref(Uint8Array.of(0), leaf));
    }
    const l = sha256(Uint8Array.of(1));
    const r = sha256(Uint8Array.of(2));
    expect(nodeHash(l, r)).toEqual(ref(Uint8Array.of(1), l, r));
    expect(nodeHash(r, l)).not.toEqual(nodeHash(l, r));
    // A leaf right after a node: the reused buffer must not keep the node's prefix.
    expect(leafHash(l)).toEqual(ref(Uint8Array.of(0), l));
  });
});
