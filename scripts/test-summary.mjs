#!/usr/bin/env node
// Sums the vitest JSON reports every workspace wrote during `npm test` and
// prints one closing line, "tests: N passed, N failed, N skipped", so CI and
// people see the whole count. Exits non-zero when any test failed or when a
// workspace wrote no report (it did not run).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const workspaces = ["packages/sdk", "packages/node", "packages/cli", "tests"];
let passed = 0, failed = 0, skipped = 0;
const missing = [];
for (const ws of workspaces) {
  const file = join(ws, ".test-results", "vitest.json");
  if (!existsSync(file)) {
    missing.push(ws);
    continue;
  }
  const r = JSON.parse(readFileSync(file, "utf8"));
  passed += r.numPassedTests ?? 0;
  failed += (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0);
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  process.stdout.write(`  ${ws.padEnd(14)} ${r.numPassedTests} passed, ${r.numFailedTests} failed\n`);
}
for (const ws of missing) process.stdout.write(`  ${ws.padEnd(14)} no test report: did its tests run?\n`);
process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exitCode = failed > 0 || missing.length > 0 || passed === 0 ? 1 : 0;
