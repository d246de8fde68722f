import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EMPTY_ROOT, leafHash, nodeHash } from "./hash.js";
import { consistencyProof, inclusionProof, merkleRoot, treeRoot, verifyConsistency, verifyInclusion } from "./merkle.js";
import { MerkleAccumulator, type CompletedNode } from "./merkle-accumulator.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`leaf ${i}`)));

// Written straight from the RFC 9162 §2.1 definitions, sharing no code with merkle.ts.
const H = (...parts: Uint8Array[]) => new Uint8Array(createHash("sha256").update(Buffer.concat(parts)).digest());
function k(n: number): number {
  let p = 1;
  while (p << 1 < n) p <<= 1;
  return p;
}
function mth(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return H();
  if (d.length === 1) return d[0]!;
  const s = k(d.length);
  return H(Uint8Array.of(1), mth(d.slice(0, s)), mth(d.slice(s)));
}
function path(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const s = k(d.length);
  return m < s ? [...path(m, d.slice(0, s)), mth(d.slice(s))] : [...path(m - s, d.slice(s)), mth(d.slice(0, s))];
}
function subproof(m: number, d: Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const s = k(d.length);
  return m <= s ? [...subproof(m, d.slice(0, s), b), mth(d.slice(s))] : [...subproof(m - s, d.slice(s), false), mth(d.slice(0, s))];
}

describe("Merkle tree (RFC 9162 §2.1)", () => {
  it("hashes leaves and nodes with the 0x00 / 0x01 prefixes", () => {
    expect(hex(EMPTY_ROOT)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    // RFC 6962 / 9162 empty-leaf hash, a published known answer.
    expect(hex(leafHash(new Uint8Array()))).toBe("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    const a = leafHash(Uint8Array.of(0)), b = leafHash(Uint8Array.of(1));
    expect(hex(nodeHash(a, b))).toBe(hex(H(Uint8Array.of(1), a, b)));
  });

  it("matches the naive recursion for every size 0..70: roots, all inclusion and consistency proofs", async () => {
    const all = leaves(70);
    for (let n = 0; n <= 70; n++) {
      const d = all.slice(0, n);
      const root = mth(d);
      expect(hex(merkleRoot(d))).toBe(hex(root));
      expect(hex(await treeRoot(n, (i) => d[i]!))).toBe(hex(root));
      for (let m = 0; m < n; m++) {
        const proof = await inclusionProof(m, n, (i) => d[i]!);
        expect(proof.map(hex)).toEqual(path(m, d).map(hex));
        expect(verifyInclusion(d[m]!, m, n, proof, root)).toBe(true);
        // wrong index or wrong leaf fails (the size is only a shape: the root binds it)
        if (n > 1) expect(verifyInclusion(d[m]!, (m + 1) % n, n, proof, root)).toBe(false);
        expect(verifyInclusion(all[69 - m]!, m, n, proof, root) && 69 - m !== m).toBe(false);
      }
      for (let m = 1; m <= n; m++) {
        const proof = await consistencyProof(m, n, (i) => d[i]!);
        expect(proof.map(hex)).toEqual(m === n ? [] : subproof(m, d, true).map(hex));
        const mRoot = mth(d.slice(0, m));
        expect(verifyConsistency(m, n, mRoot, root, proof)).toBe(true);
        if (m < n) {
          expect(verifyConsistency(m, n, root, root, proof)).toBe(false);
          expect(verifyConsistency(m, n, mRoot, mRoot, proof)).toBe(false);
          expect(verifyConsistency(m, n, mRoot, root, proof.slice(1))).toBe(false);
          expect(verifyConsistency(m, n, mRoot, root, [...proof, mRoot])).toBe(false);
          if (m + 1 < n) expect(verifyConsistency(m + 1, n, mRoot, root, proof)).toBe(false);
        }
      }
    }
  });

  it("rejects a proof with any byte flipped (property)", async () => {
    const d = leaves(37);
    const root = merkleRoot(d);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 36 }), fc.integer({ min: 1, max: 36 }), fc.nat(), fc.integer({ min: 0, max: 31 }), async (m, first, which, byte) => {
        const proof = await inclusionProof(m, 37, (i) => d[i]!);
        const bad = proof.map((p) => new Uint8Array(p));
        bad[which % bad.length]![byte]! ^= 1;
        expect(verifyInclusion(d[m]!, m, 37, bad, root)).toBe(false);
        const cp = await consistencyProof(first, 37, (i) => d[i]!);
        const cbad = cp.map((p) => new Uint8Array(p));
        cbad[which % cbad.length]![byte]! ^= 1;
        expect(verifyConsistency(first, 37, merkleRoot(d.slice(0, first)), root, cbad)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it("accepts only empty proofs from the empty tree and between equal sizes", () => {
    const d = leaves(5);
    expect(verifyConsistency(0, 5, EMPTY_ROOT, merkleRoot(d), [])).toBe(true);
    expect(verifyConsistency(0, 5, EMPTY_ROOT, merkleRoot(d), [d[0]!])).toBe(false);
    expect(verifyConsistency(5, 5, merkleRoot(d), merkleRoot(d), [])).toBe(true);
    expect(verifyConsistency(5, 3, merkleRoot(d), merkleRoot(d), [])).toBe(false);
  });
});

describe("MerkleAccumulator", () => {
  it("has the root of the naive recursion after every append, and resumes from its peaks", () => {
    const d = leaves(70);
    const acc = new MerkleAccumulator();
    expect(hex(acc.root())).toBe(hex(EMPTY_ROOT));
    for (let n = 1; n <= 70; n++) {
      acc.append(d[n - 1]!);
      expect(hex(acc.root())).toBe(hex(mth(d.slice(0, n))));
      const resumed = MerkleAccumulator.from(acc.size, acc.peaks);
      expect(hex(resumed.root())).toBe(hex(acc.root()));
    }
    expect(() => MerkleAccumulator.from(3, [d[0]!])).toThrow(TypeError);
  });

  it("reports every perfect subtree, enough to serve proofs without leaves", async () => {
    const d = leaves(45);
    const nodes = new Map<string, Uint8Array>();
    const acc = new MerkleAccumulator({ onNode: (x: CompletedNode) => nodes.set(`${x.level}/${x.index}`, x.hash) });
    for (const h of d) acc.append(h);
    expect(hex(nodes.get("3/2")!)).toBe(hex(mth(d.slice(16, 24))));
    expect(nodes.size).toBe(45 + 22 + 11 + 5 + 2 + 1);
    let reads = 0;
    const reader = { node: (level: number, index: number) => (reads++, nodes.get(`${level}/${index}`)!) };
    const proof = await inclusionProof(44, 45, reader);
    expect(proof.map(hex)).toEqual(path(44, d).map(hex));
    expect(reads).toBeLessThanOrEqual(6);
    expect((await consistencyProof(21, 45, reader)).map(hex)).toEqual(subproof(21, d, true).map(hex));
  });
});
