import { createPrivateKey } from "node:crypto";
import { createServer, type AddressInfo, type Server } from "node:net";
import { join } from "node:path";
import type { DestinationStream } from "pino";
import { writeFile } from "node:fs/promises";
import { buildDirectory, createCrl, createFederationRoot, createPlatformClient, signDirectory, signTable, type DirectoryInput, type FederationRoot, type MappingTable, type NodeCertificates, type PlatformClient } from "@tongban/sdk";
import { composeNode, type ComposeOptions, type ComposedNode } from "../compose.js";
import { NODE_DIR_LAYOUT } from "../config/default-node-config.js";
import type { LogLevel, NodeConfig } from "../config/types.js";
import { openNode, type TongbanNode } from "../node.js";
import type { RetryPolicy } from "../outbox/retry-schedule.js";
import { platformTokenDigest } from "../server/platform-auth.js";
import { initNodeDirectory } from "./node-directory.js";

/** One node of a local federation. */
export interface LocalNodeSpec {
  readonly nodeId: string;
  /** A short name for output (e.g. 青浦). */
  readonly label?: string;
  readonly signingAlgorithm?: "ES256" | "EdDSA" | "SM2SM3";
  /** This node's mapping tables, instead of the federation's `tablesDir`. */
  readonly tablesDir?: string;
  /**
   * `pull`: the node takes deliveries by pulling (docs/protocol.md "Pull mode"). Its partners list it without an
   * address — they never dial it — and it pulls from each of them.
   */
  readonly delivery?: "push" | "pull";
  /** Pull mode: how long each PullEvents stream stays open (default 20 s). */
  readonly pullWaitMs?: number;
}

/** Options of {@link startLocalFederation}. */
export interface LocalFederationOptions {
  /** Where node directories go, one per node id (absolute). */
  readonly dir: string;
  readonly nodes: readonly LocalNodeSpec[];
  /** Mapping tables every node loads. */
  readonly tablesDir?: string;
  readonly calendar?: string;
  readonly logLevel?: LogLevel;
  /** Where node logs go (default: discarded unless logLevel is set, then stderr). */
  readonly logDestination?: DestinationStream;
  /** Retry policy of every node (tests use short schedules). */
  readonly retry?: Partial<RetryPolicy>;
  /** Limits of every node (e.g. a fuzzer raises the per-partner rate so its inputs reach the checks). */
  readonly limits?: Partial<NodeConfig["limits"]>;
  readonly compose?: ComposeOptions;
  /** The federation's seal CA certificates (PEM file) every node trusts for sealed results. */
  readonly sealCaFile?: string;
  /**
   * Build the federation from a signed directory alone: no node lists peers;
   * every node reads `<dir>/directory.jws` (signed by the root) for partners,
   * addresses and certificates.
   */
  readonly fromDirectory?: { readonly expiresInMs?: number; readonly graceMs?: number; readonly refreshMs?: number };
  /** Serve the operator console on one node (127.0.0.1, a free port), with an operator token. */
  readonly console?: { readonly nodeId: string; readonly operatorToken: string };
}

/** A running node of the local federation, with a platform client logged in with its token. */
export interface LocalNode {
  readonly spec: LocalNodeSpec;
  readonly nodeId: string;
  readonly label: string;
  readonly dir: string;
  readonly configFile: string;
  readonly config: NodeConfig;
  readonly certificates: NodeCertificates;
  readonly platformToken: string;
  /** Set while the node runs. */
  node: TongbanNode | undefined;
  composed: ComposedNode | undefined;
  platform: PlatformClient | undefined;
}

/** A federation of reference nodes on 127.0.0.1 with a throwaway root CA. */
export interface LocalFederation {
  readonly root: FederationRoot;
  readonly nodes: ReadonlyMap<string, LocalNode>;
  /** The node by id or label. */
  node(idOrLabel: string): LocalNode;
  /** Stops one node (graceful) — e.g. to show a partner going offline. */
  stopNode(idOrLabel: string): Promise<void>;
  /** Starts a stopped node again from its directory (same ports, same data). */
  startNode(idOrLabel: string): Promise<void>;
  /** Stops every node. */
  stop(): Promise<void>;
  /** The console's address, with `console`. */
  readonly consoleUrl: string | undefined;
  /**
   * With `fromDirectory`: publishes the next directory version (the nodes'
   * certificates as they are, changed by `edit`) to the directory file, and
   * returns the signed text.
   */
  publishDirectory(edit?: (input: DirectoryInput) => DirectoryInput, expiresInMs?: number): Promise<string>;
  /** A mapping table signed with a node's signing key, as the node's operator publishes it (docs/mapping.md §5). */
  signTableAs(idOrLabel: string, table: MappingTable): string;
}

/** A free TCP port on 127.0.0.1 (bound and released; loopback only). */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/**
 * `count` distinct free TCP ports on 127.0.0.1: all are bound at once, then released, so no two are the
 * same (ports taken one after another can repeat once released, which made a node's two ports collide).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const s = createServer();
          s.once("error", reject);
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/**
 * Starts a federation of real reference nodes on loopback: a throwaway
 * federation root, one directory per node (`tongban node init` layout) with
 * certificates, config and a platform token, every node listing the others
 * as peers, LevelDB in each `data/`. The README demo and the end-to-end
 * tests run on it.
 */
export async function startLocalFederation(options: LocalFederationOptions): Promise<LocalFederation> {
  const root = await createFederationRoot({ name: "Tongban local federation root (throwaway)", validityDays: 30 });
  const ports = new Map<string, { federation: number; platform: number }>();
  const free = await freePorts(options.nodes.length * 2 + 1);
  const consolePort = options.console === undefined ? undefined : free.pop();
  for (const n of options.nodes) ports.set(n.nodeId, { federation: free.pop()!, platform: free.pop()! });
  const nodes = new Map<string, LocalNode>();
  // Certificates first, so every node's config can list its peers' certificates.
  for (const spec of options.nodes) {
    const dir = join(options.dir, spec.nodeId);
    const p = ports.get(spec.nodeId)!;
    const peers = options.fromDirectory !== undefined ? [] : options.nodes
      .filter((o) => o.nodeId !== spec.nodeId)
      .map((o) => ({
        nodeId: o.nodeId,
        ...(o.delivery === "pull" ? { delivery: "pull" as const } : { address: `127.0.0.1:${ports.get(o.nodeId)!.federation}` }),
        certificates: [join(options.dir, o.nodeId, NODE_DIR_LAYOUT.tlsCert), join(options.dir, o.nodeId, NODE_DIR_LAYOUT.signingCert)],
      }));
    const init = await initNodeDirectory({
      dir,
      nodeId: spec.nodeId,
      ca: root,
      ...(spec.signingAlgorithm === undefined ? {} : { signingAlgorithm: spec.signingAlgorithm }),
      federationListen: `127.0.0.1:${p.federation}`,
      platformListen: `127.0.0.1:${p.platform}`,
      ...((spec.tablesDir ?? options.tablesDir) === undefined ? {} : { tablesDir: spec.tablesDir ?? options.tablesDir }),
      ...(options.calendar === undefined ? {} : { calendar: options.calendar }),
      peers,
      adjust: (c) => ({
        ...c,
        federation: { ...c.federation, delivery: spec.delivery ?? "push", pullWaitMs: spec.pullWaitMs ?? c.federation.pullWaitMs },
        log: { level: options.logLevel ?? "silent" },
        retry: { ...c.retry, policy: { ...c.retry.policy, ...options.retry } },
        limits: { ...c.limits, ...options.limits },
        trust: {
          ...c.trust,
          ...(options.sealCaFile === undefined ? {} : { sealCa: options.sealCaFile }),
          ...(options.fromDirectory === undefined
            ? {}
            : { directory: join(options.dir, "directory.jws"), directoryGraceMs: options.fromDirectory.graceMs ?? c.trust.directoryGraceMs, directoryRefreshMs: options.fromDirectory.refreshMs ?? c.trust.directoryRefreshMs }),
        },
        shutdown: { graceMs: 2_000, drainDelayMs: 0 },
        ...(options.console !== undefined && options.console.nodeId === spec.nodeId && consolePort !== undefined
          ? { console: { listen: { host: "127.0.0.1", port: consolePort }, users: [{ name: "operator", sha256: platformTokenDigest(options.console.operatorToken), role: "operator" as const }] } }
          : {}),
      }),
    });
    nodes.set(spec.nodeId, { spec, nodeId: spec.nodeId, label: spec.label ?? spec.nodeId, dir, configFile: init.configFile, config: init.config, certificates: init.certificates, platformToken: init.platformToken, node: undefined, composed: undefined, platform: undefined });
  }

  let version = 0;
  const publishDirectory = async (edit: (input: DirectoryInput) => DirectoryInput = (x) => x, expiresInMs = options.fromDirectory?.expiresInMs ?? 86_400_000): Promise<string> => {
    const now = new Date();
    const input: DirectoryInput = {
      federation: { id: "yangtze-delta-local", name: "长三角示范区 (local)" },
      version: ++version,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + expiresInMs),
      crl: await createCrl({ ca: root, revoked: [], thisUpdate: now, nextUpdate: new Date(now.getTime() + 30 * 86_400_000) }),
      nodes: [...nodes.values()].map((n) => ({
        nodeId: n.nodeId,
        name: n.label,
        regions: [n.nodeId.split(".")[1] ?? ""],
        ...(n.spec.delivery === "pull" ? { delivery: "pull" as const, endpoints: {} } : { endpoints: { federation: `127.0.0.1:${ports.get(n.nodeId)!.federation}` } }),
        suite: n.spec.signingAlgorithm === "SM2SM3" ? ("gm-v1" as const) : ("jose-v1" as const),
        certificates: { tls: [n.certificates.tls.certificatePem], signing: [n.certificates.signing.certificatePem] },
        contact: { name: n.label },
      })),
    };
    const text = signDirectory(buildDirectory(edit(input), { anchor: root.certificatePem }), { key: root.privateKeyPem, cert: root.certificatePem });
    await writeFile(join(options.dir, "directory.jws"), text);
    return text;
  };
  if (options.fromDirectory !== undefined) await publishDirectory();

  const find = (key: string): LocalNode => {
    const n = nodes.get(key) ?? [...nodes.values()].find((x) => x.label === key);
    if (n === undefined) throw new TypeError(`no node ${key} in this federation`);
    return n;
  };
  const startNode = async (key: string): Promise<void> => {
    const n = find(key);
    if (n.node !== undefined) return;
    const node = await openNode(n.configFile, {
      ...(options.logDestination === undefined ? {} : { logDestination: options.logDestination }),
      compose: async (parts) => {
        n.composed = await composeNode(parts, options.compose);
        return n.composed;
      },
    });
    await node.start();
    n.node = node;
    n.platform = createPlatformClient({ address: node.addresses!.platform, nodeId: n.nodeId, ca: root.certificatePem, token: n.platformToken, timeoutMs: 15_000 });
  };
  const stopNode = async (key: string): Promise<void> => {
    const n = find(key);
    n.platform?.close();
    await n.node?.stop();
    n.node = undefined;
    n.composed = undefined;
    n.platform = undefined;
  };
  try {
    for (const spec of options.nodes) await startNode(spec.nodeId);
  } catch (err) {
    for (const spec of options.nodes) await stopNode(spec.nodeId).catch(() => undefined);
    throw err;
  }
  return {
    root,
    nodes,
    node: find,
    stopNode,
    startNode,
    publishDirectory,
    signTableAs(key, table) {
      const c = find(key).certificates.signing;
      const privateKey = createPrivateKey(c.privateKeyPem);
      return signTable(table, { kid: c.kid, privateKey, algorithm: privateKey.asymmetricKeyType === "ed25519" ? "EdDSA" : "ES256" });
    },
    consoleUrl: consolePort === undefined ? undefined : `http://127.0.0.1:${consolePort}`,
    async stop() {
      for (const n of nodes.values()) await stopNode(n.nodeId);
    },
  };
}
