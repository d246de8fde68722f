#!/usr/bin/env node
/**
 * Group-commit micro-benchmark: durable commits per second through
 * GroupCommitter vs one `sync: true` store batch per commit, on LevelStore,
 * measured side by side in the same run at several concurrency levels.
 *
 * Each commit is what node intake writes for one message: the inbox record
 * (2 KiB) and its receipt (512 B), durable before the promise resolves.
 *
 * Runs against the built package: `npx tsup && node bench/group-commit.mjs`
 * Options: --duration <ms per cell, default 1500> --concurrency <list, default 1,16,64,256> --window <ms, default 0> --json
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { GroupCommitter, openLevelStore, storeKeys } from "../dist/index.js";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "1500" },
    concurrency: { type: "string", default: "1,16,64,256" },
    window: { type: "string", default: "0" },
    json: { type: "boolean", default: false },
  },
});
const durationMs = Number(args.duration);
const levels = args.concurrency.split(",").map(Number);
const windowMs = Number(args.window);

const envelope = new Uint8Array(2048).fill(0x5a);
const receipt = new Uint8Array(512).fill(0xa5);
const commitOps = (writer, n) => {
  const id = `${writer}-${n}`;
  return [
    { type: "put", key: storeKeys.inbox.key("bench-sender", id), value: envelope },
    { type: "put", key: storeKeys.receipt.key("bench-sender", id), value: receipt },
  ];
};

function percentile(sorted, p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `concurrency` writers for `durationMs`, each awaiting `commit(ops)` in a loop. */
async function measure(commit, concurrency) {
  const latencies = [];
  let stop = false;
  const started = performance.now();
  const timer = setTimeout(() => (stop = true), durationMs);
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let n = 0; !stop; n++) {
        const t0 = performance.now();
        await commit(commitOps(w, n));
        latencies.push(performance.now() - t0);
      }
    }),
  );
  clearTimeout(timer);
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSec: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), commits: latencies.length };
}

async function runPlain(dir, concurrency) {
  const store = await openLevelStore(dir);
  try {
    return await measure((ops) => store.batch(ops), concurrency);
  } finally {
    await store.close();
  }
}

async function runGroup(dir, concurrency) {
  const store = await openLevelStore(dir);
  const committer = new GroupCommitter(store, { windowMs });
  try {
    const result = await measure((ops) => committer.commit(ops), concurrency);
    await committer.close();
    const { batches, commits } = committer.stats;
    return { ...result, perBatch: commits / batches };
  } finally {
    await store.close();
  }
}

/** Mean of two runs, so drift on a shared machine hits both modes alike. */
const mean = (a, b) => ({ perSec: (a.perSec + b.perSec) / 2, p50: (a.p50 + b.p50) / 2, p99: (a.p99 + b.p99) / 2, perBatch: ((a.perBatch ?? 1) + (b.perBatch ?? 1)) / 2 });

const root = mkdtempSync(join(tmpdir(), "tongban-bench-gc-"));
const rows = [];
try {
  for (const concurrency of levels) {
    // ABBA order and fresh directories per run: neither mode gets the quieter moment or inherits the other's compaction debt.
    const d = (name) => join(root, `${name}-${concurrency}`);
    const p1 = await runPlain(d("p1"), concurrency);
    const g1 = await runGroup(d("g1"), concurrency);
    const g2 = await runGroup(d("g2"), concurrency);
    const p2 = await runPlain(d("p2"), concurrency);
    const group = mean(g1, g2);
    rows.push({ concurrency, plain: mean(p1, p2), group, perBatch: group.perBatch });
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

if (args.json) {
  const out = rows.map(({ concurrency, plain, group, perBatch }) => ({
    writers: concurrency,
    per_commit_sync_per_s: Math.round(plain.perSec),
    group_commit_per_s: Math.round(group.perSec),
    commits_per_fsync: Number(perBatch.toFixed(1)),
    ratio: Number((group.perSec / plain.perSec).toFixed(2)),
  }));
  process.stdout.write(`${JSON.stringify({ bench: "group-commit", durationMs, windowMs, rows: out }, null, 2)}\n`);
  process.exit(0);
}
const f = (n, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(`group commit vs one sync batch per commit — LevelStore, ${durationMs} ms per run, ABBA, mean of 2 runs per mode, window ${windowMs} ms, ${cpus().length} CPUs, node ${process.version}`);
console.log("each commit: 2 puts (2 KiB inbox record + 512 B receipt), durable (fsync) before it resolves\n");
console.log("| writers | per-commit sync batch (commits/s) | p50 / p99 ms | group commit (commits/s) | p50 / p99 ms | commits per fsync | ratio |");
console.log("|---:|---:|---:|---:|---:|---:|---:|");
for (const { concurrency, plain, group, perBatch } of rows) {
  console.log(
    `| ${concurrency} | ${f(plain.perSec)} | ${f(plain.p50, 2)} / ${f(plain.p99, 2)} | ${f(group.perSec)} | ${f(group.p50, 2)} / ${f(group.p99, 2)} | ${f(perBatch, 1)} | ${f(group.perSec / plain.perSec, 2)}× |`,
  );
}
