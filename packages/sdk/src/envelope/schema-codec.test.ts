import { create, fromBinary, ScalarType, toBinary, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { file_tongban_v1_common } from "../gen/tongban/v1/common_pb.js";
import { BodySchema, file_tongban_v1_envelope } from "../gen/tongban/v1/envelope_pb.js";
import { file_tongban_v1_federation } from "../gen/tongban/v1/federation_pb.js";
import { file_tongban_v1_joint } from "../gen/tongban/v1/joint_pb.js";
import { file_tongban_v1_messages } from "../gen/tongban/v1/messages_pb.js";
import { file_tongban_v1_platform } from "../gen/tongban/v1/platform_pb.js";
import { schemaCodec } from "./schema-codec.js";

const files = [file_tongban_v1_common, file_tongban_v1_envelope, file_tongban_v1_messages, file_tongban_v1_joint, file_tongban_v1_federation, file_tongban_v1_platform];
const allMessages: DescMessage[] = [];
const collect = (m: DescMessage): void => {
  allMessages.push(m);
  m.nestedMessages.forEach(collect);
};
files.forEach((f) => f.messages.forEach(collect));

// Random values for every field type the protocol uses, with the edges that matter: zero values, non-ASCII and lone
// surrogates, integers near the limits of what the compiled reader takes (larger ones go to protobuf-es).
const text = fc.oneof({ weight: 5, arbitrary: fc.string({ unit: "binary", maxLength: 24 }) }, { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 60, maxLength: 400 }) });
const bytes = fc.oneof({ weight: 5, arbitrary: fc.uint8Array({ maxLength: 40 }) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 130, maxLength: 2_000 }) });
const int32 = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 200 }), fc.integer({ min: -0x80000000, max: 0x7fffffff }));
const uint32 = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff }));
const int64 = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 40n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
const uint64 = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 53n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));

function scalarArb(type: ScalarType): fc.Arbitrary<unknown> {
  switch (type) {
    case ScalarType.STRING:
      return text;
    case ScalarType.BYTES:
      return bytes;
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.INT32:
      return int32;
    case ScalarType.UINT32:
      return uint32;
    case ScalarType.INT64:
      return int64;
    case ScalarType.UINT64:
      return uint64;
    default:
      throw new Error(`no arbitrary for scalar type ${type}`);
  }
}

/** An init object for `create(desc, …)`, nested messages down to `depth`. */
function messageArb(desc: DescMessage, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of desc.fields) {
    if (f.oneof !== undefined) continue;
    const a = fieldArb(f, depth);
    if (a !== undefined) parts[f.localName] = a;
  }
  for (const o of desc.oneofs) {
    const members = o.fields.map((f) => fieldArb(f, depth)?.map((value) => ({ case: f.localName, value }))).filter((a) => a !== undefined);
    parts[o.localName] = fc.oneof(fc.constant({ case: undefined }), ...members);
  }
  return fc.record(parts, { requiredKeys: [] });
}

function fieldArb(f: DescField, depth: number): fc.Arbitrary<unknown> | undefined {
  switch (f.fieldKind) {
    case "scalar":
      return scalarArb(f.scalar);
    case "enum":
      return int32;
    case "message":
      return depth <= 0 ? undefined : f.message.typeName === TimestampSchema.typeName ? fc.record({ seconds: int64, nanos: int32 }) : messageArb(f.message, depth - 1);
    case "list":
      if (f.listKind === "message") return depth <= 0 ? undefined : fc.array(messageArb(f.message, depth - 1), { maxLength: 3 });
      return fc.array(f.listKind === "enum" ? int32 : scalarArb(f.scalar), { maxLength: 4 });
    default:
      return undefined;
  }
}

/** Damage: flip a byte, cut the end, or splice in random bytes. */
const damage = (valid: Uint8Array) =>
  fc.oneof(
    fc.record({ at: fc.nat(), to: fc.integer({ min: 0, max: 255 }) }).map(({ at, to }) => {
      const b = Uint8Array.from(valid);
      if (b.length > 0) b[at % b.length] = to;
      return b;
    }),
    fc.nat().map((n) => valid.subarray(0, valid.length === 0 ? 0 : n % valid.length)),
    fc.record({ at: fc.nat(), junk: fc.uint8Array({ minLength: 1, maxLength: 6 }) }).map(({ at, junk }) => {
      const i = valid.length === 0 ? 0 : at % valid.length;
      return Uint8Array.from([...valid.subarray(0, i), ...junk, ...valid.subarray(i)]);
    })
  );

/** Runs `f`, returning its value or the fact that it threw. */
function outcome<T>(f: () => T): { ok: true; value: T } | { ok: false } {
  try {
    return { ok: true, value: f() };
  } catch {
    return { ok: false };
  }
}

describe("schema-compiled protobuf codecs", () => {
  it("compile every message of the protocol (else the tests below would only test protobuf-es)", () => {
    const notCompiled = allMessages.filter((m) => !schemaCodec(m).compiled).map((m) => m.typeName);
    expect(notCompiled).toEqual([]);
    expect(allMessages.length).toBeGreaterThan(60);
  });

  it("encode every message exactly as toBinary does", () => {
    for (const desc of allMessages) {
      const codec = schemaCodec(desc);
      fc.assert(
        fc.property(messageArb(desc, 2), (init) => {
          const m = create(desc, init);
          expect(Buffer.from(codec.encode(m)).equals(Buffer.from(toBinary(desc, m)))).toBe(true);
        }),
        { numRuns: 60 }
      );
    }
  });

  it("decode every message exactly as fromBinary does", () => {
    for (const desc of allMessages) {
      const codec = schemaCodec(desc);
      fc.assert(
        fc.property(messageArb(desc, 2), (init) => {
          const wire = toBinary(desc, create(desc, init));
          expect(codec.decode(wire)).toStrictEqual(fromBinary(desc, wire));
        }),
        { numRuns: 60 }
      );
    }
  });

  it("decode damaged bytes to fromBinary's message, or refuse them as it does", () => {
    let differentFromInput = 0;
    for (const desc of allMessages) {
      const codec = schemaCodec(desc);
      fc.assert(
        fc.property(
          messageArb(desc, 2).chain((init) => damage(toBinary(desc, create(desc, init)))),
          (bad) => {
            const ours = outcome(() => codec.decode(bad));
            const theirs = outcome(() => fromBinary(desc, bad));
            expect(ours.ok).toBe(theirs.ok);
            if (ours.ok && theirs.ok) expect(ours.value).toStrictEqual(theirs.value);
            else differentFromInput++;
          }
        ),
        { numRuns: 40 }
      );
    }
    expect(differentFromInput).toBeGreaterThan(0); // some damage was refused by both
  });

  it("leave unusual input to protobuf-es: unknown fields, a message field twice, a packed list sent unpacked", () => {
    const body = schemaCodec(BodySchema);
    const plain = toBinary(BodySchema, create(BodySchema, { kind: { case: "statusUpdate", value: { state: 3, note: "已受理" } } }));
    // an unknown field (number 99, varint 7) at the end: kept in $unknown, as fromBinary does
    const unknown = Uint8Array.from([...plain, 0x98, 0x06, 0x07]);
    expect(body.decode(unknown)).toStrictEqual(fromBinary(BodySchema, unknown));
    expect((body.decode(unknown) as { $unknown?: unknown[] }).$unknown).toHaveLength(1);
    // the same oneof message member twice: protobuf-es merges them
    const twice = Uint8Array.from([...plain, ...toBinary(BodySchema, create(BodySchema, { kind: { case: "statusUpdate", value: { note: "补正" } } }))]);
    expect(body.decode(twice)).toStrictEqual(fromBinary(BodySchema, twice));
    expect((body.decode(twice).kind.value as { state: number; note: string }).state).toBe(3);
  });

  it("encode what toBinary would write differently or refuse by handing it to toBinary", () => {
    const body = schemaCodec(BodySchema);
    const withUnknown = create(BodySchema, { kind: { case: "statusUpdate", value: { note: "x" } } });
    (withUnknown as { $unknown?: unknown[] }).$unknown = [{ no: 99, wireType: 0, data: Uint8Array.of(7) }];
    expect(Buffer.from(body.encode(withUnknown)).equals(Buffer.from(toBinary(BodySchema, withUnknown)))).toBe(true);
    const badType = create(BodySchema, { kind: { case: "statusUpdate", value: { note: "x" } } });
    (badType.kind.value as { state: unknown }).state = 1.5; // not an int32: toBinary refuses it
    expect(() => toBinary(BodySchema, badType)).toThrow();
    expect(() => body.encode(badType)).toThrow();
  });
});
