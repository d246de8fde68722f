import { TongbanError } from "../errors/index.js";
import { hashEquals, leafHash, sha256 } from "./hash.js";
import { decodeEntry, type EvidenceEntry } from "./entry.js";
import { MerkleAccumulator } from "./merkle-accumulator.js";
import { EMPTY_LOG_STATE, assertLogState, type LogState } from "./log-state.js";
import { toHex } from "./bytes.js";

/** Why a log failed verification: `details.reason` of the AUDIT_CHAIN_BROKEN error. */
export type LogFailureReason =
  | "entry-malformed"
  | "index-mismatch"
  | "prev-hash-mismatch"
  | "payload-digest-mismatch"
  | "payload-length-mismatch"
  | "root-mismatch"
  | "log-truncated";

/** A (size, root) pair the log must reproduce, e.g. from a verified checkpoint. */
export interface ExpectedRoot {
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
}

function broken(reason: LogFailureReason, message: string, details: Record<string, unknown>): never {
  throw new TongbanError("AUDIT_CHAIN_BROKEN", message, { details: { reason, ...details } });
}

/**
 * Verifies a log entry by entry, as it streams from a store: each entry must
 * decode, carry the next index, link to the previous entry's hash, and match
 * its payload when the payload is still there. The Merkle root is kept up to
 * date so it can be compared with checkpoints on the way.
 *
 * This catches an edited, deleted, inserted or reordered entry anywhere
 * before the last; an edit of the last entry, or the removal of entries from
 * the end, shows only against a checkpoint ({@link expectRoot}).
 */
export class LogVerifier {
  readonly #acc: MerkleAccumulator;
  #lastHash: Uint8Array;
  readonly #expected = new Map<number, Uint8Array>();
  #payloadsChecked = 0;
  #payloadsMissing = 0;

  /** Starts at `state` (default: the empty log), e.g. to verify only new entries. */
  constructor(state: LogState = EMPTY_LOG_STATE) {
    assertLogState(state);
    this.#acc = MerkleAccumulator.from(state.size, state.peaks);
    this.#lastHash = new Uint8Array(state.lastHash);
  }

  get size(): number {
    return this.#acc.size;
  }

  get state(): LogState {
    return { size: this.#acc.size, lastHash: new Uint8Array(this.#lastHash), peaks: this.#acc.peaks };
  }

  root(): Uint8Array {
    return this.#acc.root();
  }

  /** Payloads checked against their digest, and entries whose payload was absent (deleted by retention). */
  get payloads(): { checked: number; missing: number } {
    return { checked: this.#payloadsChecked, missing: this.#payloadsMissing };
  }

  /**
   * Requires the root at `treeSize` to equal `rootHash`; checked when the
   * log reaches that size (at once if it is there now), and by
   * {@link finish} if it never does.
   */
  expectRoot(expected: ExpectedRoot): void {
    if (expected.treeSize === this.#acc.size) this.#compare(expected.treeSize, expected.rootHash);
    else if (expected.treeSize > this.#acc.size) this.#expected.set(expected.treeSize, expected.rootHash);
  }

  /**
   * Verifies the next entry and, when given, its payload.
   *
   * @throws TongbanError AUDIT_CHAIN_BROKEN with details.reason and index.
   */
  push(bytes: Uint8Array, payload?: Uint8Array): EvidenceEntry {
    const index = this.#acc.size;
    let entry: EvidenceEntry;
    try {
      entry = decodeEntry(bytes);
    } catch (err) {
      throw new TongbanError("AUDIT_CHAIN_BROKEN", `entry ${index} cannot be decoded`, { cause: err, details: { reason: "entry-malformed", index } });
    }
    if (entry.index !== index)
      broken("index-mismatch", `entry ${index} says it is entry ${entry.index}: entries were deleted, inserted or reordered`, { index, found: entry.index });
    if (!hashEquals(entry.prevHash, this.#lastHash))
      broken("prev-hash-mismatch", `entry ${index} does not link to entry ${index - 1}: one of them was altered`, {
        index,
        expected: toHex(this.#lastHash),
        found: toHex(entry.prevHash),
      });
    if (payload !== undefined) {
      if (payload.byteLength !== entry.payloadLength)
        broken("payload-length-mismatch", `the payload of entry ${index} has the wrong length`, { index, expected: entry.payloadLength, found: payload.byteLength });
      if (!hashEquals(sha256(payload), entry.payloadDigest))
        broken("payload-digest-mismatch", `the payload of entry ${index} does not match its digest`, { index });
      this.#payloadsChecked++;
    } else {
      this.#payloadsMissing++;
    }
    const hash = leafHash(bytes);
    this.#acc.append(hash);
    this.#lastHash = hash;
    const want = this.#expected.get(this.#acc.size);
    if (want !== undefined) {
      this.#expected.delete(this.#acc.size);
      this.#compare(this.#acc.size, want);
    }
    return entry;
  }

  /**
   * Ends verification: fails when an expected root lies beyond the end of
   * the log (entries were removed from its end).
   *
   * @throws TongbanError AUDIT_CHAIN_BROKEN (log-truncated).
   */
  finish(): { size: number; rootHash: Uint8Array; lastHash: Uint8Array; payloads: { checked: number; missing: number } } {
    const beyond = [...this.#expected.keys()].sort((a, b) => b - a)[0];
    if (beyond !== undefined)
      broken("log-truncated", `a checkpoint covers ${beyond} entries but the log has ${this.#acc.size}`, { size: this.#acc.size, treeSize: beyond });
    return { size: this.#acc.size, rootHash: this.#acc.root(), lastHash: new Uint8Array(this.#lastHash), payloads: this.payloads };
  }

  #compare(treeSize: number, rootHash: Uint8Array): void {
    const root = this.#acc.root();
    if (!hashEquals(root, rootHash))
      broken("root-mismatch", `the log's first ${treeSize} entries do not have the checkpointed root: history was rewritten`, {
        treeSize,
        expected: toHex(rootHash),
        found: toHex(root),
      });
  }
}

/** One stored entry: its bytes and, unless deleted by retention, its payload. */
export interface StoredEntry {
  readonly entry: Uint8Array;
  readonly payload?: Uint8Array | undefined;
}

/**
 * Verifies a whole log (see {@link LogVerifier}) against the given expected
 * roots, e.g. every checkpoint the node signed.
 *
 * @throws TongbanError AUDIT_CHAIN_BROKEN naming the first failure.
 *
 * @example
 * ```ts
 * const { size, rootHash } = await verifyLog(store.entries(), { expect: checkpoints });
 * ```
 */
export async function verifyLog(
  entries: Iterable<StoredEntry | Uint8Array> | AsyncIterable<StoredEntry | Uint8Array>,
  options: { readonly expect?: readonly ExpectedRoot[]; readonly from?: LogState } = {},
): Promise<ReturnType<LogVerifier["finish"]>> {
  const v = new LogVerifier(options.from);
  for (const e of options.expect ?? []) v.expectRoot(e);
  for await (const item of entries) {
    if (item instanceof Uint8Array) v.push(item);
    else v.push(item.entry, item.payload);
  }
  return v.finish();
}
