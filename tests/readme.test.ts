import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The README's CLI session is run as written (with `npx tongban` pointing at
// the built CLI), so the README cannot drift from what the commands do.
const repo = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(join(repo, "README.md"), "utf8");
const block = /<!-- readme-cli:start -->\s*```sh\n([\s\S]*?)```\s*<!-- readme-cli:end -->/.exec(readme)?.[1];

describe("README", () => {
  it("has a CLI session block", () => {
    expect(block).toBeDefined();
    expect(block).toContain("npx tongban");
  });

  it("its CLI session runs as written in an empty directory", () => {
    // Beside the repository's top level, as the README says, so ../examples/mapping resolves.
    const dir = mkdtempSync(join(repo, ".readme-session-"));
    try {
      const bin = join(repo, "packages/cli/dist/bin.js");
      const script = `set -euo pipefail\ntongban() { node ${JSON.stringify(bin)} "$@"; }\n${block!.replace(/npx tongban/g, "tongban")}`;
      const r = spawnSync("bash", ["-c", script], { cwd: dir, encoding: "utf8" });
      expect(r.status, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
      expect(r.stdout).toContain("valid: STATUS_UPDATE");
      expect(r.stdout).toContain("INVALID TRUST_CERT_REVOKED");
      expect(r.stdout).toContain("refused as expected");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
