import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TongbanError } from "@tongban/sdk";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BACKUP_FORMAT, readBackup, restoreBackup, scheduleBackups, verifyBackup, writeBackup, writeBackupInto } from "./backup.js";
import { openLevelStore, type LevelStore } from "./level-store.js";
import { MemoryStore } from "./memory-store.js";
import type { Store } from "./types.js";

const enc = new TextEncoder();
const NODE = "cn.310118.qingpu";

async function entriesOf(store: Store): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const e of store.iterate()) out.push([Buffer.from(e.key).toString("hex"), Buffer.from(e.value).toString("hex")]);
  return out;
}

describe("store backups", () => {
  let dir: string;
  let store: LevelStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "tongban-backup-"));
    store = await openLevelStore(join(dir, "data"));
    // Keys of every shape (binary, empty value, large value), written in several batches.
    await store.batch([
      { type: "put", key: enc.encode("a"), value: new Uint8Array(0) },
      { type: "put", key: new Uint8Array([0, 255, 0]), value: randomBytes(300_000) },
    ]);
    for (let b = 0; b < 5; b++) {
      await store.batch(Array.from({ length: 400 }, (_, i) => ({ type: "put" as const, key: enc.encode(`k${b}.${i}`), value: randomBytes(i % 50) })));
    }
  });
  afterEach(async () => {
    await store.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("restores into a new directory every key and value, byte for byte", async () => {
    const file = join(dir, "b.tbbackup");
    const written = await writeBackup(store, file, { nodeId: NODE });
    expect(written).toMatchObject({ format: BACKUP_FORMAT, nodeId: NODE, entries: 2002 });
    expect(readdirSync(dir).filter((f) => f.endsWith(".partial"))).toEqual([]);

    const restored = await restoreBackup(file, join(dir, "restored"), { expectNodeId: NODE });
    expect(restored).toEqual({ ...written });
    const copy = await openLevelStore(join(dir, "restored"));
    try {
      expect(await entriesOf(copy)).toEqual(await entriesOf(store));
    } finally {
      await copy.close();
    }
  });

  it("reads one snapshot while batches keep landing: every batch whole or not at all", async () => {
    // Each batch writes a pair (x.N, y.N); a torn backup would hold one without the other.
    let stop = false;
    let n = 0;
    const writer = (async () => {
      while (!stop) {
        await store.batch([
          { type: "put", key: enc.encode(`x.${String(n).padStart(6, "0")}`), value: randomBytes(64) },
          { type: "put", key: enc.encode(`y.${String(n).padStart(6, "0")}`), value: randomBytes(64) },
        ]);
        n++;
      }
    })();
    while (n < 50) await new Promise((r) => setTimeout(r, 5));
    const file = join(dir, "b.tbbackup");
    await writeBackup(store, file, { nodeId: NODE });
    stop = true;
    await writer;
    const xs = new Set<string>();
    const ys = new Set<string>();
    for await (const e of readBackup(file)) {
      const k = Buffer.from(e.key).toString("latin1");
      if (k.startsWith("x.")) xs.add(k.slice(2));
      if (k.startsWith("y.")) ys.add(k.slice(2));
    }
    expect(xs.size).toBeGreaterThanOrEqual(50);
    expect([...xs].sort()).toEqual([...ys].sort());
  });

  it("refuses a truncated, damaged or foreign file with BACKUP_INVALID, and leaves no half-restored directory", async () => {
    const file = join(dir, "b.tbbackup");
    await writeBackup(store, file, { nodeId: NODE });
    const good = readFileSync(file);
    const cases: [string, Buffer][] = [
      ["truncated in the records", good.subarray(0, Math.floor(good.length / 2))],
      ["truncated in the trailer", good.subarray(0, good.length - 10)],
      ["one byte flipped", Buffer.from(good.map((b, i) => (i === good.length - 100 ? b ^ 1 : b)))],
      ["bytes after the trailer", Buffer.concat([good, Buffer.from([0])])],
      ["another format", Buffer.from(`{"format":"x"}\n`)],
      ["not a backup", randomBytes(1000)],
    ];
    for (const [what, bytes] of cases) {
      const bad = join(dir, `bad-${what.replace(/ /g, "-")}.tbbackup`);
      writeFileSync(bad, bytes);
      const err = await verifyBackup(bad).catch((e: unknown) => e);
      expect(err, what).toBeInstanceOf(TongbanError);
      expect((err as TongbanError).code, what).toBe("BACKUP_INVALID");
      const target = join(dir, `restored-${what.replace(/ /g, "-")}`);
      await expect(restoreBackup(bad, target), what).rejects.toMatchObject({ code: "BACKUP_INVALID" });
      expect(readdirSync(dir).filter((f) => f.startsWith("restored") || f.includes(".restoring-")), what).toEqual([]);
    }
  });

  it("refuses to restore over data, and a backup of another node when told which node", async () => {
    const file = join(dir, "b.tbbackup");
    await writeBackup(store, file, { nodeId: NODE });
    await expect(restoreBackup(file, join(dir, "data"))).rejects.toMatchObject({ code: "BACKUP_TARGET_EXISTS" });
    await expect(restoreBackup(file, join(dir, "other"), { expectNodeId: "cn.320509.wujiang" })).rejects.toMatchObject({ code: "BACKUP_INVALID" });
    expect(readdirSync(dir).sort()).toEqual(["b.tbbackup", "data"]);
  });

  it("restores into an empty directory that already exists", async () => {
    const file = join(dir, "b.tbbackup");
    await writeBackup(store, file, { nodeId: NODE });
    const target = join(dir, "empty");
    mkdirSync(target);
    expect((await restoreBackup(file, target)).entries).toBe(2002);
  });

  it("keeps the newest backups of the node in a directory, and works from an in-memory store too", async () => {
    const mem = new MemoryStore();
    await mem.open();
    await mem.batch([{ type: "put", key: enc.encode("k"), value: enc.encode("v") }]);
    const into = join(dir, "backups");
    let t = Date.parse("2026-12-07T10:00:00Z");
    const names: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await writeBackupInto(mem, into, { nodeId: NODE, keep: 2, now: () => new Date((t += 3_600_000)) });
      names.push(r.file.slice(into.length + 1));
      expect(r.entries).toBe(1);
    }
    expect(names[0]).toBe(`${NODE}-20261207T110000Z.tbbackup`);
    expect(readdirSync(into).sort()).toEqual(names.slice(2));
  });

  it("leaves no file under the final name when the store fails mid-backup", async () => {
    const file = join(dir, "b.tbbackup");
    await store.close();
    await expect(writeBackup(store, file, { nodeId: NODE })).rejects.toBeInstanceOf(Error);
    expect(readdirSync(dir).sort()).toEqual(["data"]);
  });

  it("notices a file cut short after it was written (e.g. a copy that did not finish)", async () => {
    const file = join(dir, "b.tbbackup");
    await writeBackup(store, file, { nodeId: NODE });
    truncateSync(file, 100);
    await expect(verifyBackup(file)).rejects.toMatchObject({ code: "BACKUP_INVALID" });
  });
});

describe("the backup schedule", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs every everyHours hours until stopped, none at 0, and survives a failed run", async () => {
    vi.useFakeTimers();
    let runs = 0;
    const stop = scheduleBackups(6, async () => {
      runs++;
      if (runs === 1) throw new Error("disk full");
    });
    await vi.advanceTimersByTimeAsync(6 * 3_600_000 - 1);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(12 * 3_600_000);
    expect(runs).toBe(3);
    stop();
    await vi.advanceTimersByTimeAsync(24 * 3_600_000);
    expect(runs).toBe(3);

    let never = 0;
    scheduleBackups(0, async () => void never++)();
    await vi.advanceTimersByTimeAsync(1_000 * 3_600_000);
    expect(never).toBe(0);
  });
});
