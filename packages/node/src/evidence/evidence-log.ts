import {
  EMPTY_LOG_STATE,
  EvidenceAppender,
  decodeEntry,
  leafHash,
  type AppendInput,
  type LogState,
} from "@tongban/sdk";
import { fromBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema, HeaderSchema } from "@tongban/sdk/gen";
import type { BatchHook } from "../store/group-committer.js";
import { collectionOf, storeKeys } from "../store/keys.js";
import type { BatchOp, Store } from "../store/types.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const STATE_KEY = storeKeys.meta.key("evidence-state");

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
 * (inbox record with the envelope), receipt out, envelope out (new outbox
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

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  /** Reads where the log stands. Call once before the first batch. */
  async open(): Promise<void> {
    const raw = await this.#store.get(STATE_KEY);
    this.#state = raw === undefined ? EMPTY_LOG_STATE : decodeState(raw);
    this.#committed = this.#state;
    this.#opened = true;
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
    const inputs: AppendInput[] = [];
    for (const op of batch) {
      if (op.type !== "put") continue;
      const input = inputFor(op.key, op.value);
      if (input !== undefined) inputs.push(input);
    }
    if (inputs.length === 0) return [];
    this.#before = this.#state;
    const appender = new EvidenceAppender({ state: this.#state, now: this.#now });
    const out: BatchOp[] = [];
    for (const input of inputs) {
      const a = appender.append(input);
      out.push({ type: "put", key: storeKeys.evidence.key(a.entry.index), value: a.bytes });
      if (a.payload !== undefined) out.push({ type: "put", key: storeKeys.evidencePayload.key(a.entry.index), value: a.payload });
    }
    this.#state = appender.state;
    out.push({ type: "put", key: STATE_KEY, value: encodeState(this.#state) });
    return out;
  }

  settle(ok: boolean): void {
    if (this.#before === undefined) return; // the batch recorded nothing
    if (ok) this.#committed = this.#state;
    else this.#state = this.#before;
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
    const v = await this.#store.get(storeKeys.evidence.key(i));
    if (v === undefined) throw new RangeError(`no evidence entry ${i}`);
    return leafHash(v);
  }
}

/** The case and message id an envelope's signed header names. */
function headerOf(envelope: Uint8Array): { caseId: string; messageId: string } {
  try {
    const h = fromBinary(HeaderSchema, fromBinary(EnvelopeSchema, envelope).header);
    return { caseId: h.caseId, messageId: h.messageId };
  } catch {
    return { caseId: "", messageId: "" };
  }
}

/** What a put records in the evidence log, if anything. */
function inputFor(key: Uint8Array, value: Uint8Array): AppendInput | undefined {
  const collection = collectionOf(key);
  switch (collection) {
    case "inbox": {
      const r = JSON.parse(dec.decode(value)) as { envelope?: string; digest: string };
      if (r.envelope === undefined) return undefined; // a state update of a held message, not a new envelope
      const [sender] = storeKeys.inbox.decode(key);
      const payload = new Uint8Array(Buffer.from(r.envelope, "base64"));
      return { kind: "envelope-in", ...headerOf(payload), label: `from ${sender}`, payload };
    }
    case "receipt": {
      const [sender, answered] = storeKeys.receipt.decode(key);
      return { kind: "receipt-out", ...headerOf(value), label: `to ${sender} for ${answered}`, payload: value };
    }
    case "outbox": {
      const r = JSON.parse(dec.decode(value)) as { messageId: string; caseId: string; destination: string; status: string; attempts: number; envelope: string; receipt?: string; lateAcknowledged?: boolean };
      if (r.status === "QUEUED" && r.attempts === 0) return { kind: "envelope-out", caseId: r.caseId, messageId: r.messageId, label: `to ${r.destination}`, payload: new Uint8Array(Buffer.from(r.envelope, "base64")) };
      if (r.status === "ACKNOWLEDGED" && r.receipt !== undefined) {
        const payload = new Uint8Array(Buffer.from(r.receipt, "base64"));
        return { kind: "receipt-in", ...headerOf(payload), label: `from ${r.destination} for ${r.messageId}`, payload };
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
