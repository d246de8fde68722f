import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareBytes } from "./bytes.js";
import { RECORDS_PER_BATCH, recordValue } from "./crash-batches.js";
import { storeKeys } from "./keys.js";
import { openLevelStore } from "./level-store.js";

const KILLS = 5;
const packageRoot = fileURLToPath(new URL("../..", import.meta.url));
let writerCode = "";
let dir = "";

beforeAll(async () => {
  // Bundle the TypeScript writer from source; `level` and the SDK stay external and resolve from the package.
  const out = await build({
    entryPoints: [fileURLToPath(new URL("./crash-writer.ts", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    write: false,
    external: ["level", "@tongban/sdk"],
    logLevel: "silent",
  });
  writerCode = out.outputFiles[0]!.text;
  dir = mkdtempSync(join(tmpdir(), "tongban-crash-"));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly start: number;
  readonly acked: number[];
}

/** Starts a writer, SIGKILLs it once `killAfter` acks arrived plus a random 0–5 ms, returns what it acknowledged. */
function runAndKill(location: string, killAfter: number, rand: () => number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", writerCode, location], {
      cwd: packageRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let start = -1;
    const acked: number[] = [];
    let buffered = "";
    let stderr = "";
    let killing = false;
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        const [what, n] = line.split(" ");
        if (what === "ready") start = Number(n);
        else if (what === "ack") acked.push(Number(n));
      }
      if (!killing && acked.length >= killAfter) {
        killing = true;
        setTimeout(() => child.kill("SIGKILL"), Math.floor(rand() * 6));
      }
    });
    child.on("exit", (code, signal) => {
      // Lines already written before the kill still count: they were printed after durability.
      for (const line of buffered.split("\n")) if (line.startsWith("ack ")) acked.push(Number(line.slice(4)));
      if (signal !== "SIGKILL") reject(new Error(`writer exited with ${code ?? signal}: ${stderr}`));
      else resolve({ start, acked });
    });
  });
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("crash safety of LevelStore + GroupCommitter", () => {
  it(`keeps every acknowledged batch whole and no partial batch across ${KILLS} SIGKILLs`, async () => {
    const seed = Date.now() >>> 0;
    const rand = prng(seed);
    const location = join(dir, "db");
    let lastApplied = -1;
    for (let round = 0; round < KILLS; round++) {
      const killAfter = 5 + Math.floor(rand() * 300);
      const run = await runAndKill(location, killAfter, rand);
      const why = `seed ${seed}, round ${round}, killed after ${killAfter} acks`;
      expect(run.start, why).toBe(lastApplied + 1);
      expect(run.acked.length, why).toBeGreaterThanOrEqual(killAfter);

      const store = await openLevelStore(location);
      try {
        // Group every record by its batch id and check each byte.
        const seen = new Map<number, number>();
        for await (const { key, value } of store.iterate(storeKeys.caseHeld.range("crash-test"))) {
          const [, id, , record] = storeKeys.caseHeld.decode(key);
          const j = Number(record.slice("record-".length));
          expect(compareBytes(value, recordValue(id, j)), `${why}: batch ${id} record ${j} differs`).toBe(0);
          seen.set(id, (seen.get(id) ?? 0) + 1);
        }
        const ids = [...seen.keys()].sort((a, b) => a - b);
        // Applied batches form a gap-free prefix (commits apply in call order), each one complete.
        expect(ids, why).toEqual(Array.from({ length: ids.length }, (_, i) => i));
        for (const [id, n] of seen) expect(n, `${why}: batch ${id} is partial`).toBe(RECORDS_PER_BATCH);
        const maxApplied = ids.length - 1;
        // Every acknowledged batch survived.
        for (const id of run.acked) expect(id, `${why}: acked batch ${id} lost`).toBeLessThanOrEqual(maxApplied);
        // The marker moved with each batch: exactly one left, naming the last applied batch.
        const markers = [];
        for await (const { key } of store.iterate(storeKeys.event.range())) markers.push(storeKeys.event.decode(key)[0]);
        expect(markers, why).toEqual([maxApplied]);
        lastApplied = maxApplied;
      } finally {
        await store.close();
      }
    }
    expect(lastApplied).toBeGreaterThan(KILLS * 5);
  }, 60_000);
});
