import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { stringify } from "yaml";
import { issueNodeCertificates, type NodeCertificates } from "@tongban/sdk";
import { html, junit, summary, type RunReport } from "../conformance/report.js";
import { ManagedNode, answersNodeInfo } from "../conformance/managed-node.js";
import { startPartnerServer, type PartnerIdentity, type RunContext } from "../conformance/runner.js";
import { defaultCasesDir, loadCases, runSuite } from "../conformance/suite.js";
import { outputFor, type CommandContext, type CommandRegistrar } from "../context.js";
import { CliError, type Output } from "../output.js";

interface RunOptions {
  target: string;
  nodeId: string;
  platform?: string;
  platformToken?: string;
  caCert: string;
  caKey?: string;
  targetSigningCert: string;
  targetTlsCert: string;
  partners: string;
  partnerListen?: string;
  cases?: string;
  run?: string[];
  skip?: string[];
  knownFailing?: string;
  parallel: number;
  timeout: number;
  report?: string[];
  outDir: string;
  features?: string[];
  nodeCommand?: string;
}

/** `tongban conformance`: prove a node speaks the protocol (docs/conformance/). */
export const conformanceCommand: CommandRegistrar = (program, ctx) => {
  const c = program.command("conformance").description("the conformance suite: enroll test partners, run the cases against a node");

  c.command("enroll")
    .description("issue the two test partners' certificates with the federation CA and print the peers to add to the node's node.yaml")
    .requiredOption("--ca-cert <file>", "federation root (PEM)")
    .requiredOption("--ca-key <file>", "its key (PEM)")
    .requiredOption("--out <dir>", "where to write the partners")
    .option("--a <nodeId>", "partner A's node id (its region needs an agreement with the node's)", "cn.320509.conformance-a")
    .option("--b <nodeId>", "partner B's node id", "cn.330421.conformance-b")
    .option("--partner-listen <host:port>", "where partner A will listen during runs", "127.0.0.1:17443")
    .action(async (opts: { caCert: string; caKey: string; out: string; a: string; b: string; partnerListen: string }, cmd: Command) => enroll(opts, outputFor(cmd, ctx)));

  c.command("run")
    .description("run the conformance cases against a node; exit 1 when a case fails (not counting --known-failing)")
    .requiredOption("--target <host:port>", "the node's FederationService")
    .requiredOption("--node-id <id>", "the node's id")
    .option("--platform <host:port>", "the node's PlatformService (platform-area cases)")
    .option("--platform-token <token>", "a platform token of the node")
    .requiredOption("--ca-cert <file>", "federation root (PEM)")
    .option("--ca-key <file>", "its key: lets the runner make an unenrolled member for the trust cases")
    .requiredOption("--target-signing-cert <file>", "the node's signing certificate (receipts are checked against it)")
    .requiredOption("--target-tls-cert <file>", "the node's TLS certificate (submissions are encrypted to it)")
    .requiredOption("--partners <dir>", "the partners written by `tongban conformance enroll`")
    .option("--partner-listen <host:port>", "where partner A listens (must be the node's peer address for it)")
    .option("--cases <dir>", "case directory (default: the suite shipped with the CLI)")
    .option("--run <globs...>", "only cases matching (e.g. envelope/* 'replay/*')")
    .option("--skip <globs...>", "skip cases matching")
    .option("--known-failing <file>", "case ids (one per line) whose failure does not fail the run")
    .option("--parallel <n>", "cases at once", (v) => Number(v), 4)
    .option("--timeout <ms>", "per case", (v) => Number(v), 20_000)
    .option("--report <formats...>", "json, junit, html (written to --out-dir)")
    .option("--out-dir <dir>", "where reports go", ".")
    .option("--features <names...>", "features the node declares (cases requiring others are skipped)")
    .option("--node-command <command>", "start the node under test with this shell command and own its process: enables the crash cases (restart), which kill -9 it and start it again")
    .action(async (opts: RunOptions, cmd: Command) => run(opts, outputFor(cmd, ctx), ctx));
};

async function enroll(opts: { caCert: string; caKey: string; out: string; a: string; b: string; partnerListen: string }, out: Output): Promise<void> {
  const ca = { certificatePem: await readFile(opts.caCert, "utf8"), privateKeyPem: await readFile(opts.caKey, "utf8") };
  await mkdir(opts.out, { recursive: true, mode: 0o700 });
  const peers = [];
  for (const [name, nodeId] of [["a", opts.a], ["b", opts.b]] as const) {
    const certs = await issueNodeCertificates({ ca, nodeId, signingAlgorithm: "ES256", validityDays: 397 }).catch((err: unknown) => {
      throw new CliError("IDENTIFIER_INVALID", (err as Error).message);
    });
    await writeFile(join(opts.out, `${name}.json`), JSON.stringify(certs, null, 2), { mode: 0o600 });
    await writeFile(join(opts.out, `${name}.tls.crt`), certs.tls.certificatePem);
    await writeFile(join(opts.out, `${name}.sign.crt`), certs.signing.certificatePem);
    peers.push({ nodeId, address: name === "a" ? opts.partnerListen : "127.0.0.1:9", certificates: [join(opts.out, `${name}.tls.crt`), join(opts.out, `${name}.sign.crt`)] });
  }
  const snippet = stringify({ peers });
  await writeFile(join(opts.out, "peers.yaml"), snippet);
  out.line(`Enrolled ${opts.a} (partner A, listens on ${opts.partnerListen}) and ${opts.b} (partner B) in ${opts.out}.`);
  out.line("Add these peers to the node's node.yaml (or publish them in the directory), restart the node, then run the suite:");
  out.line(snippet.trimEnd());
  out.result({ ok: true, partners: peers });
}

async function partnerOf(dir: string, name: "a" | "b"): Promise<PartnerIdentity> {
  const certificates = JSON.parse(await readFile(join(dir, `${name}.json`), "utf8")) as NodeCertificates;
  return { nodeId: certificates.nodeId, certificates };
}

async function run(opts: RunOptions, out: Output, ctx: CommandContext): Promise<void> {
  const cases = loadCases(opts.cases ?? defaultCasesDir());
  const partners = { a: await partnerOf(opts.partners, "a"), b: await partnerOf(opts.partners, "b") };
  const target = {
    nodeId: opts.nodeId,
    federation: opts.target,
    ...(opts.platform === undefined || opts.platformToken === undefined ? {} : { platform: { address: opts.platform, token: opts.platformToken } }),
    ca: { certificatePem: await readFile(opts.caCert, "utf8"), ...(opts.caKey === undefined ? {} : { privateKeyPem: await readFile(opts.caKey, "utf8") }) },
    signingCert: await readFile(opts.targetSigningCert, "utf8"),
    tlsCert: await readFile(opts.targetTlsCert, "utf8"),
    features: opts.features ?? [],
  };
  let partnerServer;
  if (opts.partnerListen !== undefined) {
    const [host, port] = [opts.partnerListen.slice(0, opts.partnerListen.lastIndexOf(":")), Number(opts.partnerListen.slice(opts.partnerListen.lastIndexOf(":") + 1))];
    partnerServer = await startPartnerServer(partners.a, target, { host, port });
  }
  const knownFailing = opts.knownFailing === undefined ? [] : (await readFile(opts.knownFailing, "utf8")).split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  let node: ManagedNode | undefined;
  if (opts.nodeCommand !== undefined) {
    node = new ManagedNode({
      command: opts.nodeCommand,
      federation: opts.target,
      ready: answersNodeInfo({ address: opts.target, nodeId: opts.nodeId, ca: target.ca.certificatePem }, partners.a.certificates.tls),
    });
    out.note(`starting the node under test: ${opts.nodeCommand}`);
    try {
      await node.start();
    } catch (err) {
      await partnerServer?.close();
      throw err;
    }
  }
  const runCtx: RunContext = { target, partners, ...(partnerServer === undefined ? {} : { partnerServer }), ...(node === undefined ? {} : { node }), timeoutMs: opts.timeout };
  let report: RunReport;
  try {
    report = await runSuite(cases, runCtx, {
      ...(opts.run === undefined ? {} : { run: opts.run }),
      ...(opts.skip === undefined ? {} : { skip: opts.skip }),
      knownFailing,
      parallel: opts.parallel,
      onResult: (r, done, total) => out.note(`[${String(done).padStart(3)}/${total}] ${r.status === "passed" ? "pass" : r.status === "skipped" ? "skip" : "FAIL"} ${r.id}${r.reason === undefined ? "" : ` — ${r.reason}`}`),
    });
  } finally {
    await partnerServer?.close();
    if (node !== undefined) {
      await node.stop("graceful");
      out.note(`the node under test stopped after ${node.restarts} restart(s)`);
    }
  }
  const s = summary(report);
  out.table(["area", "passed", "failed", "skipped"], Object.entries(s.byArea).map(([a, v]) => [a, v.passed, v.failed, v.skipped]));
  for (const r of report.results.filter((x) => x.status === "failed")) out.line(`FAIL ${r.id}${knownFailing.includes(r.id) ? " (known)" : ""}: ${r.reason}`);
  out.line(`${s.passed} passed, ${s.failed} failed${s.knownFailing > 0 ? `, ${s.knownFailing} known failing` : ""}, ${s.skipped} skipped — ${(report.ms / 1000).toFixed(1)} s`);
  for (const f of opts.report ?? []) {
    const file = join(opts.outDir, `conformance.${f === "junit" ? "junit.xml" : f}`);
    if (f === "json") await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    else if (f === "junit") await writeFile(file, junit(report));
    else if (f === "html") await writeFile(file, html(report));
    else throw new CliError("CONFIG_INVALID", `unknown report format ${f} (json, junit, html)`);
    out.note(`report: ${file}`);
  }
  out.result({ ok: s.failed === 0, ...s, ms: report.ms });
  if (s.failed > 0) ctx.setExitCode(1);
}
