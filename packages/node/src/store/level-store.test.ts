import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isTongbanError } from "@tongban/sdk";
import { afterAll, describe, expect, it } from "vitest";
import { runStoreCompliance } from "./compliance.js";
import { DEFAULT_WRITE_BUFFER_SIZE, LevelStore, openLevelStore } from "./level-store.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "tongban-level-"));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

runStoreCompliance("LevelStore", {
  create: () => openLevelStore(join(tempDir(), "db")),
  reopen: (closed) => openLevelStore((closed as LevelStore).location),
  async cleanup() {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  },
});

const put = (k: string, v: string) => ({ type: "put", key: new TextEncoder().encode(k), value: new TextEncoder().encode(v) }) as const;

describe("LevelStore", () => {
  it("declares itself persistent and durable", () => {
    expect(new LevelStore(join(tempDir(), "db")).capabilities).toEqual({ persistent: true, durable: true, snapshots: true });
  });

  it("opens LevelDB with a 32 MiB memtable unless told otherwise: 8 MB of writes make no level-0 table, with 4 MiB they do", async () => {
    expect(DEFAULT_WRITE_BUFFER_SIZE).toBe(32 * 1024 * 1024);
    /** Writes 8 MB in 20 batches and returns how many memtable flushes LevelDB's LOG reports. */
    const flushesAfter8MB = async (options: { writeBufferSize?: number }) => {
      const location = join(tempDir(), "db");
      const store = await openLevelStore(location, options);
      for (let b = 0; b < 20; b++) {
        await store.batch(Array.from({ length: 50 }, (_, i) => ({ type: "put" as const, key: new TextEncoder().encode(`k${b}.${i}`), value: randomBytes(8192) })));
      }
      await store.close(); // waits for a flush LevelDB has started in the background
      return (readFileSync(join(location, "LOG"), "latin1").match(/Level-0 table #\d+: started/g) ?? []).length;
    };
    expect(await flushesAfter8MB({})).toBe(0);
    expect(await flushesAfter8MB({ writeBufferSize: 4 * 1024 * 1024 })).toBeGreaterThan(0);
  });

  it("refuses bad options with TypeErrors", () => {
    expect(() => new LevelStore("")).toThrow(TypeError);
    expect(() => new LevelStore("x", { cacheSize: -1 })).toThrow(TypeError);
    expect(() => new LevelStore("x", { createIfMissing: "yes" as unknown as boolean })).toThrow(TypeError);
  });

  it("fails to open a directory another store in this process holds: STORE_UNAVAILABLE, reason locked", async () => {
    const location = join(tempDir(), "db");
    const first = await openLevelStore(location);
    const second = new LevelStore(location);
    const err = await second.open().catch((e: unknown) => e);
    expect(isTongbanError(err, "STORE_UNAVAILABLE")).toBe(true);
    expect((err as { details: { reason: string } }).details.reason).toBe("locked");
    expect(second.status).toBe("closed");
    await first.close();
    // The lock goes with the holder; the same object can then open.
    await second.open();
    await second.close();
  });

  it("fails to open a directory another process holds: STORE_UNAVAILABLE, reason locked", async () => {
    const location = join(tempDir(), "db");
    const holder = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { Level } from "level"; const db = new Level(process.argv[1]); await db.open(); process.stdout.write("held\\n"); setInterval(() => {}, 1000);`,
        location,
      ],
      { cwd: fileURLToPath(new URL("../..", import.meta.url)), stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on("data", (d: Buffer) => d.toString().includes("held") && resolve());
        holder.on("exit", (code) => reject(new Error(`holder exited early with ${code}`)));
      });
      const err = await openLevelStore(location).catch((e: unknown) => e);
      expect(isTongbanError(err, "STORE_UNAVAILABLE")).toBe(true);
      expect((err as { details: { reason: string }; message: string }).details.reason).toBe("locked");
      expect((err as Error).message).toMatch(/another process/);
    } finally {
      holder.kill("SIGKILL");
      await new Promise((r) => holder.once("exit", r));
    }
    // A holder killed with SIGKILL leaves the LOCK file, but not the lock: the directory opens.
    const s = await openLevelStore(location);
    await s.close();
  });

  it("fails to open a damaged directory with STORE_CORRUPT", async () => {
    const location = join(tempDir(), "db");
    const s = await openLevelStore(location);
    await s.batch([put("a", "1")]);
    await s.close();
    writeFileSync(join(location, "CURRENT"), "not a manifest name");
    const err = await openLevelStore(location).catch((e: unknown) => e);
    expect(isTongbanError(err, "STORE_CORRUPT")).toBe(true);
  });

  it("fails to open a missing directory with STORE_UNAVAILABLE when told not to create it", async () => {
    const err = await openLevelStore(join(tempDir(), "absent", "db"), { createIfMissing: false }).catch((e: unknown) => e);
    expect(isTongbanError(err, "STORE_UNAVAILABLE")).toBe(true);
    expect((err as { details: { reason: string } }).details.reason).toBe("io");
  });

  it("writes LevelDB files into its directory", async () => {
    const location = join(tempDir(), "db");
    const s = await openLevelStore(location);
    await s.batch([put("a", "1")]);
    await s.close();
    expect(readdirSync(location)).toEqual(expect.arrayContaining(["CURRENT", "LOCK"]));
  });
});
