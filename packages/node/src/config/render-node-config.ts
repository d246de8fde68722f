import { isAbsolute, relative, sep } from "node:path";
import { stringify } from "yaml";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "../outbox/retry-schedule.js";
import { formatListenAddress } from "./listen-address.js";
import { NODE_CONFIG_DEFAULTS } from "./parse-node-config.js";
import type { NodeConfig } from "./types.js";

/**
 * Writes a config back as YAML for a file in `dir`: paths inside `dir`
 * become relative (so the directory can move), defaults that equal the
 * built-in ones are left out of `retry`. `parseNodeConfig` of the result,
 * with `baseDir: dir`, gives the same config back.
 */
export function renderNodeConfig(config: NodeConfig, dir: string): string {
  const rel = (p: string): string => {
    const r = relative(dir, p);
    return r === "" || r.startsWith("..") || isAbsolute(r) ? p : r.split(sep).join("/");
  };
  const auth =
    config.platform.auth.kind === "tokens"
      ? { tokens: config.platform.auth.tokens.map((t) => ({ name: t.name, sha256: t.sha256 })) }
      : { mtls: true, clientCa: rel(config.platform.auth.clientCa) };
  const retry: Record<string, unknown> = changed(config.retry.policy);
  if (Object.keys(config.retry.perDestination).length > 0) retry["perDestination"] = config.retry.perDestination;
  const doc: Record<string, unknown> = {
    nodeId: config.nodeId,
    dataDir: rel(config.dataDir),
    federation: {
      listen: formatListenAddress(config.federation.listen),
      tlsCert: rel(config.federation.tlsCert),
      tlsKey: rel(config.federation.tlsKey),
      ...(config.federation.retiredKeys.length === 0 ? {} : { retiredKeys: config.federation.retiredKeys.map(rel) }),
      ...(config.federation.delivery === "push" ? {} : { delivery: config.federation.delivery }),
      ...(config.federation.pullWaitMs === NODE_CONFIG_DEFAULTS.pullWaitMs ? {} : { pullWaitMs: config.federation.pullWaitMs }),
    },
    signing: {
      cert: rel(config.signing.cert),
      key: rel(config.signing.key),
      algorithm: config.signing.algorithm,
      ...(config.signing.retiredKeys.length === 0 ? {} : { retiredKeys: config.signing.retiredKeys.map(rel) }),
    },
    trust: {
      anchor: rel(config.trust.anchor),
      ...(config.trust.crl === undefined ? {} : { crl: rel(config.trust.crl) }),
      ...(config.trust.directory === undefined ? {} : { directory: rel(config.trust.directory) }),
      ...(config.trust.sealCa === undefined ? {} : { sealCa: rel(config.trust.sealCa) }),
      crlGraceMs: config.trust.crlGraceMs,
      directoryGraceMs: config.trust.directoryGraceMs,
      directoryRefreshMs: config.trust.directoryRefreshMs,
    },
    peers: config.peers.map((p) => ({ nodeId: p.nodeId, ...(p.address === undefined ? {} : { address: p.address }), ...(p.delivery === undefined ? {} : { delivery: p.delivery }), ...(p.suite === undefined ? {} : { suite: p.suite }), certificates: p.certificates.map(rel) })),
    platform: { listen: formatListenAddress(config.platform.listen), auth },
    ...(config.mapping.tablesDir === undefined ? {} : { mapping: { tablesDir: rel(config.mapping.tablesDir) } }),
    ...(config.calendar === undefined ? {} : { calendar: rel(config.calendar) }),
    ...(config.metrics.listen === undefined ? {} : { metrics: { listen: formatListenAddress(config.metrics.listen) } }),
    ...(config.console.listen === undefined && config.console.users.length === 0 ? {} : { console: { ...(config.console.listen === undefined ? {} : { listen: formatListenAddress(config.console.listen) }), users: config.console.users.map((u) => ({ ...u })) } }),
    log: { level: config.log.level },
    ...(Object.keys(retry).length === 0 ? {} : { retry }),
    limits: { ...config.limits },
    store: { ...config.store },
    backup: { ...config.backup, dir: rel(config.backup.dir) },
    ...(config.retention.evidencePayloadDays === 0 ? {} : { retention: { ...config.retention } }),
    shutdown: { ...config.shutdown },
  };
  return `# Tongban reference node configuration (docs/node.md#configuration).\n# Relative paths resolve against this file's directory.\n${stringify(doc)}`;
}

function changed(policy: RetryPolicy): Partial<RetryPolicy> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(policy)) if (DEFAULT_RETRY_POLICY[k as keyof RetryPolicy] !== v) out[k] = v as number;
  return out as Partial<RetryPolicy>;
}
