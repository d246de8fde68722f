import { HASH_SIZE, assertHash, isSize } from "./hash.js";
import { GENESIS_PREV_HASH } from "./entry.js";

/**
 * Where a log stands: enough to append the next entry or to resume
 * verification without re-reading the log. A node persists it with each
 * batch.
 */
export interface LogState {
  /** Number of entries; the next entry's index. */
  readonly size: number;
  /** Leaf hash of the last entry; 32 zero bytes when empty. */
  readonly lastHash: Uint8Array;
  /** The Merkle tree's perfect-subtree roots, largest first (see MerkleAccumulator). */
  readonly peaks: readonly Uint8Array[];
}

/** The state of an empty log. */
export const EMPTY_LOG_STATE: LogState = Object.freeze({ size: 0, lastHash: GENESIS_PREV_HASH, peaks: Object.freeze([]) });

/** Throws a TypeError unless `s` is a well-formed LogState. */
export function assertLogState(s: LogState): void {
  if (s === null || typeof s !== "object" || !isSize(s.size)) throw new TypeError("state.size must be a non-negative integer");
  assertHash(s.lastHash, "state.lastHash");
  if (!Array.isArray(s.peaks)) throw new TypeError("state.peaks must be an array");
  if (s.size === 0 && s.lastHash.some((b) => b !== 0)) throw new TypeError(`an empty log's lastHash is ${HASH_SIZE} zero bytes`);
}
