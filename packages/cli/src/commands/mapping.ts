import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import type { Command } from "commander";
import { loadNodeConfig } from "@tongban/node";
import {
  HANDLING_MODES,
  MappingRegistry,
  TongbanError,
  TrustStore,
  checkNewVersion,
  diffTables,
  formatTableIssue,
  importImplementationCsv,
  keyIdOf,
  loadTablesFromDirectory,
  readTableFile,
  regionName,
  resolveItem,
  signTable,
  signatureAlgorithmOf,
  tableDigest,
  verifyTable,
  createFederationClient,
  parseTable,
  type HandlingModeName,
  type MappingTable,
  type TableIssue,
  type TableKeyResolver,
} from "@tongban/sdk";
import { outputFor, type CommandContext, type CommandRegistrar } from "../context.js";
import { CliError, type Output } from "../output.js";

/** `tongban mapping`: validate, resolve, diff, sign and import item-code mapping tables (docs/mapping.md). */
export const mappingCommand: CommandRegistrar = (program, ctx) => {
  const m = program.command("mapping").description("item-code mapping tables: validate, resolve, diff, sign, import");

  m.command("validate")
    .description("check tables (JSON, CSV with .meta.json, or signed .jws) alone and together; exit 1 on any problem")
    .argument("<files...>", "table files")
    .option("--trust <anchor>", "federation root (PEM), to verify signed tables")
    .option("--cert <files...>", "publisher certificates (PEM) for signed tables")
    .action(async (files: string[], opts: TrustOptions, cmd: Command) => validate(files, opts, outputFor(cmd, ctx), ctx));

  m.command("resolve")
    .description("resolve an item from a receiving region to a handling region, or show the gap")
    .requiredOption("--tables <dir>", "directory of tables")
    .requiredOption("--from <region>", "receiving region (收件地), GB/T 2260")
    .requiredOption("--to <region>", "handling region (办理地), GB/T 2260")
    .requiredOption("--item <code>", "either side's 实施编码 or the 基本编码")
    .option("--mode <mode>", `one of ${HANDLING_MODES.join(", ")}`, "remote_receipt")
    .option("--date <iso>", "date the agreement must be in force (default today)")
    .option("--trust <anchor>", "federation root (PEM), to use signed tables")
    .option("--cert <files...>", "publisher certificates (PEM)")
    .action(async (opts: ResolveOptions, cmd: Command) => resolve(opts, outputFor(cmd, ctx), ctx));

  m.command("diff")
    .description("what changed between two versions of a table, and whether the change obeys the version rules")
    .argument("<old>", "older table")
    .argument("<new>", "newer table")
    .action(async (oldFile: string, newFile: string, _o: unknown, cmd: Command) => diff(oldFile, newFile, outputFor(cmd, ctx), ctx));

  m.command("sign")
    .description("sign a table with the publisher's key (JWS over canonical JSON)")
    .argument("<file>", "table (JSON, or CSV with .meta.json)")
    .requiredOption("--key <file>", "publisher signing key (PEM)")
    .requiredOption("--cert <file>", "publisher signing certificate (PEM)")
    .option("--out <file>", "output (default: <file>.jws)")
    .action(async (file: string, opts: { key: string; cert: string; out?: string }, cmd: Command) => sign(file, opts, outputFor(cmd, ctx)));

  m.command("fetch")
    .description("ask a node for a signed table (GetMappingTable) as this node, write it, and print its version and digest")
    .requiredOption("--config <file>", "this node's node.yaml: its TLS certificate and key, and the federation root")
    .requiredOption("--from <nodeId>", "the node to ask")
    .requiredOption("--address <host:port>", "its federation address")
    .requiredOption("--publisher <publisher>", "\"national\", a GB/T 2260 region code or an agreement id")
    .option("--kind <kind>", "catalog, implementation or agreements", "implementation")
    .option("--version <n>", "a version (default: the one in force at that node)")
    .option("--cert <files...>", "certificates (PEM) that may have signed it, to verify it under the federation root")
    .option("--out <file>", "where to write the JWS (default: <kind>-<publisher>-v<version>.jws)")
    .action(async (opts: FetchOptions, cmd: Command) => fetchTable(opts, outputFor(cmd, ctx)));

  m.command("import")
    .description("import a region's implementation list from CSV into the JSON table form")
    .requiredOption("--csv <file>", "the CSV (columns in docs/mapping.md)")
    .requiredOption("--publisher <region>", "the publishing region, GB/T 2260")
    .option("--version <n>", "table version", (v) => Number.parseInt(v, 10), 1)
    .option("--issued <iso>", "issue date", new Date().toISOString().slice(0, 10))
    .option("--out <file>", "where to write the JSON (default: print it)")
    .action(async (opts: ImportOptions, cmd: Command) => importCsv(opts, outputFor(cmd, ctx)));
};

interface TrustOptions {
  trust?: string;
  cert?: string[];
}

async function keyResolver(opts: TrustOptions): Promise<TableKeyResolver | undefined> {
  if (opts.trust === undefined) return undefined;
  const trust = new TrustStore({ anchor: await readFile(opts.trust, "utf8") });
  for (const c of opts.cert ?? []) trust.addCertificate(await readFile(c, "utf8"));
  return (kid) => trust.resolveSigner(kid, new Date());
}

function issuesOf(err: unknown): TableIssue[] | undefined {
  return err instanceof TongbanError && err.code === "MAPPING_TABLE_INVALID" ? ((err.details.issues as TableIssue[] | undefined) ?? []) : undefined;
}

async function validate(files: string[], opts: TrustOptions, out: Output, ctx: CommandContext): Promise<void> {
  const resolveKey = await keyResolver(opts);
  const problems: TableIssue[] = [];
  const loaded = [];
  for (const f of files) {
    try {
      const table = readTableFile(f, resolveKey);
      loaded.push({ table, file: basename(f) });
      out.line(`ok   ${basename(f)}: ${table.kind} of ${table.publisher} v${table.version}`);
    } catch (err) {
      const is = issuesOf(err);
      if (is === undefined) {
        if (!(err instanceof TongbanError)) throw err;
        problems.push({ file: basename(f), row: 0, field: "", reason: `${err.code}: ${err.message}` });
      } else problems.push(...is);
    }
  }
  // Cross-table checks only when every file is valid on its own and a catalog is among them.
  if (problems.length === 0 && loaded.some((l) => l.table.kind === "catalog")) {
    try {
      MappingRegistry.load(loaded);
      out.line(`ok   ${loaded.length} tables are consistent together`);
    } catch (err) {
      const is = issuesOf(err);
      if (is === undefined) throw err;
      problems.push(...is);
    }
  }
  if (problems.length > 0) {
    out.table(["file", "row", "field", "problem"], problems.map((p) => [p.file, p.row, p.field, p.reason]));
    for (const p of problems.slice(0, 3)) out.note(formatTableIssue(p));
    ctx.setExitCode(1);
  }
  out.result({ ok: problems.length === 0, tables: loaded.map((l) => ({ file: l.file, kind: l.table.kind, publisher: l.table.publisher, version: l.table.version })), problems });
}

interface ResolveOptions extends TrustOptions {
  tables: string;
  from: string;
  to: string;
  item: string;
  mode: string;
  date?: string;
}

async function resolve(opts: ResolveOptions, out: Output, ctx: CommandContext): Promise<void> {
  if (!(HANDLING_MODES as readonly string[]).includes(opts.mode)) throw new CliError("USAGE", `--mode must be one of ${HANDLING_MODES.join(", ")}`, 2);
  if (!(await stat(opts.tables)).isDirectory()) throw new CliError("USAGE", `--tables must be a directory`, 2);
  const registry = loadTablesFromDirectory(opts.tables, await keyResolver(opts));
  const r = resolveItem(registry, { receivingRegion: opts.from, handlingRegion: opts.to, item: opts.item, mode: opts.mode as HandlingModeName, ...(opts.date ? { date: opts.date } : {}) });
  const place = (code: string) => `${code} ${regionName(code) ?? ""}`.trim();
  out.line(`${place(opts.from)} → ${place(opts.to)}, item ${opts.item}, mode ${opts.mode}`);
  if (r.ok) {
    out.table(["", "value"], [
      ["基本编码", `${r.basicCode} ${r.nationalName ?? ""}`],
      ["handling item", `${r.handling.item.implementationCode} ${r.handling.item.name}`],
      ["receiving item", r.receiving.item ? `${r.receiving.item.implementationCode} ${r.receiving.item.name}` : "(none)"],
      ["agreement", r.agreement],
      ["promised", `${r.promisedWorkingDays} working days, fee ${(r.feeFen / 100).toFixed(2)} CNY`],
      ["tables", r.tables.map((t) => `${t.kind}:${t.publisher} v${t.version}`).join(", ")],
    ]);
    out.table(["material (national)", "handling site calls it", "receiving site calls it", "required"], r.materials.map((m) => [`${m.nationalCode} ${m.nationalName ?? ""}`, m.handlingName, m.receivingName ?? "—", m.required ? "yes" : "no"]));
  } else {
    out.line(`GAP ${r.code}: ${r.message}`);
    if (r.candidates.length > 0) out.table(["nearest by name", "region", "实施编码", "score"], r.candidates.map((c) => [c.name, c.region, c.implementationCode, c.score]));
    if (r.unmappedMaterials.length > 0) out.table(["material without counterpart", "national code"], r.unmappedMaterials.map((m) => [m.handlingName, m.nationalCode]));
    ctx.setExitCode(3);
  }
  out.result(r);
}

async function diff(oldFile: string, newFile: string, out: Output, ctx: CommandContext): Promise<void> {
  const a = readTableFile(oldFile);
  const b = readTableFile(newFile);
  const d = diffTables(a, b);
  let verdict = "obeys the version rules";
  try {
    checkNewVersion(a, b);
  } catch (err) {
    if (!(err instanceof TongbanError)) throw err;
    verdict = `BREAKS ${err.code} (${String(err.details.rule)}): ${err.message}`;
    ctx.setExitCode(1);
  }
  out.line(`${d.kind} of ${d.publisher}: v${d.fromVersion} → v${d.toVersion}; ${verdict}`);
  out.table(["change", "code", "fields"], [
    ...d.added.map((c) => ["added", c, ""]),
    ...d.removed.map((c) => ["removed", c, ""]),
    ...d.changed.map((c) => ["changed", c.key, c.fields.map((f) => f.field).join(", ")]),
  ]);
  out.result({ ...d, verdict });
}

async function sign(file: string, opts: { key: string; cert: string; out?: string }, out: Output): Promise<void> {
  const table = readTableFile(file);
  const cert = new X509Certificate(await readFile(opts.cert, "utf8"));
  const alg = signatureAlgorithmOf(cert.publicKey);
  if (alg === "SM2SM3") throw new CliError("USAGE", "mapping tables are signed with ES256 or EdDSA keys", 2);
  const jws = signTable(table, { kid: keyIdOf(cert.raw), privateKey: createPrivateKey(await readFile(opts.key, "utf8")), algorithm: alg });
  const target = opts.out ?? `${file.replace(/\.(json|csv)$/, "")}.jws`;
  await writeFile(target, `${jws}\n`);
  out.line(`signed ${table.kind} of ${table.publisher} v${table.version} → ${target}`);
  out.result({ ok: true, file: target, kind: table.kind, publisher: table.publisher, version: table.version });
}

interface FetchOptions {
  config: string;
  from: string;
  address: string;
  publisher: string;
  kind: string;
  version?: string;
  cert?: string[];
  out?: string;
}

async function fetchTable(opts: FetchOptions, out: Output): Promise<void> {
  const config = await loadNodeConfig(opts.config);
  const [ca, cert, key] = await Promise.all([readFile(config.trust.anchor, "utf8"), readFile(config.federation.tlsCert, "utf8"), readFile(config.federation.tlsKey, "utf8")]);
  const client = createFederationClient({ address: opts.address, nodeId: opts.from, ca, cert, key, timeoutMs: 15_000 });
  let res;
  try {
    res = await client.getMappingTable({ publisher: opts.publisher, kind: opts.kind, version: opts.version ?? "" });
  } finally {
    client.close();
  }
  const document = new TextDecoder().decode(res.document).trim();
  // Verified when a certificate that may have signed it is given; its digest is what a directory lists either way.
  let verified: string | undefined;
  let table: MappingTable;
  if (opts.cert !== undefined && opts.cert.length > 0) {
    const trust = new TrustStore({ anchor: ca });
    for (const c of opts.cert) trust.addCertificate(await readFile(c, "utf8"));
    const v = verifyTable(document, (kid) => trust.resolveSigner(kid, new Date()), `${opts.kind} table of ${opts.publisher} from ${opts.from}`);
    table = v.table;
    verified = v.kid;
  } else {
    table = parseTable(JSON.parse(Buffer.from(document.split(".")[1] ?? "", "base64url").toString("utf8")) as unknown, `${opts.kind} table of ${opts.publisher} from ${opts.from}`);
  }
  const target = opts.out ?? `${table.kind}-${table.publisher}-v${table.version}.jws`;
  await writeFile(target, `${document}\n`);
  const digest = tableDigest(table);
  out.line(`fetched the ${table.kind} table of ${table.publisher} v${table.version} from ${opts.from} → ${target}`);
  out.line(`digest ${digest}; signature ${verified === undefined ? "not checked (pass --cert with the publisher's certificate)" : `verified (kid ${verified})`}`);
  out.result({ ok: true, file: target, kind: table.kind, publisher: table.publisher, version: table.version, digest, verified: verified !== undefined });
}

interface ImportOptions {
  csv: string;
  publisher: string;
  version: number;
  issued: string;
  out?: string;
}

async function importCsv(opts: ImportOptions, out: Output): Promise<void> {
  const list = importImplementationCsv(await readFile(opts.csv, "utf8"), { publisher: opts.publisher, version: opts.version, issued: opts.issued }, basename(opts.csv));
  const json = `${JSON.stringify(list, null, 2)}\n`;
  if (opts.out !== undefined) {
    await writeFile(opts.out, json);
    out.line(`imported ${list.items.length} items of ${opts.publisher} → ${opts.out}`);
  } else if (!out.json) {
    out.line(json.trimEnd());
  }
  out.result({ ok: true, publisher: list.publisher, version: list.version, items: list.items.length, ...(opts.out ? { file: opts.out } : { table: list }) });
}
