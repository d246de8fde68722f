import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalFederation, type LocalFederation } from "@tongban/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The README's SDK snippet runs as written against live reference nodes.
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..");
const readme = readFileSync(join(repo, "README.md"), "utf8");
const snippet = /<!-- readme-sdk:start -->\s*```js\n([\s\S]*?)```\s*<!-- readme-sdk:end -->/.exec(readme)?.[1];

let dir: string;
let fed: LocalFederation;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-readme-sdk-"));
  fed = await startLocalFederation({
    dir,
    tablesDir: join(repo, "examples", "mapping"),
    nodes: [{ nodeId: "cn.310118.qingpu" }, { nodeId: "cn.320509.wujiang" }],
  });
}, 60_000);
afterAll(async () => {
  await fed?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("README SDK snippet", () => {
  it("connects to a node's PlatformService and a partner's FederationService as written", async () => {
    expect(snippet).toBeDefined();
    const qingpu = fed.node("cn.310118.qingpu");
    const file = join(here, ".readme-sdk-snippet.mjs"); // inside tests/, so @tongban/sdk resolves as in a project
    writeFileSync(file, snippet!);
    writeFileSync(join(dir, "root.crt"), fed.root.certificatePem);
    try {
      // Asynchronously: the nodes serve from this process's event loop.
      const r = await promisify(execFile)(process.execPath, [file], {
        encoding: "utf8",
        env: {
          ...process.env,
          TONGBAN_CA: join(dir, "root.crt"),
          TONGBAN_PLATFORM: qingpu.node!.addresses!.platform,
          TONGBAN_TOKEN: qingpu.platformToken,
          TONGBAN_PARTNER: fed.node("cn.320509.wujiang").node!.addresses!.federation,
          TONGBAN_TLS_CERT: qingpu.config.federation.tlsCert,
          TONGBAN_TLS_KEY: qingpu.config.federation.tlsKey,
        },
        timeout: 30_000,
      });
      expect(r.stdout).toContain("resolved: true 补发婚姻登记证");
      expect(r.stdout).toContain("cases: 0");
      expect(r.stdout).toContain("partner: cn.320509.wujiang");
    } finally {
      rmSync(file, { force: true });
    }
  });
});
