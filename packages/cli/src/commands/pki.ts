import { X509Certificate } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import {
  createCrl,
  createFederationRoot,
  createSealCa,
  issueSealCertificate,
  describeCertificate,
  isRevocationReason,
  issueNodeCertificates,
  issueNodeCertificatesFromRequest,
  describeCertificateRequest,
  readCrl,
  revokeCertificate,
  validateNodeId,
  type CertificateAuthority,
  type CertificateKeyType,
  type IssuedCertificate,
  type SealCertificateRole,
} from "@tongban/sdk";
import { outputFor, type CommandContext, type CommandRegistrar } from "../context.js";
import { CliError } from "../output.js";

const DAY_MS = 86_400_000;
const DEFAULT_CRL_DAYS = 7;

/** File names inside a CA directory. */
const CA_FILES = { cert: "root.crt", key: "root.key", crl: "crl.pem", state: "ca.json" } as const;

/** File names inside a seal CA directory. */
const SEAL_CA_FILES = { cert: "seal-ca.crt", key: "seal-ca.key", state: "seal-ca.json" } as const;

/** One certificate the CA issued, as recorded in ca.json. */
interface IssuedRecord {
  /** The node id; for a seal CA the subject name. */
  nodeId: string;
  kind: "tls" | "signing" | "seal-ca";
  algorithm: string;
  serial: string;
  kid: string;
  notBefore: string;
  notAfter: string;
  /** File name of the certificate as written (no directory). */
  file: string;
  revoked?: { date: string; reason?: string };
}

/** ca.json: bookkeeping of what the CA issued and revoked. */
interface CaState {
  version: 1;
  name: string;
  root: { serial: string; kid: string; notBefore: string; notAfter: string };
  /** Days between a CRL's thisUpdate and nextUpdate. */
  crlDays: number;
  issued: IssuedRecord[];
}

/**
 * `tongban pki`: run the federation CA from a directory — create the root,
 * issue node certificates, revoke them, and inspect certificates and CRLs.
 */
export const pkiCommand: CommandRegistrar = (program, ctx) => {
  const pki = program.command("pki").description("federation PKI: root CA, node certificates, revocation");

  pki
    .command("init")
    .description("create a federation root CA in a directory (root.crt, root.key, crl.pem, ca.json)")
    .requiredOption("--out <dir>", "directory to create the CA in")
    .option("--name <name>", "subject common name of the root", "Tongban Federation Root CA")
    .option("--days <n>", "validity in days", parsePositive, 3650)
    .option("--crl-days <n>", "days until each CRL's nextUpdate", parsePositive, DEFAULT_CRL_DAYS)
    .action(async (opts: { out: string; name: string; days: number; crlDays: number }, cmd: Command) => {
      await initCa(opts, cmd, ctx);
    });

  pki
    .command("issue")
    .description("issue a node's TLS and signing certificates (<id>.tls.crt/.key, <id>.sign.crt/.key)")
    .requiredOption("--ca <dir>", "the CA directory")
    .requiredOption("--node-id <id>", "node id, e.g. cn.110000.bj-gov")
    .option("--alg <alg>", "signing algorithm: ES256 or EdDSA (jose-v1), SM2SM3 (gm-v1: an SM2 signing certificate)", "ES256")
    .option("--out <dir>", "directory for the node's files", ".")
    .option("--dns <names...>", "extra DNS names for the TLS certificate (localhost is always included)")
    .option("--ip <addresses...>", "extra IP addresses for the TLS certificate (127.0.0.1 is always included)")
    .option("--days <n>", "validity in days", parsePositive, 397)
    .action(async (opts: IssueOptions, cmd: Command) => {
      await issue(opts, cmd, ctx);
    });

  pki
    .command("sign")
    .description("enrol a node without moving its keys: check its two certificate requests (tongban node init --request) and sign them (tls.crt, sign.crt)")
    .requiredOption("--ca <dir>", "the CA directory")
    .requiredOption("--node-id <id>", "the node being enrolled: both requests must name exactly it")
    .requiredOption("--tls <file>", "the node's TLS certificate request (pki/tls.csr)")
    .requiredOption("--signing <file>", "the node's signing certificate request (pki/sign.csr)")
    .option("--out <dir>", "directory for tls.crt and sign.crt", ".")
    .option("--days <n>", "validity in days", parsePositive, 397)
    .action(async (opts: SignOptions, cmd: Command) => {
      await signRequests(opts, cmd, ctx);
    });

  pki
    .command("seal-ca")
    .description("create the federation's seal CA (seal-ca.crt, seal-ca.key, seal-ca.json), under the federation root with --ca")
    .requiredOption("--out <dir>", "directory to create the seal CA in")
    .option("--ca <dir>", "the federation CA directory to issue the seal CA under (self-signed when absent)")
    .option("--alg <alg>", "key: SM2 (GB/T 38540 seals) or ES256 / EdDSA (JOSE seal profile)", parseKeyType, "SM2")
    .option("--name <name>", "subject common name", "Tongban Seal CA")
    .option("--org <organization>", "subject organization")
    .option("--days <n>", "validity in days", parsePositive, 1825)
    .action(async (opts: SealCaOptions, cmd: Command) => {
      await sealCa(opts, cmd, ctx);
    });

  for (const role of ["maker", "signer"] as const) {
    pki
      .command(`seal-${role}`)
      .description(
        role === "maker"
          ? "issue a seal-maker certificate (signs seals: tongban seal create) under the seal CA"
          : "issue a seal-signer certificate (signs documents with a seal: tongban seal sign) under the seal CA",
      )
      .requiredOption("--seal-ca <dir>", "the seal CA directory")
      .requiredOption("--name <name>", "subject common name: the unit or person, e.g. 某市市场监督管理局")
      .option("--alg <alg>", "key: SM2 (under an SM2 seal CA) or ES256 / EdDSA (under a P-256/Ed25519 seal CA)", parseKeyType)
      .option("--org <organization>", "subject organization")
      .option("--out <dir>", "directory for the certificate and key", ".")
      .option("--file <base>", `file name without extension (default seal-${role})`)
      .option("--days <n>", "validity in days", parsePositive, 730)
      .action(async (opts: SealCertOptions, cmd: Command) => {
        await sealCertificate(role, opts, cmd, ctx);
      });
  }

  pki
    .command("revoke")
    .description("revoke a certificate the CA issued and re-sign crl.pem")
    .requiredOption("--ca <dir>", "the CA directory")
    .requiredOption("--cert <file>", "the certificate to revoke (PEM)")
    .option("--reason <reason>", "RFC 5280 reason, e.g. keyCompromise, superseded, cessationOfOperation")
    .action(async (opts: { ca: string; cert: string; reason?: string }, cmd: Command) => {
      await revoke(opts, cmd, ctx);
    });

  pki
    .command("crl")
    .description("re-sign crl.pem with the same entries and a new nextUpdate")
    .requiredOption("--ca <dir>", "the CA directory")
    .action(async (opts: { ca: string }, cmd: Command) => {
      await refreshCrl(opts, cmd, ctx);
    });

  pki
    .command("show")
    .description("print a certificate's subject, node id, kid, validity and usages (or a CRL's entries, or what a certificate request asks for)")
    .argument("<file>", "certificate, CRL or certificate request (PEM)")
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      await show(file, cmd, ctx);
    });
};

interface IssueOptions {
  ca: string;
  nodeId: string;
  alg: string;
  out: string;
  dns?: string[];
  ip?: string[];
  days: number;
}

async function initCa(opts: { out: string; name: string; days: number; crlDays: number }, cmd: Command, ctx: CommandContext): Promise<void> {
  const out = outputFor(cmd, ctx);
  const dir = resolve(opts.out);
  await mkdir(dir, { recursive: true });
  await refuseExisting(dir, Object.values(CA_FILES));
  const root = await createFederationRoot({ name: opts.name, validityDays: opts.days });
  const now = new Date();
  const crl = await createCrl({ ca: root, revoked: [], thisUpdate: now, nextUpdate: new Date(now.getTime() + opts.crlDays * DAY_MS) });
  await writeNew(join(dir, CA_FILES.key), root.privateKeyPem, 0o600);
  await writeNew(join(dir, CA_FILES.cert), root.certificatePem, 0o644);
  await writeNew(join(dir, CA_FILES.crl), crl, 0o644);
  const state: CaState = {
    version: 1,
    name: opts.name,
    root: { serial: root.serial, kid: root.kid, notBefore: root.notBefore.toISOString(), notAfter: root.notAfter.toISOString() },
    crlDays: opts.crlDays,
    issued: [],
  };
  await writeFile(join(dir, CA_FILES.state), `${JSON.stringify(state, null, 2)}\n`, { flag: "wx", mode: 0o644 });
  out.line(`created federation root "${opts.name}" in ${opts.out}`);
  out.line(`  kid       ${root.kid}`);
  out.line(`  serial    ${root.serial}`);
  out.line(`  notAfter  ${root.notAfter.toISOString()}`);
  out.line(`  files     ${Object.values(CA_FILES).join(", ")} (root.key is mode 0600: keep it offline)`);
  out.result({ ok: true, dir: opts.out, files: { ...CA_FILES }, kid: root.kid, serial: root.serial, notBefore: root.notBefore, notAfter: root.notAfter });
}

/** The ca.json record of a certificate the CA signed for a node. */
function issuedRecord(nodeId: string, c: Pick<IssuedCertificate, "serial" | "kid" | "notBefore" | "notAfter">, kind: IssuedRecord["kind"], algorithm: string, file: string): IssuedRecord {
  return { nodeId, kind, algorithm, serial: c.serial, kid: c.kid, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString(), file };
}

interface SignOptions {
  ca: string;
  nodeId: string;
  tls: string;
  signing: string;
  out: string;
  days: number;
}

async function signRequests(opts: SignOptions, cmd: Command, ctx: CommandContext): Promise<void> {
  const out = outputFor(cmd, ctx);
  const check = validateNodeId(opts.nodeId);
  if (!check.ok) throw new CliError("IDENTIFIER_INVALID", `not a valid node id: ${opts.nodeId} (${check.issues.map((i) => i.message).join("; ")}; expected e.g. cn.310118.qingpu)`);
  const caDir = resolve(opts.ca);
  const { ca, state } = await loadCa(caDir);
  const read = (file: string, what: string) =>
    readFile(resolve(file), "utf8").catch(() => {
      throw new CliError("CONFIG_INVALID", `cannot read the ${what} certificate request ${file}`);
    });
  const certs = await issueNodeCertificatesFromRequest({ ca, nodeId: opts.nodeId, tlsRequestPem: await read(opts.tls, "TLS"), signingRequestPem: await read(opts.signing, "signing"), validityDays: opts.days });
  const dir = resolve(opts.out);
  await mkdir(dir, { recursive: true });
  const names = { tlsCert: "tls.crt", signCert: "sign.crt" };
  await refuseExisting(dir, Object.values(names));
  await writeNew(join(dir, names.tlsCert), certs.tls.certificatePem, 0o644);
  await writeNew(join(dir, names.signCert), certs.signing.certificatePem, 0o644);
  state.issued.push(issuedRecord(opts.nodeId, certs.tls, "tls", "ES256", names.tlsCert), issuedRecord(opts.nodeId, certs.signing, "signing", certs.signingAlgorithm, names.signCert));
  await saveState(caDir, state);
  out.line(`signed the certificate requests of ${opts.nodeId} (its keys never left it) into ${opts.out}`);
  out.table(
    ["kind", "file", "alg", "names", "kid", "serial", "notAfter"],
    [
      ["tls", names.tlsCert, "ES256", [...certs.tls.dnsNames, ...certs.tls.ipAddresses].join(" "), certs.tls.kid, certs.tls.serial, certs.tls.notAfter.toISOString()],
      ["signing", names.signCert, certs.signingAlgorithm, "", certs.signing.kid, certs.signing.serial, certs.signing.notAfter.toISOString()],
    ],
  );
  out.note("Send tls.crt and sign.crt back to the node (they go to its pki/ directory); they are not secret.");
  out.result({
    ok: true,
    nodeId: opts.nodeId,
    tls: { file: join(opts.out, names.tlsCert), kid: certs.tls.kid, serial: certs.tls.serial, dnsNames: certs.tls.dnsNames, ipAddresses: certs.tls.ipAddresses, notAfter: certs.tls.notAfter },
    signing: { file: join(opts.out, names.signCert), algorithm: certs.signingAlgorithm, kid: certs.signing.kid, serial: certs.signing.serial, notAfter: certs.signing.notAfter },
  });
}

async function issue(opts: IssueOptions, cmd: Command, ctx: CommandContext): Promise<void> {
  const out = outputFor(cmd, ctx);
  const check = validateNodeId(opts.nodeId);
  if (!check.ok) throw new TypeError(`not a valid node id: ${opts.nodeId} (${check.issues.map((i) => i.message).join("; ")}; expected e.g. cn.310118.qingpu)`);
  if (opts.alg !== "ES256" && opts.alg !== "EdDSA" && opts.alg !== "SM2SM3") throw new TypeError(`--alg must be ES256, EdDSA or SM2SM3, not ${opts.alg}`);
  const caDir = resolve(opts.ca);
  const { ca, state } = await loadCa(caDir);
  const dir = resolve(opts.out);
  await mkdir(dir, { recursive: true });
  const names = {
    tlsCert: `${opts.nodeId}.tls.crt`,
    tlsKey: `${opts.nodeId}.tls.key`,
    signCert: `${opts.nodeId}.sign.crt`,
    signKey: `${opts.nodeId}.sign.key`,
  };
  await refuseExisting(dir, Object.values(names));
  const certs = await issueNodeCertificates({
    ca,
    nodeId: opts.nodeId,
    signingAlgorithm: opts.alg,
    validityDays: opts.days,
    dnsNames: opts.dns ?? [],
    ipAddresses: opts.ip ?? [],
  });
  await writeNew(join(dir, names.tlsKey), certs.tls.privateKeyPem, 0o600);
  await writeNew(join(dir, names.signKey), certs.signing.privateKeyPem, 0o600);
  await writeNew(join(dir, names.tlsCert), certs.tls.certificatePem, 0o644);
  await writeNew(join(dir, names.signCert), certs.signing.certificatePem, 0o644);
  state.issued.push(issuedRecord(opts.nodeId, certs.tls, "tls", "ES256", names.tlsCert), issuedRecord(opts.nodeId, certs.signing, "signing", opts.alg, names.signCert));
  await saveState(caDir, state);
  out.line(`issued certificates for ${opts.nodeId} in ${opts.out}`);
  out.table(
    ["kind", "file", "key", "alg", "kid", "serial", "notAfter"],
    [
      ["tls", names.tlsCert, names.tlsKey, "ES256", certs.tls.kid, certs.tls.serial, certs.tls.notAfter.toISOString()],
      ["signing", names.signCert, names.signKey, opts.alg, certs.signing.kid, certs.signing.serial, certs.signing.notAfter.toISOString()],
    ],
  );
  const summary = (c: IssuedCertificate, file: string, keyFile: string, algorithm: string): Record<string, unknown> => ({
    file,
    keyFile,
    algorithm,
    kid: c.kid,
    serial: c.serial,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
  });
  out.result({
    ok: true,
    nodeId: opts.nodeId,
    dir: opts.out,
    tls: summary(certs.tls, names.tlsCert, names.tlsKey, "ES256"),
    signing: summary(certs.signing, names.signCert, names.signKey, opts.alg),
  });
}

interface SealCaOptions {
  out: string;
  ca?: string;
  alg: CertificateKeyType;
  name: string;
  org?: string;
  days: number;
}

/** seal-ca.json: bookkeeping of the seal CA. */
interface SealCaState {
  version: 1;
  kind: "seal-ca";
  name: string;
  keyType: CertificateKeyType;
  ca: { serial: string; kid: string; notBefore: string; notAfter: string; issuer: string };
  issued: { role: SealCertificateRole; name: string; keyType: CertificateKeyType; serial: string; kid: string; notBefore: string; notAfter: string; file: string }[];
}

async function sealCa(opts: SealCaOptions, cmd: Command, ctx: CommandContext): Promise<void> {
  const out = outputFor(cmd, ctx);
  const dir = resolve(opts.out);
  const parent = opts.ca === undefined ? undefined : await loadCa(resolve(opts.ca));
  await mkdir(dir, { recursive: true });
  await refuseExisting(dir, Object.values(SEAL_CA_FILES));
  const ca = await createSealCa({
    name: opts.name,
    keyType: opts.alg,
    validityDays: opts.days,
    ...(parent === undefined ? {} : { ca: parent.ca }),
    ...(opts.org === undefined ? {} : { organization: opts.org }),
  });
  const issuer = describeCertificate(ca.certificatePem).issuer;
  await writeNew(join(dir, SEAL_CA_FILES.key), ca.privateKeyPem, 0o600);
  await writeNew(join(dir, SEAL_CA_FILES.cert), ca.certificatePem, 0o644);
  const state: SealCaState = {
    version: 1,
    kind: "seal-ca",
    name: opts.name,
    keyType: opts.alg,
    ca: { serial: ca.serial, kid: ca.kid, notBefore: ca.notBefore.toISOString(), notAfter: ca.notAfter.toISOString(), issuer },
    issued: [],
  };
  await writeFile(join(dir, SEAL_CA_FILES.state), `${JSON.stringify(state, null, 2)}\n`, { flag: "wx", mode: 0o644 });
  if (parent !== undefined && opts.ca !== undefined) {
    // The federation CA records it like a node certificate, so it can be revoked the same way.
    parent.state.issued.push({
      nodeId: opts.name,
      kind: "seal-ca",
      algorithm: opts.alg,
      serial: ca.serial,
      kid: ca.kid,
      notBefore: ca.notBefore.toISOString(),
      notAfter: ca.notAfter.toISOString(),
      file: join(opts.out, SEAL_CA_FILES.cert),
    });
    await saveState(resolve(opts.ca), parent.state);
  }
  out.line(`created seal CA "${opts.name}" (${opts.alg}) in ${opts.out}, issued by ${issuer}`);
  out.line(`  kid       ${ca.kid}`);
  out.line(`  serial    ${ca.serial}`);
  out.line(`  notAfter  ${ca.notAfter.toISOString()}`);
  out.line(`  files     ${Object.values(SEAL_CA_FILES).join(", ")} (seal-ca.key is mode 0600: keep it offline)`);
  out.result({ ok: true, dir: opts.out, files: { ...SEAL_CA_FILES }, keyType: opts.alg, issuer, kid: ca.kid, serial: ca.serial, notBefore: ca.notBefore, notAfter: ca.notAfter });
}

interface SealCertOptions {
  sealCa: string;
  name: string;
  alg?: CertificateKeyType;
  org?: string;
  out: string;
  file?: string;
  days: number;
}

async function sealCertificate(role: SealCertificateRole, opts: SealCertOptions, cmd: Command, ctx: CommandContext): Promise<void> {
  const out = outputFor(cmd, ctx);
  const caDir = resolve(opts.sealCa);
  const [certificatePem, privateKeyPem, stateText] = await Promise.all([
    readText(join(caDir, SEAL_CA_FILES.cert)),
    readText(join(caDir, SEAL_CA_FILES.key)),
    readText(join(caDir, SEAL_CA_FILES.state)),
  ]);
  let state: SealCaState;
  try {
    state = JSON.parse(stateText) as SealCaState;
  } catch (err) {
    throw new CliError("CA_STATE_INVALID", `${SEAL_CA_FILES.state} is not valid JSON: ${String(err)}`);
  }
  if (state.version !== 1 || state.kind !== "seal-ca" || !Array.isArray(state.issued))
    throw new CliError("CA_STATE_INVALID", `${SEAL_CA_FILES.state} is not a version 1 seal CA state file`);
  // Default: the CA's own family (SM2 under SM2; ES256 under P-256/Ed25519).
  const keyType = opts.alg ?? (state.keyType === "SM2" ? "SM2" : "ES256");
  const base = opts.file ?? `seal-${role}`;
  const names = { cert: `${base}.crt`, key: `${base}.key` };
  const dir = resolve(opts.out);
  await mkdir(dir, { recursive: true });
  await refuseExisting(dir, Object.values(names));
  let issued: Awaited<ReturnType<typeof issueSealCertificate>>;
  try {
    issued = await issueSealCertificate({
      ca: { certificatePem, privateKeyPem },
      role,
      name: opts.name,
      keyType,
      validityDays: opts.days,
      ...(opts.org === undefined ? {} : { organization: opts.org }),
    });
  } catch (err) {
    if (err instanceof TypeError) throw new CliError("USAGE", err.message, 2);
    throw err;
  }
  await writeNew(join(dir, names.key), issued.privateKeyPem, 0o600);
  await writeNew(join(dir, names.cert), issued.certificatePem, 0o644);
  state.issued.push({
    role,
    name: opts.name,
    keyType,
    serial: issued.serial,
    kid: issued.kid,
    notBefore: issued.notBefore.toISOString(),
    notAfter: issued.notAfter.toISOString(),
    file: names.cert,
  });
  await replaceFile(join(caDir, SEAL_CA_FILES.state), `${JSON.stringify(state, null, 2)}\n`, 0o644);
  out.line(`issued seal-${role} certificate "${opts.name}" (${keyType}) in ${opts.out}`);
  out.table(
    ["role", "file", "key", "alg", "kid", "serial", "notAfter"],
    [[role, names.cert, names.key, keyType, issued.kid, issued.serial, issued.notAfter.toISOString()]],
  );
  out.result({
    ok: true,
    role,
    name: opts.name,
    keyType,
    dir: opts.out,
    file: names.cert,
    keyFile: names.key,
    kid: issued.kid,
    serial: issued.serial,
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
  });
}

function parseKeyType(value: string): CertificateKeyType {
  if (value !== "SM2" && value !== "ES256" && value !== "EdDSA") throw new InvalidArgumentError(`expected SM2, ES256 or EdDSA, got ${value}`);
  return value;
}

async function revoke(opts: { ca: string; cert: string; reason?: string }, cmd: Command, ctx: CommandContext): Promise<void> {
  const out = outputFor(cmd, ctx);
  const reason = opts.reason;
  if (reason !== undefined && !isRevocationReason(reason)) throw new TypeError(`unknown revocation reason: ${reason}`);
  const caDir = resolve(opts.ca);
  const { ca, state } = await loadCa(caDir);
  const pem = await readText(resolve(opts.cert));
  const cert = parseCertificate(pem, opts.cert);
  const caCert = new X509Certificate(ca.certificatePem);
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey))
    throw new CliError("NOT_ISSUED_BY_CA", `${opts.cert} was not issued by the CA in ${opts.ca}`);
  const info = describeCertificate(pem);
  const crlPath = join(caDir, CA_FILES.crl);
  const current = await readText(crlPath);
  const now = new Date();
  const crl = await revokeCertificate({
    ca,
    crl: current,
    serial: info.serial,
    date: now,
    nextUpdate: new Date(now.getTime() + state.crlDays * DAY_MS),
    ...(reason === undefined ? {} : { reason }),
  });
  await replaceFile(crlPath, crl, 0o644);
  const entry = readCrl(crl).revoked.find((r) => r.serial === info.serial);
  for (const r of state.issued)
    if (r.serial === info.serial && r.revoked === undefined && entry !== undefined)
      r.revoked = { date: entry.date.toISOString(), ...(entry.reason === undefined ? {} : { reason: entry.reason }) };
  await saveState(caDir, state);
  out.line(`revoked ${info.nodeId ?? info.subject} (serial ${info.serial}${reason === undefined ? "" : `, ${reason}`}); ${CA_FILES.crl} updated`);
  out.result({ ok: true, serial: info.serial, kid: info.kid, nodeId: info.nodeId ?? null, reason: entry?.reason ?? null, crl: crlSummary(crl) });
}

async function refreshCrl(opts: { ca: string }, cmd: Command, ctx: CommandContext): Promise<void> {
  const out = outputFor(cmd, ctx);
  const caDir = resolve(opts.ca);
  const { ca, state } = await loadCa(caDir);
  const crlPath = join(caDir, CA_FILES.crl);
  const current = readCrl(await readText(crlPath));
  const now = new Date();
  const byTime = BigInt(Math.floor(now.getTime() / 1000));
  const next = current.crlNumber === undefined ? byTime : current.crlNumber + 1n;
  const crl = await createCrl({
    ca,
    revoked: current.revoked,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + state.crlDays * DAY_MS),
    crlNumber: next > byTime ? next : byTime,
  });
  await replaceFile(crlPath, crl, 0o644);
  const summary = crlSummary(crl);
  out.line(`re-signed ${CA_FILES.crl}: ${summary.revoked.length} revoked, next update ${summary.nextUpdate}`);
  out.result({ ok: true, crl: summary });
}

async function show(file: string, cmd: Command, ctx: CommandContext): Promise<void> {
  const out = outputFor(cmd, ctx);
  const pem = await readText(resolve(file));
  if (/-----BEGIN (X509 )?CRL-----/.test(pem)) {
    const summary = crlSummary(pem);
    out.line(`CRL issued by ${summary.issuer}`);
    out.line(`  thisUpdate  ${summary.thisUpdate}`);
    out.line(`  nextUpdate  ${summary.nextUpdate ?? "-"}`);
    out.line(`  crlNumber   ${summary.crlNumber ?? "-"}`);
    out.table(["serial", "revoked", "reason"], summary.revoked.map((r) => [r.serial, r.date, r.reason ?? ""]));
    out.result({ ok: true, type: "crl", ...summary });
    return;
  }
  if (/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(pem)) {
    // What an operator looks at before `pki sign`: whom it names, which key, and that the requester holds it.
    const r = await describeCertificateRequest(pem);
    out.table(
      ["field", "value"],
      [
        ["subject", r.subject || "-"],
        ["node id", r.nodeIds.join(", ") || "-"],
        ["key", r.keyAlgorithm],
        ["DNS names", r.dnsNames.join(", ") || "-"],
        ["IP addresses", r.ipAddresses.join(", ") || "-"],
        ["proof of possession", r.proofOfPossession ? "verified (signed with its own key)" : "FAILED: the request does not verify under its key"],
        ["SHA-256 of the request", r.sha256],
      ],
    );
    out.result({ ok: r.proofOfPossession, type: "certificate-request", ...r });
    if (!r.proofOfPossession) throw new CliError("TRUST_CERT_INVALID", "the certificate request does not verify under its own key");
    return;
  }
  parseCertificate(pem, file);
  const d = describeCertificate(pem);
  out.table(
    ["field", "value"],
    [
      ["subject", d.subject],
      ["issuer", d.issuer],
      ["node id", d.nodeId ?? "-"],
      ["kid", d.kid],
      ["serial", d.serial],
      ["not before", d.notBefore.toISOString()],
      ["not after", d.notAfter.toISOString()],
      ["CA", d.isCa ? "yes" : "no"],
      ["key", d.keyAlgorithm],
      ["key usage", d.keyUsage.join(", ")],
      ["extended key usage", d.extendedKeyUsage.join(", ") || "-"],
      ["DNS names", d.dnsNames.join(", ") || "-"],
      ["IP addresses", d.ipAddresses.join(", ") || "-"],
      ["SHA-256 fingerprint", d.fingerprint256],
    ],
  );
  out.result({ ok: true, type: "certificate", ...d, nodeId: d.nodeId ?? null });
}

function crlSummary(pem: string): {
  issuer: string;
  thisUpdate: string;
  nextUpdate: string | null;
  crlNumber: string | null;
  revoked: { serial: string; date: string; reason: string | null }[];
} {
  const info = readCrl(pem);
  return {
    issuer: info.issuer,
    thisUpdate: info.thisUpdate.toISOString(),
    nextUpdate: info.nextUpdate?.toISOString() ?? null,
    crlNumber: info.crlNumber?.toString() ?? null,
    revoked: info.revoked.map((r) => ({ serial: r.serial, date: r.date.toISOString(), reason: r.reason ?? null })),
  };
}

async function loadCa(dir: string): Promise<{ ca: CertificateAuthority; state: CaState }> {
  const [certificatePem, privateKeyPem, stateText] = await Promise.all([
    readText(join(dir, CA_FILES.cert)),
    readText(join(dir, CA_FILES.key)),
    readText(join(dir, CA_FILES.state)),
  ]);
  let state: CaState;
  try {
    state = JSON.parse(stateText) as CaState;
  } catch (err) {
    throw new CliError("CA_STATE_INVALID", `${CA_FILES.state} is not valid JSON: ${String(err)}`);
  }
  if (state.version !== 1 || !Array.isArray(state.issued))
    throw new CliError("CA_STATE_INVALID", `${CA_FILES.state} is not a version 1 CA state file`);
  return { ca: { certificatePem, privateKeyPem }, state };
}

async function saveState(dir: string, state: CaState): Promise<void> {
  await replaceFile(join(dir, CA_FILES.state), `${JSON.stringify(state, null, 2)}\n`, 0o644);
}

/** Writes a new file with its final mode from the start; never overwrites. */
async function writeNew(path: string, content: string, mode: number): Promise<void> {
  await writeFile(path, content, { flag: "wx", mode });
}

/** Replaces a file atomically, so readers never see half a CRL or state file. */
async function replaceFile(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, content, { flag: "w", mode });
  await rename(tmp, path);
}

async function refuseExisting(dir: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const exists = await stat(join(dir, name)).then(
      () => true,
      () => false,
    );
    if (exists) throw new CliError("FILE_EXISTS", `${name} already exists in ${dir}; refusing to overwrite`);
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new CliError("FILE_NOT_FOUND", `cannot read ${basename(path)}: ${(err as Error).message}`);
  }
}

function parseCertificate(pem: string, name: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new CliError("TRUST_CERT_INVALID", `${name} is not a certificate: ${(err as Error).message}`);
  }
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive whole number, got ${value}`);
  return n;
}
