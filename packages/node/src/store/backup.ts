import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, rmdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { TongbanError } from "@tongban/sdk";
import { openLevelStore, type LevelStoreOptions } from "./level-store.js";
import type { BatchOp, Store } from "./types.js";

/**
 * A node's store written to one file while the node runs (docs/node-store.md "Backups"):
 *
 * - a header line: JSON `{ "format": "tongban-backup/1", "nodeId", "createdAt", ... }` and `\n`;
 * - one record per key, in key order: key length (u32, big-endian), key, value length (u32), value;
 * - a trailer: `0xFFFFFFFF`, the number of records (u64), and the SHA-256 of every byte before
 *   the digest.
 *
 * The records are one snapshot of the store (its iterators read a snapshot), so a backup taken
 * during a burst holds each batch whole or not at all.
 */
export const BACKUP_FORMAT = "tongban-backup/1";

/** What a backup's header says, and what reading it found. */
export interface BackupInfo {
  readonly format: string;
  readonly nodeId: string;
  readonly createdAt: string;
  /** Records (keys) in the backup. */
  readonly entries: number;
  /** Size of the file in bytes. */
  readonly bytes: number;
  /** SHA-256 of the file's content before the digest, hex. */
  readonly sha256: string;
}

/** A backup written into a directory: what {@link writeBackupInto} returns. */
export type WrittenBackup = BackupInfo & { readonly file: string };

const END = 0xffffffff;
const MAX_HEADER = 64 * 1024;
/** Record lengths above this are refused as damage, not allocated (LevelDB values here are far smaller). */
const MAX_PART = 256 * 1024 * 1024;
const FLUSH_AT = 1024 * 1024;

const invalid = (file: string, reason: string) =>
  new TongbanError("BACKUP_INVALID", `${file} is not a usable backup: ${reason}`, { details: { file: basename(file), reason } });

/**
 * Writes every key of `store` to `file` as of one snapshot. The file appears under its name only
 * when complete and fsync'd (written as `file.partial`, then renamed), so a crash during a backup
 * leaves no file that looks whole.
 */
export async function writeBackup(store: Store, file: string, meta: { readonly nodeId: string; readonly now?: () => Date }): Promise<BackupInfo> {
  if (!store.capabilities.snapshots) throw new TypeError("writeBackup needs a store whose iterators read a snapshot");
  const createdAt = (meta.now ?? (() => new Date()))().toISOString();
  const partial = `${file}.partial`;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const fh = await open(partial, "w", 0o600);
  const hash = createHash("sha256");
  let bytes = 0;
  let entries = 0;
  let chunks: Uint8Array[] = [];
  let pending = 0;
  const push = (b: Uint8Array) => {
    hash.update(b);
    chunks.push(b);
    pending += b.length;
    bytes += b.length;
  };
  const flush = async () => {
    if (pending === 0) return;
    await fh.write(Buffer.concat(chunks, pending));
    chunks = [];
    pending = 0;
  };
  const u32 = (n: number) => {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(n, 0);
    return b;
  };
  try {
    push(Buffer.from(`${JSON.stringify({ format: BACKUP_FORMAT, nodeId: meta.nodeId, createdAt })}\n`, "utf8"));
    for await (const e of store.iterate()) {
      push(u32(e.key.length));
      push(e.key);
      push(u32(e.value.length));
      push(e.value);
      entries++;
      if (pending >= FLUSH_AT) await flush();
    }
    const count = Buffer.allocUnsafe(8);
    count.writeBigUInt64BE(BigInt(entries), 0);
    push(u32(END));
    push(count);
    const digest = hash.digest();
    chunks.push(digest);
    pending += digest.length;
    bytes += digest.length;
    await flush();
    await fh.sync();
    await fh.close();
    await rename(partial, file);
    await syncDir(dirname(file));
    return { format: BACKUP_FORMAT, nodeId: meta.nodeId, createdAt, entries, bytes, sha256: digest.toString("hex") };
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw err;
  }
}

/** What {@link readBackup} reports besides the records. */
export interface ReadBackupHooks {
  /** The header, before the first record (may throw to refuse the backup). */
  header?(header: Pick<BackupInfo, "format" | "nodeId" | "createdAt">): void;
  /** The whole backup, once its trailer has been checked. */
  end?(info: BackupInfo): void;
}

/**
 * Reads a backup's records in order. The trailer's count and digest are checked after the last
 * record, so the caller must not trust what it was given until the iteration ended without an
 * error (`restoreBackup` writes into a scratch directory for that reason).
 *
 * @throws TongbanError `BACKUP_INVALID` (not a backup, truncated, damaged, checksum mismatch)
 */
export async function* readBackup(file: string, hooks: ReadBackupHooks = {}): AsyncGenerator<{ key: Uint8Array; value: Uint8Array }> {
  const hash = createHash("sha256");
  const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
  let buf: Buffer = Buffer.alloc(0);
  let done = false;
  let bytes = 0;
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  /** At least `n` bytes buffered (false at the end of the file). */
  const fill = async (n: number): Promise<boolean> => {
    while (buf.length < n && !done) {
      const r = await it.next();
      if (r.done === true) done = true;
      else buf = buf.length === 0 ? r.value : Buffer.concat([buf, r.value]);
    }
    return buf.length >= n;
  };
  /** Takes `n` bytes (hashed unless `hashed` is false). */
  const take = (n: number, hashed = true): Buffer => {
    const out = buf.subarray(0, n);
    buf = buf.subarray(n);
    bytes += n;
    if (hashed) hash.update(out);
    return out;
  };
  try {
    await fill(MAX_HEADER);
    const nl = buf.indexOf(0x0a);
    if (nl < 0) throw invalid(file, "no header line");
    let header: { format?: unknown; nodeId?: unknown; createdAt?: unknown };
    try {
      header = JSON.parse(take(nl + 1).toString("utf8")) as typeof header;
    } catch {
      throw invalid(file, "the header line is not JSON");
    }
    if (header.format !== BACKUP_FORMAT) throw invalid(file, `format ${JSON.stringify(header.format)}, expected ${BACKUP_FORMAT}`);
    if (typeof header.nodeId !== "string" || typeof header.createdAt !== "string") throw invalid(file, "the header lacks nodeId or createdAt");
    const { format, nodeId, createdAt } = header as { format: string; nodeId: string; createdAt: string };
    hooks.header?.({ format, nodeId, createdAt });
    let entries = 0n;
    for (;;) {
      if (!(await fill(4))) throw invalid(file, `truncated after ${entries} records`);
      const keyLength = take(4).readUInt32BE(0);
      if (keyLength === END) break;
      if (keyLength > MAX_PART) throw invalid(file, `record ${entries}: key length ${keyLength}`);
      if (!(await fill(keyLength + 4))) throw invalid(file, `truncated in record ${entries}`);
      const key = new Uint8Array(take(keyLength));
      const valueLength = take(4).readUInt32BE(0);
      if (valueLength > MAX_PART) throw invalid(file, `record ${entries}: value length ${valueLength}`);
      if (!(await fill(valueLength))) throw invalid(file, `truncated in record ${entries}`);
      const value = new Uint8Array(take(valueLength));
      entries++;
      yield { key, value };
    }
    if (!(await fill(8 + 32))) throw invalid(file, "truncated trailer");
    const count = take(8).readBigUInt64BE(0);
    const digest = take(32, false);
    if (count !== entries) throw invalid(file, `the trailer counts ${count} records, the file holds ${entries}`);
    if (!hash.digest().equals(digest)) throw invalid(file, "checksum mismatch");
    if (await fill(1)) throw invalid(file, "bytes after the trailer");
    hooks.end?.({ format, nodeId, createdAt, entries: Number(entries), bytes, sha256: digest.toString("hex") });
  } catch (err) {
    if (err instanceof TongbanError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw invalid(file, "no such file");
    throw err;
  } finally {
    stream.destroy();
  }
}

/**
 * Reads a whole backup and checks its trailer without writing anything.
 *
 * @throws TongbanError `BACKUP_INVALID`
 */
export async function verifyBackup(file: string): Promise<BackupInfo> {
  let info: BackupInfo | undefined;
  for await (const _ of readBackup(file, { end: (i) => (info = i) }));
  return info!;
}

/**
 * Restores a backup into a new LevelDB directory `location`. Refuses when `location` exists and
 * is not empty (move the old data away first). Writes into a scratch directory beside it and
 * renames it into place only after the whole backup has been read and its checksum holds, so a
 * damaged backup or a crash leaves no half-restored store.
 *
 * @throws TongbanError `BACKUP_TARGET_EXISTS`, `BACKUP_INVALID`, `STORE_UNAVAILABLE`
 */
export async function restoreBackup(file: string, location: string, options: LevelStoreOptions & { readonly expectNodeId?: string } = {}): Promise<BackupInfo> {
  const existing = await readdir(location).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [];
    throw err;
  });
  if (existing.length > 0) {
    throw new TongbanError("BACKUP_TARGET_EXISTS", `${location} already holds data: move it away before restoring into it`, { details: { location: basename(location) } });
  }
  const { expectNodeId, ...storeOptions } = options;
  const scratch = join(dirname(location), `.${basename(location)}.restoring-${randomBytes(4).toString("hex")}`);
  await mkdir(dirname(location), { recursive: true });
  const store = await openLevelStore(scratch, storeOptions);
  let info: BackupInfo | undefined;
  try {
    let batch: BatchOp[] = [];
    const hooks: ReadBackupHooks = {
      header: (h) => {
        if (expectNodeId !== undefined && h.nodeId !== expectNodeId) throw invalid(file, `it is node ${h.nodeId}'s, not ${expectNodeId}'s`);
      },
      end: (i) => (info = i),
    };
    for await (const e of readBackup(file, hooks)) {
      batch.push({ type: "put", key: e.key, value: e.value });
      if (batch.length >= 1000) {
        await store.batch(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await store.batch(batch);
    await store.close();
    // The target was empty or absent when checked; if something wrote into it since (a node
    // started meanwhile), rmdir fails rather than deleting what it wrote.
    await rmdir(location).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return;
      if (err.code === "ENOTEMPTY" || err.code === "EEXIST") {
        throw new TongbanError("BACKUP_TARGET_EXISTS", `${location} received data during the restore: nothing was restored`, { details: { location: basename(location) } });
      }
      throw err;
    });
    await rename(scratch, location);
    await syncDir(dirname(location));
  } catch (err) {
    await store.close().catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
    throw err;
  }
  return info!;
}

/**
 * Writes a backup into `dir` named `<nodeId>-<UTC time>.tbbackup` and deletes the oldest of
 * that node's backups there beyond `keep`. Returns the file and what was written.
 */
export async function writeBackupInto(store: Store, dir: string, meta: { readonly nodeId: string; readonly keep: number; readonly now?: () => Date }): Promise<WrittenBackup> {
  const now = meta.now ?? (() => new Date());
  const stamp = now().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  let file = join(dir, `${meta.nodeId}-${stamp}.tbbackup`);
  for (let n = 2; await exists(file); n++) file = join(dir, `${meta.nodeId}-${stamp}-${n}.tbbackup`);
  const info = await writeBackup(store, file, { nodeId: meta.nodeId, now });
  const mine = (await readdir(dir)).filter((f) => f.startsWith(`${meta.nodeId}-`) && f.endsWith(".tbbackup")).sort();
  for (const old of mine.slice(0, Math.max(0, mine.length - meta.keep))) await rm(join(dir, old), { force: true });
  return { ...info, file };
}

/**
 * Calls `run` every `everyHours` hours (none when 0) until the returned function is called.
 * The timer does not keep the process alive; `run`'s failures are its own to report.
 */
export function scheduleBackups(everyHours: number, run: () => Promise<unknown>): () => void {
  if (everyHours <= 0) return () => undefined;
  const timer = setInterval(() => void run().catch(() => undefined), everyHours * 3_600_000);
  timer.unref();
  return () => clearInterval(timer);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** fsync a directory so a rename in it is durable (not supported everywhere: ignored then). */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r").catch(() => undefined);
  if (fh === undefined) return;
  try {
    await fh.sync().catch(() => undefined);
  } finally {
    await fh.close();
  }
}
