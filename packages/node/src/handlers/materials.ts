import { createHash } from "node:crypto";
import { TongbanError } from "@tongban/sdk";
import { KeyedSerializer } from "../inbox/keyed-serializer.js";
import { storeKeys } from "../store/keys.js";
import type { BatchOp, Store } from "../store/types.js";

/** One piece of an upload, as both PlatformService.UploadMaterial and FederationService.PutMaterial stream it. */
export interface MaterialChunk {
  /** SHA-256 of the whole material (32 bytes); the same in every chunk. */
  readonly digest: Uint8Array;
  readonly digestAlgorithm?: string;
  /** Size of the whole material, in bytes; the same in every chunk. */
  readonly totalSize: bigint | number;
  /** Where `data` starts; chunks come in order without gaps. */
  readonly offset: bigint | number;
  readonly data: Uint8Array;
}

/** A stored material's record. */
export interface MaterialInfo {
  readonly digest: string;
  readonly size: number;
  readonly chunks: number;
  readonly complete: boolean;
}

/** Limits of the material store. */
export interface MaterialLimits {
  /** Largest material accepted, in bytes (default 64 MiB). */
  readonly maxBytes?: number;
  /** Largest chunk accepted, in bytes (default 4 MiB). */
  readonly maxChunkBytes?: number;
  /**
   * Longest wait for an upload's next chunk, in ms (default 120,000): a
   * stalled upload is ended (TRANSPORT_DEADLINE_EXCEEDED, nothing kept), so it
   * cannot hold back another upload of the same material for ever.
   */
  readonly idleMs?: number;
}

/** The chunk size the node sends in (FetchMaterial, PutMaterial): 256 KiB. */
export const MATERIAL_CHUNK_BYTES = 256 * 1024;

const enc = new TextEncoder();
const dec = new TextDecoder();
const infoKey = (hex: string) => storeKeys.meta.key(`material\u0000${hex}`);

/**
 * Materials (申请材料) by content digest: stored in chunks (collection
 * `material`, keyed by digest and chunk index) so large files stream
 * without being held in memory, and accepted only when the bytes hash to
 * the digest announced. The same digest uploaded twice is stored once.
 */
export class MaterialStore {
  readonly #store: Store;
  readonly #maxBytes: number;
  readonly #maxChunk: number;
  readonly #idleMs: number;
  readonly #uploads = new KeyedSerializer();

  constructor(store: Store, limits: MaterialLimits = {}) {
    this.#store = store;
    this.#maxBytes = limits.maxBytes ?? 64 * 1024 * 1024;
    this.#maxChunk = limits.maxChunkBytes ?? 4 * 1024 * 1024;
    this.#idleMs = limits.idleMs ?? 120_000;
  }

  /** The material's record, or undefined. */
  async info(digest: Uint8Array | string): Promise<MaterialInfo | undefined> {
    const hex = typeof digest === "string" ? digest : Buffer.from(digest).toString("hex");
    const v = await this.#store.get(infoKey(hex));
    return v === undefined ? undefined : (JSON.parse(dec.decode(v)) as MaterialInfo);
  }

  /** True when the whole material is stored and verified. */
  async has(digest: Uint8Array | string): Promise<boolean> {
    return (await this.info(digest))?.complete === true;
  }

  /**
   * Takes a stream of chunks of one material. Returns its record once every
   * byte arrived and the digest matched; `alreadyPresent` when it was stored
   * before (the rest of the stream is drained, not stored again).
   *
   * Uploads of one digest run one at a time (a second waits for the first,
   * then finds the material stored), so two streams never write the same
   * chunk keys. An upload that fails part way — bad chunks, a digest
   * mismatch, the client going away — keeps none of its chunks; a crash
   * part way leaves the upload marked as under way, and {@link recover}
   * removes its chunks at the next start.
   *
   * @throws TongbanError ENVELOPE_MALFORMED for inconsistent chunks (digest,
   *   size or offset changing, a gap), ENVELOPE_TOO_LARGE past the limits,
   *   CASE_MATERIAL_DIGEST_MISMATCH when the bytes do not hash to the
   *   digest (nothing is kept).
   */
  async put(chunks: AsyncIterable<MaterialChunk>): Promise<MaterialInfo & { alreadyPresent: boolean }> {
    const it = chunks[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done === true) throw new TongbanError("ENVELOPE_MALFORMED", "an upload needs at least one chunk");
    const c = first.value;
    if (c.digest.length !== 32) throw new TongbanError("ENVELOPE_MALFORMED", `a material digest is 32 bytes of SHA-256, got ${c.digest.length}`);
    if (c.digestAlgorithm !== undefined && c.digestAlgorithm !== "" && c.digestAlgorithm !== "sha256") {
      throw new TongbanError("ENVELOPE_MALFORMED", `material digest algorithm ${c.digestAlgorithm} is not supported here (sha256)`);
    }
    const total = Number(c.totalSize);
    if (!Number.isSafeInteger(total) || total < 0) throw new TongbanError("ENVELOPE_MALFORMED", "material total_size is invalid");
    if (total > this.#maxBytes) throw new TongbanError("ENVELOPE_TOO_LARGE", `material of ${total} bytes exceeds the limit of ${this.#maxBytes}`, { details: { size: total, limit: this.#maxBytes } });
    const digest = Uint8Array.from(c.digest);
    const hex = Buffer.from(digest).toString("hex");
    return this.#uploads.run(hex, () => this.#take(digest, hex, total, c, it));
  }

  /** Stores one upload whose first chunk has been read; the caller holds the digest's turn. */
  async #take(digest: Uint8Array, hex: string, total: number, first: MaterialChunk, rest: AsyncIterator<MaterialChunk>): Promise<MaterialInfo & { alreadyPresent: boolean }> {
    const present = await this.info(hex);
    if (present?.complete === true) {
      // Stored before: read the stream to its end (a client expects its upload taken), store nothing.
      for (let r = await this.#next(rest); r.done !== true; r = await this.#next(rest)) this.#sameMaterial(r.value, digest, total);
      return { ...present, alreadyPresent: true };
    }
    // Chunks an earlier upload left behind must not outlive this one.
    await this.#discard(digest);
    const hash = createHash("sha256");
    let offset = 0;
    let index = 0;
    try {
      for (let r: IteratorResult<MaterialChunk> = { done: false, value: first }; r.done !== true; r = await this.#next(rest)) {
        const c = r.value;
        this.#sameMaterial(c, digest, total);
        if (Number(c.offset) !== offset) throw new TongbanError("ENVELOPE_MALFORMED", `material chunk at offset ${String(c.offset)}, expected ${offset}`, { details: { expected: offset } });
        if (c.data.length > this.#maxChunk) throw new TongbanError("ENVELOPE_TOO_LARGE", `material chunk of ${c.data.length} bytes exceeds ${this.#maxChunk}`);
        if (offset + c.data.length > total) throw new TongbanError("ENVELOPE_MALFORMED", `material is longer than its total_size ${total}`);
        if (c.data.length === 0) continue;
        hash.update(c.data);
        const chunk: BatchOp = { type: "put", key: storeKeys.material.key(digest, index), value: c.data };
        // The first chunk marks the upload as under way: a crash before its end leaves the mark for recover().
        await this.#store.batch(index === 0 ? [chunk, { type: "put", key: storeKeys.materialPartial.key(digest), value: enc.encode(new Date().toISOString()) }] : [chunk]);
        index++;
        offset += c.data.length;
      }
      const actual = hash.digest();
      if (offset !== total) throw new TongbanError("ENVELOPE_MALFORMED", `material ended after ${offset} of ${total} bytes`, { details: { received: offset, totalSize: total } });
      if (Buffer.compare(actual, Buffer.from(digest)) !== 0) {
        throw new TongbanError("CASE_MATERIAL_DIGEST_MISMATCH", `material bytes hash to ${actual.toString("hex")}, not ${hex}`, { details: { expected: hex, actual: actual.toString("hex") } });
      }
      const info: MaterialInfo = { digest: hex, size: total, chunks: index, complete: true };
      await this.#store.batch([{ type: "put", key: infoKey(hex), value: enc.encode(JSON.stringify(info)) }, { type: "del", key: storeKeys.materialPartial.key(digest) }]);
      return { ...info, alreadyPresent: false };
    } catch (err) {
      // Nothing of a failed upload is kept; a failure to clean up is left to recover() and must not hide the cause.
      if (index > 0) await this.#discard(digest).catch(() => undefined);
      throw err;
    }
  }

  /** The stream's next chunk, or TRANSPORT_DEADLINE_EXCEEDED (the stream ended) when none comes within the idle limit. */
  async #next(rest: AsyncIterator<MaterialChunk>): Promise<IteratorResult<MaterialChunk>> {
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void Promise.resolve(rest.return?.()).catch(() => undefined);
        reject(new TongbanError("TRANSPORT_DEADLINE_EXCEEDED", `no chunk of the material came for ${this.#idleMs} ms: the upload was ended and nothing of it kept`, { details: { idleMs: this.#idleMs } }));
      }, this.#idleMs);
      timer.unref(); // a stalled upload never keeps the process alive
    });
    try {
      return await Promise.race([rest.next(), idle]);
    } finally {
      clearTimeout(timer);
    }
  }

  #sameMaterial(c: MaterialChunk, digest: Uint8Array, total: number): void {
    if (Buffer.compare(Buffer.from(c.digest.buffer, c.digest.byteOffset, c.digest.byteLength), Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength)) !== 0 || Number(c.totalSize) !== total) {
      throw new TongbanError("ENVELOPE_MALFORMED", "digest and total_size must be the same in every chunk of a material");
    }
  }

  /** The digests (hex) of uploads under way — or, after a crash and before {@link recover}, cut short. */
  async pending(): Promise<string[]> {
    const out: string[] = [];
    for await (const e of this.#store.iterate(storeKeys.materialPartial.range())) out.push(Buffer.from(storeKeys.materialPartial.decode(e.key)[0]).toString("hex"));
    return out;
  }

  /** How many chunks are stored for a digest (a complete material's, or what an upload has written so far). */
  async chunksHeld(digest: Uint8Array | string): Promise<number> {
    let n = 0;
    for await (const _ of this.#store.iterate(storeKeys.material.range(typeof digest === "string" ? Buffer.from(digest, "hex") : digest))) n++;
    return n;
  }

  /**
   * Removes what uploads cut short by a crash left behind: the chunks of
   * every upload still marked as under way. Run at start, before any upload
   * is taken; it reads the marks, not the materials. Returns what it removed.
   */
  async recover(): Promise<{ materials: number; chunks: number }> {
    let materials = 0;
    let chunks = 0;
    for (const hex of await this.pending()) {
      const digest = Buffer.from(hex, "hex");
      chunks += await this.chunksHeld(digest);
      await this.#discard(digest);
      materials++;
    }
    return { materials, chunks };
  }

  /** Streams a stored material from `offset`, in the chunks it was stored in (split at `offset`). */
  // Reads stop at the recorded count.
  async *read(digest: Uint8Array, offset = 0): AsyncGenerator<{ offset: number; data: Uint8Array; totalSize: number }> {
    const info = await this.info(digest);
    if (info?.complete !== true) throw new TongbanError("CASE_MATERIAL_MISSING", `material ${Buffer.from(digest).toString("hex")} is not stored here`, { details: { digest: Buffer.from(digest).toString("hex") } });
    let at = 0;
    for await (const e of this.#store.iterate({ ...storeKeys.material.range(digest), limit: info.chunks })) {
      const end = at + e.value.length;
      if (end > offset) {
        const from = Math.max(0, offset - at);
        yield { offset: at + from, data: e.value.subarray(from), totalSize: info.size };
      }
      at = end;
    }
  }

  /** Deletes every stored chunk of a material (not its record) and its under-way mark. */
  async #discard(digest: Uint8Array): Promise<void> {
    const ops: BatchOp[] = [{ type: "del", key: storeKeys.materialPartial.key(digest) }];
    for await (const e of this.#store.iterate(storeKeys.material.range(digest))) ops.push({ type: "del", key: e.key });
    await this.#store.batch(ops);
  }
}
