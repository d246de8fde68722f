/**
 * The store compliance suite: one set of tests every {@link Store}
 * implementation must pass. It adapts to declared capabilities, never to an
 * implementation's name. Not part of the package's public surface (it
 * imports vitest); each implementation's test file calls it.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { isTongbanError } from "@tongban/sdk";
import { compareBytes } from "./bytes.js";
import { GroupCommitter } from "./group-committer.js";
import type { BatchOp, IterateOptions, Store, StoreEntry } from "./types.js";

/** How the suite makes stores of one implementation. */
export interface StoreHarness {
  /** A new, empty, open store on storage of its own. */
  create(): Promise<Store>;
  /** Opens the storage of a closed store made by `create` again. Required when `capabilities.persistent`. */
  reopen?(closed: Store): Promise<Store>;
  /** Releases everything `create` made (temporary directories); called after each test. */
  cleanup?(): Promise<void>;
}

const enc = new TextEncoder();
/** Short helper: UTF-8 bytes of a string. */
const b = (s: string): Uint8Array => enc.encode(s);
const put = (key: Uint8Array, value: Uint8Array): BatchOp => ({ type: "put", key, value });
const del = (key: Uint8Array): BatchOp => ({ type: "del", key });

async function collect(it: AsyncIterable<StoreEntry>): Promise<StoreEntry[]> {
  const out: StoreEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

async function expectCode(p: Promise<unknown>, code: "STORE_UNAVAILABLE" | "STORE_CORRUPT"): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTongbanError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
}

/** A deterministic pseudo-random source, so failures reproduce. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The reference model of a range query: filter, sort bytewise, reverse, limit. */
function model(keys: readonly Uint8Array[], o: IterateOptions): Uint8Array[] {
  const out = keys
    .filter(
      (k) =>
        (o.gt === undefined || compareBytes(k, o.gt) > 0) &&
        (o.gte === undefined || compareBytes(k, o.gte) >= 0) &&
        (o.lt === undefined || compareBytes(k, o.lt) < 0) &&
        (o.lte === undefined || compareBytes(k, o.lte) <= 0),
    )
    .sort(compareBytes);
  if (o.reverse === true) out.reverse();
  return out.slice(0, o.limit ?? Infinity);
}

/**
 * Registers the compliance tests for one store implementation.
 *
 * @example
 * ```ts
 * runStoreCompliance("MemoryStore", { create: async () => { const s = new MemoryStore(); await s.open(); return s; } });
 * ```
 */
export function runStoreCompliance(name: string, harness: StoreHarness): void {
  describe(`Store compliance: ${name}`, () => {
    const made: Store[] = [];
    const create = async (): Promise<Store> => {
      const s = await harness.create();
      made.push(s);
      return s;
    };
    const reopen = async (closed: Store): Promise<Store> => {
      if (!harness.reopen) throw new Error(`${name} declares persistent: true but its harness has no reopen()`);
      const s = await harness.reopen(closed);
      made.push(s);
      return s;
    };

    afterEach(async () => {
      await Promise.all(made.splice(0).map((s) => s.close()));
      await harness.cleanup?.();
    });

    it("declares its capabilities and is open after create", async () => {
      const s = await create();
      for (const c of ["persistent", "durable", "snapshots"] as const) expect(typeof s.capabilities[c]).toBe("boolean");
      expect(Object.isFrozen(s.capabilities)).toBe(true);
      expect(s.status).toBe("open");
    });

    it("gets, puts, overwrites and deletes", async () => {
      const s = await create();
      expect(await s.get(b("a"))).toBeUndefined();
      await s.batch([put(b("a"), b("1"))]);
      expect(await s.get(b("a"))).toEqual(b("1"));
      await s.batch([put(b("a"), b("2"))]);
      expect(await s.get(b("a"))).toEqual(b("2"));
      await s.batch([del(b("a"))]);
      expect(await s.get(b("a"))).toBeUndefined();
      await s.batch([del(b("never-there"))]);
      await s.batch([put(b("empty"), new Uint8Array(0))]);
      expect(await s.get(b("empty"))).toEqual(new Uint8Array(0));
      await s.batch([]);
    });

    it("returns plain Uint8Arrays the caller owns, and keeps its own copy of what was written", async () => {
      const s = await create();
      const value = b("value");
      const key = b("key");
      await s.batch([put(key, value)]);
      value[0] = 0;
      key[0] = 0;
      const got = await s.get(b("key"));
      expect(got?.constructor).toBe(Uint8Array);
      expect(got).toEqual(b("value"));
      got![0] = 0;
      expect(await s.get(b("key"))).toEqual(b("value"));
      const [entry] = await collect(s.iterate());
      expect(entry?.key.constructor).toBe(Uint8Array);
      expect(entry?.value.constructor).toBe(Uint8Array);
    });

    it("gets many keys in the order asked, undefined where missing", async () => {
      const s = await create();
      await s.batch([put(b("x"), b("1")), put(b("z"), b("3"))]);
      expect(await s.getMany([b("z"), b("y"), b("x"), b("z")])).toEqual([b("3"), undefined, b("1"), b("3")]);
      expect(await s.getMany([])).toEqual([]);
    });

    it("reads one key on the calling thread (getSync) as get does, with a copy the caller owns", async () => {
      const s = await create();
      if (s.getSync === undefined) return;
      expect(s.getSync(b("x"))).toBeUndefined();
      await s.batch([put(b("x"), b("1"))]);
      const got = s.getSync(b("x"));
      expect(got?.constructor).toBe(Uint8Array);
      expect(got).toEqual(b("1"));
      got![0] = 0;
      expect(s.getSync(b("x"))).toEqual(b("1"));
      await s.batch([del(b("x"))]);
      expect(s.getSync(b("x"))).toBeUndefined();
      expect(() => s.getSync!("x" as unknown as Uint8Array)).toThrow(TypeError);
    });

    it("applies a batch's operations in order", async () => {
      const s = await create();
      await s.batch([put(b("k1"), b("a")), del(b("k1")), del(b("k2")), put(b("k2"), b("b")), put(b("k2"), b("c"))]);
      expect(await s.getMany([b("k1"), b("k2")])).toEqual([undefined, b("c")]);
    });

    it("rejects an invalid batch with a TypeError and applies none of it", async () => {
      const s = await create();
      const bad = [
        [put(b("a"), b("1")), { type: "put", key: new Uint8Array(0), value: b("x") }],
        [put(b("a"), b("1")), { type: "put", key: b("k"), value: "not bytes" }],
        [put(b("a"), b("1")), { type: "merge", key: b("k") }],
        [put(b("a"), b("1")), null],
        "not an array",
      ];
      for (const ops of bad) {
        await expect(s.batch(ops as unknown as BatchOp[])).rejects.toBeInstanceOf(TypeError);
      }
      expect(await s.get(b("a"))).toBeUndefined();
    });

    it("rejects bad arguments to reads with TypeErrors", async () => {
      const s = await create();
      await expect(s.get("a" as unknown as Uint8Array)).rejects.toBeInstanceOf(TypeError);
      await expect(s.get(new Uint8Array(0))).rejects.toBeInstanceOf(TypeError);
      await expect(s.getMany([b("a"), 1 as unknown as Uint8Array])).rejects.toBeInstanceOf(TypeError);
      expect(() => s.iterate({ gt: b("a"), gte: b("a") })).toThrow(TypeError);
      expect(() => s.iterate({ lt: b("a"), lte: b("a") })).toThrow(TypeError);
      expect(() => s.iterate({ limit: -1 })).toThrow(TypeError);
      expect(() => s.iterate({ limit: 1.5 })).toThrow(TypeError);
      expect(() => s.iterate({ gt: "a" as unknown as Uint8Array })).toThrow(TypeError);
    });

    it("makes each batch visible all at once to concurrent readers", async () => {
      const s = await create();
      const rounds = 40;
      const width = 8;
      const keysOf = (r: number) => Array.from({ length: width }, (_, i) => b(`atomic/${r}/${i}`));
      const writes = Array.from({ length: rounds }, (_, r) => s.batch(keysOf(r).map((k) => put(k, b(`v${r}`)))));
      const seen: number[] = [];
      const reads = Array.from({ length: rounds }, async (_, r) => {
        const got = await s.getMany(keysOf(r));
        const present = got.filter((v) => v !== undefined).length;
        seen.push(present);
      });
      await Promise.all([...writes, ...reads]);
      for (const n of seen) expect([0, width]).toContain(n);
      const all = await collect(s.iterate({ gte: b("atomic/"), lt: b("atomic0") }));
      expect(all).toHaveLength(rounds * width);
    });

    it("iterates in bytewise key order, whatever the insertion order", async () => {
      const s = await create();
      const rand = prng(7);
      const keys: Uint8Array[] = [b("a"), b("a\u0000"), b("a\u0000\u0000"), b("ab"), Uint8Array.of(0x00), Uint8Array.of(0xff), Uint8Array.of(0xff, 0xff), Uint8Array.of(0x7f, 0x80)];
      for (let i = 0; i < 200; i++) keys.push(Uint8Array.from({ length: 1 + Math.floor(rand() * 6) }, () => Math.floor(rand() * 256)));
      const unique = [...new Map(keys.map((k) => [Buffer.from(k).toString("hex"), k])).values()];
      const shuffled = [...unique].sort(() => rand() - 0.5);
      for (let i = 0; i < shuffled.length; i += 37) await s.batch(shuffled.slice(i, i + 37).map((k) => put(k, k)));
      const got = await collect(s.iterate());
      expect(got.map((e) => e.key)).toEqual([...unique].sort(compareBytes));
      for (const e of got) expect(e.value).toEqual(e.key);
    });

    it("honours gt/gte/lt/lte, reverse and limit like the reference model", async () => {
      const s = await create();
      const rand = prng(11);
      const keys: Uint8Array[] = [];
      const seen = new Set<string>();
      while (keys.length < 150) {
        const k = Uint8Array.from({ length: 1 + Math.floor(rand() * 3) }, () => Math.floor(rand() * 6) * 51);
        const h = Buffer.from(k).toString("hex");
        if (!seen.has(h)) {
          seen.add(h);
          keys.push(k);
        }
      }
      await s.batch(keys.map((k) => put(k, b("v"))));
      // Bounds drawn from the same small alphabet hit present and absent keys alike.
      const bound = fc.uint8Array({ minLength: 1, maxLength: 3 }).map((a) => a.map((x) => Math.floor(x / 43) * 51));
      await fc.assert(
        fc.asyncProperty(
          fc.record(
            {
              gt: bound,
              gte: bound,
              lt: bound,
              lte: bound,
              reverse: fc.boolean(),
              limit: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constant(Infinity)),
            },
            { requiredKeys: [] },
          ),
          async (raw) => {
            const o: { -readonly [K in keyof IterateOptions]: IterateOptions[K] } = { ...raw };
            if (o.gt !== undefined && o.gte !== undefined) delete o.gte;
            if (o.lt !== undefined && o.lte !== undefined) delete o.lte;
            const got = (await collect(s.iterate(o))).map((e) => e.key);
            expect(got).toEqual(model(keys, o));
          },
        ),
        { numRuns: 150 },
      );
    });

    it("handles empty and inverted ranges, and limit 0", async () => {
      const s = await create();
      await s.batch([put(b("a"), b("1")), put(b("b"), b("2")), put(b("c"), b("3"))]);
      expect(await collect(s.iterate({ gt: b("b"), lt: b("b") }))).toEqual([]);
      expect(await collect(s.iterate({ gte: b("c"), lte: b("a") }))).toEqual([]);
      expect(await collect(s.iterate({ limit: 0 }))).toEqual([]);
      expect((await collect(s.iterate({ gte: b("b"), lte: b("b") }))).map((e) => e.key)).toEqual([b("b")]);
      expect((await collect(s.iterate({ reverse: true, limit: 2 }))).map((e) => e.key)).toEqual([b("c"), b("b")]);
    });

    it("keeps binary keys exact: zero bytes, 0xff runs, long keys", async () => {
      const s = await create();
      const long = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff);
      const keys = [Uint8Array.of(0), Uint8Array.of(0, 0), Uint8Array.of(0xff), Uint8Array.of(0xff, 0xff, 0xff), Uint8Array.of(1, 0, 1), long];
      await s.batch(keys.map((k, i) => put(k, Uint8Array.of(i))));
      for (const [i, k] of keys.entries()) expect(await s.get(k)).toEqual(Uint8Array.of(i));
      expect(await s.get(Uint8Array.of(0, 0, 0))).toBeUndefined();
      expect((await collect(s.iterate())).map((e) => e.key)).toEqual([...keys].sort(compareBytes));
    });

    it("stores and returns a 4 MiB value intact", async () => {
      const s = await create();
      const big = new Uint8Array(4 * 1024 * 1024);
      const rand = prng(3);
      for (let i = 0; i < big.length; i += 4096) big[i] = Math.floor(rand() * 256);
      big[big.length - 1] = 0xab;
      await s.batch([put(b("big"), big), put(b("small"), b("s"))]);
      const got = await s.get(b("big"));
      expect(got?.byteLength).toBe(big.byteLength);
      expect(Buffer.from(got!).equals(big)).toBe(true);
      const [first] = await collect(s.iterate({ limit: 1 }));
      expect(first?.value.byteLength).toBe(big.byteLength);
    });

    it("reads from a snapshot when it declares snapshots", async () => {
      const s = await create();
      await s.batch([put(b("s1"), b("old")), put(b("s2"), b("old"))]);
      const it = s.iterate();
      const first = await it.next();
      expect(first.value?.key).toEqual(b("s1"));
      await s.batch([put(b("s2"), b("new")), put(b("s3"), b("new"))]);
      const rest = [];
      for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
      if (s.capabilities.snapshots) {
        expect(rest).toEqual([{ key: b("s2"), value: b("old") }]);
      } else {
        expect(rest.length).toBeGreaterThanOrEqual(1);
      }
      expect(await s.get(b("s2"))).toEqual(b("new"));
    });

    it("releases an iterator that is left early, so close() does not hang", async () => {
      const s = await create();
      await s.batch(Array.from({ length: 1000 }, (_, i) => put(b(`k${String(i).padStart(4, "0")}`), b("v"))));
      let n = 0;
      for await (const _ of s.iterate()) if (++n === 3) break;
      expect(n).toBe(3);
      await s.close();
      expect(s.status).toBe("closed");
    });

    it("merges concurrent group commits into fewer batches, each caller resolved after its batch", async () => {
      const s = await create();
      const committer = new GroupCommitter(s);
      const commits = 300;
      const results = await Promise.all(
        Array.from({ length: commits }, (_, i) =>
          committer.commit([put(b(`gc/${String(i).padStart(3, "0")}`), b(String(i))), put(b("gc-last"), b(String(i)))]).then(() => s.get(b(`gc/${String(i).padStart(3, "0")}`))),
        ),
      );
      results.forEach((v, i) => expect(v).toEqual(b(String(i))));
      // Commits apply in call order, so the last writer of the shared key wins.
      expect(await s.get(b("gc-last"))).toEqual(b(String(commits - 1)));
      const stats = committer.stats;
      expect(stats.commits).toBe(commits);
      expect(stats.batches).toBeLessThan(commits);
      expect(stats.ops).toBe(commits * 2);
      await committer.close();
      await expect(committer.commit([put(b("late"), b("x"))])).rejects.toSatisfy((e) => isTongbanError(e, "STORE_UNAVAILABLE"));
    });

    it("refuses operations once closed, with STORE_UNAVAILABLE", async () => {
      const s = await create();
      await s.batch([put(b("a"), b("1"))]);
      const it = s.iterate();
      await s.close();
      expect(s.status).toBe("closed");
      await expectCode(s.get(b("a")), "STORE_UNAVAILABLE");
      await expectCode(s.getMany([b("a")]), "STORE_UNAVAILABLE");
      if (s.getSync !== undefined) await expectCode(Promise.resolve().then(() => s.getSync!(b("a"))), "STORE_UNAVAILABLE");
      await expectCode(s.batch([put(b("b"), b("2"))]), "STORE_UNAVAILABLE");
      await expectCode(it.next(), "STORE_UNAVAILABLE");
      await s.close();
    });

    it("stops an iteration that is under way when the store closes", async () => {
      const s = await create();
      await s.batch(Array.from({ length: 50 }, (_, i) => put(b(`c${String(i).padStart(2, "0")}`), b("v"))));
      const it = s.iterate();
      expect((await it.next()).done).toBe(false);
      await s.close();
      await expectCode(it.next(), "STORE_UNAVAILABLE");
    });

    it("keeps data across close and reopen when persistent, and only then", async () => {
      const s = await create();
      await s.batch([put(b("p1"), b("one")), put(b("p2"), b("two"))]);
      await s.batch([del(b("p2")), put(b("p3"), b("three"))]);
      await s.close();
      if (s.capabilities.persistent) {
        const again = await reopen(s);
        expect(again.status).toBe("open");
        expect(await again.getMany([b("p1"), b("p2"), b("p3")])).toEqual([b("one"), undefined, b("three")]);
        expect((await collect(again.iterate())).map((e) => e.key)).toEqual([b("p1"), b("p3")]);
      } else {
        expect(s.capabilities.durable).toBe(false);
        await s.open();
        expect(await collect(s.iterate())).toEqual([]);
      }
    });
  });
}
