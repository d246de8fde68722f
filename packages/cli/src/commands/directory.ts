import { readFile, readdir, writeFile } from "node:fs/promises";
import { dirname, resolve as resolvePath } from "node:path";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import {
  TongbanError,
  TrustStore,
  buildDirectory,
  diffDirectories,
  directoryWarnings,
  loadTablesFromDirectory,
  signDirectory,
  verifyDirectory,
  type DirectoryInput,
  type UnsignedDirectory,
  type TableKeyResolver,
} from "@tongban/sdk";
import { outputFor, type CommandContext, type CommandRegistrar } from "../context.js";
import { CliError, type Output } from "../output.js";

/** `tongban directory`: build, sign, verify and diff the signed federation directory (docs/directory.md). */
export const directoryCommand: CommandRegistrar = (program, ctx) => {
  const d = program.command("directory").description("the signed federation directory: build, sign, verify, diff");

  d.command("build")
    .description("build an unsigned directory from a source file (YAML or JSON, certificate and CRL files by path)")
    .argument("<source>", "directory source (docs/directory.md \"Source file\")")
    .option("--anchor <root>", "federation root (PEM): every certificate must chain to it and the CRL be signed by it")
    .option("--out <file>", "where to write the unsigned directory JSON (default: print it)")
    .action(async (source: string, opts: { anchor?: string; out?: string }, cmd: Command) => build(source, opts, outputFor(cmd, ctx)));

  d.command("sign")
    .description("sign an unsigned directory with the authority's key (compact JWS)")
    .argument("<unsigned>", "unsigned directory JSON")
    .requiredOption("--key <file>", "the authority's signing key (PEM)")
    .requiredOption("--cert <file>", "its certificate: a directory-signing certificate, or the federation root itself")
    .option("--anchor <root>", "the federation root (PEM), placed after the signer in x5c")
    .requiredOption("--out <file>", "where to write the signed directory")
    .action(async (file: string, opts: { key: string; cert: string; anchor?: string; out: string }, cmd: Command) => sign(file, opts, outputFor(cmd, ctx)));

  d.command("verify")
    .description("verify a signed directory against the trust anchor; show its nodes and warnings; exit 1 if it is refused")
    .argument("<signed>", "signed directory")
    .requiredOption("--trust <anchor>", "federation root (PEM): the one out-of-band trust anchor")
    .option("--previous <signed>", "the directory held now: an older or equal version is refused (no rollback)")
    .option("--grace-days <n>", "days an expired directory is still accepted", (v) => Number(v), 0)
    .option("--warn-days <n>", "warn about certificates expiring within this many days", (v) => Number(v), 30)
    .action(async (file: string, opts: VerifyOptions, cmd: Command) => verify(file, opts, outputFor(cmd, ctx), ctx));

  d.command("diff")
    .description("what changed between two directories (signed or unsigned)")
    .argument("<old>", "older directory")
    .argument("<new>", "newer directory")
    .action(async (a: string, b: string, _o: unknown, cmd: Command) => diff(a, b, outputFor(cmd, ctx)));
};

interface VerifyOptions {
  trust: string;
  previous?: string;
  graceDays: number;
  warnDays: number;
}

type CertificateSource = string | { readonly file: string; readonly notAfter?: string };
interface SourceNode {
  readonly nodeId: string;
  readonly name: string;
  readonly regions: string[];
  readonly endpoints: { federation: string; platform?: string };
  readonly suite?: "jose-v1" | "gm-v1";
  readonly certificates: { tls: CertificateSource[]; signing: CertificateSource[] };
  readonly itemsServed?: string[];
  readonly receivesFor?: string[];
  readonly contact: { name: string; email?: string; phone?: string };
}
interface Source {
  readonly federation: { id: string; name: string };
  readonly version: number;
  readonly issuedAt?: string;
  readonly expiresAt?: string;
  readonly validDays?: number;
  readonly protocols?: string[];
  readonly crl: string;
  readonly tablesDir?: string;
  readonly nodes: SourceNode[];
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw new CliError("CONFIG_INVALID", `cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

/** The directory inside a signed JWS (not verified) or an unsigned JSON file. */
async function readDirectoryFile(file: string): Promise<UnsignedDirectory> {
  const text = (await readText(file, "directory")).trim();
  try {
    if (text.startsWith("{")) return JSON.parse(text) as UnsignedDirectory;
    const payload = text.split(".")[1] ?? "";
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as UnsignedDirectory;
  } catch {
    throw new TongbanError("DIRECTORY_INVALID", `${file} is neither a directory JSON nor a signed directory`, { details: { path: "$", reason: "undecodable" } });
  }
}

async function build(source: string, opts: { anchor?: string; out?: string }, out: Output): Promise<void> {
  const base = dirname(resolvePath(source));
  const at = (p: string) => resolvePath(base, p);
  let src: Source;
  try {
    src = parseYaml(await readText(source, "source")) as Source;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError("CONFIG_INVALID", `${source} is not valid YAML/JSON: ${(err as Error).message}`);
  }
  if (src === null || typeof src !== "object" || !Array.isArray(src.nodes)) throw new CliError("CONFIG_INVALID", `${source}: needs federation, version, crl and nodes`);
  const cert = async (c: CertificateSource) => (typeof c === "string" ? readText(at(c), "certificate") : { pem: await readText(at(c.file), "certificate"), ...(c.notAfter === undefined ? {} : { notAfter: c.notAfter }) });
  const issuedAt = src.issuedAt === undefined ? new Date() : new Date(src.issuedAt);
  let input: DirectoryInput = {
    federation: src.federation,
    version: src.version,
    issuedAt,
    expiresAt: src.expiresAt ?? new Date(issuedAt.getTime() + (src.validDays ?? 30) * 86_400_000),
    ...(src.protocols === undefined ? {} : { protocols: src.protocols }),
    crl: await readText(at(src.crl), "CRL"),
    mappingTables: [],
    nodes: await Promise.all(
      src.nodes.map(async (n) => ({
        ...n,
        suite: n.suite ?? "jose-v1",
        certificates: { tls: await Promise.all(n.certificates.tls.map(cert)), signing: await Promise.all(n.certificates.signing.map(cert)) },
      })),
    ),
  };
  if (src.tablesDir !== undefined) {
    // Signed tables (.jws) are verified with the nodes' signing certificates under the anchor, so the digests listed
    // are of what their publishers signed; without --anchor they cannot be, and are refused rather than left out.
    const signed = (await readdir(at(src.tablesDir))).some((n) => n.endsWith(".jws"));
    if (signed && opts.anchor === undefined) throw new CliError("CONFIG_INVALID", `${src.tablesDir} holds signed tables (.jws): pass --anchor to verify them`);
    let resolveKey: TableKeyResolver | undefined;
    if (signed) {
      const trust = new TrustStore({ anchor: await readText(opts.anchor!, "anchor") });
      for (const n of input.nodes) for (const c of n.certificates.signing) trust.addCertificate(typeof c === "string" ? c : c.pem);
      resolveKey = (kid) => trust.resolveSigner(kid, issuedAt);
    }
    const refs = loadTablesFromDirectory(at(src.tablesDir), resolveKey).refs;
    input = { ...input, mappingTables: refs.map((r) => ({ publisher: r.publisher, kind: r.kind, version: r.version, digest: r.digest })) };
  }
  const dir = buildDirectory(input, opts.anchor === undefined ? {} : { anchor: await readText(opts.anchor, "anchor") });
  const json = `${JSON.stringify(dir, null, 2)}\n`;
  if (opts.out === undefined) {
    out.line(json.trimEnd());
    return;
  }
  await writeFile(opts.out, json);
  out.line(`built directory v${dir.version} of ${dir.federation.id}: ${dir.nodes.length} nodes, expires ${dir.expiresAt} → ${opts.out}`);
  out.result({ ok: true, version: dir.version, nodes: dir.nodes.length, expiresAt: dir.expiresAt, out: opts.out });
}

async function sign(file: string, opts: { key: string; cert: string; anchor?: string; out: string }, out: Output): Promise<void> {
  const dir = JSON.parse(await readText(file, "unsigned directory")) as UnsignedDirectory;
  const jws = signDirectory(dir, { key: await readText(opts.key, "key"), cert: await readText(opts.cert, "certificate"), ...(opts.anchor === undefined ? {} : { anchor: await readText(opts.anchor, "anchor") }) });
  await writeFile(opts.out, jws);
  out.line(`signed directory v${dir.version} → ${opts.out} (${jws.length} bytes)`);
  out.result({ ok: true, version: dir.version, out: opts.out });
}

async function verify(file: string, opts: VerifyOptions, out: Output, ctx: CommandContext): Promise<void> {
  const anchor = await readText(opts.trust, "anchor");
  let held: number | undefined;
  if (opts.previous !== undefined) held = (await readDirectoryFile(opts.previous)).version;
  const trustStore = new TrustStore({ anchor });
  let v;
  try {
    v = verifyDirectory(await readText(file, "directory"), { trustStore, graceMs: opts.graceDays * 86_400_000, ...(held === undefined ? {} : { held }) });
  } catch (err) {
    if (!(err instanceof TongbanError)) throw err;
    out.line(`REFUSED ${err.code}: ${err.message}`);
    out.result({ ok: false, code: err.code, message: err.message, details: err.details });
    ctx.setExitCode(1);
    return;
  }
  const dir = v.directory;
  if (held !== undefined && dir.version === held) {
    out.line(`REFUSED: version ${dir.version} is the version already held`);
    out.result({ ok: false, code: "DIRECTORY_STALE", message: "not newer than the held version" });
    ctx.setExitCode(1);
    return;
  }
  out.line(`valid: directory v${dir.version} of ${dir.federation.id} (${dir.federation.name}), ${v.status}, expires ${dir.expiresAt}, signed by ${v.signer.root ? "the federation root" : `directory signer ${v.signer.kid.slice(0, 12)}…`}`);
  out.table(["node", "name", "regions", "endpoint", "suite", "tls", "signing"], dir.nodes.map((n) => [n.nodeId, n.name, n.regions.join(" "), n.delivery === "pull" ? `pull${n.endpoints.federation === undefined ? "" : ` (${n.endpoints.federation})`}` : n.endpoints.federation, n.suite, n.certificates.tls.length, n.certificates.signing.length]));
  const warnings = directoryWarnings(dir, new Date(), { withinDays: opts.warnDays });
  for (const a of v.alerts) out.line(`ALERT ${a.kind}: ${a.message}`);
  for (const w of warnings) out.line(`warn  ${w.kind}: ${w.message}`);
  out.result({ ok: true, version: dir.version, status: v.status, expiresAt: dir.expiresAt, digest: v.digest, nodes: dir.nodes.map((n) => n.nodeId), alerts: v.alerts, warnings });
}

async function diff(a: string, b: string, out: Output): Promise<void> {
  const d = diffDirectories(await readDirectoryFile(a), await readDirectoryFile(b));
  const rows: (string | number)[][] = [];
  for (const h of d.header) rows.push(["directory", h.kind === "value" ? `${h.field}: ${String(h.from)} → ${String(h.to)}` : `${h.field}: +${h.added.join(",")} −${h.removed.join(",")}`]);
  for (const id of d.nodesAdded) rows.push([id, "added"]);
  for (const id of d.nodesRemoved) rows.push([id, "removed"]);
  for (const n of d.nodesChanged) {
    for (const c of n.changes) {
      if (c.kind === "value") rows.push([n.nodeId, `${c.field}: ${String(c.from)} → ${String(c.to)}`]);
      else if (c.kind === "set") rows.push([n.nodeId, `${c.field}: +${c.added.join(",")} −${c.removed.join(",")}`]);
      else rows.push([n.nodeId, `${c.field}: +${c.added.map((x) => x.kid.slice(0, 10)).join(",")} −${c.removed.map((x) => x.kid.slice(0, 10)).join(",")}${c.announced.length > 0 ? ` (retirement announced for ${c.announced.length})` : ""}`]);
    }
  }
  if (d.crl !== undefined) rows.push(["crl", `number ${String(d.crl.crlNumber.from)} → ${String(d.crl.crlNumber.to)}; revoked +${d.crl.revokedAdded.length} −${d.crl.revokedRemoved.length}`]);
  for (const t of d.mappingTables.added) rows.push(["mapping", `+ ${t.publisher}/${t.kind} v${t.version}`]);
  for (const t of d.mappingTables.removed) rows.push(["mapping", `− ${t.publisher}/${t.kind} v${t.version}`]);
  if (rows.length === 0) out.line("no changes");
  else out.table(["where", "change"], rows);
  out.result({ ok: true, changed: d.changed, diff: d });
}
