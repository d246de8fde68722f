import type { DeliveryMode, SignatureAlgorithm, Suite } from "@tongban/sdk";
import type { RetryPolicy } from "../outbox/retry-schedule.js";

/** A `host:port` the node binds, parsed. Port 0 picks a free port. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** pino's levels, plus `silent`. */
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** One platform API token: its name (for logs and audit) and the SHA-256 of the secret, hex. */
export interface PlatformToken {
  readonly name: string;
  readonly sha256: string;
}

/**
 * How vendor platforms authenticate to the node's PlatformService: bearer
 * tokens (only their SHA-256 digests live in the config) or client
 * certificates chaining to `clientCa`.
 */
export type PlatformAuth =
  | { readonly kind: "tokens"; readonly tokens: readonly PlatformToken[] }
  | { readonly kind: "mtls"; readonly clientCa: string };

/** A console user: a token (its SHA-256) and a role; `viewer` cannot act. */
export interface ConsoleUserConfig {
  readonly name: string;
  readonly sha256: string;
  readonly role: "viewer" | "operator";
}

/** A partner node known statically (until the signed directory drives the list). */
export interface PeerConfig {
  readonly nodeId: string;
  /** `host:port` of its FederationService; none for a pull peer, which is never dialled. */
  readonly address?: string;
  /** `pull`: the peer takes no inbound connections and pulls what this node queues for it (docs/protocol.md "Pull mode"). */
  readonly delivery?: DeliveryMode;
  readonly suite?: Suite;
  /** Its certificates (TLS and signing, PEM files) to register in the trust store. */
  readonly certificates: readonly string[];
}

/**
 * A validated node configuration. Every path is absolute (relative paths in
 * the file resolve against the file's directory) and every default is filled
 * in, so the rest of the node never looks at raw input.
 */
export interface NodeConfig {
  /** The file it was loaded from, if any (error messages name it). */
  readonly file: string | undefined;
  readonly nodeId: string;
  /** LevelDB and other state live here. */
  readonly dataDir: string;
  readonly federation: {
    readonly listen: ListenAddress;
    /**
     * How partners' envelopes reach this node: `push` (they call its Deliver) or `pull` (it accepts no inbound
     * connections and pulls from each push partner with PullEvents; docs/protocol.md "Pull mode").
     */
    readonly delivery: DeliveryMode;
    /** Pull mode: how long one PullEvents stream stays open waiting for envelopes, in ms. */
    readonly pullWaitMs: number;
    readonly tlsCert: string;
    readonly tlsKey: string;
    /**
     * TLS keys this node has replaced, kept only to open bodies partners encrypted to them before
     * they learnt the new certificate (docs/operations.md, rotation). Never presented.
     */
    readonly retiredKeys: readonly string[];
  };
  readonly signing: {
    readonly cert: string;
    readonly key: string;
    readonly algorithm: SignatureAlgorithm;
    /** SM2SM3 nodes: replaced signing keys, kept only to open GM bodies encrypted to them. Never used to sign. */
    readonly retiredKeys: readonly string[];
  };
  readonly trust: {
    /** The federation root certificate: the one out-of-band trust anchor. */
    readonly anchor: string;
    readonly crl?: string;
    /** A signed federation directory file (used once directory support lands). */
    readonly directory?: string;
    /** How long a CRL past its nextUpdate is still used, in ms. */
    readonly crlGraceMs: number;
    /** How long an expired directory is still used (with alerts), in ms. */
    readonly directoryGraceMs: number;
    /** How often the directory file and peers are checked for a newer directory, in ms. */
    readonly directoryRefreshMs: number;
    /** The federation's seal CA certificates (PEM, one or more): seals on results must chain to one. */
    readonly sealCa?: string;
  };
  readonly peers: readonly PeerConfig[];
  readonly platform: {
    readonly listen: ListenAddress;
    readonly auth: PlatformAuth;
  };
  readonly mapping: { readonly tablesDir?: string };
  /** Holiday calendar file for working-day deadlines. */
  readonly calendar?: string;
  /** The operator console (docs/console.md): off unless `listen` is set. */
  readonly console: { readonly listen?: ListenAddress; readonly users: readonly ConsoleUserConfig[] };
  /** Prometheus `/metrics` over HTTP; no server when absent. */
  readonly metrics: { readonly listen?: ListenAddress };
  readonly log: { readonly level: LogLevel };
  readonly retry: {
    readonly policy: RetryPolicy;
    readonly perDestination: Readonly<Record<string, Partial<RetryPolicy>>>;
  };
  readonly limits: {
    /** Largest gRPC message accepted, in bytes. */
    readonly maxMessageBytes: number;
    /** Accepted clock difference for envelope timestamps, in ms. */
    readonly timestampWindowMs: number;
    /** Deliveries processed at once before OVERLOADED. */
    readonly maxInFlight: number;
    /** Deliveries one partner may make per second (sustained), in a token bucket of `perPartnerBurst`. */
    readonly perPartnerRate: number;
    readonly perPartnerBurst: number;
    /** Deliveries of one partner processed at once; beyond it OVERLOADED. */
    readonly perPartnerInFlight: number;
  };
  readonly store: {
    /** LevelDB memtable size, in bytes (docs/node-store.md). */
    readonly writeBufferSize: number;
    /** LevelDB block cache, in bytes. */
    readonly cacheSize: number;
  };
  readonly backup: {
    /** Where the node writes its backups, `<nodeId>-<UTC time>.tbbackup` (docs/node.md "Backup and restore"). */
    readonly dir: string;
    /** Hours between scheduled backups; 0: only when asked (SIGUSR2 to `tongban node start`). */
    readonly everyHours: number;
    /** This node's backups kept in `dir`: after a new one is written, older ones beyond this are deleted. */
    readonly keep: number;
  };
  readonly retention: {
    /**
     * Days the evidence log keeps its payloads (the envelopes and receipts themselves); the entries and their hashes
     * stay, so the log and bundles still verify (docs/evidence.md "Retention"). 0: kept for ever.
     */
    readonly evidencePayloadDays: number;
  };
  readonly shutdown: {
    /** Time calls in flight get to finish before they are cancelled, in ms. */
    readonly graceMs: number;
    /** Time between reporting NOT_SERVING and refusing new calls, in ms (lets balancers notice). */
    readonly drainDelayMs: number;
  };
}
