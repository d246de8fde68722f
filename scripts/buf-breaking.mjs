#!/usr/bin/env node
// Guards protocol v1 against breaking changes (buf breaking, WIRE_JSON rules).
//
// What it compares against:
//   - BUF_BREAKING_AGAINST, when set (any buf input, e.g. ".git#branch=main");
//   - on a branch other than main: the local `main` branch;
//   - on main: the previous commit (HEAD~1), so every landing is checked
//     against what was there before it;
//   - and, when proto/ has uncommitted changes, HEAD as well.
// A ref without a buf.yaml (before the protocol existed) is skipped, and says so.
import { execFileSync, spawnSync } from "node:child_process";

const git = (...args) => {
  const r = spawnSync("git", args, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
};
const hasBufYaml = (ref) => spawnSync("git", ["cat-file", "-e", `${ref}:buf.yaml`]).status === 0;

const against = [];
if (process.env.BUF_BREAKING_AGAINST) {
  against.push(process.env.BUF_BREAKING_AGAINST);
} else if (git("rev-parse", "--is-inside-work-tree") === "true") {
  const branch = git("rev-parse", "--abbrev-ref", "HEAD");
  if (branch !== "main" && git("rev-parse", "--verify", "-q", "main") && hasBufYaml("main")) {
    against.push(".git#branch=main");
  } else if (git("rev-parse", "--verify", "-q", "HEAD~1") && hasBufYaml("HEAD~1")) {
    against.push(`.git#ref=${git("rev-parse", "HEAD~1")}`);
  }
  const dirty = git("status", "--porcelain", "--", "proto", "buf.yaml");
  if (dirty && git("rev-parse", "--verify", "-q", "HEAD") && hasBufYaml("HEAD")) {
    against.push(`.git#ref=${git("rev-parse", "HEAD")}`);
  }
}

if (against.length === 0) {
  console.log("buf breaking: no earlier protocol version in this history to compare against (first version); skipped");
  process.exit(0);
}
for (const input of against) {
  console.log(`buf breaking --against ${input}`);
  execFileSync("npx", ["--no-install", "buf", "breaking", "--against", input], { stdio: "inherit" });
}
console.log("buf breaking: no breaking change");
