/**
 * The composition root of the reference node: what starts, in which order,
 * and how it stops. Components are injected (`createNode(components,
 * options)`), so tests run a node on a MemoryStore with in-process services;
 * `openNode(file)` builds the real ones from a config file.
 */
import { mkdir } from "node:fs/promises";
import type { Logger } from "pino";
import { TongbanError, type HandlerContext, type ServiceImpl, type Suite, type TrustStore } from "@tongban/sdk";
import type { FederationService, PlatformService } from "@tongban/sdk/gen";
import { loadNodeConfig } from "./config/load-node-config.js";
import { verifyNodeConfig, type VerifiedPem } from "./config/verify-node-config.js";
import { formatListenAddress } from "./config/listen-address.js";
import type { NodeConfig } from "./config/types.js";
import { startFederationServer } from "./server/federation-server.js";
import { startMetricsServer, type MetricsServerHandle } from "./server/metrics-server.js";
import { nodeInfoService } from "./server/node-info.js";
import { createNodeLogger } from "./server/node-logger.js";
import { createNodeMetrics, type NodeMetrics } from "./server/node-metrics.js";
import { platformClientCa, startPlatformServer } from "./server/platform-server.js";
import type { ServiceServerHandle } from "./server/service-server.js";
import { scheduleBackups, writeBackupInto, type WrittenBackup } from "./store/backup.js";
import { openLevelStore } from "./store/level-store.js";
import type { Store } from "./store/types.js";

/** A part of the node that runs in the background (outbox dispatcher, group committer, deadline timer). */
export interface NodeService {
  /** For logs. */
  readonly name: string;
  /** Called after the servers listen, in the order given. */
  start?(): void | Promise<void>;
  /** Called after the servers drained, in reverse order, before the store closes. */
  stop(): void | Promise<void>;
  /**
   * Takes the node's credentials after they changed on disk and were checked
   * (`TongbanNode.reloadCredentials`): swap keys and certificates in place.
   */
  reloadCredentials?(pem: VerifiedPem): void | Promise<void>;
}

/** What a node is made of. Everything is injected; {@link openNode} builds the real set. */
export interface NodeComponents {
  readonly store: Store;
  readonly trust: TrustStore;
  readonly logger: Logger;
  readonly metrics: NodeMetrics;
  /** The node's clock; `() => new Date()` by default. */
  readonly clock?: () => Date;
  /** FederationService methods (Deliver, …). GetNodeInfo is built in unless given here. */
  readonly federation?: Partial<ServiceImpl<typeof FederationService>>;
  /** PlatformService methods; those left out answer UNIMPLEMENTED. */
  readonly platform?: Partial<ServiceImpl<typeof PlatformService>>;
  readonly services?: readonly NodeService[];
  /** The credentials the node starts with, as `verifyNodeConfig` read them; a reload reports what changed against them. */
  readonly credentials?: VerifiedPem;
}

/** The parts of a node's credentials a reload compares. */
export type CredentialPart = "tls" | "signing" | "retiredKeys" | "crl" | "peers";

/** What {@link TongbanNode.reloadCredentials} took. */
export interface CredentialsReloaded {
  /** Which of the node's credentials differ from those it held before. */
  readonly changed: readonly CredentialPart[];
  readonly tls: { readonly kid: string; readonly notAfter: Date };
  readonly signing: { readonly kid: string; readonly notAfter: Date };
}

/** Options of {@link createNode}. */
export interface NodeOptions {
  readonly config: NodeConfig;
  /** Suites GetNodeInfo reports; from the signing algorithm by default. */
  readonly suites?: readonly Suite[];
}

/** Where a started node listens, as `host:port`. */
export interface NodeAddresses {
  readonly federation: string;
  readonly platform: string;
  readonly metrics?: string;
}

/** Lifecycle of a node: idle → starting → running → stopping → stopped. */
export type NodeState = "idle" | "starting" | "running" | "stopping" | "stopped";

/** A reference node. */
export interface TongbanNode {
  readonly nodeId: string;
  readonly config: NodeConfig;
  readonly components: NodeComponents;
  readonly state: NodeState;
  /** Set while running. */
  readonly addresses: NodeAddresses | undefined;
  /** The running gRPC servers (health, raw server), for tests and tools. */
  readonly servers: { readonly federation: ServiceServerHandle; readonly platform: ServiceServerHandle } | undefined;
  /** Binds the servers, reports SERVING, starts background services. Once. */
  start(): Promise<NodeAddresses>;
  /**
   * Graceful shutdown: health NOT_SERVING on both servers → (drain delay) →
   * stop accepting calls → calls in flight finish within the grace →
   * background services stop → metrics server closes → store closes.
   * Idempotent; safe after a failed start.
   */
  stop(): Promise<void>;
  /**
   * Writes a backup of the store into `config.backup.dir` while the node runs (one snapshot;
   * docs/node.md "Backup and restore") and keeps the newest `config.backup.keep`. A call while
   * one is being written gets that one.
   */
  backup(): Promise<WrittenBackup>;
  /**
   * Re-reads the certificates, keys and CRL the config names (`federation.tlsCert/tlsKey`,
   * `signing.cert/key`, both `retiredKeys` lists, `trust.crl`, peer certificates, the directory
   * file; not the config file itself) and, only if
   * all of them check out as at start (`verifyNodeConfig`), puts them to use without a restart:
   * new connections to both ports get the new TLS certificate, deliveries from now on present it,
   * envelopes and receipts are signed with the new key, bodies encrypted to the previous TLS key
   * still open. Otherwise nothing changes. `tongban node start` calls it on SIGHUP.
   *
   * @throws TongbanError CONFIG_INVALID listing each problem by config path (the node keeps its
   *   credentials); TRANSPORT_UNAVAILABLE when the node is not running.
   */
  reloadCredentials(): Promise<CredentialsReloaded>;
}

/**
 * Assembles a node from components.
 *
 * @example
 * ```ts
 * const node = createNode({ store: new MemoryStore(), trust, logger, metrics, federation: federationService(deps) }, { config });
 * const { federation } = await node.start();
 * // ...
 * await node.stop();
 * ```
 */
export function createNode(components: NodeComponents, options: NodeOptions): TongbanNode {
  const { config } = options;
  const log = components.logger;
  const clock = components.clock ?? (() => new Date());
  const suites = options.suites ?? [config.signing.algorithm === "SM2SM3" ? "gm-v1" : "jose-v1"];
  let state: NodeState = "idle";
  let addresses: NodeAddresses | undefined;
  let federation: ServiceServerHandle | undefined;
  let platform: ServiceServerHandle | undefined;
  let metricsServer: MetricsServerHandle | undefined;
  const started: NodeService[] = [];
  let stopping: Promise<void> | undefined;
  let backingUp: Promise<WrittenBackup> | undefined;
  let reloading: Promise<CredentialsReloaded> | undefined;
  let held = components.credentials;
  let stopBackups = (): void => undefined;

  function backup(): Promise<WrittenBackup> {
    if (state === "stopping" || state === "stopped") return Promise.reject(new TongbanError("STORE_UNAVAILABLE", `node ${config.nodeId} cannot back up: it is ${state}`));
    backingUp ??= (async () => {
      const t0 = Date.now();
      try {
        const info = await writeBackupInto(components.store, config.backup.dir, { nodeId: config.nodeId, keep: config.backup.keep, now: clock });
        components.metrics.backupsTotal.inc({ result: "ok" });
        components.metrics.backupLastSuccess.set(Date.now() / 1000);
        log.info({ file: info.file, entries: info.entries, bytes: info.bytes, ms: Date.now() - t0 }, "backup written");
        return info;
      } catch (err) {
        components.metrics.backupsTotal.inc({ result: "failed" });
        log.error({ err }, "backup failed");
        throw err;
      } finally {
        backingUp = undefined;
      }
    })();
    return backingUp;
  }

  function reloadCredentials(): Promise<CredentialsReloaded> {
    if (state !== "running" || federation === undefined || platform === undefined) {
      return Promise.reject(new TongbanError("TRANSPORT_UNAVAILABLE", `node ${config.nodeId} cannot reload its credentials: it is ${state}`));
    }
    const servers = { federation, platform };
    // A reload asked for while one runs waits for it, then reads the files again.
    const run = async (): Promise<CredentialsReloaded> => {
      try {
        const verified = await verifyNodeConfig(config, clock());
        const { pem } = verified;
        const clientCa = await platformClientCa(config);
        // Both contexts are built before either server takes one: a bad set changes neither.
        servers.platform.credentials.check({ ca: clientCa, cert: pem.tlsCert, key: pem.tlsKey });
        servers.federation.credentials.check({ ca: pem.anchor, cert: pem.tlsCert, key: pem.tlsKey });
        const was = held;
        const differs = (part: (p: VerifiedPem) => unknown): boolean => was === undefined || JSON.stringify(part(was)) !== JSON.stringify(part(pem));
        const changed: CredentialPart[] = [];
        if (differs((p) => [p.tlsCert, p.tlsKey])) changed.push("tls");
        if (differs((p) => [p.signingCert, p.signingKey])) changed.push("signing");
        if (differs((p) => [p.retiredTlsKeys, p.retiredSigningKeys])) changed.push("retiredKeys");
        if (differs((p) => p.crl)) changed.push("crl");
        if (differs((p) => p.peerCertificates)) changed.push("peers");
        // Checked on a trust store of their own above, so these take; then the services (signer,
        // decryption keys, outbound channels), which check what they take before they swap; the servers last.
        const trust = components.trust;
        // The CRL file is taken unless the node already uses a newer one (a directory brings CRLs too).
        const fileCrl = verified.trust.crl;
        if (pem.crl !== undefined && fileCrl !== undefined && !isOlderCrl(fileCrl, trust.crl)) trust.setCrl(pem.crl);
        for (const cert of [pem.tlsCert, pem.signingCert, ...pem.peerCertificates]) trust.addCertificate(cert);
        for (const s of started) await s.reloadCredentials?.(pem);
        servers.platform.credentials.update({ ca: clientCa, cert: pem.tlsCert, key: pem.tlsKey });
        servers.federation.credentials.update({ ca: pem.anchor, cert: pem.tlsCert, key: pem.tlsKey });
        held = pem;
        const result = { changed, tls: verified.tls, signing: verified.signing };
        components.metrics.credentialReloadsTotal.inc({ result: "ok" });
        log.info({ changed, tlsKid: verified.tls.kid, signingKid: verified.signing.kid, tlsNotAfter: verified.tls.notAfter, signingNotAfter: verified.signing.notAfter }, "credentials reloaded");
        return result;
      } catch (err) {
        components.metrics.credentialReloadsTotal.inc({ result: "refused" });
        log.error({ err }, "credentials not reloaded: the node keeps the ones it has");
        throw err;
      }
    };
    const next = (reloading ?? Promise.resolve()).catch(() => undefined).then(run);
    reloading = next;
    void next.catch(() => undefined).finally(() => {
      if (reloading === next) reloading = undefined;
    });
    return next;
  }

  const federationImpl = { ...nodeInfoService({ nodeId: config.nodeId, suites, now: clock }), ...components.federation };
  const onAuthenticated = (principal: string, ctx: HandlerContext): void => {
    log.debug({ principal, method: ctx.method.name }, "platform call");
  };

  async function start(): Promise<NodeAddresses> {
    if (state !== "idle") throw new Error(`node ${config.nodeId} cannot start: it is ${state}`);
    state = "starting";
    try {
      federation = await startFederationServer({ config, trust: components.trust, impl: federationImpl, now: clock });
      platform = await startPlatformServer({ config, impl: components.platform ?? {}, onAuthenticated });
      if (config.metrics.listen !== undefined) metricsServer = await startMetricsServer(config.metrics.listen, components.metrics.registry);
      for (const s of components.services ?? []) {
        await s.start?.();
        started.push(s);
      }
    } catch (err) {
      log.error({ err }, "node failed to start");
      await stop();
      throw err;
    }
    addresses = {
      federation: federation.address,
      platform: platform.address,
      ...(metricsServer === undefined || config.metrics.listen === undefined
        ? {}
        : { metrics: formatListenAddress({ host: config.metrics.listen.host, port: metricsServer.port }) }),
    };
    state = "running";
    log.info({ ...addresses, platformAuth: config.platform.auth.kind }, "node listening");
    // Failures are logged and counted by backup() (tongban_backups_total{result="failed"}).
    stopBackups = scheduleBackups(config.backup.everyHours, backup);
    return addresses;
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      state = "stopping";
      log.info("node stopping");
      stopBackups();
      // Both servers report NOT_SERVING before either refuses calls.
      federation?.health.setServing(false);
      platform?.health.setServing(false);
      await Promise.all([federation?.shutdown(), platform?.shutdown()]);
      for (const s of started.reverse()) {
        try {
          await s.stop();
        } catch (err) {
          log.error({ err, service: s.name }, "background service failed to stop");
        }
      }
      await metricsServer?.close();
      await backingUp?.catch(() => undefined); // a backup being written finishes before the store closes
      await components.store.close();
      addresses = undefined;
      state = "stopped";
      log.info("node stopped");
    })();
    return stopping;
  }

  return {
    nodeId: config.nodeId,
    config,
    components,
    get state() {
      return state;
    },
    get addresses() {
      return addresses;
    },
    get servers() {
      return federation === undefined || platform === undefined ? undefined : { federation, platform };
    },
    start,
    stop,
    backup,
    reloadCredentials,
  };
}

/** The real components {@link openNode} built, handed to `compose` to build the services on top. */
export interface OpenedNodeParts {
  readonly config: NodeConfig;
  readonly store: Store;
  readonly trust: TrustStore;
  readonly logger: Logger;
  readonly metrics: NodeMetrics;
  readonly clock: () => Date;
  /** The certificates, keys and CRL as checked at open; compose builds the node's identity from these texts. */
  readonly pem?: VerifiedPem;
}

/** Options of {@link openNode}. */
export interface OpenNodeOptions {
  /** Where log lines go (stdout by default). */
  readonly logDestination?: Parameters<typeof createNodeLogger>[0]["destination"];
  /**
   * Builds the protocol services on the real components (intake, outbox,
   * platform API). Without it the node serves GetNodeInfo, health and
   * reflection, and every other method answers UNIMPLEMENTED.
   */
  readonly compose?: (parts: OpenedNodeParts) => Promise<Pick<NodeComponents, "federation" | "platform" | "services">> | Pick<NodeComponents, "federation" | "platform" | "services">;
}

/**
 * Opens a node from its config file: validates the config and checks the
 * files it names fit together (`verifyNodeConfig`: the trust store from the
 * anchor, the CRL, the node's own and the peers' certificates), opens
 * LevelDB in `dataDir`, creates the pino logger and the prom-client
 * registry. Call `start()` on the result.
 *
 * @throws TongbanError CONFIG_INVALID for a bad config or a missing file;
 *   TRUST_* for certificates or a CRL that do not fit the anchor.
 */
export async function openNode(configFile: string, options: OpenNodeOptions = {}): Promise<TongbanNode> {
  const config = await loadNodeConfig(configFile);
  const { trust, pem } = await verifyNodeConfig(config);
  const logger = createNodeLogger({ nodeId: config.nodeId, level: config.log.level, ...(options.logDestination === undefined ? {} : { destination: options.logDestination }) });
  const metrics = createNodeMetrics({ nodeId: config.nodeId });
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await openLevelStore(config.dataDir, config.store);
  const clock = (): Date => new Date();
  try {
    const composed = (await options.compose?.({ config, store, trust, logger, metrics, clock, pem })) ?? {};
    return createNode({ store, trust, logger, metrics, clock, credentials: pem, ...composed }, { config });
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** True when CRL `a` is older than `b` (by CRL number when both have one, else by thisUpdate): TrustStore.setCrl refuses those. */
function isOlderCrl(a: { readonly crlNumber: bigint | undefined; readonly thisUpdate: Date }, b: { readonly crlNumber: bigint | undefined; readonly thisUpdate: Date } | undefined): boolean {
  if (b === undefined) return false;
  return a.crlNumber !== undefined && b.crlNumber !== undefined ? a.crlNumber < b.crlNumber : a.thisUpdate < b.thisUpdate;
}
