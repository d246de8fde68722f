import { createHash } from "node:crypto";
import { TongbanError } from "@tongban/sdk";
import { storeKeys } from "../store/keys.js";
import type { Store } from "../store/types.js";

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

  constructor(store: Store, limits: MaterialLimits = {}) {
    this.#store = store;
    this.#maxBytes = limits.maxBytes ?? 64 * 1024 * 1024;
    this.#maxChunk = limits.maxChunkBytes ?? 4 * 1024 * 1024;
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
   * @throws TongbanError ENVELOPE_MALFORMED for inconsistent chunks (digest,
   *   size or offset changing, a gap), ENVELOPE_TOO_LARGE past the limits,
   *   CASE_MATERIAL_DIGEST_MISMATCH when the bytes do not hash to the
   *   digest (nothing is kept).
   */
  async put(chunks: AsyncIterable<MaterialChunk>): Promise<MaterialInfo & { alreadyPresent: boolean }> {
    let digest: Uint8Array | undefined;
    let hex = "";
    let total = 0;
    let offset = 0;
    let index = 0;
    let present = false;
    const hash = createHash("sha256");
    for await (const c of chunks) {
      if (digest === undefined) {
        if (c.digest.length !== 32) throw new TongbanError("ENVELOPE_MALFORMED", `a material digest is 32 bytes of SHA-256, got ${c.digest.length}`);
        if (c.digestAlgorithm !== undefined && c.digestAlgorithm !== "" && c.digestAlgorithm !== "sha256") {
          throw new TongbanError("ENVELOPE_MALFORMED", `material digest algorithm ${c.digestAlgorithm} is not supported here (sha256)`);
        }
        digest = c.digest;
        hex = Buffer.from(digest).toString("hex");
        total = Number(c.totalSize);
        if (!Number.isSafeInteger(total) || total < 0) throw new TongbanError("ENVELOPE_MALFORMED", "material total_size is invalid");
        if (total > this.#maxBytes) throw new TongbanError("ENVELOPE_TOO_LARGE", `material of ${total} bytes exceeds the limit of ${this.#maxBytes}`, { details: { size: total, limit: this.#maxBytes } });
        present = await this.has(digest);
      } else if (Buffer.compare(Buffer.from(c.digest), Buffer.from(digest)) !== 0 || Number(c.totalSize) !== total) {
        throw new TongbanError("ENVELOPE_MALFORMED", "digest and total_size must be the same in every chunk of a material");
      }
      if (present) continue;
      if (Number(c.offset) !== offset) throw new TongbanError("ENVELOPE_MALFORMED", `material chunk at offset ${String(c.offset)}, expected ${offset}`, { details: { expected: offset } });
      if (c.data.length > this.#maxChunk) throw new TongbanError("ENVELOPE_TOO_LARGE", `material chunk of ${c.data.length} bytes exceeds ${this.#maxChunk}`);
      if (offset + c.data.length > total) throw new TongbanError("ENVELOPE_MALFORMED", `material is longer than its total_size ${total}`);
      if (c.data.length === 0) continue;
      hash.update(c.data);
      await this.#store.batch([{ type: "put", key: storeKeys.material.key(digest, index), value: c.data }]);
      index++;
      offset += c.data.length;
    }
    if (digest === undefined) throw new TongbanError("ENVELOPE_MALFORMED", "an upload needs at least one chunk");
    if (present) return { ...((await this.info(digest)) as MaterialInfo), alreadyPresent: true };
    const actual = hash.digest();
    if (offset !== total || Buffer.compare(actual, Buffer.from(digest)) !== 0) {
      await this.#discard(digest, index);
      if (offset !== total) throw new TongbanError("ENVELOPE_MALFORMED", `material ended after ${offset} of ${total} bytes`, { details: { received: offset, totalSize: total } });
      throw new TongbanError("CASE_MATERIAL_DIGEST_MISMATCH", `material bytes hash to ${actual.toString("hex")}, not ${hex}`, { details: { expected: hex, actual: actual.toString("hex") } });
    }
    const info: MaterialInfo = { digest: hex, size: total, chunks: index, complete: true };
    await this.#store.batch([{ type: "put", key: infoKey(hex), value: enc.encode(JSON.stringify(info)) }]);
    return { ...info, alreadyPresent: false };
  }

  /** Streams a stored material from `offset`, in the chunks it was stored in (split at `offset`). */
  // An interrupted upload may have left chunks past `chunks`; reads stop at the recorded count.
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

  async #discard(digest: Uint8Array, chunks: number): Promise<void> {
    const ops = [];
    for (let i = 0; i < chunks; i++) ops.push({ type: "del" as const, key: storeKeys.material.key(digest, i) });
    if (ops.length > 0) await this.#store.batch(ops);
  }
}
