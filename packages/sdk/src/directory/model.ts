import type { TableKind } from "../mapping/index.js";
import type { Suite } from "../trust/index.js";

/**
 * The JWS `typ` of a signed directory. Checking it keeps a signature made
 * for another Tongban document type from being accepted as a directory.
 */
export const DIRECTORY_JWS_TYPE = "tongban-directory+jws";

/** The protocol versions a directory may list; nodes speak the intersection. */
export const DIRECTORY_PROTOCOLS = ["tongban/1"] as const;

/** The federation a directory describes. */
export interface DirectoryFederation {
  /** Stable id, lower-case dotted words, e.g. `yangtze-delta`; bound into the signer certificate. */
  readonly id: string;
  /** Human name, e.g. "长三角一网通办". */
  readonly name: string;
}

/**
 * One certificate a node holds, as PEM. Lists of these let an old and a new
 * certificate overlap while a node rotates.
 */
export interface DirectoryCertificate {
  /** The certificate, PEM (normalised: one `-----BEGIN CERTIFICATE-----` block, LF line ends). */
  readonly pem: string;
  /**
   * An announcement that the authority stops listing this certificate at
   * this time (ISO 8601 UTC), earlier than the certificate's own notAfter:
   * the retiring half of a rotation. Never later than the certificate's
   * own notAfter.
   */
  readonly notAfter?: string;
}

/** Where a node listens, each as `host:port`. */
export interface DirectoryEndpoints {
  /** The node-to-node gRPC endpoint (mutual TLS). Required unless the node takes deliveries by pulling ({@link DirectoryNode.delivery}). */
  readonly federation?: string;
  /** The endpoint local platforms use, when the node publishes one. */
  readonly platform?: string;
}

/** How a node takes deliveries: partners call it (`push`), or it calls them for what they queued (`pull`). */
export type DeliveryMode = "push" | "pull";

/** Whom to call about a node. Not personal data: an office, not a person. */
export interface DirectoryContact {
  /** The responsible office, e.g. "青浦区政务服务办公室". */
  readonly name: string;
  readonly email?: string;
  readonly phone?: string;
}

/** One node of the federation. */
export interface DirectoryNode {
  /** Node id, e.g. `cn.310118.qingpu` (see docs/identifiers.md). */
  readonly nodeId: string;
  /** Human name, e.g. "青浦区政务服务中心". */
  readonly name: string;
  /** GB/T 2260 codes the node handles cases for; no region belongs to two nodes. */
  readonly regions: readonly string[];
  readonly endpoints: DirectoryEndpoints;
  /**
   * How envelopes reach the node: absent or `push`, partners call its `Deliver`; `pull`, it accepts no inbound
   * connections and collects what partners queue for it with `PullEvents` (docs/protocol.md "Pull mode").
   */
  readonly delivery?: DeliveryMode;
  /** The algorithm suite every envelope to and from this node uses. */
  readonly suite: Suite;
  readonly certificates: {
    /** mTLS certificates (serverAuth + clientAuth). */
    readonly tls: readonly DirectoryCertificate[];
    /** Envelope signing certificates (no EKU). */
    readonly signing: readonly DirectoryCertificate[];
  };
  /** 基本编码 of the items this node handles for applicants from partner regions. */
  readonly itemsServed: readonly string[];
  /** 基本编码 of the items this node accepts (收件) on behalf of partner regions. */
  readonly receivesFor: readonly string[];
  readonly contact: DirectoryContact;
}

/** A mapping table version in force, pinned by digest. */
export interface DirectoryMappingTable {
  /** "national", a region code or an agreement id, as in the table's own meta. */
  readonly publisher: string;
  readonly kind: TableKind;
  readonly version: number;
  /** SHA-256 hex (lower case) of the table's canonical JSON. */
  readonly digest: string;
}

/** Who signed the directory. */
export interface DirectoryAuthority {
  /** kid (base64url SHA-256 of the DER) of the certificate that signed this directory. */
  readonly kid: string;
}

/**
 * A directory as built, before signing: everything but the authority.
 */
export interface UnsignedDirectory {
  readonly federation: DirectoryFederation;
  /** Positive integer; every published directory has a higher one than the last. */
  readonly version: number;
  /** ISO 8601 UTC, e.g. `2026-11-22T00:00:00.000Z`. */
  readonly issuedAt: string;
  /** ISO 8601 UTC, after issuedAt. */
  readonly expiresAt: string;
  /** Protocol versions the federation speaks, e.g. `["tongban/1"]`. */
  readonly protocols: readonly string[];
  readonly nodes: readonly DirectoryNode[];
  /** The federation root's current CRL, PEM. */
  readonly crl: string;
  readonly mappingTables: readonly DirectoryMappingTable[];
}

/**
 * The signed federation directory (X-Road's "global configuration"): from it
 * a node learns every partner's endpoints, certificates, regions, items and
 * suite, plus the revocation list and the mapping tables in force.
 */
export interface FederationDirectory extends UnsignedDirectory {
  readonly authority: DirectoryAuthority;
}

/** One thing wrong with a directory: a JSON path and the rule it breaks. */
export interface DirectoryIssue {
  /** e.g. `nodes[2].certificates.tls[0]`. */
  readonly path: string;
  readonly reason: string;
}
