import {
  EMPTY_LOG_STATE,
  EvidenceAppender,
  decodeEntry,
  leafHash,
  nodeHash,
  type AppendInput,
  type LogState,
  type TreeReader,
} from "@tongban/sdk";
import type { BatchHook } from "../store/group-committer.js";
import { storeKeys } from "../store/keys.js";
import type { BatchOp, Store } from "../store/types.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const STATE_KEY = storeKeys.meta.key("evidence-state");
/**
 * Merkle nodes from this level up are stored (evidence-node): about one record
 * per 8 entries in all, and a proof computes its lower nodes from at most 15
 * entries. Changing it needs no migration: a missing node is computed.
 */
export const STORED_NODE_LEVEL = 4;

function encodeState(s: LogState): Uint8Array {
  return enc.encode(JSON.stringify({ size: s.size, lastHash: Buffer.from(s.lastHash).toString("base64"), peaks: s.peaks.map((p) => Buffer.from(p).toString("base64")) }));
}
function decodeState(b: Uint8Array): LogState {
  const j = JSON.parse(dec.decode(b)) as { size: number; lastHash: string; peaks: string[] };
  return { size: j.size, lastHash: new Uint8Array(Buffer.from(j.lastHash, "base64")), peaks: j.peaks.map((p) => new Uint8Array(Buffer.from(p, "base64"))) };
}

/** An entry as stored, with its payload when retention has not deleted it. */
export interface StoredEvidence {
  readonly index: number;
  readonly entry: Uint8Array;
  readonly payload: Uint8Array | undefined;
}

/**
 * The node's evidence log (全程留痕, docs/evidence.md "In the node"): a
 * GroupCommitter hook that appends, to the very batch being written, one
 * hash-chained Merkle-leaf entry per change the batch makes — envelope in
 * (a new inbox record, its envelope as received in the put's note), receipt out, envelope out (new outbox
 * record), receipt in (outbox record acknowledged), state change (case and
 * joint records) — so a change and its evidence are durable together. A
 * batch that fails rolls the log back to where it was.
 */
export class EvidenceLog implements BatchHook {
  readonly #store: Store;
  readonly #now: () => number;
  #state: LogState = EMPTY_LOG_STATE;
  #committed: LogState = EMPTY_LOG_STATE;
  #before: LogState | undefined;
  #opened = false;
  #pendingCaseEntry = false;
  #caseEntriesUpTo = 0;

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  /** Reads where the log stands. Call once before the first batch. */
  async open(): Promise<void> {
    const raw = await this.#store.get(STATE_KEY);
    this.#state = raw === undefined ? EMPTY_LOG_STATE : decodeState(raw);
    this.#committed = this.#state;
    this.#caseEntriesUpTo = this.#state.size; // not known across a restart: assume the last entry was a case's
    this.#opened = true;
  }

  /**
   * The log size just after the last durable entry of a case (an entry with
   * a case id): when a checkpoint covers it, what came after is only the
   * witnessing traffic itself, and need not be checkpointed again at once.
   */
  get caseEntriesUpTo(): number {
    return this.#caseEntriesUpTo;
  }

  /** Entries in the log, including a batch being written. */
  get size(): number {
    return this.#state.size;
  }
  /** Where the log stands as far as it is durable (what checkpoints cover). */
  get committed(): LogState {
    return this.#committed;
  }

  prepare(batch: readonly BatchOp[]): readonly BatchOp[] {
    if (!this.#opened) throw new Error("EvidenceLog.open() was not called");
    let inputs: AppendInput[] | undefined;
    for (const op of batch) {
      if (op.type !== "put") continue;
      const input = op.note?.evidence ?? inputFor(op.key, op.value);
      if (input !== undefined) (inputs ??= []).push(input);
    }
    if (inputs === undefined) return [];
    this.#before = this.#state;
    const out: BatchOp[] = [];
    const appender = new EvidenceAppender({
      state: this.#state,
      now: this.#now,
      onNode: (n) => {
        if (n.level >= STORED_NODE_LEVEL) out.push({ type: "put", key: storeKeys.evidenceNode.key(n.level, n.index), value: n.hash });
      },
    });
    let caseEntry = false;
    for (const input of inputs) {
      const a = appender.append(input);
      out.push({ type: "put", key: storeKeys.evidence.key(a.entry.index), value: a.bytes });
      if (a.payload !== undefined) out.push({ type: "put", key: storeKeys.evidencePayload.key(a.entry.index), value: a.payload });
      if (a.entry.caseId !== "") caseEntry = true;
    }
    this.#state = appender.state;
    this.#pendingCaseEntry = caseEntry;
    out.push({ type: "put", key: STATE_KEY, value: encodeState(this.#state) });
    return out;
  }

  settle(ok: boolean): void {
    if (this.#before === undefined) return; // the batch recorded nothing
    if (ok) {
      this.#committed = this.#state;
      if (this.#pendingCaseEntry) this.#caseEntriesUpTo = this.#state.size;
    } else this.#state = this.#before;
    this.#before = undefined;
  }

  /** Every stored entry in log order, with its payload when still held. */
  async *entries(from = 0): AsyncGenerator<StoredEvidence> {
    for await (const e of this.#store.iterate({ gte: storeKeys.evidence.key(from), lt: storeKeys.evidence.range().lt })) {
      const [index] = storeKeys.evidence.decode(e.key);
      yield { index, entry: e.value, payload: await this.#store.get(storeKeys.evidencePayload.key(index)) };
    }
  }

  /** The leaf hash of entry `i` (for proofs). */
  async leafHashAt(i: number): Promise<Uint8Array> {
    return leafHashIn(this.#store, i);
  }

  /** The log's Merkle tree as stored, for inclusion and consistency proofs in O(log n) reads. */
  get tree(): TreeReader {
    return evidenceTree(this.#store);
  }
}

async function leafHashIn(store: Store, i: number): Promise<Uint8Array> {
  const v = await store.get(storeKeys.evidence.key(i));
  if (v === undefined) throw new RangeError(`evidence entry ${i} is missing`);
  return leafHash(v);
}

/**
 * A node's evidence tree read from its store: stored nodes (level ≥
 * {@link STORED_NODE_LEVEL}) as they are, lower or missing ones computed
 * from their children down to the entries.
 */
export function evidenceTree(store: Store): TreeReader {
  const node = async (level: number, index: number): Promise<Uint8Array> => {
    if (level >= STORED_NODE_LEVEL) {
      const v = await store.get(storeKeys.evidenceNode.key(level, index));
      if (v !== undefined) return v;
    }
    if (level === 0) return leafHashIn(store, index);
    return nodeHash(await node(level - 1, 2 * index), await node(level - 1, 2 * index + 1));
  };
  return { node };
}

/**
 * The case and message id an envelope's signed header names, read straight
 * from the protobuf wire format (Envelope.header = 1, Header.message_id = 2,
 * Header.case_id = 8): this runs in every intake batch, and a full decode of
 * the envelope and its header costs ten times more. Empty for bytes that do
 * not parse (the entry still records the payload).
 */
export function headerIds(envelope: Uint8Array): { caseId: string; messageId: string } {
  const header = field(envelope, 0, envelope.length, 1);
  if (header === undefined) return { caseId: "", messageId: "" };
  const id = field(envelope, header[0], header[1], 2);
  const c = field(envelope, header[0], header[1], 8);
  return { caseId: c === undefined ? "" : dec.decode(envelope.subarray(c[0], c[1])), messageId: id === undefined ? "" : dec.decode(envelope.subarray(id[0], id[1])) };
}

/** The [start, end) of the last length-delimited field `wanted` in b[from, to), or undefined. */
function field(b: Uint8Array, from: number, to: number, wanted: number): [number, number] | undefined {
  let p = from;
  let found: [number, number] | undefined;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (p >= to) return -1;
      const x = b[p++] as number;
      v += (x & 0x7f) * 2 ** shift;
      if (x < 0x80) return v;
    }
    return -1;
  };
  while (p < to) {
    const tag = varint();
    if (tag < 0) return undefined;
    const wire = tag & 7;
    if (wire === 0) {
      while (p < to && (b[p++] as number) >= 0x80);
    } else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      const len = varint();
      if (len < 0 || p + len > to) return undefined;
      if (Math.floor(tag / 8) === wanted) found = [p, p + len];
      p += len;
    } else return undefined;
  }
  return p === to ? found : undefined;
}

const LOGGED = (["inbox", "receipt", "outbox", "case", "joint"] as const).map((name) => [name, storeKeys[name]] as const);
/** Which of the logged collections `key` is in (a direct prefix check: this runs for every put of every batch). */
function loggedCollection(key: Uint8Array): (typeof LOGGED)[number][0] | undefined {
  for (const [name, c] of LOGGED) if (c.has(key)) return name;
  return undefined;
}

/** What a put records in the evidence log, if anything. */
function inputFor(key: Uint8Array, value: Uint8Array): AppendInput | undefined {
  switch (loggedCollection(key)) {
    case "inbox": {
      const r = JSON.parse(dec.decode(value)) as { envelope?: string; digest: string };
      if (r.envelope === undefined) return undefined; // a state update of a held message, not a new envelope
      const [sender] = storeKeys.inbox.decode(key);
      const payload = new Uint8Array(Buffer.from(r.envelope, "base64"));
      return { kind: "envelope-in", ...headerIds(payload), label: `from ${sender}`, payload };
    }
    case "receipt": {
      const [sender, answered] = storeKeys.receipt.decode(key);
      return { kind: "receipt-out", ...headerIds(value), label: `to ${sender} for ${answered}`, payload: value };
    }
    case "outbox": {
      const r = JSON.parse(dec.decode(value)) as { messageId: string; caseId: string; destination: string; status: string; attempts: number; envelope: string; receipt?: string; lateAcknowledged?: boolean };
      if (r.status === "QUEUED" && r.attempts === 0) return { kind: "envelope-out", caseId: r.caseId, messageId: r.messageId, label: `to ${r.destination}`, payload: new Uint8Array(Buffer.from(r.envelope, "base64")) };
      if (r.status === "ACKNOWLEDGED" && r.receipt !== undefined) {
        const payload = new Uint8Array(Buffer.from(r.receipt, "base64"));
        return { kind: "receipt-in", ...headerIds(payload), label: `from ${r.destination} for ${r.messageId}`, payload };
      }
      return undefined;
    }
    case "case": {
      const r = JSON.parse(dec.decode(value)) as { snapshot: { caseId: string; state: number; version: number }; timeline: { messageId: string }[] };
      return { kind: "state-change", caseId: r.snapshot.caseId, messageId: r.timeline.at(-1)?.messageId ?? "", label: `case v${r.snapshot.version}`, payload: value };
    }
    case "joint": {
      const r = JSON.parse(dec.decode(value)) as { jointCaseId: string; overall: string; timeline: { messageId: string }[] };
      return { kind: "state-change", caseId: r.jointCaseId, messageId: r.timeline.at(-1)?.messageId ?? "", label: `joint ${r.overall}`, payload: value };
    }
    default:
      return undefined;
  }
}

export { decodeEntry };
