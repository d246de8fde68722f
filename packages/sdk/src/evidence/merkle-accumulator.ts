import { EMPTY_ROOT, assertHash, isSize, nodeHash } from "./hash.js";

/** A perfect subtree completed by an append: see {@link MerkleAccumulatorOptions.onNode}. */
export interface CompletedNode {
  /** 0 for a leaf; a node at level L covers 2^L leaves. */
  readonly level: number;
  /** Position among the nodes of its level: it covers leaves [index·2^L, (index+1)·2^L). */
  readonly index: number;
  readonly hash: Uint8Array;
}

/** Options for {@link MerkleAccumulator}. */
export interface MerkleAccumulatorOptions {
  /**
   * Called for every leaf and every perfect subtree an append completes, so
   * a store can keep them and answer proofs in O(log n) reads (about 2n
   * nodes in all). Called in order, leaf first.
   */
  readonly onNode?: (node: CompletedNode) => void;
}

/**
 * An append-only RFC 9162 Merkle tree kept as its compact range: the roots
 * of the perfect subtrees that make up the tree, largest first, one per set
 * bit of the size. Appending is O(log n) (amortised O(1) hashes), the root
 * costs at most log2(n) hashes, and the state to persist is `size` and
 * `peaks` (at most 64 hashes).
 *
 * @example
 * ```ts
 * const acc = new MerkleAccumulator();
 * for (const e of entries) acc.append(leafHash(e));
 * acc.root() // equals merkleRoot(entries.map(leafHash))
 * ```
 */
export class MerkleAccumulator {
  #size: number;
  readonly #peaks: Uint8Array[];
  readonly #onNode: ((node: CompletedNode) => void) | undefined;

  constructor(options: MerkleAccumulatorOptions = {}) {
    this.#size = 0;
    this.#peaks = [];
    this.#onNode = options.onNode;
  }

  /**
   * Resumes from a persisted state. `peaks` are the perfect-subtree roots,
   * largest first, one per set bit of `size`.
   *
   * @throws TypeError when the number of peaks does not match the size.
   */
  static from(size: number, peaks: readonly Uint8Array[], options: MerkleAccumulatorOptions = {}): MerkleAccumulator {
    if (!isSize(size)) throw new TypeError("size must be a non-negative integer");
    if (peaks.length !== popcount(size)) throw new TypeError(`a tree of ${size} leaves has ${popcount(size)} peaks, not ${peaks.length}`);
    peaks.forEach((p, i) => assertHash(p, `peaks[${i}]`));
    const acc = new MerkleAccumulator(options);
    acc.#size = size;
    acc.#peaks.push(...peaks.map((p) => new Uint8Array(p)));
    return acc;
  }

  /** Number of leaves appended. */
  get size(): number {
    return this.#size;
  }

  /** The perfect-subtree roots, largest first (copies). */
  get peaks(): Uint8Array[] {
    return this.#peaks.map((p) => new Uint8Array(p));
  }

  /** Appends one leaf hash (already SHA-256(0x00 || leaf)). */
  append(leafHash: Uint8Array): void {
    assertHash(leafHash, "leafHash");
    const index = this.#size;
    let hash = leafHash;
    this.#onNode?.({ level: 0, index, hash });
    // Each trailing 1 bit of the old size is a peak the new leaf completes.
    let level = 0;
    let n = index;
    while (n % 2 === 1) {
      hash = nodeHash(this.#peaks.pop() as Uint8Array, hash);
      level++;
      n = Math.floor(n / 2);
      this.#onNode?.({ level, index: n, hash });
    }
    this.#peaks.push(hash);
    this.#size = index + 1;
  }

  /** The root of the tree so far; SHA-256("") when empty. */
  root(): Uint8Array {
    const peaks = this.#peaks;
    if (peaks.length === 0) return EMPTY_ROOT;
    let r = peaks[peaks.length - 1] as Uint8Array;
    for (let i = peaks.length - 2; i >= 0; i--) r = nodeHash(peaks[i] as Uint8Array, r);
    return r;
  }
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}
