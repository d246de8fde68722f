import { join } from "node:path";
import { DEFAULT_RETRY_POLICY } from "../outbox/retry-schedule.js";
import { parseListenAddress } from "./listen-address.js";
import { NODE_CONFIG_DEFAULTS } from "./parse-node-config.js";
import type { ListenAddress, NodeConfig } from "./types.js";

/** The file names `tongban node init` writes inside a node directory. */
export const NODE_DIR_LAYOUT = Object.freeze({
  config: "node.yaml",
  dataDir: "data",
  tlsCert: "pki/tls.crt",
  tlsKey: "pki/tls.key",
  signingCert: "pki/sign.crt",
  signingKey: "pki/sign.key",
  anchor: "pki/root.crt",
  crl: "pki/crl.pem",
  peersDir: "peers",
  backups: NODE_CONFIG_DEFAULTS.backupDir,
});

/**
 * The configuration of a fresh node directory `dir` (absolute), laid out as
 * {@link NODE_DIR_LAYOUT}: default listen addresses, no peers, no platform
 * tokens yet, no CRL. `tongban node init` starts from it.
 *
 * @example
 * ```ts
 * const config = defaultNodeConfig("cn.310118.qingpu", "/srv/tongban/qingpu");
 * config.dataDir; // "/srv/tongban/qingpu/data"
 * ```
 */
export function defaultNodeConfig(nodeId: string, dir: string): NodeConfig {
  const D = NODE_CONFIG_DEFAULTS;
  const L = NODE_DIR_LAYOUT;
  return {
    file: join(dir, L.config),
    nodeId,
    dataDir: join(dir, L.dataDir),
    federation: { listen: listen(D.federationListen), tlsCert: join(dir, L.tlsCert), tlsKey: join(dir, L.tlsKey), retiredKeys: [], delivery: "push", pullWaitMs: D.pullWaitMs },
    signing: { cert: join(dir, L.signingCert), key: join(dir, L.signingKey), algorithm: D.signingAlgorithm, retiredKeys: [] },
    trust: { anchor: join(dir, L.anchor), crlGraceMs: D.crlGraceMs, directoryGraceMs: D.directoryGraceMs, directoryRefreshMs: D.directoryRefreshMs },
    peers: [],
    platform: { listen: listen(D.platformListen), auth: { kind: "tokens", tokens: [] } },
    mapping: {},
    metrics: {},
    console: { users: [] },
    log: { level: D.logLevel },
    retry: { policy: DEFAULT_RETRY_POLICY, perDestination: {} },
    limits: { maxMessageBytes: D.maxMessageBytes, timestampWindowMs: D.timestampWindowMs, maxInFlight: D.maxInFlight, perPartnerRate: D.perPartnerRate, perPartnerBurst: D.perPartnerBurst, perPartnerInFlight: D.perPartnerInFlight },
    store: { writeBufferSize: D.storeWriteBufferSize, cacheSize: D.storeCacheSize },
    backup: { dir: join(dir, L.backups), everyHours: D.backupEveryHours, keep: D.backupKeep },
    retention: { evidencePayloadDays: D.evidencePayloadDays },
    shutdown: { graceMs: D.shutdownGraceMs, drainDelayMs: D.drainDelayMs },
  };
}

function listen(value: string): ListenAddress {
  return parseListenAddress(value) as ListenAddress;
}
