import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The vendor guide's example is run as written, so the guide cannot drift from the SDK.
const here = fileURLToPath(new URL(".", import.meta.url));
const guide = readFileSync(join(here, "../docs/guides/vendor.md"), "utf8");
const code = /```js\n([\s\S]*?)```/.exec(guide)?.[1];

describe("docs/guides/vendor.md", () => {
  it("its example runs and prints what its comments say", () => {
    expect(code).toBeDefined();
    // Written inside tests/ so `@tongban/sdk` resolves to the workspace package.
    const file = join(here, `.vendor-guide-${process.pid}.mjs`);
    writeFileSync(file, code!);
    try {
      const r = spawnSync(process.execPath, [file], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim().split("\n")).toEqual([
        "false check-character",
        "true",
        "cn.310118.qingpu applicationSubmission",
        "ENVELOPE_WRONG_RECIPIENT",
      ]);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
