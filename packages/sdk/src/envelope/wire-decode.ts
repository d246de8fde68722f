import { fromBinary } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { FALLBACK, Reader } from "./wire-reader.js";
import { EnvelopeSchema, HeaderSchema, type Digest, type Envelope, type Header, type Signature } from "../gen/tongban/v1/envelope_pb.js";

// Direct protobuf readers for the messages every delivery decodes: Envelope
// (with its Signature) and Header. They read the plain form a Tongban
// implementation writes — each known field once, with its own wire type — into
// the same message objects fromBinary makes (byte fields are views of the
// input, as there). Anything else (an unknown field, a repeated singular
// field, a group, an integer outside the range read here, a truncated input)
// is decoded by fromBinary instead, which keeps, merges or refuses it exactly
// as before. A property test holds the two to the same results.

const LEN = 2;
const VARINT = 0;
const NONE = -1;

const timestampWire = (no: number) => (no === 1 || no === 2 ? VARINT : NONE);
function readTimestamp(r: Reader): Timestamp {
  const sub = r.sub();
  const t: Timestamp = {
    $typeName: "google.protobuf.Timestamp",
    seconds: 0n,
    nanos: 0,
  };
  const seen = { mask: 0 };
  while (sub.pos < sub.end) {
    if (sub.tag(seen, timestampWire) === 1) t.seconds = BigInt(sub.varint());
    else t.nanos = sub.int32();
  }
  return t;
}

const digestWire = (no: number) => (no === 1 ? VARINT : no === 2 ? LEN : NONE);
function readDigest(r: Reader): Digest {
  const sub = r.sub();
  const d: Digest = {
    $typeName: "tongban.v1.Digest",
    algorithm: 0,
    value: new Uint8Array(0),
  };
  const seen = { mask: 0 };
  while (sub.pos < sub.end) {
    if (sub.tag(seen, digestWire) === 1) d.algorithm = sub.int32();
    else d.value = sub.bytes();
  }
  return d;
}

const HEADER_VARINT = (1 << 3) | (1 << 10) | (1 << 15);
const HEADER_MESSAGE = (1 << 11) | (1 << 12) | (1 << 13);
const headerWire = (no: number) => (no < 1 || no > 15 ? NONE : (HEADER_VARINT & (1 << no)) !== 0 ? VARINT : LEN);

/** Header bytes → Header, the same message as `fromBinary(HeaderSchema, bytes)` (which it falls back to). */
export function decodeHeader(bytes: Uint8Array): Header {
  try {
    const r = new Reader(bytes, 0, bytes.length);
    const h: Header = {
      $typeName: "tongban.v1.Header",
      protocol: "",
      messageId: "",
      type: 0,
      sender: "",
      recipient: "",
      originalSender: "",
      finalRecipient: "",
      caseId: "",
      correlationId: "",
      sequence: 0n,
      suite: "",
      bodyEncoding: 0,
    };
    const seen = { mask: 0 };
    while (r.pos < r.end) {
      const no = r.tag(seen, headerWire);
      if ((HEADER_MESSAGE & (1 << no)) !== 0) {
        if (no === 11) h.createdAt = readTimestamp(r);
        else if (no === 12) h.expiresAt = readTimestamp(r);
        else h.bodyDigest = readDigest(r);
        continue;
      }
      switch (no) {
        case 1:
          h.protocol = r.string();
          break;
        case 2:
          h.messageId = r.string();
          break;
        case 3:
          h.type = r.int32();
          break;
        case 4:
          h.sender = r.string();
          break;
        case 5:
          h.recipient = r.string();
          break;
        case 6:
          h.originalSender = r.string();
          break;
        case 7:
          h.finalRecipient = r.string();
          break;
        case 8:
          h.caseId = r.string();
          break;
        case 9:
          h.correlationId = r.string();
          break;
        case 10:
          h.sequence = BigInt(r.varint());
          break;
        case 14:
          h.suite = r.string();
          break;
        default:
          h.bodyEncoding = r.int32(); // 15
      }
    }
    return h;
  } catch (err) {
    if (err !== FALLBACK) throw err;
    return fromBinary(HeaderSchema, bytes);
  }
}

const envelopeWire = (no: number) => (no >= 1 && no <= 3 ? LEN : NONE);
const signatureWire = (no: number) => (no >= 1 && no <= 3 ? LEN : NONE);

/** Reads an Envelope from bytes[from, to); throws FALLBACK for anything unusual. */
function readEnvelope(bytes: Uint8Array, from: number, to: number): Envelope {
  const r = new Reader(bytes, from, to);
  const env: Envelope = {
    $typeName: "tongban.v1.Envelope",
    header: new Uint8Array(0),
    body: new Uint8Array(0),
  };
  const seen = { mask: 0 };
  while (r.pos < r.end) {
    const no = r.tag(seen, envelopeWire);
    if (no === 1) env.header = r.bytes();
    else if (no === 2) env.body = r.bytes();
    else {
      const sub = r.sub();
      const sig: Signature = {
        $typeName: "tongban.v1.Signature",
        protected: new Uint8Array(0),
        value: new Uint8Array(0),
        certificates: [],
      };
      const sseen = { mask: 0 };
      while (sub.pos < sub.end) {
        // certificates (3) repeat; protected (1) and value (2) appear once
        if (bytes[sub.pos] === ((3 << 3) | LEN)) {
          sub.pos++;
          sig.certificates.push(sub.bytes());
          continue;
        }
        const n = sub.tag(sseen, signatureWire);
        if (n === 1) sig.protected = sub.bytes();
        else if (n === 2) sig.value = sub.bytes();
        else throw FALLBACK;
      }
      env.signature = sig;
    }
  }
  return env;
}

/** Envelope bytes → Envelope, the same message as `fromBinary(EnvelopeSchema, bytes)` (which it falls back to). */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  try {
    return readEnvelope(bytes, 0, bytes.length);
  } catch (err) {
    if (err !== FALLBACK) throw err;
    return fromBinary(EnvelopeSchema, bytes);
  }
}

/**
 * A message whose only field is an Envelope — field number `field`, property
 * `name` (a DeliverRequest's `envelope`, a DeliverResponse's `receipt`) — read
 * directly; undefined when the bytes hold anything else (the caller then
 * decodes with fromBinary).
 */
export function decodeEnvelopeHolder(typeName: string, field: number, name: string, bytes: Uint8Array): { $typeName: string } | undefined {
  if (bytes.length === 0) return undefined;
  try {
    const r = new Reader(bytes, 0, bytes.length);
    r.tag({ mask: 0 }, (n) => (n === field ? LEN : NONE));
    const [s, e] = r.span();
    if (r.pos !== r.end) return undefined;
    return { $typeName: typeName, [name]: readEnvelope(bytes, s, e) };
  } catch (err) {
    if (err !== FALLBACK) throw err;
    return undefined;
  }
}
