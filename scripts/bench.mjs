#!/usr/bin/env node
// `npm run bench`: runs every benchmark script with --json, one after another
// (never in parallel: they would measure each other), and prints one table of
// figures and ratios against the baseline each script measured in the same run.
//
//   node scripts/bench.mjs [--json] [--only NAME[,NAME]] [-- extra args for every script]
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as osModule from "node:os";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const BENCHES = [
  { name: "envelope", script: "scripts/bench-envelope.mjs", what: "envelope sign+verify vs raw node:crypto" },
  { name: "mapping", script: "scripts/bench-mapping.mjs", what: "mapping resolution, 100k items" },
  { name: "group-commit", script: "packages/node/bench/group-commit.mjs", what: "store group commit vs one fsync per commit" },
  { name: "intake", script: "scripts/bench-intake.mjs", what: "node intake over mTLS vs a bare grpc-js echo server" },
  { name: "cases", script: "scripts/bench-cases.mjs", what: "remote-receipt cases end to end across two nodes, and 100 MB of materials through a case (peak memory)" },
  { name: "evidence", script: "scripts/bench-evidence.mjs", what: "evidence log verification vs raw SHA-256, and proof sizes" },
];

const argv = process.argv.slice(2);
const json = argv.includes("--json");
const onlyIdx = argv.indexOf("--only");
const only = onlyIdx >= 0 ? new Set((argv[onlyIdx + 1] ?? "").split(",")) : null;
const dashIdx = argv.indexOf("--");
const extra = dashIdx >= 0 ? argv.slice(dashIdx + 1) : [];

const results = [];
for (const b of BENCHES) {
  if (only && !only.has(b.name)) continue;
  const path = join(root, b.script);
  if (!existsSync(path)) {
    results.push({ name: b.name, what: b.what, status: "missing", rows: [] });
    continue;
  }
  process.stderr.write(`[bench] ${b.name}: ${b.what} …\n`);
  const r = spawnSync(process.execPath, [path, "--json", ...extra], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) {
    results.push({ name: b.name, what: b.what, status: `failed (exit ${r.status})`, rows: [] });
    continue;
  }
  let parsed;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    results.push({ name: b.name, what: b.what, status: "bad output", rows: [] });
    continue;
  }
  results.push({ name: b.name, what: b.what, status: "ok", result: parsed });
}

if (json) {
  process.stdout.write(`${JSON.stringify({ machine: machine(), results }, null, 2)}\n`);
} else {
  const m = machine();
  process.stdout.write(`Tongban benchmarks — node ${m.node}, ${m.cpus}× ${m.cpuModel}, ${m.memGiB} GiB\n\n`);
  for (const r of results) {
    process.stdout.write(`## ${r.name} — ${r.what}: ${r.status}\n`);
    if (r.result) process.stdout.write(`${formatResult(r.result)}\n`);
    process.stdout.write("\n");
  }
}
process.exitCode = results.some((r) => r.status !== "ok") ? 1 : 0;

function machine() {
  const os = osModule;
  return { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "?", memGiB: Math.round(os.totalmem() / 2 ** 30) };
}
function formatResult(result) {
  const rows = Array.isArray(result) ? result : Array.isArray(result.rows) ? result.rows : [result];
  if (rows.length === 0) return "(no rows)";
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : typeof v === "object" ? JSON.stringify(v) : String(v ?? ""));
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => cell(r[k]).length)));
  const line = (vals) => `| ${vals.map((v, i) => v.padEnd(widths[i])).join(" | ")} |`;
  return [line(keys), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map((r) => line(keys.map((k) => cell(r[k]))))].join("\n");
}
