import { validateNodeId, type SignatureAlgorithm, type Suite } from "@tongban/sdk";
import { DEFAULT_RETRY_POLICY, validatePolicy, type RetryPolicy } from "../outbox/retry-schedule.js";
import { DEFAULT_CACHE_SIZE, DEFAULT_WRITE_BUFFER_SIZE } from "../store/level-store.js";
import { configInvalid } from "./config-issues.js";
import { ConfigReader, join } from "./config-reader.js";
import type { ConsoleUserConfig, ListenAddress, LogLevel, NodeConfig, PeerConfig, PlatformAuth, PlatformToken } from "./types.js";

/** Defaults filled in when the file leaves a field out. */
export const NODE_CONFIG_DEFAULTS = Object.freeze({
  federationListen: "127.0.0.1:7443",
  pullWaitMs: 20_000,
  platformListen: "127.0.0.1:7444",
  signingAlgorithm: "ES256" as SignatureAlgorithm,
  logLevel: "info" as LogLevel,
  crlGraceMs: 0,
  // A day of service on an expired directory, with alerts from its first minute.
  directoryGraceMs: 24 * 60 * 60_000,
  directoryRefreshMs: 5 * 60_000,
  // grpc-js's own default; materials larger than this are streamed in chunks.
  maxMessageBytes: 4 * 1024 * 1024,
  timestampWindowMs: 5 * 60_000,
  maxInFlight: 256,
  // Per partner: messages per second (token bucket with a burst) and deliveries at once.
  perPartnerRate: 500,
  perPartnerBurst: 1_000,
  perPartnerInFlight: 64,
  storeWriteBufferSize: DEFAULT_WRITE_BUFFER_SIZE,
  storeCacheSize: DEFAULT_CACHE_SIZE,
  // Relative to the config file's directory (the node directory).
  backupDir: "backups",
  backupEveryHours: 0,
  backupKeep: 7,
  evidencePayloadDays: 0,
  shutdownGraceMs: 5_000,
  drainDelayMs: 0,
});

const TOP_KEYS = [
  "nodeId", "dataDir", "federation", "signing", "trust", "peers", "platform", "mapping",
  "calendar", "metrics", "log", "retry", "limits", "store", "backup", "retention", "shutdown", "console",
] as const;
const ALGORITHMS: readonly SignatureAlgorithm[] = ["ES256", "EdDSA", "SM2SM3"];
const SUITES: readonly Suite[] = ["jose-v1", "gm-v1"];
const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const RETRY_KEYS = ["baseDelayMs", "factor", "minDelayMs", "maxDelayMs", "deadlineMs", "maxAttempts"] as const;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Where the raw document came from. */
export interface ParseNodeConfigOptions {
  /** The file name, reported in errors. */
  readonly file?: string;
  /** Relative paths resolve against this directory (the file's directory). */
  readonly baseDir: string;
}

/**
 * Validates a parsed config document (from YAML or JSON) and fills in
 * defaults. Every mistake found is reported in one CONFIG_INVALID error
 * whose details name the file and the dotted path (`federation.listen`,
 * `peers[1].nodeId`), so operators fix them all in one go.
 *
 * @throws TongbanError CONFIG_INVALID
 *
 * @example
 * ```ts
 * const config = parseNodeConfig(YAML.parse(text), { file: "node.yaml", baseDir: "/etc/tongban" });
 * ```
 */
export function parseNodeConfig(raw: unknown, options: ParseNodeConfigOptions): NodeConfig {
  const r = new ConfigReader(options.baseDir);
  const root = r.object(raw, "", true) ?? {};
  r.known(root, "", TOP_KEYS);
  const D = NODE_CONFIG_DEFAULTS;

  const nodeId = nodeIdField(r, root, "nodeId", "");
  const dataDir = r.path(root, "dataDir", "", true);

  const fed = r.object(root["federation"], "federation", true) ?? {};
  r.known(fed, "federation", ["listen", "tlsCert", "tlsKey", "retiredKeys", "delivery", "pullWaitMs"]);
  const delivery = r.oneOf(fed, "delivery", "federation", ["push", "pull"] as const, "push");
  const pullWaitMs = r.integer(fed, "pullWaitMs", "federation", D.pullWaitMs, 1_000, 60_000);
  const federationListen = r.listen(fed, "listen", "federation", D.federationListen);
  const tlsCert = r.path(fed, "tlsCert", "federation", true);
  const tlsKey = r.path(fed, "tlsKey", "federation", true);
  const retiredTlsKeys = pathList(r, fed, "retiredKeys", "federation");

  const sig = r.object(root["signing"], "signing", true) ?? {};
  r.known(sig, "signing", ["cert", "key", "algorithm", "retiredKeys"]);
  const signingCert = r.path(sig, "cert", "signing", true);
  const signingKey = r.path(sig, "key", "signing", true);
  const algorithm = r.oneOf(sig, "algorithm", "signing", ALGORITHMS, D.signingAlgorithm);
  const retiredSigningKeys = pathList(r, sig, "retiredKeys", "signing");
  if (retiredSigningKeys.length > 0 && algorithm !== "SM2SM3")
    r.issue("signing.retiredKeys", `only an SM2SM3 node opens bodies with its signing key; with ${algorithm} keep replaced keys under federation.retiredKeys`);

  const tr = r.object(root["trust"], "trust", true) ?? {};
  r.known(tr, "trust", ["anchor", "crl", "directory", "crlGraceMs", "sealCa", "directoryGraceMs", "directoryRefreshMs"]);
  const anchor = r.path(tr, "anchor", "trust", true);
  const crl = r.path(tr, "crl", "trust", false);
  const directory = r.path(tr, "directory", "trust", false);
  const crlGraceMs = r.integer(tr, "crlGraceMs", "trust", D.crlGraceMs, 0);
  const sealCa = r.path(tr, "sealCa", "trust", false);
  const directoryGraceMs = r.integer(tr, "directoryGraceMs", "trust", D.directoryGraceMs, 0);
  const directoryRefreshMs = r.integer(tr, "directoryRefreshMs", "trust", D.directoryRefreshMs, 1_000);

  const peers = peersField(r, root, nodeId);
  if (delivery === "pull")
    peers.forEach((p, i) => {
      if (p.delivery === "pull") r.issue(join(join("peers", i), "delivery"), "two pull nodes cannot exchange: neither takes connections (one of them must be reachable)");
    });

  const plat = r.object(root["platform"], "platform", true) ?? {};
  r.known(plat, "platform", ["listen", "auth"]);
  const platformListen = r.listen(plat, "listen", "platform", D.platformListen);
  const auth = platformAuth(r, plat);
  if (federationListen !== undefined && platformListen !== undefined && sameFixedPort(federationListen, platformListen))
    r.issue("platform.listen", "must differ from federation.listen: the platform API has its own port");

  const map = r.object(root["mapping"], "mapping", false) ?? {};
  r.known(map, "mapping", ["tablesDir"]);
  const tablesDir = r.path(map, "tablesDir", "mapping", false);
  const calendar = r.path(root, "calendar", "", false);

  const met = r.object(root["metrics"], "metrics", false) ?? {};
  r.known(met, "metrics", ["listen"]);
  const metricsListen = r.listen(met, "listen", "metrics", undefined);

  // The operator console: off unless a listen address is given (docs/console.md).
  const con = r.object(root["console"], "console", false) ?? {};
  r.known(con, "console", ["listen", "users"]);
  const consoleListen = r.listen(con, "listen", "console", undefined);
  const consoleUsers: ConsoleUserConfig[] = [];
  r.array(con, "users", "console").forEach((item, i) => {
    const path = join("console.users", i);
    const u = r.object(item, path, true) ?? {};
    r.known(u, path, ["name", "sha256", "role"]);
    const name = r.string(u, "name", path, true);
    const sha256 = r.string(u, "sha256", path, true);
    const role = r.oneOf(u, "role", path, ["viewer", "operator"] as const, "viewer");
    if (sha256 !== undefined && !SHA256_HEX.test(sha256)) r.issue(`${path}.sha256`, "must be the hex SHA-256 of the token (64 lower-case hex digits)");
    else if (name !== undefined && sha256 !== undefined) consoleUsers.push({ name, sha256, role });
  });

  const log = r.object(root["log"], "log", false) ?? {};
  r.known(log, "log", ["level"]);
  const level = r.oneOf(log, "level", "log", LOG_LEVELS, D.logLevel);

  const retry = retryField(r, root, peers);

  const lim = r.object(root["limits"], "limits", false) ?? {};
  r.known(lim, "limits", ["maxMessageBytes", "timestampWindowMs", "maxInFlight", "perPartnerRate", "perPartnerBurst", "perPartnerInFlight"]);
  const limits = {
    // Below 64 KiB not even a receipt with its certificate chain fits.
    maxMessageBytes: r.integer(lim, "maxMessageBytes", "limits", D.maxMessageBytes, 64 * 1024, 2 ** 31 - 1),
    timestampWindowMs: r.integer(lim, "timestampWindowMs", "limits", D.timestampWindowMs, 1_000),
    maxInFlight: r.integer(lim, "maxInFlight", "limits", D.maxInFlight, 1),
    perPartnerRate: r.integer(lim, "perPartnerRate", "limits", D.perPartnerRate, 1),
    perPartnerBurst: r.integer(lim, "perPartnerBurst", "limits", D.perPartnerBurst, 1),
    perPartnerInFlight: r.integer(lim, "perPartnerInFlight", "limits", D.perPartnerInFlight, 1),
  };

  const st = r.object(root["store"], "store", false) ?? {};
  r.known(st, "store", ["writeBufferSize", "cacheSize"]);
  const store = {
    // LevelDB's own floor for the memtable is 64 KiB; above 1 GiB a crash leaves that much log to replay.
    writeBufferSize: r.integer(st, "writeBufferSize", "store", D.storeWriteBufferSize, 64 * 1024, 1024 * 1024 * 1024),
    cacheSize: r.integer(st, "cacheSize", "store", D.storeCacheSize, 1, 64 * 1024 * 1024 * 1024),
  };

  const bk = r.object(root["backup"], "backup", false) ?? {};
  r.known(bk, "backup", ["dir", "everyHours", "keep"]);
  const backup = {
    dir: r.path(bk, "dir", "backup", false) ?? r.resolvePath(D.backupDir),
    everyHours: r.integer(bk, "everyHours", "backup", D.backupEveryHours, 0, 24 * 366),
    keep: r.integer(bk, "keep", "backup", D.backupKeep, 1, 100_000),
  };

  const rt = r.object(root["retention"], "retention", false) ?? {};
  r.known(rt, "retention", ["evidencePayloadDays"]);
  const retention = {
    evidencePayloadDays: r.integer(rt, "evidencePayloadDays", "retention", D.evidencePayloadDays, 0, 36_500),
  };

  const sd = r.object(root["shutdown"], "shutdown", false) ?? {};
  r.known(sd, "shutdown", ["graceMs", "drainDelayMs"]);
  const shutdown = {
    graceMs: r.integer(sd, "graceMs", "shutdown", D.shutdownGraceMs, 0),
    drainDelayMs: r.integer(sd, "drainDelayMs", "shutdown", D.drainDelayMs, 0),
  };

  if (r.issues.length > 0) throw configInvalid(options.file, r.issues);
  // Every required field was checked above; an issue would have thrown.
  const must = <T>(v: T | undefined): T => v as T;
  return {
    file: options.file,
    nodeId: must(nodeId),
    dataDir: must(dataDir),
    federation: { listen: must(federationListen), tlsCert: must(tlsCert), tlsKey: must(tlsKey), retiredKeys: retiredTlsKeys, delivery, pullWaitMs },
    signing: { cert: must(signingCert), key: must(signingKey), algorithm, retiredKeys: retiredSigningKeys },
    trust: { anchor: must(anchor), ...(crl === undefined ? {} : { crl }), ...(directory === undefined ? {} : { directory }), ...(sealCa === undefined ? {} : { sealCa }), crlGraceMs, directoryGraceMs, directoryRefreshMs },
    peers,
    platform: { listen: must(platformListen), auth: must(auth) },
    mapping: tablesDir === undefined ? {} : { tablesDir },
    ...(calendar === undefined ? {} : { calendar }),
    metrics: metricsListen === undefined ? {} : { listen: metricsListen },
    console: { ...(consoleListen === undefined ? {} : { listen: consoleListen }), users: consoleUsers },
    log: { level },
    retry,
    limits,
    store,
    backup,
    retention,
    shutdown,
  };
}

function nodeIdField(r: ConfigReader, obj: Record<string, unknown>, key: string, path: string): string | undefined {
  const v = r.string(obj, key, path, true);
  if (v === undefined) return undefined;
  const check = validateNodeId(v);
  if (!check.ok) return r.issue(join(path, key), `not a valid node id "${v}": ${check.issues.map((i) => i.message).join("; ")}`);
  return v;
}

/** A list of file paths (resolved against the config's directory). */
function pathList(r: ConfigReader, obj: Record<string, unknown>, key: string, path: string): string[] {
  const paths: string[] = [];
  r.array(obj, key, path).forEach((v, i) => {
    if (typeof v === "string" && v.trim() !== "") paths.push(r.resolvePath(v));
    else r.issue(join(join(path, key), i), "must be a file path");
  });
  return paths;
}

function peersField(r: ConfigReader, root: Record<string, unknown>, self: string | undefined): PeerConfig[] {
  const peers: PeerConfig[] = [];
  const seen = new Set<string>();
  r.array(root, "peers", "").forEach((item, i) => {
    const path = join("peers", i);
    const p = r.object(item, path, true);
    if (p === undefined) return;
    r.known(p, path, ["nodeId", "address", "delivery", "suite", "certificates"]);
    const nodeId = nodeIdField(r, p, "nodeId", path);
    const delivery = p["delivery"] === undefined ? undefined : r.oneOf(p, "delivery", path, ["push", "pull"] as const, "push");
    // A pull peer is never dialled: it calls this node for what waits for it.
    const address = r.string(p, "address", path, delivery !== "pull");
    if (address !== undefined) {
      // Peers are dialled, so port 0 makes no sense here.
      const parsed = r.listen(p, "address", path, undefined);
      if (parsed !== undefined && parsed.port === 0) r.issue(join(path, "address"), "a peer address needs a real port, not 0");
    }
    const suite = p["suite"] === undefined ? undefined : r.oneOf(p, "suite", path, SUITES, "jose-v1");
    const certificates: string[] = [];
    r.array(p, "certificates", path).forEach((c, j) => {
      const cp = join(join(path, "certificates"), j);
      if (typeof c === "string" && c.trim() !== "") certificates.push(r.resolvePath(c));
      else r.issue(cp, "must be a file path");
    });
    if (nodeId !== undefined) {
      if (nodeId === self) r.issue(join(path, "nodeId"), "a node is not its own peer");
      else if (seen.has(nodeId)) r.issue(join(path, "nodeId"), `${nodeId} is listed twice`);
      seen.add(nodeId);
    }
    if (nodeId !== undefined && (address !== undefined || delivery === "pull"))
      peers.push({ nodeId, ...(address === undefined ? {} : { address }), ...(delivery === undefined ? {} : { delivery }), ...(suite === undefined ? {} : { suite }), certificates });
  });
  return peers;
}

function platformAuth(r: ConfigReader, plat: Record<string, unknown>): PlatformAuth | undefined {
  const a = r.object(plat["auth"], "platform.auth", true);
  if (a === undefined) return undefined;
  const hasTokens = "tokens" in a;
  const hasMtls = "mtls" in a;
  if (hasTokens === hasMtls) return r.issue("platform.auth", "must have exactly one of `tokens` (bearer tokens) or `mtls: true` with `clientCa`");
  if (hasMtls) {
    r.known(a, "platform.auth", ["mtls", "clientCa"]);
    if (r.boolean(a, "mtls", "platform.auth") !== true) return r.issue("platform.auth.mtls", "must be true (leave it out and list tokens instead)");
    const clientCa = r.path(a, "clientCa", "platform.auth", true);
    return clientCa === undefined ? undefined : { kind: "mtls", clientCa };
  }
  r.known(a, "platform.auth", ["tokens"]);
  const tokens: PlatformToken[] = [];
  const names = new Set<string>();
  r.array(a, "tokens", "platform.auth").forEach((item, i) => {
    const path = join("platform.auth.tokens", i);
    const t = r.object(item, path, true);
    if (t === undefined) return;
    r.known(t, path, ["name", "sha256"]);
    const name = r.string(t, "name", path, true);
    const sha256 = r.string(t, "sha256", path, true);
    if (sha256 !== undefined && !SHA256_HEX.test(sha256))
      r.issue(join(path, "sha256"), "must be the SHA-256 of the token as 64 lowercase hex digits (never the token itself)");
    if (name !== undefined) {
      if (names.has(name)) r.issue(join(path, "name"), `token name "${name}" is used twice`);
      names.add(name);
    }
    if (name !== undefined && sha256 !== undefined) tokens.push({ name, sha256 });
  });
  return { kind: "tokens", tokens };
}

function retryField(r: ConfigReader, root: Record<string, unknown>, peers: readonly PeerConfig[]): NodeConfig["retry"] {
  const o = r.object(root["retry"], "retry", false) ?? {};
  r.known(o, "retry", [...RETRY_KEYS, "perDestination"]);
  const policy = { ...DEFAULT_RETRY_POLICY, ...retryOverrides(r, o, "retry") };
  checkPolicy(r, policy, "retry");
  const perDestination: Record<string, Partial<RetryPolicy>> = {};
  const per = r.object(o["perDestination"], "retry.perDestination", false) ?? {};
  for (const [dest, value] of Object.entries(per)) {
    const path = join("retry.perDestination", dest);
    if (!validateNodeId(dest).ok) r.issue(path, `"${dest}" is not a valid node id`);
    else if (!peers.some((p) => p.nodeId === dest)) r.issue(path, `${dest} is not in peers`);
    const d = r.object(value, path, true);
    if (d === undefined) continue;
    r.known(d, path, RETRY_KEYS);
    const overrides = retryOverrides(r, d, path);
    checkPolicy(r, { ...policy, ...overrides }, path);
    perDestination[dest] = overrides;
  }
  return { policy, perDestination };
}

function retryOverrides(r: ConfigReader, o: Record<string, unknown>, path: string): Partial<RetryPolicy> {
  const out: { -readonly [K in keyof RetryPolicy]?: number } = {};
  for (const k of RETRY_KEYS) {
    const v = k === "maxAttempts" ? r.integer(o, k, path, Number.NaN, 0) : r.number(o, k, path, 0);
    if (v !== undefined && !Number.isNaN(v)) out[k] = v;
  }
  return out;
}

function checkPolicy(r: ConfigReader, policy: RetryPolicy, path: string): void {
  try {
    validatePolicy(policy);
  } catch (err) {
    r.issue(path, (err as Error).message);
  }
}

function sameFixedPort(a: ListenAddress, b: ListenAddress): boolean {
  return a.port !== 0 && a.port === b.port && a.host === b.host;
}
