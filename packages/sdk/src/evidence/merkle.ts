import { EMPTY_ROOT, assertHash, hashEquals, isSize, nodeHash } from "./hash.js";

/** A value or a promise of it: tree readers may be backed by an async store. */
export type MaybePromise<T> = T | Promise<T>;

/** Returns the leaf hash at `index` (0-based). */
export type LeafHashAt = (index: number) => MaybePromise<Uint8Array>;

/**
 * Read access to a Merkle tree's perfect subtrees: `node(level, index)` is the
 * root of the 2^level leaves starting at leaf `index * 2^level`; level 0 is
 * the leaf hash itself. A store that keeps the nodes a
 * {@link MerkleAccumulator} reports answers every proof with O(log n) reads;
 * {@link treeReaderFromLeaves} serves a store that keeps only leaf hashes.
 */
export interface TreeReader {
  node(level: number, index: number): MaybePromise<Uint8Array>;
}

/**
 * A {@link TreeReader} computing interior nodes from the leaf hashes on
 * demand. A proof then reads O(n) leaves; fine for tests and small logs.
 */
export function treeReaderFromLeaves(leafHashAt: LeafHashAt): TreeReader {
  const node = async (level: number, index: number): Promise<Uint8Array> =>
    level === 0 ? leafHashAt(index) : nodeHash(await node(level - 1, 2 * index), await node(level - 1, 2 * index + 1));
  return { node };
}

function readerOf(source: TreeReader | LeafHashAt): TreeReader {
  return typeof source === "function" ? treeReaderFromLeaves(source) : source;
}

/** The largest power of two strictly less than n (n ≥ 2): RFC 9162's k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** MTH(D[start : start+size]); `start` is aligned as RFC 9162's recursion guarantees. */
async function subtreeHash(reader: TreeReader, start: number, size: number): Promise<Uint8Array> {
  if (isPowerOfTwo(size)) return reader.node(Math.round(Math.log2(size)), start / size);
  const k = splitPoint(size);
  return nodeHash(await subtreeHash(reader, start, k), await subtreeHash(reader, start + k, size - k));
}

/**
 * MTH over leaf hashes already in memory (RFC 9162 §2.1.1); the empty tree's
 * root is SHA-256("").
 */
export function merkleRoot(leafHashes: readonly Uint8Array[]): Uint8Array {
  const mth = (start: number, size: number): Uint8Array => {
    if (size === 1) return leafHashes[start] as Uint8Array;
    const k = splitPoint(size);
    return nodeHash(mth(start, k), mth(start + k, size - k));
  };
  return leafHashes.length === 0 ? EMPTY_ROOT : mth(0, leafHashes.length);
}

/** The root of the first `treeSize` leaves, read through a tree reader. */
export async function treeRoot(treeSize: number, source: TreeReader | LeafHashAt): Promise<Uint8Array> {
  if (!isSize(treeSize)) throw new TypeError("treeSize must be a non-negative integer");
  return treeSize === 0 ? EMPTY_ROOT : subtreeHash(readerOf(source), 0, treeSize);
}

/**
 * The inclusion proof (audit path) of leaf `index` in the tree of `treeSize`
 * leaves: RFC 9162 §2.1.3.1 PATH(m, D[n]), ordered from the leaf upwards.
 *
 * @example
 * ```ts
 * const proof = await inclusionProof(3, 7, (i) => leafHashes[i]);
 * verifyInclusion(leafHashes[3], 3, 7, proof, root) // true
 * ```
 */
export async function inclusionProof(index: number, treeSize: number, source: TreeReader | LeafHashAt): Promise<Uint8Array[]> {
  if (!isSize(index) || !isSize(treeSize) || index >= treeSize) throw new TypeError("need 0 <= index < treeSize");
  const reader = readerOf(source);
  const path = async (m: number, start: number, n: number): Promise<Uint8Array[]> => {
    if (n === 1) return [];
    const k = splitPoint(n);
    return m < k
      ? [...(await path(m, start, k)), await subtreeHash(reader, start + k, n - k)]
      : [...(await path(m - k, start + k, n - k)), await subtreeHash(reader, start, k)];
  };
  return path(index, 0, treeSize);
}

/**
 * The consistency proof between the tree of `first` leaves and the tree of
 * `second` leaves: RFC 9162 §2.1.4.1 PROOF(m, D[n]). Empty when first is 0
 * or equal to second.
 */
export async function consistencyProof(first: number, second: number, source: TreeReader | LeafHashAt): Promise<Uint8Array[]> {
  if (!isSize(first) || !isSize(second) || first > second) throw new TypeError("need 0 <= first <= second");
  if (first === 0 || first === second) return [];
  const reader = readerOf(source);
  const sub = async (m: number, start: number, n: number, complete: boolean): Promise<Uint8Array[]> => {
    if (m === n) return complete ? [] : [await subtreeHash(reader, start, m)];
    const k = splitPoint(n);
    return m <= k
      ? [...(await sub(m, start, k, complete)), await subtreeHash(reader, start + k, n - k)]
      : [...(await sub(m - k, start + k, n - k, false)), await subtreeHash(reader, start, k)];
  };
  return sub(first, 0, second, true);
}

const half = (n: number): number => Math.floor(n / 2);
const odd = (n: number): boolean => n % 2 === 1;

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2, steps 1–4), or
 * undefined when the proof has the wrong shape for (index, treeSize).
 */
export function rootFromInclusion(leaf: Uint8Array, index: number, treeSize: number, proof: readonly Uint8Array[]): Uint8Array | undefined {
  if (!isSize(index) || !isSize(treeSize) || index >= treeSize) return undefined;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : undefined;
}

/** True when `proof` shows the leaf hash at `index` is in the tree of `treeSize` leaves with `root`. */
export function verifyInclusion(leaf: Uint8Array, index: number, treeSize: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  assertHash(leaf, "leaf");
  assertHash(root, "root");
  const r = rootFromInclusion(leaf, index, treeSize, proof);
  return r !== undefined && hashEquals(r, root);
}

/**
 * True when `proof` shows the tree (`first`, `firstRoot`) is a prefix of the
 * tree (`second`, `secondRoot`): RFC 9162 §2.1.4.2. For first = second the
 * proof must be empty and the roots equal; from the empty tree every proof
 * is empty.
 */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  assertHash(firstRoot, "firstRoot");
  assertHash(secondRoot, "secondRoot");
  if (!isSize(first) || !isSize(second) || first > second) return false;
  if (first === second) return proof.length === 0 && hashEquals(firstRoot, secondRoot);
  if (first === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && hashEquals(fr, firstRoot) && hashEquals(sr, secondRoot);
}
