import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BodySchema, EnvelopeSchema, HeaderSchema, type MessageType } from "../gen/tongban/v1/envelope_pb.js";
import { CaseState } from "../gen/tongban/v1/common_pb.js";
import { encodeBody, encodeEnvelope, encodeHeader } from "./wire-encode.js";
import { decodeEnvelope, decodeEnvelopeHolder, decodeHeader } from "./wire-decode.js";
import { DeliverRequestSchema } from "../gen/tongban/v1/federation_pb.js";

// Any string (lone surrogates included: both writers turn them into U+FFFD), mostly short, sometimes long enough for 2- and 3-byte lengths.
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: "grapheme", minLength: 100, maxLength: 6000 }),
  }
);
const bytes = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 120, maxLength: 20_000 }) }
);
const int32 = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 }), fc.integer({ min: -0x80000000, max: 0x7fffffff }));
const int64 = fc.oneof(fc.constant(0n), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
const timestamp = fc.record({ seconds: int64, nanos: int32 });

const header = fc.record(
  {
    protocol: text,
    messageId: text,
    type: int32,
    sender: text,
    recipient: text,
    originalSender: text,
    finalRecipient: text,
    caseId: text,
    correlationId: text,
    sequence: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
    createdAt: timestamp,
    expiresAt: timestamp,
    bodyDigest: fc.record({ algorithm: int32, value: bytes }),
    suite: text,
    bodyEncoding: int32,
  },
  {
    requiredKeys: [
      "protocol",
      "messageId",
      "type",
      "sender",
      "recipient",
      "originalSender",
      "finalRecipient",
      "caseId",
      "correlationId",
      "sequence",
      "suite",
      "bodyEncoding",
    ],
  }
);

const envelope = fc.record(
  { header: bytes, body: bytes, signature: fc.record({ protected: bytes, value: bytes, certificates: fc.array(bytes, { maxLength: 3 }) }) },
  { requiredKeys: ["header", "body"] },
);

describe("direct protobuf writers", () => {
  it("write a Header exactly as toBinary does", () => {
    fc.assert(
      fc.property(header, (init) => {
        const h = create(HeaderSchema, init);
        expect(Buffer.from(encodeHeader(h)).equals(Buffer.from(toBinary(HeaderSchema, h)))).toBe(true);
      }),
      { numRuns: 500 }
    );
  });

  it("write an Envelope exactly as toBinary does", () => {
    fc.assert(
      fc.property(envelope, (init) => {
        const e = create(EnvelopeSchema, init);
        expect(Buffer.from(encodeEnvelope(e)).equals(Buffer.from(toBinary(EnvelopeSchema, e)))).toBe(true);
      }),
      { numRuns: 300 }
    );
  });

  it("write a technical receipt's Body exactly as toBinary does", () => {
    const receipt = fc.record(
      {
        receivedMessageId: text,
        receivedDigest: bytes,
        receivedAt: timestamp,
        status: int32,
        errorCode: text,
        errorMessage: text,
        duplicate: fc.boolean(),
        receivedFrom: text,
      },
      {
        requiredKeys: ["receivedMessageId", "receivedDigest", "status", "errorCode", "errorMessage", "duplicate", "receivedFrom"],
      }
    );
    fc.assert(
      fc.property(receipt, (value) => {
        const b = create(BodySchema, {
          kind: { case: "technicalReceipt", value },
        });
        expect(Buffer.from(encodeBody(b)).equals(Buffer.from(toBinary(BodySchema, b)))).toBe(true);
      }),
      { numRuns: 300 }
    );
  });

  it("hand what they do not write themselves to toBinary: other bodies, unknown fields, values out of range", () => {
    const status = create(BodySchema, {
      kind: {
        case: "statusUpdate",
        value: { state: CaseState.ACCEPTED, note: "已受理" },
      },
    });
    expect(encodeBody(status)).toEqual(toBinary(BodySchema, status));

    // A header decoded with a field this version does not know keeps it, and writes it back.
    const known = toBinary(HeaderSchema, create(HeaderSchema, { protocol: "tongban/1", messageId: "m" }));
    const withUnknown = fromBinary(HeaderSchema, Buffer.concat([known, Buffer.from([0xa0, 0x06, 0x07])])); // field 100, varint 7
    expect(withUnknown.$unknown?.length).toBe(1);
    expect(Buffer.from(encodeHeader(withUnknown)).equals(Buffer.from(toBinary(HeaderSchema, withUnknown)))).toBe(true);
    expect(Buffer.from(encodeHeader(withUnknown)).subarray(-3)).toEqual(Buffer.from([0xa0, 0x06, 0x07]));

    // A sequence beyond uint64 is toBinary's to refuse.
    const bad = create(HeaderSchema, { sequence: 2n ** 64n });
    expect(() => encodeHeader(bad)).toThrow();
    expect(() => encodeHeader(create(HeaderSchema, { type: 1.5 as MessageType }))).toThrow();
  });

  it("decode to what was written", () => {
    const h = create(HeaderSchema, {
      protocol: "tongban/1",
      messageId: "01J…",
      sender: "cn.310118.qingpu",
      sequence: 7n,
      createdAt: { seconds: 1_700_000_000n, nanos: 5 },
      bodyDigest: { algorithm: 1, value: new Uint8Array(32).fill(9) },
    });
    expect(fromBinary(HeaderSchema, encodeHeader(h))).toEqual(h);
  });
});

describe("direct protobuf readers", () => {
  /** Both decode to equal messages, or both refuse. */
  const same = <T>(fast: () => T, slow: () => T) => {
    let want: { ok: true; v: T } | { ok: false };
    try {
      want = { ok: true, v: slow() };
    } catch {
      want = { ok: false };
    }
    if (want.ok) expect(fast()).toStrictEqual(want.v);
    else expect(fast).toThrow();
  };
  /** `decode` agrees with fromBinary on `written`, and on it damaged by `edits` and cut short by `cut` bytes. */
  const agrees = <D extends DescMessage>(decode: (b: Uint8Array) => unknown, schema: D, written: Uint8Array, e: Edit[], cut: number) => {
    for (const b of [written, mutate(written, e, cut)]) same(() => decode(b), () => fromBinary(schema, b));
  };
  type Edit = { at: number; byte: number };
  const mutate = (b: Uint8Array, edits: Edit[], cut: number) => {
    const m = Uint8Array.from(b);
    for (const e of edits) if (m.length > 0) m[e.at % m.length] = e.byte;
    return m.subarray(0, Math.max(0, m.length - cut));
  };
  const edits = fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 3 });

  it("read a Header as fromBinary does, written or damaged", () => {
    fc.assert(
      fc.property(header, edits, fc.oneof(fc.constant(0), fc.nat(4)), (init, e, cut) => {
        agrees(decodeHeader, HeaderSchema, toBinary(HeaderSchema, create(HeaderSchema, init)), e, cut);
      }),
      { numRuns: 1000 }
    );
  });

  it("read an Envelope and a DeliverRequest as fromBinary does, written or damaged", () => {
    fc.assert(
      fc.property(envelope, edits, fc.oneof(fc.constant(0), fc.nat(4)), (init, e, cut) => {
        agrees(decodeEnvelope, EnvelopeSchema, toBinary(EnvelopeSchema, create(EnvelopeSchema, init)), e, cut);
        const request = toBinary(DeliverRequestSchema, create(DeliverRequestSchema, { envelope: init }));
        expect(decodeEnvelopeHolder("tongban.v1.DeliverRequest", 1, "envelope", request)).toStrictEqual(fromBinary(DeliverRequestSchema, request));
        const held = decodeEnvelopeHolder("tongban.v1.DeliverRequest", 1, "envelope", mutate(request, e, cut));
        if (held !== undefined) expect(held).toStrictEqual(fromBinary(DeliverRequestSchema, mutate(request, e, cut)));
      }),
      { numRuns: 500 }
    );
  });

  it("leave unknown fields, repeats and large numbers to fromBinary", () => {
    const known = toBinary(
      HeaderSchema,
      create(HeaderSchema, {
        protocol: "tongban/1",
        sequence: 2n ** 60n,
        createdAt: { seconds: -5n, nanos: 1 },
      })
    );
    expect(decodeHeader(known)).toStrictEqual(fromBinary(HeaderSchema, known));
    const unknown = Buffer.concat([known, Buffer.from([0xa0, 0x06, 0x07])]);
    expect(decodeHeader(unknown).$unknown).toHaveLength(1);
    // A singular field twice: the last one wins (strings), sub-messages merge — as fromBinary does.
    const twice = Buffer.concat([
      toBinary(HeaderSchema, create(HeaderSchema, { sender: "a", createdAt: { seconds: 1n } })),
      toBinary(HeaderSchema, create(HeaderSchema, { sender: "b", createdAt: { nanos: 2 } })),
    ]);
    expect(decodeHeader(twice)).toStrictEqual(fromBinary(HeaderSchema, twice));
    expect(decodeHeader(twice).createdAt).toMatchObject({
      seconds: 1n,
      nanos: 2,
    });
  });
});
