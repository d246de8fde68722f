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
import { composeNode, freePorts, initNodeDirectory, openNode, type ComposeOptions, type TongbanNode } from "@tongban/node";
import { TongbanError, createFederationRoot, type FederationRoot } from "@tongban/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../program.js";
import type { ConformanceCase } from "./case-schema.js";
import { ManagedNode, answersNodeInfo } from "./managed-node.js";
import { startPartnerServer, type PartnerIdentity, type RunContext, type Target } from "./runner.js";
import { defaultCasesDir, loadCases, runSuite } from "./suite.js";

const TABLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "examples", "mapping");
const NODE = "cn.310118.qingpu";
let dir: string;
let root: FederationRoot;
let partnerPort: number;
let nodeDir: string;
let token: string;
let federation: string;
let platform: string;
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
  const [p0, p1, p2] = await freePorts(3);
  partnerPort = p0!;
  const enrolled = await tongban("--json", "conformance", "enroll", "--ca-cert", join(dir, "root.crt"), "--ca-key", join(dir, "root.key"), "--out", join(dir, "partners"), "--partner-listen", `127.0.0.1:${partnerPort}`);
  expect(enrolled.code, enrolled.err).toBe(0);
  const peers = (JSON.parse(enrolled.out) as { partners: { nodeId: string; address: string; certificates: string[] }[] }).partners;
  nodeDir = join(dir, "qingpu");
  const init = await initNodeDirectory({ dir: nodeDir, nodeId: NODE, ca: root, tablesDir: TABLES, peers, federationListen: (federation = `127.0.0.1:${p1!}`), platformListen: (platform = `127.0.0.1:${p2!}`), adjust: (c) => ({ ...c, log: { level: "silent" } }) });
  token = init.platformToken;
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the node from its directory; `breakIt` may wrap its Deliver to remove one check, `strip` leave out FederationService methods. */
type Deliver = NonNullable<NonNullable<Awaited<ReturnType<typeof composeNode>>["federation"]>["deliver"]>;
async function startNode(breakIt?: (deliver: Deliver) => Deliver, options: ComposeOptions = {}, strip: readonly ("getMappingTable" | "getDirectory" | "pullEvents" | "acknowledgePulled")[] = []): Promise<TongbanNode> {
  const node = await openNode(join(nodeDir, "node.yaml"), {
    logDestination: { write: () => undefined } as never,
    compose: async (parts) => {
      const c = await composeNode(parts, { outboxIntervalMs: 50, ...options });
      const deliver = c.federation?.deliver;
      if (breakIt !== undefined && c.federation !== undefined && deliver !== undefined) c.federation.deliver = breakIt(deliver);
      for (const m of strip) if (c.federation !== undefined) delete c.federation[m];
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
    // The node as a city runs it: its own process, from its node directory — owned by the runner
    // (--node-command), which kills it (-9) and starts it again in the crash cases.
    const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dist", "bin.js");
    const r = await tongban(
      "conformance", "run",
      "--target", federation, "--node-id", NODE,
      "--platform", platform, "--platform-token", token,
      "--node-command", `'${process.execPath}' '${bin}' node start --config '${join(nodeDir, "node.yaml")}'`,
      "--ca-cert", join(dir, "root.crt"), "--ca-key", join(dir, "root.key"),
      "--target-signing-cert", join(nodeDir, "pki", "sign.crt"), "--target-tls-cert", join(nodeDir, "pki", "tls.crt"),
      "--partners", join(dir, "partners"), "--partner-listen", `127.0.0.1:${partnerPort}`,
      "--report", "json", "junit", "html", "--out-dir", dir, "--parallel", "4",
    );
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(new RegExp(`${cases.length} passed, 0 failed, 0 skipped`));
    expect(r.err).toMatch(/stopped after 4 restart\(s\)/);
    const json = JSON.parse(readFileSync(join(dir, "conformance.json"), "utf8")) as { results: { status: string }[] };
    expect(json.results.filter((x) => x.status === "passed").length).toBe(cases.length);
    expect(readFileSync(join(dir, "conformance.junit.xml"), "utf8")).toContain(`<testsuites name="tongban conformance" tests="${cases.length}">`);
    expect(readFileSync(join(dir, "conformance.html"), "utf8")).toContain(`${cases.length} passed, 0 failed`);
  }, 180_000);

  /** The cases where the reference run was refused with a code `swallowed` matches. */
  const refusedWith = (swallowed: (code: string) => boolean): string[] => {
    const reference = JSON.parse(readFileSync(join(dir, "conformance.json"), "utf8")) as { results: { id: string; exchange: string[] }[] };
    return reference.results.filter((c) => c.exchange.some((line) => { const m = / → ([A-Z_]+)$/.exec(line); return m !== null && swallowed(m[1]!); })).map((c) => c.id).sort();
  };
  const casesWhere = (p: (c: ConformanceCase) => boolean): string[] => cases.filter(p).map((c) => c.id).sort();

  async function failedAgainst(node: TongbanNode | undefined, managed?: ManagedNode): Promise<string[]> {
    const ctx = await contextFor(node);
    const partnerServer = await startPartnerServer(ctx.partners.a, ctx.target, { host: "127.0.0.1", port: partnerPort });
    try {
      const report = await runSuite(cases, { ...ctx, partnerServer, ...(managed === undefined ? {} : { node: managed }) }, { parallel: 4 });
      const failed = report.results.filter((r) => r.status === "failed");
      // Shown when a variant fails other cases than expected, to tell a flaw of the suite from one of the variant.
      for (const r of failed) console.log(`variant failed ${r.id}: ${r.reason}\n  ${r.exchange.join("\n  ")}`);
      return failed.map((r) => r.id).sort();
    } finally {
      await partnerServer.close();
    }
  }

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
      try {
        const aimed = refusedWith(swallowed);
        expect(aimed.length).toBeGreaterThan(0);
        // The crash cases are skipped here (no --node-command), so only a sequence case can be aimed twice.
        expect(await failedAgainst(node)).toEqual(aimed.filter((id) => !cases.find((c) => c.id === id)?.requires?.includes("restart")));
      } finally {
        await node.stop();
      }
    }, 90_000);
  }

  it("a node that does not verify seals (takes every seal on a result as valid) fails exactly the seal cases", async () => {
    const node = await startNode(undefined, {
      resultVerifier: async (documents) => documents.map((d) => ({ documentId: d.documentId, name: d.name, verdict: "valid", steps: [], licenses: [] })),
    });
    try {
      const aimed = casesWhere((c) => c.steps.some((s) => "deliver" in s && s.deliver.body === "result-bad-seal"));
      expect(aimed.length).toBeGreaterThan(0);
      expect(await failedAgainst(node)).toEqual(aimed);
    } finally {
      await node.stop();
    }
  }, 90_000);

  it("a node that does not serve mapping tables (GetMappingTable UNIMPLEMENTED) fails exactly the mapping-table cases", async () => {
    const node = await startNode(undefined, {}, ["getMappingTable"]);
    try {
      const aimed = casesWhere((c) => c.steps.some((s) => "platform" in s && s.platform.call === "mapping-table"));
      expect(aimed.length).toBe(2);
      expect(await failedAgainst(node)).toEqual(aimed);
    } finally {
      await node.stop();
    }
  }, 90_000);

  it("a node without pull mode (PullEvents, AcknowledgePulled UNIMPLEMENTED) fails exactly the pull cases", async () => {
    const node = await startNode(undefined, {}, ["pullEvents", "acknowledgePulled"]);
    try {
      const aimed = casesWhere((c) => c.steps.some((s) => "platform" in s && (s.platform.call === "pull-events" || s.platform.call === "pull-acknowledge")));
      expect(aimed.length).toBe(3);
      expect(await failedAgainst(node)).toEqual(aimed);
    } finally {
      await node.stop();
    }
  }, 90_000);

  it("a node that receipts before its writes are durable (a write-behind cache) fails exactly the crash cases", async () => {
    const fixture = join(dirname(fileURLToPath(import.meta.url)), "broken-nodes", "write-behind-node.mjs");
    const partnerA = await partnerIdentity("a");
    const managed = new ManagedNode({
      command: `'${process.execPath}' '${fixture}' --config '${join(nodeDir, "node.yaml")}'`,
      federation,
      ready: answersNodeInfo({ address: federation, nodeId: NODE, ca: root.certificatePem }, partnerA.certificates.tls),
    });
    await managed.start();
    try {
      const aimed = casesWhere((c) => c.steps.some((s) => "node" in s && s.node.restart === "kill"));
      expect(aimed.length).toBeGreaterThanOrEqual(3);
      expect(await failedAgainst(undefined, managed)).toEqual(aimed);
      expect(managed.restarts).toBeGreaterThanOrEqual(aimed.length);
    } finally {
      await managed.stop("graceful");
    }
  }, 180_000);
});

async function partnerIdentity(name: "a" | "b"): Promise<PartnerIdentity> {
  const certificates = JSON.parse(readFileSync(join(dir, "partners", `${name}.json`), "utf8")) as PartnerIdentity["certificates"];
  return { nodeId: certificates.nodeId, certificates };
}

/** The run context for a node started in this process, or (undefined) the node at the configured addresses. */
async function contextFor(node: TongbanNode | undefined): Promise<RunContext> {
  const target: Target = {
    nodeId: NODE,
    federation: node?.addresses?.federation ?? federation,
    platform: { address: node?.addresses?.platform ?? platform, token },
    ca: { certificatePem: root.certificatePem, privateKeyPem: root.privateKeyPem },
    signingCert: readFileSync(join(nodeDir, "pki", "sign.crt"), "utf8"),
    tlsCert: readFileSync(join(nodeDir, "pki", "tls.crt"), "utf8"),
    features: [],
  };
  return { target, partners: { a: await partnerIdentity("a"), b: await partnerIdentity("b") }, timeoutMs: 20_000 };
}
