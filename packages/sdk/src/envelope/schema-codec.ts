import { create, fromBinary, toBinary, type DescField, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { FALLBACK, Reader } from "./wire-reader.js";
import { T_LEN, T_VARINT, Writer } from "./wire-writer.js";

// Protobuf codecs compiled once per message schema: for each field, its
// number, wire type, property name and a reader and a writer chosen for its
// type, so encoding and decoding walk a short array instead of protobuf-es's
// reflection (which looks up and type-checks every field of every message).
// They give exactly protobuf-es's results — the same bytes from encode as
// toBinary, the same message objects from decode as fromBinary (byte fields
// are views of the input, as there) — and hand anything unusual to
// protobuf-es: unknown fields, a singular message field twice (protobuf-es
// merges), a field with another wire type, an integer outside what is read
// here, a value of the wrong JavaScript type, truncation. A schema this does
// not compile — maps, groups, proto2 or editions defaults, explicit-presence
// scalars (oneof members among them), 64-bit integers as strings, floating
// point and fixed-width types — is always encoded and decoded by protobuf-es.
// Property tests hold the two to the same results over random and damaged
// input, for every message of the protocol.

/** A codec for one message type. */
export interface SchemaCodec<Desc extends DescMessage> {
  readonly schema: Desc;
  /** True when this codec runs compiled code; false when it is protobuf-es under another name. */
  readonly compiled: boolean;
  encode(message: MessageShape<Desc>): Uint8Array;
  decode(bytes: Uint8Array): MessageShape<Desc>;
}

type Msg = Record<string, unknown> & { $typeName: string; $unknown?: readonly unknown[] };

interface CompiledField {
  readonly no: number;
  readonly name: string;
  /** The oneof's property name when this is a oneof member. */
  readonly oneof: string | undefined;
  /** Wire type this field is written with (and read with, besides packed/unpacked lists). */
  readonly wire: number;
  readonly kind: "scalar" | "message" | "list-scalar" | "list-message";
  readonly scalar: ScalarType;
  /** For message and list-message fields. */
  message: CompiledMessage | undefined;
  /** Index among this message's singular message fields (duplicate detection), else -1. */
  readonly messageIndex: number;
}

interface CompiledMessage {
  readonly desc: DescMessage;
  readonly typeName: string;
  /** Sorted by field number: the order toBinary writes. */
  readonly fields: readonly CompiledField[];
  /** Field by number (sparse). */
  readonly byNumber: readonly (CompiledField | undefined)[];
  /** Builds the zero message, as create() does. */
  readonly zero: () => Msg;
}

const SUPPORTED_SCALARS = new Set([ScalarType.STRING, ScalarType.BYTES, ScalarType.BOOL, ScalarType.INT32, ScalarType.UINT32, ScalarType.INT64, ScalarType.UINT64]);
const IMPLICIT = 2; // FeatureSet.FieldPresence.IMPLICIT

/** Compiled messages by type name; null marks a schema that does not compile. */
const compiledByName = new Map<string, CompiledMessage | null>();

function compile(desc: DescMessage, visiting: Map<string, CompiledMessage>): CompiledMessage | null {
  const known = compiledByName.get(desc.typeName);
  if (known !== undefined) return known;
  const inProgress = visiting.get(desc.typeName);
  if (inProgress !== undefined) return inProgress;
  const zeroTemplate = create(desc) as unknown as Msg;
  if (Object.getPrototypeOf(zeroTemplate) !== Object.prototype) return remember(desc, null);
  const fields: CompiledField[] = [];
  let messageFields = 0;
  for (const f of desc.fields) {
    const c = compileField(f, () => messageFields++);
    if (c === null) return remember(desc, null);
    fields.push(c);
  }
  if (messageFields > 31) return remember(desc, null);
  fields.sort((a, b) => a.no - b.no);
  const byNumber: (CompiledField | undefined)[] = [];
  for (const f of fields) {
    if (f.no > 1024) return remember(desc, null);
    byNumber[f.no] = f;
  }
  const message: CompiledMessage = { desc, typeName: desc.typeName, fields, byNumber, zero: zeroFactory(zeroTemplate) };
  visiting.set(desc.typeName, message);
  for (const [i, f] of desc.fields.entries()) {
    const sub = f.fieldKind === "message" ? f.message : f.fieldKind === "list" && f.listKind === "message" ? f.message : undefined;
    if (sub === undefined) continue;
    const compiled = compile(sub, visiting);
    if (compiled === null) return remember(desc, null);
    fields.find((x) => x.no === desc.fields[i]!.number)!.message = compiled;
  }
  visiting.delete(desc.typeName);
  return remember(desc, message);
}

function remember(desc: DescMessage, c: CompiledMessage | null): CompiledMessage | null {
  compiledByName.set(desc.typeName, c);
  return c;
}

function compileField(f: DescField, nextMessageIndex: () => number): CompiledField | null {
  const base = { no: f.number, name: f.localName, oneof: f.oneof?.localName, message: undefined };
  switch (f.fieldKind) {
    case "scalar":
      if (!SUPPORTED_SCALARS.has(f.scalar) || f.longAsString || f.presence !== IMPLICIT) return null;
      return { ...base, kind: "scalar", scalar: f.scalar, wire: wireOf(f.scalar), messageIndex: -1 };
    case "enum":
      if (!f.enum.open || f.presence !== IMPLICIT) return null;
      return { ...base, kind: "scalar", scalar: ScalarType.INT32, wire: T_VARINT, messageIndex: -1 };
    case "message":
      if (f.delimitedEncoding) return null;
      return { ...base, kind: "message", scalar: ScalarType.BYTES, wire: T_LEN, messageIndex: nextMessageIndex() };
    case "list":
      if (f.listKind === "message") {
        if (f.delimitedEncoding) return null;
        return { ...base, kind: "list-message", scalar: ScalarType.BYTES, wire: T_LEN, messageIndex: -1 };
      }
      if (f.listKind === "enum") {
        if (!f.enum.open || !f.packed) return null;
        return { ...base, kind: "list-scalar", scalar: ScalarType.INT32, wire: T_LEN, messageIndex: -1 };
      }
      if (!SUPPORTED_SCALARS.has(f.scalar) || f.longAsString) return null;
      // Strings and bytes are never packed; proto3 packs every other scalar list by default.
      if (f.scalar !== ScalarType.STRING && f.scalar !== ScalarType.BYTES && !f.packed) return null;
      return { ...base, kind: "list-scalar", scalar: f.scalar, wire: T_LEN, messageIndex: -1 };
    default:
      return null; // maps
  }
}

const wireOf = (s: ScalarType): number => (s === ScalarType.STRING || s === ScalarType.BYTES ? T_LEN : T_VARINT);

/** A function making a fresh copy of create()'s zero message: same properties, same order. */
function zeroFactory(template: Msg): () => Msg {
  const entries = Object.entries(template).filter(([k]) => k !== "$typeName");
  const kinds = entries.map(([k, v]) => {
    if (Array.isArray(v)) return [k, 1] as const;
    if (v instanceof Uint8Array) return [k, 2] as const;
    if (v !== null && typeof v === "object") return [k, 3] as const; // a oneof: { case: undefined }
    return [k, 0, v] as const;
  });
  const typeName = template.$typeName;
  return () => {
    const m: Msg = { $typeName: typeName };
    for (const e of kinds) {
      const k = e[0];
      m[k] = e[1] === 0 ? e[2] : e[1] === 1 ? [] : e[1] === 2 ? new Uint8Array(0) : { case: undefined };
    }
    return m;
  };
}

/**
 * A message field's compiled type. Undefined only when a type it refers to back
 * (a cycle) failed to compile after this one did: protobuf-es then does it all.
 */
function subOf(f: CompiledField): CompiledMessage {
  if (f.message === undefined) throw FALLBACK;
  return f.message;
}

// ---------------------------------------------------------------- encoding

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Writes a scalar's value (no tag); FALLBACK for a value toBinary would write otherwise or refuse. */
function writeScalarValue(w: Writer, type: ScalarType, v: unknown): void {
  switch (type) {
    case ScalarType.STRING:
      if (typeof v !== "string") throw FALLBACK;
      w.stringValue(v);
      return;
    case ScalarType.BYTES:
      if (!(v instanceof Uint8Array)) throw FALLBACK;
      w.varint(v.byteLength);
      w.raw(v);
      return;
    case ScalarType.BOOL:
      if (typeof v !== "boolean") throw FALLBACK;
      w.varint(v ? 1 : 0);
      return;
    case ScalarType.INT32:
      if (typeof v !== "number" || !Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) throw FALLBACK;
      if (v >= 0) w.varint(v);
      else w.varint64(BigInt(v));
      return;
    case ScalarType.UINT32:
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw FALLBACK;
      w.varint(v);
      return;
    default: // INT64, UINT64
      if (typeof v !== "bigint" || v < 0n || v > MAX_SAFE) throw FALLBACK;
      w.varint(Number(v));
  }
}

/** Whether a proto3 implicit-presence scalar holds its zero value (and is left out). */
function isZero(type: ScalarType, v: unknown): boolean {
  switch (type) {
    case ScalarType.STRING:
      return v === "";
    case ScalarType.BYTES:
      return v instanceof Uint8Array && v.byteLength === 0;
    case ScalarType.BOOL:
      return v === false;
    case ScalarType.INT64:
    case ScalarType.UINT64:
      return v === 0n;
    default:
      return v === 0;
  }
}

function writeMessage(w: Writer, c: CompiledMessage, m: Msg): void {
  if (m === null || typeof m !== "object" || m.$typeName !== c.typeName) throw FALLBACK;
  if (m.$unknown !== undefined && m.$unknown.length > 0) throw FALLBACK;
  for (const f of c.fields) {
    let v: unknown;
    if (f.oneof !== undefined) {
      const o = m[f.oneof] as { case?: string; value?: unknown } | undefined;
      if (o === undefined || o === null || o.case !== f.name) continue;
      v = o.value;
    } else {
      v = m[f.name];
    }
    switch (f.kind) {
      case "scalar":
        if (isZero(f.scalar, v)) continue;
        w.tag(f.no, f.wire);
        writeScalarValue(w, f.scalar, v);
        break;
      case "message":
        if (v === undefined) continue;
        w.message(f.no, () => writeMessage(w, subOf(f), v as Msg));
        break;
      case "list-message":
        if (!Array.isArray(v)) throw FALLBACK;
        for (const item of v) w.message(f.no, () => writeMessage(w, subOf(f), item as Msg));
        break;
      default: {
        // list-scalar
        if (!Array.isArray(v)) throw FALLBACK;
        if (v.length === 0) continue;
        if (f.scalar === ScalarType.STRING || f.scalar === ScalarType.BYTES) {
          for (const item of v) {
            w.tag(f.no, T_LEN);
            writeScalarValue(w, f.scalar, item);
          }
        } else {
          w.message(f.no, () => {
            for (const item of v) writeScalarValue(w, f.scalar, item);
          });
        }
      }
    }
  }
}

// ---------------------------------------------------------------- decoding


function readScalarValue(r: Reader, type: ScalarType): unknown {
  switch (type) {
    case ScalarType.STRING:
      return r.string();
    case ScalarType.BYTES:
      return r.bytes();
    case ScalarType.BOOL: {
      const v = r.varint();
      if (v > 1) throw FALLBACK;
      return v === 1;
    }
    case ScalarType.INT32:
      return r.int32();
    case ScalarType.UINT32: {
      const v = r.varint();
      if (v > 0xffffffff) throw FALLBACK;
      return v;
    }
    default: // INT64, UINT64: what fits in a double exactly
      return BigInt(r.varint());
  }
}

function readMessage(r: Reader, c: CompiledMessage): Msg {
  const m = c.zero();
  let seen = 0;
  while (r.pos < r.end) {
    const t = r.varint();
    const f = c.byNumber[t >>> 3];
    if (f === undefined) throw FALLBACK;
    const wire = t & 7;
    let v: unknown;
    switch (f.kind) {
      case "scalar":
        if (wire !== f.wire) throw FALLBACK;
        v = readScalarValue(r, f.scalar);
        break;
      case "message": {
        if (wire !== T_LEN) throw FALLBACK;
        const bit = 1 << f.messageIndex;
        if ((seen & bit) !== 0) throw FALLBACK; // protobuf-es merges the two
        seen |= bit;
        v = readMessage(r.sub(), subOf(f));
        break;
      }
      case "list-message":
        if (wire !== T_LEN) throw FALLBACK;
        (m[f.name] as unknown[]).push(readMessage(r.sub(), subOf(f)));
        continue;
      default: {
        const list = m[f.name] as unknown[];
        if (f.scalar === ScalarType.STRING || f.scalar === ScalarType.BYTES) {
          if (wire !== T_LEN) throw FALLBACK;
          list.push(readScalarValue(r, f.scalar));
        } else if (wire === T_VARINT) {
          list.push(readScalarValue(r, f.scalar)); // unpacked, as protobuf-es also accepts
        } else if (wire === T_LEN) {
          const sub = r.sub();
          while (sub.pos < sub.end) list.push(readScalarValue(sub, f.scalar));
        } else {
          throw FALLBACK;
        }
        continue;
      }
    }
    if (f.oneof !== undefined) {
      // A different member of the same oneof replaces it; the same message member twice was caught above.
      m[f.oneof] = { case: f.name, value: v };
    } else {
      m[f.name] = v;
    }
  }
  return m;
}

// ---------------------------------------------------------------- codecs

const codecs = new Map<string, SchemaCodec<DescMessage>>();

/**
 * The codec for a message schema, compiled on first use and kept. Encoding
 * gives toBinary's bytes and decoding fromBinary's message; an input or
 * message this does not handle the same way goes to protobuf-es, which
 * writes, reads or refuses it exactly as it would have.
 */
export function schemaCodec<Desc extends DescMessage>(schema: Desc): SchemaCodec<Desc> {
  const hit = codecs.get(schema.typeName);
  if (hit !== undefined && hit.schema === schema) return hit as unknown as SchemaCodec<Desc>;
  const compiled = compile(schema, new Map());
  const codec: SchemaCodec<Desc> =
    compiled === null
      ? { schema, compiled: false, encode: (m) => toBinary(schema, m), decode: (b) => fromBinary(schema, b) }
      : {
          schema,
          compiled: true,
          encode(message) {
            try {
              const w = new Writer(256);
              writeMessage(w, compiled, message as unknown as Msg);
              return w.finish();
            } catch (err) {
              if (err !== FALLBACK) throw err;
              return toBinary(schema, message);
            }
          },
          decode(bytes) {
            try {
              return readMessage(new Reader(bytes, 0, bytes.length), compiled) as unknown as MessageShape<Desc>;
            } catch (err) {
              if (err !== FALLBACK) throw err;
              return fromBinary(schema, bytes);
            }
          },
        };
  codecs.set(schema.typeName, codec as unknown as SchemaCodec<DescMessage>);
  return codec;
}
