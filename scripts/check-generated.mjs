#!/usr/bin/env node
// Regenerates the protobuf code into a temporary directory and fails when the
// committed code under packages/sdk/src/gen differs (stale or hand-edited).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const GEN = "packages/sdk/src/gen";
const tmp = mkdtempSync(join(tmpdir(), "tongban-gen-"));
try {
  execFileSync("npx", ["--no-install", "buf", "generate", "-o", tmp], { stdio: "inherit" });
  const fresh = join(tmp, GEN);
  const list = (root) => {
    if (!existsSync(root)) return [];
    const out = [];
    const walk = (dir) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else out.push(relative(root, p));
      }
    };
    walk(root);
    return out.sort();
  };
  const want = list(fresh);
  const have = list(GEN);
  const problems = [];
  for (const f of want) {
    if (!have.includes(f)) problems.push(`missing: ${GEN}/${f}`);
    else if (!readFileSync(join(fresh, f)).equals(readFileSync(join(GEN, f)))) problems.push(`stale: ${GEN}/${f}`);
  }
  for (const f of have) if (!want.includes(f)) problems.push(`extra: ${GEN}/${f}`);
  if (problems.length > 0) {
    console.error("Generated protobuf code is out of date. Run `npm run generate` and commit the result:");
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
  console.log(`generated code is current (${want.length} files)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
