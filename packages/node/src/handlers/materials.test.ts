import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../store/memory-store.js";
import { storeKeys } from "../store/keys.js";
import { MaterialStore, type MaterialChunk } from "./materials.js";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest();

async function* chunksOf(content: Uint8Array, size: number, opts: { digest?: Uint8Array; pause?: () => Promise<void>; failAfter?: number } = {}): AsyncGenerator<MaterialChunk> {
  const digest = opts.digest ?? sha(content);
  let n = 0;
  for (let at = 0; at < content.length; at += size) {
    if (opts.failAfter !== undefined && n === opts.failAfter) throw new Error("the client went away");
    yield { digest, totalSize: content.length, offset: at, data: content.subarray(at, at + size) };
    n++;
    await opts.pause?.();
  }
}

async function readAll(m: MaterialStore, digest: Uint8Array): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of m.read(digest)) parts.push(c.data);
  return Buffer.concat(parts);
}

async function chunkKeys(store: MemoryStore, digest: Uint8Array): Promise<number> {
  let n = 0;
  for await (const _ of store.iterate(storeKeys.material.range(digest))) n++;
  return n;
}

async function openStore(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.open();
  return store;
}

describe("MaterialStore", () => {
  it("two uploads of the same material at once store it once, byte for byte", async () => {
    const store = await openStore();
    const m = new MaterialStore(store);
    const content = randomBytes(300_000);
    const tick = () => new Promise<void>((r) => setImmediate(r));
    const [a, b] = await Promise.all([m.put(chunksOf(content, 64 * 1024, { pause: tick })), m.put(chunksOf(content, 100_000, { pause: tick }))]);
    expect([a.alreadyPresent, b.alreadyPresent].sort()).toEqual([false, true]);
    const back = await readAll(m, sha(content));
    expect(back.length).toBe(content.length);
    expect(sha(back).equals(sha(content))).toBe(true);
  });

  it("an upload that fails part way keeps none of its chunks, and a later one stores the material", async () => {
    const store = await openStore();
    const m = new MaterialStore(store);
    const content = randomBytes(200_000);
    await expect(m.put(chunksOf(content, 50_000, { failAfter: 2 }))).rejects.toThrow(/went away/);
    expect(await chunkKeys(store, sha(content))).toBe(0);
    expect(await m.has(sha(content))).toBe(false);
    const ok = await m.put(chunksOf(content, 50_000));
    expect(ok.alreadyPresent).toBe(false);
    expect(sha(await readAll(m, sha(content))).equals(sha(content))).toBe(true);
  });

  it("a bad upload (digest mismatch, gap, short) keeps nothing", async () => {
    const store = await openStore();
    const m = new MaterialStore(store);
    const content = randomBytes(120_000);
    const wrong = sha(randomBytes(8));
    await expect(m.put(chunksOf(content, 50_000, { digest: wrong }))).rejects.toMatchObject({ code: "CASE_MATERIAL_DIGEST_MISMATCH" });
    expect(await chunkKeys(store, wrong)).toBe(0);
    const short = async function* (): AsyncGenerator<MaterialChunk> {
      yield { digest: sha(content), totalSize: content.length, offset: 0, data: content.subarray(0, 50_000) };
    };
    await expect(m.put(short())).rejects.toMatchObject({ code: "ENVELOPE_MALFORMED" });
    const gap = async function* (): AsyncGenerator<MaterialChunk> {
      yield { digest: sha(content), totalSize: content.length, offset: 0, data: content.subarray(0, 50_000) };
      yield { digest: sha(content), totalSize: content.length, offset: 60_000, data: content.subarray(60_000) };
    };
    await expect(m.put(gap())).rejects.toMatchObject({ code: "ENVELOPE_MALFORMED" });
    expect(await chunkKeys(store, sha(content))).toBe(0);
  });

  it("a stalled upload is ended after the idle limit, keeps nothing, and lets the next upload of the material through", async () => {
    const store = await openStore();
    const m = new MaterialStore(store, { idleMs: 50 });
    const content = randomBytes(100_000);
    const stalled = async function* (): AsyncGenerator<MaterialChunk> {
      yield { digest: sha(content), totalSize: content.length, offset: 0, data: content.subarray(0, 40_000) };
      await new Promise(() => undefined); // the client says nothing more
    };
    const first = m.put(stalled());
    const second = m.put(chunksOf(content, 40_000));
    await expect(first).rejects.toMatchObject({ code: "TRANSPORT_DEADLINE_EXCEEDED" });
    const ok = await second;
    expect(ok.alreadyPresent).toBe(false);
    expect(sha(await readAll(m, sha(content))).equals(sha(content))).toBe(true);
  });

  it("recover() removes what a crash left: the chunks of an upload still marked as under way", async () => {
    const store = await openStore();
    const m = new MaterialStore(store);
    const kept = randomBytes(90_000);
    await m.put(chunksOf(kept, 30_000));
    expect(await m.pending()).toEqual([]);
    // Killed part way: the upload wrote two chunks (the first with its mark) and never its record.
    const content = randomBytes(100_000);
    let written = 0;
    const dying = async function* (): AsyncGenerator<MaterialChunk> {
      for (let at = 0; at < content.length; at += 25_000) {
        yield { digest: sha(content), totalSize: content.length, offset: at, data: content.subarray(at, at + 25_000) };
        if (++written === 3) await new Promise(() => undefined); // the process dies here
      }
    };
    void m.put(dying());
    const after = new MaterialStore(store); // the next start, on the same store
    await new Promise((r) => setTimeout(r, 20));
    expect(await after.pending()).toEqual([sha(content).toString("hex")]);
    expect(await after.chunksHeld(sha(content))).toBe(3);
    expect(await after.recover()).toEqual({ materials: 1, chunks: 3 });
    expect(await after.chunksHeld(sha(content))).toBe(0);
    expect(await after.pending()).toEqual([]);
    expect(await after.chunksHeld(sha(kept))).toBe(3);
    expect(sha(await readAll(after, sha(kept))).equals(sha(kept))).toBe(true);
    expect(await after.recover()).toEqual({ materials: 0, chunks: 0 });
  });
});
