import fc from "fast-check";
import { isTongbanError } from "@tongban/sdk";
import { describe, expect, it } from "vitest";
import { compareBytes } from "./bytes.js";
import { Collection } from "./collection.js";
import { bytesPart, stringPart, u32Part, u64Part } from "./key-encoding.js";
import { collectionOf, storeKeys } from "./keys.js";
import { MemoryStore } from "./memory-store.js";

const utf8 = new TextEncoder();
/** Code-point order, which is UTF-8 byte order. */
const cmpStr = (a: string, b: string) => compareBytes(utf8.encode(a), utf8.encode(b));
const sign = (n: number) => (n > 0 ? 1 : n < 0 ? -1 : 0);
// Strings rich in the bytes the encoding must escape or that sort at the edges.
const idString = fc.oneof(fc.string({ unit: fc.constantFrom("a", "b", "\u0000", "\u0001", "\u0002", "\u007f", "\u0080", "\u00ff", "\uffff", "😀", "-") }), fc.string({ unit: "grapheme" }));
const u64Value = fc.oneof(fc.constantFrom(0, 1, 255, 256, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER), fc.nat({ max: Number.MAX_SAFE_INTEGER }));

describe("key encoding", () => {
  const pair = new Collection("pair", [stringPart, u64Part] as const);

  it("round-trips every part (property)", () => {
    fc.assert(
      fc.property(idString, u64Value, (s, n) => {
        expect(pair.decode(pair.key(s, n))).toEqual([s, n]);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat({ max: 0xffff_ffff }), (d, i) => {
        expect(storeKeys.material.decode(storeKeys.material.key(d, i))).toEqual([d, i]);
      }),
    );
  });

  it("orders keys exactly as their parts order, string first then number (property)", () => {
    fc.assert(
      fc.property(idString, u64Value, idString, u64Value, (s1, n1, s2, n2) => {
        const want = sign(cmpStr(s1, s2)) || sign(n1 - n2);
        expect(sign(compareBytes(pair.key(s1, n1), pair.key(s2, n2)))).toBe(want);
      }),
      { numRuns: 1000 },
    );
  });

  it("keeps a string's range clear of strings that start with 0x00 or 0x01 (regression)", () => {
    const r = pair.range("");
    for (const other of ["\u0000", "\u0001", "\u0000a"]) {
      const k = pair.key(other, 0);
      expect(compareBytes(k, r.gte) >= 0 && compareBytes(k, r.lt) < 0).toBe(false);
    }
  });

  it("decodes a string followed by raw bytes unambiguously (property)", () => {
    const tagged = new Collection("tagged", [stringPart, bytesPart(2)] as const);
    fc.assert(
      fc.property(idString, fc.uint8Array({ minLength: 2, maxLength: 2 }), (s, d) => {
        expect(tagged.decode(tagged.key(s, d))).toEqual([s, d]);
      }),
      { numRuns: 500 },
    );
  });

  it("sorts a string before its extensions, whatever follows it", () => {
    expect(compareBytes(pair.key("ab", Number.MAX_SAFE_INTEGER), pair.key("ab\u0000", 0))).toBeLessThan(0);
    expect(compareBytes(pair.key("ab", Number.MAX_SAFE_INTEGER), pair.key("abc", 0))).toBeLessThan(0);
  });

  it("keeps a prefix range to keys whose leading parts are equal, not merely prefixed (property)", () => {
    fc.assert(
      fc.property(idString, idString, u64Value, (a, other, n) => {
        const r = pair.range(a);
        const k = pair.key(other, n);
        const inside = compareBytes(k, r.gte) >= 0 && compareBytes(k, r.lt) < 0;
        expect(inside).toBe(a === other);
      }),
      { numRuns: 500 },
    );
  });

  it("encodes u64 big-endian fixed width", () => {
    const ev = storeKeys.event.key(0x0102_0304_0506);
    expect(ev.subarray(storeKeys.event.prefix.length)).toEqual(Uint8Array.of(0, 0, 1, 2, 3, 4, 5, 6));
    expect(storeKeys.event.key(2 ** 53 - 1).subarray(-8)).toEqual(Uint8Array.of(0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
  });

  it("refuses values a part cannot hold with TypeErrors", () => {
    expect(() => storeKeys.event.key(-1)).toThrow(TypeError);
    expect(() => storeKeys.event.key(1.5)).toThrow(TypeError);
    expect(() => storeKeys.event.key(2 ** 53)).toThrow(TypeError);
    expect(() => storeKeys.material.key(new Uint8Array(31), 0)).toThrow(TypeError);
    expect(() => storeKeys.material.key(new Uint8Array(32), 2 ** 32)).toThrow(TypeError);
    expect(() => storeKeys.inbox.key("ok", "\ud800")).toThrow(TypeError);
    expect(() => storeKeys.inbox.key(1 as unknown as string, "x")).toThrow(TypeError);
    expect(() => new Collection("Bad Name", [stringPart])).toThrow(TypeError);
    expect(() => new Collection("empty", [])).toThrow(TypeError);
    expect(() => bytesPart(0)).toThrow(TypeError);
    expect(() => u32Part.encode(2 ** 32, [])).toThrow(TypeError);
  });

  it("reports a malformed stored key as STORE_CORRUPT, a key of another collection as TypeError", () => {
    const cut = storeKeys.event.key(5).subarray(0, -1);
    expect(() => storeKeys.event.decode(cut)).toThrow(expect.objectContaining({ code: "STORE_CORRUPT" }));
    const unterminated = storeKeys.case.key("c1").subarray(0, -1);
    try {
      storeKeys.case.decode(unterminated);
      expect.unreachable();
    } catch (e) {
      expect(isTongbanError(e, "STORE_CORRUPT")).toBe(true);
    }
    const extra = Uint8Array.of(...storeKeys.event.key(5), 1);
    expect(() => storeKeys.event.decode(extra)).toThrow(expect.objectContaining({ code: "STORE_CORRUPT" }));
    const badUtf8 = Uint8Array.of(...storeKeys.case.prefix, 0xc3, 0x28, 0);
    const badEscape = Uint8Array.of(...storeKeys.case.prefix, 0x61, 0x01, 0x03, 0);
    expect(() => storeKeys.case.decode(badEscape)).toThrow(expect.objectContaining({ code: "STORE_CORRUPT" }));
    expect(() => storeKeys.case.decode(badUtf8)).toThrow(expect.objectContaining({ code: "STORE_CORRUPT" }));
    expect(() => storeKeys.event.decode(storeKeys.audit.key(5))).toThrow(TypeError);
  });
});

describe("the node's collections", () => {
  it("have distinct names and prefixes no other prefix starts with", () => {
    const all = Object.values(storeKeys);
    expect(new Set(all.map((c) => c.name)).size).toBe(all.length);
    for (const a of all) {
      for (const b of all) {
        if (a === b) continue;
        expect(compareBytes(a.prefix, b.prefix.subarray(0, a.prefix.length)) !== 0 || a.prefix.length > b.prefix.length).toBe(true);
      }
    }
  });

  it("tell which collection a key belongs to", () => {
    expect(collectionOf(storeKeys.caseHeld.key("c", 1, "n", "m"))).toBe("caseHeld");
    expect(collectionOf(storeKeys.case.key("c"))).toBe("case");
    expect(collectionOf(storeKeys.outboxDue.key(1, "m"))).toBe("outboxDue");
    expect(collectionOf(Uint8Array.of(1, 2, 3))).toBeUndefined();
  });

  it("give typed keys (compile-time checks)", () => {
    storeKeys.inbox.key("node", "msg");
    // @ts-expect-error inbox keys have two string parts
    expect(() => storeKeys.inbox.key("node")).toThrow(TypeError);
    // @ts-expect-error event keys are numbers
    expect(() => storeKeys.event.key("1")).toThrow(TypeError);
    const [when, id]: [number, string] = storeKeys.outboxDue.decode(storeKeys.outboxDue.key(5, "m"));
    expect([when, id]).toEqual([5, "m"]);
  });

  it("support the scans the node makes, over a real store", async () => {
    const s = new MemoryStore();
    await s.open();
    const empty = new Uint8Array(0);
    await s.batch([
      { type: "put", key: storeKeys.outboxDue.key(3_000, "m3"), value: empty },
      { type: "put", key: storeKeys.outboxDue.key(1_000, "m1"), value: empty },
      { type: "put", key: storeKeys.outboxDue.key(2_000, "m2"), value: empty },
      { type: "put", key: storeKeys.outbox.key("m1"), value: empty },
      { type: "put", key: storeKeys.caseHeld.key("c1", 7, "n", "b"), value: empty },
      { type: "put", key: storeKeys.caseHeld.key("c1", 3, "n", "a"), value: empty },
      { type: "put", key: storeKeys.caseHeld.key("c10", 1, "n", "z"), value: empty },
      { type: "put", key: storeKeys.audit.key(256), value: empty },
      { type: "put", key: storeKeys.audit.key(255), value: empty },
      { type: "put", key: storeKeys.audit.key(1), value: empty },
    ]);
    const due: string[] = [];
    for await (const { key } of s.iterate({ gte: storeKeys.outboxDue.prefix, lt: storeKeys.outboxDue.prefixOf(2_001) })) due.push(storeKeys.outboxDue.decode(key)[1]);
    expect(due).toEqual(["m1", "m2"]);
    const held: number[] = [];
    for await (const { key } of s.iterate(storeKeys.caseHeld.range("c1"))) held.push(storeKeys.caseHeld.decode(key)[1]);
    expect(held).toEqual([3, 7]);
    const lastAudit = [];
    for await (const { key } of s.iterate({ ...storeKeys.audit.range(), reverse: true, limit: 1 })) lastAudit.push(storeKeys.audit.decode(key)[0]);
    expect(lastAudit).toEqual([256]);
    await s.close();
  });
});
