/**
 * The conformance suite's self-test: the reference node (started from a
 * node directory, real mTLS and LevelDB) passes every case through the CLI,
 * which writes all report formats; deliberately broken variants — each
 * missing one check — fail exactly the cases aimed at their fault, which
 * proves the suite can fail.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { composeNode, freePort, initNodeDirectory, openNode, type TongbanNode } from "@tongban/node";
import { TongbanError, createFederationRoot, type FederationRoot } from "@tongban/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../program.js";
import { startPartnerServer, type PartnerIdentity, type RunContext, type Target } from "./runner.js";
import { defaultCasesDir, loadCases, runSuite } from "./suite.js";

const TABLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "examples", "mapping");
const NODE = "cn.310118.qingpu";
let dir: string;
let root: FederationRoot;
let partnerPort: number;
let nodeDir: string;
let token: string;
const cases = loadCases(defaultCasesDir());

async function tongban(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-conformance-"));
  root = await createFederationRoot({ name: "conformance self-test root", validityDays: 30 });
  const { writeFileSync } = await import("node:fs");
  writeFileSync(join(dir, "root.crt"), root.certificatePem);
  writeFileSync(join(dir, "root.key"), root.privateKeyPem);
  partnerPort = await freePort();
  const enrolled = await tongban("--json", "conformance", "enroll", "--ca-cert", join(dir, "root.crt"), "--ca-key", join(dir, "root.key"), "--out", join(dir, "partners"), "--partner-listen", `127.0.0.1:${partnerPort}`);
  expect(enrolled.code, enrolled.err).toBe(0);
  const peers = (JSON.parse(enrolled.out) as { partners: { nodeId: string; address: string; certificates: string[] }[] }).partners;
  nodeDir = join(dir, "qingpu");
  const init = await initNodeDirectory({ dir: nodeDir, nodeId: NODE, ca: root, tablesDir: TABLES, peers, federationListen: `127.0.0.1:${await freePort()}`, platformListen: `127.0.0.1:${await freePort()}`, adjust: (c) => ({ ...c, log: { level: "silent" } }) });
  token = init.platformToken;
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the node from its directory; `breakIt` may wrap its Deliver to remove one check. */
type Deliver = NonNullable<NonNullable<Awaited<ReturnType<typeof composeNode>>["federation"]>["deliver"]>;
async function startNode(breakIt?: (deliver: Deliver) => Deliver): Promise<TongbanNode> {
  const node = await openNode(join(nodeDir, "node.yaml"), {
    logDestination: { write: () => undefined } as never,
    compose: async (parts) => {
      const c = await composeNode(parts, { outboxIntervalMs: 50 });
      const deliver = c.federation?.deliver;
      if (breakIt !== undefined && c.federation !== undefined && deliver !== undefined) c.federation.deliver = breakIt(deliver);
      return c;
    },
  });
  await node.start();
  return node;
}

describe("conformance self-test", () => {
  it("has at least 60 cases across the areas, each able to fail", () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    expect(new Set(cases.map((c) => c.id.split("/")[0])).size).toBeGreaterThanOrEqual(9);
  });

  it("the reference node, started with `tongban node start`, passes every case through `tongban conformance run`, with all four report formats", async () => {
    // The node as a city runs it: its own process, from its node directory.
    const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dist", "bin.js");
    const child = spawn(process.execPath, [bin, "node", "start", "--config", join(nodeDir, "node.yaml")], { stdio: ["ignore", "ignore", "pipe"] });
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    let stderr = "";
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the node did not start: ${stderr}`)), 20_000);
      child.stderr!.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes("running")) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    const m = /federation (\d+\.\d+\.\d+\.\d+:\d+), platform (\d+\.\d+\.\d+\.\d+:\d+)/.exec(stderr);
    expect(m).not.toBeNull();
    try {
      const r = await tongban(
        "conformance", "run",
        "--target", m![1]!, "--node-id", NODE,
        "--platform", m![2]!, "--platform-token", token,
        "--ca-cert", join(dir, "root.crt"), "--ca-key", join(dir, "root.key"),
        "--target-signing-cert", join(nodeDir, "pki", "sign.crt"), "--target-tls-cert", join(nodeDir, "pki", "tls.crt"),
        "--partners", join(dir, "partners"), "--partner-listen", `127.0.0.1:${partnerPort}`,
        "--report", "json", "junit", "html", "--out-dir", dir, "--parallel", "4",
      );
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.out).toMatch(/(\d+) passed, 0 failed/);
      const json = JSON.parse(readFileSync(join(dir, "conformance.json"), "utf8")) as { results: { status: string }[] };
      expect(json.results.filter((x) => x.status === "passed").length).toBe(cases.length);
      expect(readFileSync(join(dir, "conformance.junit.xml"), "utf8")).toContain(`<testsuites name="tongban conformance" tests="${cases.length}">`);
      expect(readFileSync(join(dir, "conformance.html"), "utf8")).toContain(`${cases.length} passed, 0 failed`);
    } finally {
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  }, 120_000);

  // Broken variants: each swallows one refusal and answers with a "receipt" as a node lacking that check would.
  const variants: [string, (code: string) => boolean][] = [
    ["does not check signatures", (code) => code === "ENVELOPE_BAD_SIGNATURE"],
    ["accepts replays", (code) => code === "ENVELOPE_REPLAYED"],
    ["accepts envelopes for another node", (code) => code === "ENVELOPE_WRONG_RECIPIENT"],
    ["ignores timestamps", (code) => code === "ENVELOPE_TIMESTAMP_OUT_OF_WINDOW"],
    ["ignores per-case sequence numbers", (code) => code === "CASE_SEQUENCE_CONFLICT"],
    ["does not check the TLS identity against the signer", (code) => code === "TRANSPORT_PEER_MISMATCH"],
  ];
  for (const [name, swallowed] of variants) {
    it(`a node that ${name} fails exactly the cases aimed at it`, async () => {
      const node = await startNode((deliver) => async (req, ctx) => {
        try {
          return await deliver(req, ctx);
        } catch (err) {
          if (err instanceof TongbanError && swallowed(err.code)) return { receipt: req.envelope! };
          throw err;
        }
      });
      const ctx = await contextFor(node);
      const partnerServer = await startPartnerServer(ctx.partners.a, ctx.target, { host: "127.0.0.1", port: partnerPort });
      try {
        const report = await runSuite(cases, { ...ctx, partnerServer }, { parallel: 4 });
        const failed = report.results.filter((r) => r.status === "failed").map((r) => r.id).sort();
        // The cases aimed at the fault: those where the reference node refused with that code.
        const reference = JSON.parse(readFileSync(join(dir, "conformance.json"), "utf8")) as { results: { id: string; exchange: string[] }[] };
        const aimed = reference.results.filter((c) => c.exchange.some((line) => { const m = / → ([A-Z_]+)$/.exec(line); return m !== null && swallowed(m[1]!); })).map((c) => c.id).sort();
        expect(aimed.length).toBeGreaterThan(0);
        expect(failed).toEqual(aimed);
      } finally {
        await partnerServer.close();
        await node.stop();
      }
    }, 90_000);
  }
});

async function contextFor(node: TongbanNode): Promise<RunContext> {
  const partner = (name: "a" | "b"): PartnerIdentity => {
    const certificates = JSON.parse(readFileSync(join(dir, "partners", `${name}.json`), "utf8")) as PartnerIdentity["certificates"];
    return { nodeId: certificates.nodeId, certificates };
  };
  const target: Target = {
    nodeId: NODE,
    federation: node.addresses!.federation,
    platform: { address: node.addresses!.platform, token },
    ca: { certificatePem: root.certificatePem, privateKeyPem: root.privateKeyPem },
    signingCert: readFileSync(join(nodeDir, "pki", "sign.crt"), "utf8"),
    tlsCert: readFileSync(join(nodeDir, "pki", "tls.crt"), "utf8"),
    features: [],
  };
  return { target, partners: { a: partner("a"), b: partner("b") }, timeoutMs: 20_000 };
}
