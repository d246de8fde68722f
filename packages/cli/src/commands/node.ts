import { existsSync } from "node:fs";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import {
  checkIndexes,
  composeNode,
  initNodeDirectory,
  initNodeRequestDirectory,
  loadNodeConfig,
  openLevelStore,
  openNode,
  restoreBackup,
  verifyBackup,
  verifyNodeConfig,
  writeBackupInto,
  NODE_DIR_LAYOUT,
  TableKeeper,
  type BackupInfo,
  type ConfigIssue,
  type NodeConfig,
} from "@tongban/node";
import { TongbanError, createFederationRoot, describeCertificate, validateNodeId, verifyDirectory, formatTableIssue, type CertificateAuthority, type DirectoryMappingTable, type TableIssue, type TrustStore } from "@tongban/sdk";
import { outputFor, type CommandContext, type CommandRegistrar } from "../context.js";
import { CliError, type Output } from "../output.js";

interface InitOptions {
  nodeId: string;
  dir: string;
  request?: boolean;
  anchor?: string;
  dns?: string[];
  ip?: string[];
  caCert?: string;
  caKey?: string;
  newFederation?: boolean;
  signingAlgorithm?: string;
  federationListen?: string;
  platformListen?: string;
  metricsListen?: string;
  tables?: string;
  force?: boolean;
}

/** `tongban node`: set up, check and run a reference node (docs/node.md). */
export const nodeCommand: CommandRegistrar = (program, ctx) => {
  const n = program.command("node").description("the reference node: init a node directory, check its config, start it");

  n.command("init")
    .description("write a node directory: keys and certificates from the federation CA (or, with --request, requests for them), node.yaml, a platform token")
    .requiredOption("--node-id <id>", "the node id, e.g. cn.310118.qingpu")
    .requiredOption("--dir <dir>", "the node directory to create")
    .option("--ca-cert <file>", "the federation CA certificate (PEM) that issues the node's certificates")
    .option("--ca-key <file>", "the CA's private key (PEM)")
    .option("--new-federation", "no CA yet: create a throwaway federation root in <dir>/federation-root.{crt,key} (development only)")
    .option("--request", "enrol without moving keys: make the keys here and certificate requests (pki/tls.csr, pki/sign.csr) for the federation operator to sign (tongban pki sign)")
    .option("--anchor <file>", "with --request: the federation root certificate (PEM), obtained out of band")
    .option("--dns <names...>", "with --request: host names the TLS certificate should carry (localhost is always included)")
    .option("--ip <addresses...>", "with --request: IP addresses the TLS certificate should carry (127.0.0.1 is always included)")
    .option("--signing-algorithm <alg>", "ES256 or EdDSA (jose-v1), SM2SM3 (gm-v1: an SM2 signing key)", "ES256")
    .option("--federation-listen <host:port>", "FederationService address (mTLS)", "0.0.0.0:7443")
    .option("--platform-listen <host:port>", "PlatformService address (token auth)", "127.0.0.1:7444")
    .option("--metrics-listen <host:port>", "Prometheus /metrics address")
    .option("--tables <dir>", "mapping tables directory")
    .option("--force", "write into a directory that already has a node.yaml")
    .action(async (opts: InitOptions, cmd: Command) => init(opts, outputFor(cmd, ctx)));

  n.command("check")
    .description("validate a node config and the files it names (certificates against the anchor, CRL, peers); exit 1 on any problem")
    .requiredOption("--config <file>", "node.yaml")
    .option("--store", "also check the stopped node's store: every index beside the records agrees with them (after a restore, or a crash)")
    .action(async (opts: { config: string; store?: boolean }, cmd: Command) => check(opts.config, outputFor(cmd, ctx), ctx, opts.store === true));

  n.command("start")
    .description("run the node until SIGINT/SIGTERM, then shut down gracefully; SIGUSR2 writes a backup into backup.dir; SIGHUP reloads certificates, keys and CRL")
    .requiredOption("--config <file>", "node.yaml")
    .action(async (opts: { config: string }, cmd: Command) => start(opts.config, outputFor(cmd, ctx)));

  n.command("backup")
    .description("back up a stopped node's store into backup.dir (a running node: send it SIGUSR2, or set backup.everyHours)")
    .requiredOption("--config <file>", "node.yaml")
    .action(async (opts: { config: string }, cmd: Command) => backup(opts.config, outputFor(cmd, ctx)));

  n.command("restore")
    .description("restore a backup into the node's data directory, which must be empty or absent (the node stopped)")
    .requiredOption("--config <file>", "node.yaml")
    .requiredOption("--from <file>", "the backup (.tbbackup)")
    .action(async (opts: { config: string; from: string }, cmd: Command) => restore(opts.config, opts.from, outputFor(cmd, ctx)));

  n.command("verify-backup")
    .description("read a backup whole and check its record count and checksum; exit 1 when it is damaged")
    .argument("<file>", "the backup (.tbbackup)")
    .action(async (file: string, _opts: unknown, cmd: Command) => showBackup("verified", await verifyBackup(file), undefined, outputFor(cmd, ctx)));
};

function showBackup(what: string, info: BackupInfo, file: string | undefined, out: Output): void {
  out.table(
    ["backup", ""],
    [
      ...(file === undefined ? [] : [["file", file] as [string, string]]),
      ["node", info.nodeId],
      ["taken at", info.createdAt],
      ["keys", info.entries.toLocaleString("en-US")],
      ["size", `${info.bytes.toLocaleString("en-US")} bytes`],
      ["SHA-256", info.sha256],
    ],
  );
  out.result({ ok: true, [what]: true, ...(file === undefined ? {} : { file }), ...info });
}

async function backup(configFile: string, out: Output): Promise<void> {
  const config = await loadNodeConfig(configFile);
  // Never create a store here: a wrong dataDir would give an empty backup.
  const store = await openStoppedStore(config, `send the running node SIGUSR2 to have it write a backup into ${config.backup.dir}`);
  try {
    const info = await writeBackupInto(store, config.backup.dir, { nodeId: config.nodeId, keep: config.backup.keep });
    showBackup("written", info, info.file, out);
  } finally {
    await store.close();
  }
}

async function restore(configFile: string, from: string, out: Output): Promise<void> {
  const config = await loadNodeConfig(configFile);
  const info = await restoreBackup(from, config.dataDir, { expectNodeId: config.nodeId, ...config.store });
  showBackup("restored", info, config.dataDir, out);
  out.note(`restored into ${config.dataDir}; start the node as usual: it resumes its outbox and held messages from there.`);
}

/** The options `node init` and `node init --request` pass on alike: listen addresses and the tables directory. */
function listenAndTables(opts: InitOptions) {
  return {
    ...(opts.federationListen === undefined ? {} : { federationListen: opts.federationListen }),
    ...(opts.platformListen === undefined ? {} : { platformListen: opts.platformListen }),
    ...(opts.metricsListen === undefined ? {} : { metricsListen: opts.metricsListen }),
    ...(opts.tables === undefined ? {} : { tablesDir: resolve(opts.tables) }),
  };
}

/** A TypeError from making a node directory is a bad node id, DNS name or address given on the command line. */
function identifierError(err: unknown): never {
  if (err instanceof TypeError) throw new CliError("IDENTIFIER_INVALID", err.message);
  throw err;
}

/** `node init --request`: keys and certificate requests here, certificates from the operator later (docs/operations.md). */
async function initRequest(opts: InitOptions, dir: string, alg: "ES256" | "EdDSA" | "SM2SM3", out: Output): Promise<void> {
  if (opts.caCert !== undefined || opts.caKey !== undefined || opts.newFederation === true) throw new CliError("CONFIG_INVALID", "--request makes requests for the federation CA to sign: it goes without --ca-cert, --ca-key and --new-federation");
  if (opts.anchor === undefined) throw new CliError("CONFIG_INVALID", "--request needs --anchor: the federation root certificate, obtained out of band");
  const anchorPem = await readFile(resolve(opts.anchor), "utf8").catch(() => {
    throw new CliError("CONFIG_INVALID", `cannot read the federation root ${opts.anchor}`);
  });
  const root = (() => {
    try {
      return describeCertificate(anchorPem);
    } catch (err) {
      throw new CliError("TRUST_CERT_INVALID", `${opts.anchor} is not a certificate: ${err instanceof Error ? err.message : String(err)}`);
    }
  })();
  if (!root.isCa) throw new CliError("TRUST_CERT_INVALID", `${opts.anchor} is not a CA certificate: give the federation root`);
  const made = await initNodeRequestDirectory({
    dir,
    nodeId: opts.nodeId,
    anchorPem,
    signingAlgorithm: alg,
    ...(opts.dns === undefined ? {} : { dnsNames: opts.dns }),
    ...(opts.ip === undefined ? {} : { ipAddresses: opts.ip }),
    ...listenAndTables(opts),
  }).catch(identifierError);
  out.table(
    ["what", "where"],
    [
      ["config", made.configFile],
      ["data (LevelDB)", made.config.dataDir],
      ["TLS key (stays here)", made.config.federation.tlsKey],
      ["signing key (stays here)", `${made.config.signing.key} (${alg})`],
      ["TLS certificate request", made.requestFiles.tls],
      ["signing certificate request", made.requestFiles.signing],
      ["trust anchor", `${made.config.trust.anchor} (${root.subject})`],
    ],
  );
  out.line(`Platform token (shown once; only its SHA-256 is in node.yaml): ${made.platformToken}`);
  out.line(
    `Next: send the two .csr files to the federation operator (they hold no secret), who runs \`tongban pki sign --ca <ca> --node-id ${opts.nodeId} --tls tls.csr --signing sign.csr\`; ` +
      `put the tls.crt and sign.crt you get back at ${made.config.federation.tlsCert} and ${made.config.signing.cert}, then \`tongban node check --config ${made.configFile}\`.`,
  );
  out.result({ ok: true, nodeId: opts.nodeId, config: made.configFile, platformToken: made.platformToken, requests: made.requestFiles });
}

async function init(opts: InitOptions, out: Output): Promise<void> {
  const dir = resolve(opts.dir);
  if (existsSync(join(dir, NODE_DIR_LAYOUT.config)) && opts.force !== true) {
    throw new CliError("CONFIG_INVALID", `${join(dir, NODE_DIR_LAYOUT.config)} exists; use --force to overwrite the node directory`);
  }
  const id = validateNodeId(opts.nodeId);
  if (!id.ok) throw new CliError("IDENTIFIER_INVALID", `not a valid node id: ${opts.nodeId} (${id.issues.map((i) => i.message).join("; ")})`);
  const alg = opts.signingAlgorithm ?? "ES256";
  if (alg !== "ES256" && alg !== "EdDSA" && alg !== "SM2SM3") throw new CliError("CONFIG_INVALID", `--signing-algorithm must be ES256, EdDSA or SM2SM3, not ${alg}`);
  if (opts.request === true) return initRequest(opts, dir, alg, out);
  if (opts.anchor !== undefined || opts.dns !== undefined || opts.ip !== undefined) throw new CliError("CONFIG_INVALID", "--anchor, --dns and --ip go with --request");
  let ca: CertificateAuthority;
  if (opts.caCert !== undefined || opts.caKey !== undefined) {
    if (opts.caCert === undefined || opts.caKey === undefined) throw new CliError("CONFIG_INVALID", "--ca-cert and --ca-key go together");
    ca = { certificatePem: await readFile(opts.caCert, "utf8"), privateKeyPem: await readFile(opts.caKey, "utf8") };
  } else if (opts.newFederation === true) {
    const root = await createFederationRoot({ name: "Tongban development federation root", validityDays: 3650 });
    const { mkdir } = await import("node:fs/promises");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(join(dir, "federation-root.crt"), root.certificatePem);
    await writeFile(join(dir, "federation-root.key"), root.privateKeyPem, { mode: 0o600 });
    ca = root;
    out.note(`created a throwaway federation root in ${join(dir, "federation-root.crt")} (development only)`);
  } else {
    throw new CliError("CONFIG_INVALID", "give the federation CA (--ca-cert, --ca-key) or --new-federation for a development root");
  }
  const made = await initNodeDirectory({
    dir,
    nodeId: opts.nodeId,
    ca,
    signingAlgorithm: alg,
    ...listenAndTables(opts),
  }).catch(identifierError);
  out.table(
    ["what", "where"],
    [
      ["config", made.configFile],
      ["data (LevelDB)", made.config.dataDir],
      ["TLS certificate", `${made.config.federation.tlsCert} (until ${made.certificates.tls.notAfter.toISOString().slice(0, 10)})`],
      ["signing certificate", `${made.config.signing.cert} (${alg}, kid ${made.certificates.signing.kid.slice(0, 12)}…)`],
      ["trust anchor", made.config.trust.anchor],
    ],
  );
  out.line(`Platform token (shown once; only its SHA-256 is in node.yaml): ${made.platformToken}`);
  out.line(`Next: add peers to node.yaml, then \`tongban node check --config ${made.configFile}\` and \`tongban node start --config ${made.configFile}\`.`);
  out.result({ ok: true, nodeId: opts.nodeId, config: made.configFile, platformToken: made.platformToken, kid: made.certificates.signing.kid });
}

async function check(file: string, out: Output, ctx: CommandContext, withStore = false): Promise<void> {
  const rows: [string, string, string][] = [];
  let issues: readonly ConfigIssue[] = [];
  try {
    const config = await loadNodeConfig(file);
    rows.push(["syntax and values", "ok", `node ${config.nodeId}`]);
    const verified = await verifyNodeConfig(config);
    rows.push(["TLS certificate", "ok", `kid ${verified.tls.kid.slice(0, 12)}…, until ${verified.tls.notAfter.toISOString().slice(0, 10)}`]);
    rows.push(["signing certificate", "ok", `kid ${verified.signing.kid.slice(0, 12)}…, until ${verified.signing.notAfter.toISOString().slice(0, 10)}`]);
    for (const p of config.peers) rows.push([`peer ${p.nodeId}`, "ok", `${p.delivery === "pull" ? "pulls from this node" : p.address}, ${p.certificates.length} certificate(s)`]);
    rows.push(...(await tableRows(config, verified.trust)));
    const soon = Date.now() + 30 * 86_400_000;
    for (const [what, f] of [["TLS certificate", config.federation.tlsCert], ["signing certificate", config.signing.cert]] as const) {
      const d = describeCertificate(await readFile(f, "utf8"));
      if (new Date(d.notAfter).getTime() < soon) rows.push([what, "warn", `expires ${String(d.notAfter).slice(0, 10)}: renew within 30 days`]);
    }
    if (withStore && !existsSync(config.dataDir)) rows.push(["store indexes", "warn", "no store yet: the node has not been started"]);
    else if (withStore) {
      const problems = await storeProblems(config);
      if (problems.length === 0) rows.push(["store indexes", "ok", "case numbers, partners, open cases, deadlines, open joint cases, outbox ledger agree with the records"]);
      for (const p of problems) rows.push(["store indexes", "FAIL", p]);
      if (problems.length > 0) issues = problems.map((reason) => ({ path: "store", reason }));
    }
  } catch (err) {
    if (!(err instanceof TongbanError)) throw err;
    const d = err.details as { issues?: ConfigIssue[] };
    issues = d.issues ?? [{ path: "", reason: err.message }];
    for (const i of issues) rows.push([i.path === "" ? "config" : i.path, "FAIL", i.reason]);
    rows.push(["code", "FAIL", err.code]);
  }
  out.table(["check", "result", "detail"], rows);
  out.result({ ok: issues.length === 0, checks: rows.map(([check, result, detail]) => ({ check, result, detail })) });
  if (issues.length > 0) ctx.setExitCode(1);
}

/** Opens a stopped node's existing store (never creates one); a running node's is refused with STORE_UNAVAILABLE and `whenRunning`. */
async function openStoppedStore(config: NodeConfig, whenRunning: string) {
  return openLevelStore(config.dataDir, { ...config.store, createIfMissing: false }).catch((err: unknown) => {
    if (err instanceof TongbanError && (err.details as { reason?: string } | undefined)?.reason === "locked") {
      throw new CliError("STORE_UNAVAILABLE", `the node's store is in use (is the node running?): ${whenRunning}`);
    }
    throw err;
  });
}

/** The differences between the stopped node's indexes and its records (checkIndexes); refuses a running node's store. */
async function storeProblems(config: NodeConfig): Promise<string[]> {
  const store = await openStoppedStore(config, "stop it to check its store");
  try {
    return await checkIndexes(store);
  } finally {
    await store.close();
  }
}

/**
 * The mapping tables as the node would load them at start (TableKeeper): signed tables verified through the trust
 * store, with the directory's node certificates when a directory is configured, and the versions it lists.
 */
async function tableRows(config: NodeConfig, trust: TrustStore): Promise<[string, string, string][]> {
  let listed: readonly DirectoryMappingTable[] | undefined;
  if (config.trust.directory !== undefined) {
    const text = await readFile(config.trust.directory, "utf8").catch(() => undefined);
    if (text === undefined) return [["directory", "warn", `${config.trust.directory} cannot be read: the node starts on its last good directory, if any`]];
    const v = verifyDirectory(text, { trustStore: trust, now: new Date(), graceMs: config.trust.directoryGraceMs });
    for (const n of v.directory.nodes) for (const c of [...n.certificates.signing, ...n.certificates.tls]) trust.addCertificate(typeof c === "string" ? c : c.pem);
    listed = v.directory.mappingTables;
  }
  const keeper = new TableKeeper({ tablesDir: config.mapping.tablesDir, fetchedDir: join(dirname(config.dataDir), "fetched-tables"), resolveKey: (kid) => trust.resolveSigner(kid, new Date()) });
  try {
    keeper.load(listed);
  } catch (err) {
    // A node does not start on tables it cannot read: each problem as a check of mapping.tablesDir.
    if (!(err instanceof TongbanError)) throw err;
    const found = (err.details as { issues?: TableIssue[] }).issues;
    const issues = found === undefined ? [{ path: "mapping.tablesDir", reason: err.message }] : found.map((i) => ({ path: "mapping.tablesDir", reason: formatTableIssue(i) }));
    throw new TongbanError(err.code, err.message, { details: { issues }, cause: err });
  }
  if (keeper.registry === undefined) return [["mapping tables", "warn", "none configured: submissions cannot be resolved, partner messages are not checked against agreements"]];
  const signed = keeper.inForce.filter((t) => t.document !== undefined).length;
  const rows: [string, string, string][] = [["mapping tables", "ok", `${keeper.inForce.length} in force (${signed} signed): ${keeper.inForce.map((t) => `${t.table.kind} ${t.table.publisher} v${t.table.version}`).join(", ")}`]];
  for (const m of keeper.missing) rows.push([`table ${m.kind} ${m.publisher}`, "warn", `the directory lists v${m.version}, not held here: the node fetches it from its peers`]);
  return rows;
}

async function start(file: string, out: Output): Promise<void> {
  const node = await openNode(file, { compose: (parts) => composeNode(parts) });
  const addresses = await node.start();
  out.note(`node ${node.nodeId} running: federation ${addresses.federation}, platform ${addresses.platform}${addresses.metrics === undefined ? "" : `, metrics http://${addresses.metrics}/metrics`}. Ctrl-C stops it.`);
  // SIGUSR2: a backup while running. The node logs the result and counts it in tongban_backups_total; this is for the terminal.
  const onBackup = () => {
    node.backup().then(
      (info) => out.note(`SIGUSR2: backup written to ${info.file} (${info.entries} keys, ${info.bytes} bytes)`),
      (err: unknown) => out.note(`SIGUSR2: backup failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  };
  process.on("SIGUSR2", onBackup);
  // SIGHUP: re-read certificates, keys and CRL; all or nothing (tongban_credential_reloads_total).
  const onReload = () => {
    node.reloadCredentials().then(
      (r) => out.note(`SIGHUP: credentials reloaded (${r.changed.length === 0 ? "nothing changed" : `changed: ${r.changed.join(", ")}`}); TLS ${r.tls.kid} until ${r.tls.notAfter.toISOString()}, signing ${r.signing.kid} until ${r.signing.notAfter.toISOString()}`),
      (err: unknown) => out.note(`SIGHUP: credentials NOT reloaded, the node keeps its current ones: ${describeError(err)}`),
    );
  };
  process.on("SIGHUP", onReload);
  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      process.off("SIGUSR2", onBackup);
      process.off("SIGHUP", onReload);
      out.note(`${signal}: stopping ${node.nodeId} gracefully…`);
      void node.stop().then(done, done);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  out.result({ ok: true, nodeId: node.nodeId, stopped: true });
}

/** An error for one terminal line: a config refusal lists each problem by its config path. */
function describeError(err: unknown): string {
  if (err instanceof TongbanError) {
    const issues = (err.details as { issues?: ConfigIssue[] } | undefined)?.issues;
    return issues === undefined ? `${err.code}: ${err.message}` : `${err.code}: ${issues.map((i) => `${i.path}: ${i.reason}`).join("; ")}`;
  }
  return err instanceof Error ? err.message : String(err);
}
