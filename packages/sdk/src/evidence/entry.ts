import { TongbanError } from "../errors/index.js";
import { HASH_SIZE, assertHash, isSize } from "./hash.js";
import { allocBytes, isAscii, writeAscii } from "./alloc-bytes.js";
import { utf8 } from "./bytes.js";

/** Version byte of the entry encoding described in docs/evidence.md. */
export const ENTRY_VERSION = 1;

/**
 * What an entry records, with its one-byte wire code. Codes are stable:
 * never renumber, only add.
 */
export const EVIDENCE_KINDS = {
  "envelope-in": 1,
  "envelope-out": 2,
  "receipt-in": 3,
  "receipt-out": 4,
  "state-change": 5,
  checkpoint: 6,
  cosignature: 7,
  retention: 8,
} as const;

/** The kinds of evidence entries. */
export type EvidenceKind = keyof typeof EVIDENCE_KINDS;

const KIND_BY_CODE = new Map<number, EvidenceKind>(Object.entries(EVIDENCE_KINDS).map(([k, c]) => [c, k as EvidenceKind]));

/** Longest caseId, messageId or label, in UTF-8 bytes. */
export const MAX_ENTRY_STRING_BYTES = 1024;

/**
 * One log entry. The payload itself (an envelope, a receipt, a state change
 * record) is kept beside the entry, never inside it: the entry holds its
 * digest and length, so the payload can be deleted after its retention
 * period while every hash stays verifiable.
 */
export interface EvidenceEntry {
  /** Position in the log, from 0; also the leaf index in the Merkle tree. */
  readonly index: number;
  readonly kind: EvidenceKind;
  /** Milliseconds since the Unix epoch (UTC). */
  readonly timestamp: number;
  /** Leaf hash of the previous entry; 32 zero bytes for entry 0. */
  readonly prevHash: Uint8Array;
  /** SHA-256 of the payload bytes. */
  readonly payloadDigest: Uint8Array;
  readonly payloadLength: number;
  /** The case the entry belongs to; "" when none (checkpoints). */
  readonly caseId: string;
  /** The message id (UUIDv7) of the envelope or receipt; "" when none. */
  readonly messageId: string;
  /** A short, non-personal description: message type, "ACCEPTED→DONE"…; may be "". */
  readonly label: string;
}

/** The prevHash of entry 0. */
export const GENESIS_PREV_HASH: Uint8Array = new Uint8Array(HASH_SIZE);

const FIXED = 1 + 1 + 8 + 8 + HASH_SIZE + HASH_SIZE + 8;
const encoder = new TextEncoder();
const STRING_FIELDS = ["caseId", "messageId", "label"] as const;

/**
 * The canonical bytes of an entry (big-endian, docs/evidence.md "Entry"):
 * version u8 · kind u8 · index u64 · timestamp u64 · prevHash[32] ·
 * payloadDigest[32] · payloadLength u64 · caseId · messageId · label, each
 * string as u16 length + UTF-8. The leaf hash is SHA-256(0x00 || bytes).
 *
 * @throws TypeError for a field out of range.
 */
export function encodeEntry(entry: EvidenceEntry): Uint8Array {
  const code = EVIDENCE_KINDS[entry.kind];
  if (code === undefined) throw new TypeError(`unknown evidence kind: ${String(entry.kind)}`);
  if (!isSize(entry.index)) throw new TypeError("index must be a non-negative integer");
  if (!isSize(entry.timestamp)) throw new TypeError("timestamp must be non-negative integer milliseconds");
  if (!isSize(entry.payloadLength)) throw new TypeError("payloadLength must be a non-negative integer");
  assertHash(entry.prevHash, "prevHash");
  assertHash(entry.payloadDigest, "payloadDigest");
  const strings = [entry.caseId, entry.messageId, entry.label];
  // Ids and labels are ASCII in practice: their bytes are written straight in; others go through TextEncoder.
  const encoded: (Uint8Array | undefined)[] = [undefined, undefined, undefined];
  let size = FIXED;
  for (let i = 0; i < 3; i++) {
    const s = strings[i];
    if (typeof s !== "string") throw new TypeError(`${STRING_FIELDS[i]} must be a string`);
    let n = s.length;
    if (!isAscii(s)) {
      const b = encoder.encode(s);
      encoded[i] = b;
      n = b.byteLength;
    }
    if (n > MAX_ENTRY_STRING_BYTES) throw new TypeError(`${STRING_FIELDS[i]} is longer than ${MAX_ENTRY_STRING_BYTES} bytes`);
    size += 2 + n;
  }
  const out = allocBytes(size);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[0] = ENTRY_VERSION;
  out[1] = code;
  view.setBigUint64(2, BigInt(entry.index));
  view.setBigUint64(10, BigInt(entry.timestamp));
  out.set(entry.prevHash, 18);
  out.set(entry.payloadDigest, 50);
  view.setBigUint64(82, BigInt(entry.payloadLength));
  let at = FIXED;
  for (let i = 0; i < 3; i++) {
    const b = encoded[i];
    const s = strings[i]!;
    const n = b === undefined ? s.length : b.byteLength;
    view.setUint16(at, n);
    if (b === undefined) writeAscii(s, out, at + 2);
    else out.set(b, at + 2);
    at += 2 + n;
  }
  return out;
}

/**
 * Decodes entry bytes strictly: known version and kind, integers within
 * 2^53, valid UTF-8, no trailing bytes. Exactly one byte string encodes a
 * given entry, so decode(encode(e)) = e and encode(decode(b)) = b.
 *
 * @throws TongbanError AUDIT_CHAIN_BROKEN (details.reason "entry-malformed")
 *   when the bytes are not an entry.
 */
export function decodeEntry(bytes: Uint8Array): EvidenceEntry {
  const bad = (why: string): never => {
    throw new TongbanError("AUDIT_CHAIN_BROKEN", `not an evidence entry: ${why}`, { details: { reason: "entry-malformed", why } });
  };
  if (!(bytes instanceof Uint8Array)) throw new TypeError("entry bytes must be a Uint8Array");
  if (bytes.byteLength < FIXED + 6) bad("too short");
  if (bytes[0] !== ENTRY_VERSION) bad(`unknown version ${bytes[0]}`);
  const kind = KIND_BY_CODE.get(bytes[1] as number) ?? bad(`unknown kind ${bytes[1]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (at: number, name: string): number => {
    const v = view.getBigUint64(at);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : bad(`${name} out of range`);
  };
  const index = u64(2, "index");
  const timestamp = u64(10, "timestamp");
  const payloadLength = u64(82, "payloadLength");
  let at = FIXED;
  const str = (name: string): string => {
    if (at + 2 > bytes.byteLength) bad(`${name} truncated`);
    const len = view.getUint16(at);
    if (len > MAX_ENTRY_STRING_BYTES || at + 2 + len > bytes.byteLength) bad(`${name} truncated or too long`);
    const s = utf8(bytes.subarray(at + 2, at + 2 + len)) ?? bad(`${name} is not UTF-8`);
    at += 2 + len;
    return s;
  };
  const caseId = str("caseId");
  const messageId = str("messageId");
  const label = str("label");
  if (at !== bytes.byteLength) bad("trailing bytes");
  return {
    index,
    kind,
    timestamp,
    prevHash: bytes.slice(18, 50),
    payloadDigest: bytes.slice(50, 82),
    payloadLength,
    caseId,
    messageId,
    label,
  };
}
