import { leafHash, sha256, assertHash, isSize } from "./hash.js";
import { encodeEntry, type EvidenceEntry, type EvidenceKind } from "./entry.js";
import { MerkleAccumulator, type CompletedNode } from "./merkle-accumulator.js";
import { EMPTY_LOG_STATE, assertLogState, type LogState } from "./log-state.js";

/** What to record. Give `payload`, or its `payloadDigest` and `payloadLength` when the bytes live elsewhere. */
export interface AppendInput {
  readonly kind: EvidenceKind;
  readonly caseId?: string;
  readonly messageId?: string;
  /** Short and free of personal data: it stays when payloads are deleted. */
  readonly label?: string;
  /** Defaults to the appender's clock. */
  readonly timestamp?: Date | number;
  readonly payload?: Uint8Array;
  readonly payloadDigest?: Uint8Array;
  readonly payloadLength?: number;
}

/** One appended entry: what the store writes in the same batch as the change it records. */
export interface AppendedEntry {
  readonly entry: EvidenceEntry;
  /** The canonical entry bytes (the Merkle leaf). */
  readonly bytes: Uint8Array;
  /** SHA-256(0x00 || bytes): the leaf hash and the next entry's prevHash. */
  readonly hash: Uint8Array;
  /** The payload bytes, to be stored apart from the entry (deletable); undefined when given by digest. */
  readonly payload: Uint8Array | undefined;
}

/** Options for {@link EvidenceAppender}. */
export interface EvidenceAppenderOptions {
  /** Resume after these entries; defaults to an empty log. */
  readonly state?: LogState;
  /** Receives every completed tree node, for a store answering proofs in O(log n) reads. */
  readonly onNode?: (node: CompletedNode) => void;
  /** The clock, in ms; defaults to Date.now. */
  readonly now?: () => number;
}

/**
 * Builds the hash-chained, Merkle-tree log one entry at a time, in memory:
 * storage is the caller's. Each append links to the previous entry's hash
 * and adds a leaf to the tree in O(log n).
 *
 * If the batch holding an entry fails to commit, discard the appender and
 * resume a new one from the last committed {@link state}.
 *
 * @example
 * ```ts
 * const log = new EvidenceAppender({ state: await store.logState() });
 * const a = log.append({ kind: "envelope-in", caseId, messageId, label: "APPLICATION_SUBMISSION", payload: envelopeBytes });
 * batch.put(entryKey(a.entry.index), a.bytes).put(payloadKey(a.entry.index), a.payload).put(STATE_KEY, encode(log.state));
 * ```
 */
export class EvidenceAppender {
  readonly #acc: MerkleAccumulator;
  readonly #now: () => number;
  #lastHash: Uint8Array;
  #lastTimestamp = 0;

  constructor(options: EvidenceAppenderOptions = {}) {
    const state = options.state ?? EMPTY_LOG_STATE;
    assertLogState(state);
    const acc = options.onNode === undefined ? {} : { onNode: options.onNode };
    this.#acc = MerkleAccumulator.from(state.size, state.peaks, acc);
    this.#lastHash = new Uint8Array(state.lastHash);
    this.#now = options.now ?? Date.now;
  }

  /** The state after the last append. */
  get state(): LogState {
    return { size: this.#acc.size, lastHash: new Uint8Array(this.#lastHash), peaks: this.#acc.peaks };
  }

  /** The Merkle root over every entry so far: what a checkpoint signs. */
  root(): Uint8Array {
    return this.#acc.root();
  }

  /**
   * Appends one entry.
   *
   * @throws TypeError for a malformed input (unknown kind, overlong
   *   string, both or neither of payload and payloadDigest).
   */
  append(input: AppendInput): AppendedEntry {
    let payloadDigest: Uint8Array;
    let payloadLength: number;
    if (input.payload !== undefined) {
      if (!(input.payload instanceof Uint8Array)) throw new TypeError("payload must be a Uint8Array");
      if (input.payloadDigest !== undefined) throw new TypeError("give payload or payloadDigest, not both");
      payloadDigest = sha256(input.payload);
      payloadLength = input.payload.byteLength;
    } else {
      assertHash(input.payloadDigest, "payloadDigest");
      if (!isSize(input.payloadLength)) throw new TypeError("payloadLength must accompany payloadDigest");
      payloadDigest = new Uint8Array(input.payloadDigest);
      payloadLength = input.payloadLength;
    }
    const t = input.timestamp === undefined ? this.#now() : input.timestamp instanceof Date ? input.timestamp.getTime() : input.timestamp;
    const entry: EvidenceEntry = {
      index: this.#acc.size,
      kind: input.kind,
      // Clocks step back; the log's timestamps never do, so order and time agree.
      timestamp: Math.max(t, this.#lastTimestamp),
      prevHash: this.#lastHash,
      payloadDigest,
      payloadLength,
      caseId: input.caseId ?? "",
      messageId: input.messageId ?? "",
      label: input.label ?? "",
    };
    const bytes = encodeEntry(entry);
    const hash = leafHash(bytes);
    this.#acc.append(hash);
    this.#lastHash = hash;
    this.#lastTimestamp = entry.timestamp;
    return { entry, bytes, hash, payload: input.payload };
  }
}
