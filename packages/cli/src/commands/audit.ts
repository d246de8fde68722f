import { existsSync, statSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { auditLog, exportCaseBundle, loadNodeConfig, openLevelStore, prunePayloads } from "@tongban/node";
import { BUNDLE_FORMAT, serializeCaseBundle, verifyCaseBundle } from "@tongban/sdk";
import { outputFor, type CommandContext, type CommandRegistrar } from "../context.js";
import { CliError, type Output } from "../output.js";

/** `tongban audit`: verify a node's evidence log or a case bundle offline, export bundles, prune payloads (docs/evidence.md). */
export const auditCommand: CommandRegistrar = (program, ctx) => {
  const a = program.command("audit").description("the evidence log (全程留痕): verify, export case bundles, retention");

  a.command("verify")
    .description("verify a node's evidence log (a node directory, its node.yaml, or its LevelDB data directory) or a case bundle file; exit 1 on any problem")
    .argument("<path>", "node directory, node.yaml, data directory, or bundle file")
    .option("--trust <anchor>", "federation root (PEM): required for a bundle; for a node, checkpoint signatures are checked against it (default: the anchor in the node's node.yaml, if given one)")
    .action(async (path: string, opts: { trust?: string }, cmd: Command) => verify(path, opts, outputFor(cmd, ctx), ctx));

  a.command("export")
    .description("export a case's evidence as one self-contained bundle file")
    .requiredOption("--data <dir>", "the node's data directory (or node directory / node.yaml); the node must be stopped")
    .requiredOption("--case <id>", "case id (or joint case id)")
    .requiredOption("--out <file>", "bundle file to write")
    .option("--cert <files...>", "partners' signing certificates (PEM) to embed, so their envelopes verify offline")
    .action(async (opts: { data: string; case: string; out: string; cert?: string[] }, cmd: Command) => exportBundle(opts, outputFor(cmd, ctx)));

  a.command("prune")
    .description("retention: delete evidence payloads older than N days; entries and hashes stay, so the log and earlier bundles still verify")
    .requiredOption("--data <dir>", "the node's data directory (or node directory / node.yaml); the node must be stopped")
    .requiredOption("--older-than <days>", "age in days", (v) => Number(v))
    .action(async (opts: { data: string; olderThan: number }, cmd: Command) => prune(opts, outputFor(cmd, ctx)));
};

/** The LevelDB directory for a node directory, its node.yaml, or a data directory; with the node's config when there is one. */
async function dataDirOf(path: string): Promise<{ dir: string; nodeId?: string; anchor?: string }> {
  if (!existsSync(path)) throw new CliError("CONFIG_INVALID", `${path} does not exist`);
  const yaml = statSync(path).isFile() ? path : existsSync(join(path, "node.yaml")) ? join(path, "node.yaml") : undefined;
  if (yaml === undefined) return { dir: path };
  const config = await loadNodeConfig(yaml);
  return { dir: config.dataDir, nodeId: config.nodeId, anchor: config.trust.anchor };
}

async function withStore<T>(dir: string, f: (store: Awaited<ReturnType<typeof openLevelStore>>) => Promise<T>): Promise<T> {
  let store;
  try {
    store = await openLevelStore(dir);
  } catch (err) {
    throw new CliError("STORE_UNAVAILABLE", `cannot open the node's store at ${dir} (is the node still running? stop it first): ${(err as Error).message}`);
  }
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}

async function verify(path: string, opts: { trust?: string }, out: Output, ctx: CommandContext): Promise<void> {
  const isFile = existsSync(path) && statSync(path).isFile();
  if (isFile && !path.endsWith(".yaml") && !path.endsWith(".yml") && (await readFile(path, "utf8")).includes(BUNDLE_FORMAT)) {
    if (opts.trust === undefined) throw new CliError("CONFIG_INVALID", "verifying a bundle needs --trust (the federation root)");
    const report = await verifyCaseBundle(await readFile(path, "utf8"), { trust: await readFile(opts.trust, "utf8") });
    out.table(["step", "ok", "entry", "reason", "detail"], report.steps.map((s) => [s.step, s.ok ? "ok" : "FAIL", s.index ?? "", s.reason, s.message]));
    out.line(report.ok ? `bundle verifies: ${report.entries} entries of the case proven in the origin's log at size ${report.checkpoint?.treeSize ?? "?"}, ${report.witnesses.length} witness cosignature(s)` : "bundle DOES NOT verify");
    out.result(report);
    if (!report.ok) ctx.setExitCode(1);
    return;
  }
  const node = await dataDirOf(path);
  const anchorFile = opts.trust ?? node.anchor;
  const trust = anchorFile === undefined ? undefined : await readFile(anchorFile);
  const report = await withStore(node.dir, (store) => auditLog(store, { ...(trust === undefined ? {} : { trust }), ...(node.nodeId === undefined ? {} : { nodeId: node.nodeId }) }));
  const signatures = report.signaturesChecked ? `signed by the node under ${anchorFile}` : "signatures NOT checked (give --trust)";
  if (report.ok)
    out.line(`evidence log verifies: ${report.entries} entries (${report.payloadsDeleted} payloads deleted by retention), ${report.checkpoints} checkpoint(s) up to size ${report.checkpointedSize} match, ${signatures}`);
  else out.line(`evidence log DOES NOT verify${report.problem?.index === undefined ? "" : ` at entry ${report.problem.index}`}: ${report.problem?.reason} — ${report.problem?.message}`);
  out.result(report);
  if (!report.ok) ctx.setExitCode(1);
}

async function exportBundle(opts: { data: string; case: string; out: string; cert?: string[] }, out: Output): Promise<void> {
  const certificates = await Promise.all((opts.cert ?? []).map((f) => readFile(f, "utf8")));
  const bundle = await withStore((await dataDirOf(opts.data)).dir, (store) =>
    exportCaseBundle(store, opts.case, { certificates }).catch((err: unknown) => {
      if (err instanceof RangeError) throw new CliError("CASE_NOT_FOUND", err.message);
      throw err;
    }),
  );
  await writeFile(opts.out, serializeCaseBundle(bundle));
  out.line(`exported ${bundle.entries.length} entries of case ${opts.case} → ${opts.out}`);
  out.result({ ok: true, caseId: opts.case, entries: bundle.entries.length, out: opts.out });
}

async function prune(opts: { data: string; olderThan: number }, out: Output): Promise<void> {
  if (!Number.isFinite(opts.olderThan) || opts.olderThan < 0) throw new CliError("CONFIG_INVALID", "--older-than must be a number of days ≥ 0");
  const before = new Date(Date.now() - opts.olderThan * 86_400_000);
  const deleted = await withStore((await dataDirOf(opts.data)).dir, (store) => prunePayloads(store, before));
  out.line(`deleted ${deleted} payload(s) older than ${before.toISOString()}; entries and hashes kept`);
  out.result({ ok: true, deleted, before: before.toISOString() });
}

