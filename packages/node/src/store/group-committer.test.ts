import fc from "fast-check";
import { isTongbanError } from "@tongban/sdk";
import { describe, expect, it } from "vitest";
import { GroupCommitter } from "./group-committer.js";
import { MemoryStore } from "./memory-store.js";
import type { BatchOp, IterateOptions, Store, StoreEntry } from "./types.js";

const b = (s: string) => new TextEncoder().encode(s);
const put = (k: string, v: string): BatchOp => ({ type: "put", key: b(k), value: b(v) });

/** A store in front of a MemoryStore whose batches a test can hold, fail or inspect. */
class ControlledStore implements Store {
  readonly inner = new MemoryStore();
  readonly batches: BatchOp[][] = [];
  hold = false;
  failNext: unknown = undefined;
  throwSync = false;
  #release: (() => void)[] = [];
  get capabilities() {
    return this.inner.capabilities;
  }
  get status() {
    return this.inner.status;
  }
  open() {
    return this.inner.open();
  }
  close() {
    return this.inner.close();
  }
  get(key: Uint8Array) {
    return this.inner.get(key);
  }
  getMany(keys: readonly Uint8Array[]) {
    return this.inner.getMany(keys);
  }
  iterate(o?: IterateOptions): AsyncIterableIterator<StoreEntry> {
    return this.inner.iterate(o);
  }
  batch(ops: readonly BatchOp[]): Promise<void> {
    if (this.throwSync) throw new Error("synchronous fault");
    this.batches.push([...ops]);
    const fail = this.failNext;
    this.failNext = undefined;
    const go = async () => {
      if (this.hold) await new Promise<void>((r) => this.#release.push(r));
      if (fail !== undefined) throw fail;
      await this.inner.batch(ops);
    };
    return go();
  }
  release() {
    this.hold = false;
    for (const r of this.#release.splice(0)) r();
  }
}

async function controlled(): Promise<ControlledStore> {
  const s = new ControlledStore();
  await s.open();
  return s;
}

const tick = () => new Promise((r) => setImmediate(r));

describe("GroupCommitter", () => {
  it("merges commits made in one turn of the event loop into one batch", async () => {
    const s = await controlled();
    const c = new GroupCommitter(s);
    await Promise.all(Array.from({ length: 100 }, (_, i) => c.commit([put(`k${i}`, "v")])));
    expect(s.batches).toHaveLength(1);
    expect(s.batches[0]).toHaveLength(100);
    expect(c.stats).toEqual({ commits: 100, batches: 1, failedBatches: 0, ops: 100, largestBatch: 100 });
  });

  it("resolves a caller only when its batch has been written, and queues the next batch meanwhile", async () => {
    const s = await controlled();
    s.hold = true;
    const c = new GroupCommitter(s);
    const settled: string[] = [];
    const first = c.commit([put("a", "1")]).then(() => settled.push("a"));
    await tick();
    expect(s.batches).toHaveLength(1);
    const later = ["b", "c", "d"].map((k) => c.commit([put(k, "1")]).then(() => settled.push(k)));
    await tick();
    await tick();
    expect(settled).toEqual([]);
    expect(s.batches).toHaveLength(1); // one batch in flight at a time
    expect(await s.get(b("a"))).toBeUndefined();
    s.release();
    await first;
    expect(settled).toEqual(["a"]);
    // What queued during the first write forms the second batch, written at once (no longer held).
    await Promise.all(later);
    expect(s.batches.map((x) => x.length)).toEqual([1, 3]);
    expect(settled).toEqual(["a", "b", "c", "d"]);
  });

  it("lets a hook add operations to each batch in order and tells it which batches were written", async () => {
    const s = await controlled();
    let n = 0;
    const settled: boolean[] = [];
    const c = new GroupCommitter(s, {
      hook: {
        prepare: (batch) => [put(`log-${n++}`, String(batch.length))],
        settle: (ok) => void settled.push(ok),
      },
    });
    await Promise.all([c.commit([put("a", "1")]), c.commit([put("b", "1")])]);
    s.failNext = new Error("disk full");
    await expect(c.commit([put("c", "1")])).rejects.toThrow();
    await c.commit([put("d", "1")]);
    expect(settled).toEqual([true, false, true]);
    expect(s.batches.map((batch) => batch.map((op) => new TextDecoder().decode(op.key)))).toEqual([["a", "b", "log-0"], ["c", "log-1"], ["d", "log-2"]]);
    expect(await s.get(b("log-1"))).toBeUndefined();
  });

  it("rejects every commit of a failing batch with STORE_UNAVAILABLE, applies none of it, and goes on", async () => {
    const s = await controlled();
    const c = new GroupCommitter(s);
    const boom = new Error("disk full");
    s.failNext = boom;
    const results = await Promise.allSettled([c.commit([put("x", "1")]), c.commit([put("y", "1"), put("z", "1")])]);
    for (const r of results) {
      expect(r.status).toBe("rejected");
      const err = (r as PromiseRejectedResult).reason as Error & { details: Record<string, unknown> };
      expect(isTongbanError(err, "STORE_UNAVAILABLE")).toBe(true);
      expect(err.cause).toBe(boom);
      expect(err.details).toEqual({ commitsInBatch: 2, opsInBatch: 3 });
    }
    expect(await s.getMany([b("x"), b("y"), b("z")])).toEqual([undefined, undefined, undefined]);
    await c.commit([put("w", "1")]);
    expect(await s.get(b("w"))).toEqual(b("1"));
    expect(c.stats).toMatchObject({ commits: 3, batches: 2, failedBatches: 1, ops: 1 });
  });

  it("rejects the callers when the store throws instead of rejecting", async () => {
    const s = await controlled();
    s.throwSync = true;
    const c = new GroupCommitter(s);
    await expect(c.commit([put("x", "1")])).rejects.toSatisfy((e) => isTongbanError(e, "STORE_UNAVAILABLE"));
  });

  it("rejects a commit whose store is closed with STORE_UNAVAILABLE", async () => {
    const s = await controlled();
    await s.close();
    const c = new GroupCommitter(s);
    await expect(c.commit([put("x", "1")])).rejects.toSatisfy((e) => isTongbanError(e, "STORE_UNAVAILABLE"));
  });

  it("caps batches by operations and bytes, letting one oversized commit through alone", async () => {
    const s = await controlled();
    const c = new GroupCommitter(s, { maxOps: 10, maxBytes: 1_000 });
    await Promise.all(Array.from({ length: 25 }, (_, i) => c.commit([put(`k${i}`, "v")])));
    expect(s.batches.every((x) => x.length <= 10)).toBe(true);
    expect(s.batches.flat()).toHaveLength(25);
    s.batches.length = 0;
    const big = "x".repeat(600);
    await Promise.all([c.commit([put("a", big)]), c.commit([put("b", big)]), c.commit(Array.from({ length: 12 }, (_, i) => put(`m${i}`, "v")))]);
    expect(s.batches.map((x) => x.length)).toEqual([1, 1, 12]);
  });

  it("waits up to windowMs for more commits when idle", async () => {
    const s = await controlled();
    const c = new GroupCommitter(s, { windowMs: 30 });
    const p1 = c.commit([put("a", "1")]);
    await new Promise((r) => setTimeout(r, 5));
    const p2 = c.commit([put("b", "1")]);
    await Promise.all([p1, p2]);
    expect(s.batches).toHaveLength(1);
  });

  it("writes at once on flush(), and close() drains then refuses", async () => {
    const s = await controlled();
    const c = new GroupCommitter(s, { windowMs: 60_000 });
    const p = c.commit([put("a", "1")]);
    await c.flush();
    await p;
    expect(await s.get(b("a"))).toEqual(b("1"));
    const q = c.commit([put("b", "1")]);
    await c.close();
    await q;
    expect(await s.get(b("b"))).toEqual(b("1"));
    await expect(c.commit([put("c", "1")])).rejects.toSatisfy((e) => isTongbanError(e, "STORE_UNAVAILABLE"));
    await c.flush();
  });

  it("rejects invalid commits and options with TypeErrors, queueing nothing", async () => {
    const s = await controlled();
    const c = new GroupCommitter(s);
    await expect(c.commit([{ type: "put", key: new Uint8Array(0), value: b("x") }])).rejects.toBeInstanceOf(TypeError);
    await expect(c.commit("x" as unknown as BatchOp[])).rejects.toBeInstanceOf(TypeError);
    expect(c.stats.commits).toBe(0);
    expect(() => new GroupCommitter(s, { windowMs: -1 })).toThrow(TypeError);
    expect(() => new GroupCommitter(s, { maxOps: 0 })).toThrow(TypeError);
    expect(() => new GroupCommitter(s, { maxBytes: 1.5 })).toThrow(TypeError);
    expect(() => new GroupCommitter({} as Store)).toThrow(TypeError);
  });

  it("keeps the caller's ops even if the caller reuses its array", async () => {
    const s = await controlled();
    const c = new GroupCommitter(s);
    const ops = [put("a", "1")];
    const p = c.commit(ops);
    ops[0] = put("a", "changed");
    await p;
    expect(await s.get(b("a"))).toEqual(b("1"));
  });

  it("ends in the same state as applying every commit one by one, in call order (property)", async () => {
    const op = fc.record({ del: fc.boolean(), k: fc.integer({ min: 0, max: 5 }), v: fc.integer({ min: 0, max: 99 }) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(op, { maxLength: 4 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.nat(3), { minLength: 40, maxLength: 40 }),
        async (commits, maxOps, pauses) => {
          const s = await controlled();
          const c = new GroupCommitter(s, { maxOps });
          const expected = new Map<number, number>();
          const pending: Promise<void>[] = [];
          for (const [i, ops] of commits.entries()) {
            for (const o of ops) o.del ? expected.delete(o.k) : expected.set(o.k, o.v);
            pending.push(c.commit(ops.map((o) => (o.del ? { type: "del", key: b(`k${o.k}`) } : put(`k${o.k}`, String(o.v))))));
            for (let p = 0; p < pauses[i]!; p++) await tick();
          }
          await Promise.all(pending);
          for (let k = 0; k <= 5; k++) {
            const v = expected.get(k);
            expect(await s.get(b(`k${k}`))).toEqual(v === undefined ? undefined : b(String(v)));
          }
          await s.close();
        },
      ),
      { numRuns: 100 },
    );
  });
});
