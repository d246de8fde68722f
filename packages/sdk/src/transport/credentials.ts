import { ChannelCredentials, ServerCredentials } from "@grpc/grpc-js";
import { createSecureContext, checkServerIdentity as tlsCheckServerIdentity, type PeerCertificate, type SecureContextOptions } from "node:tls";
import { TongbanError } from "../errors/index.js";
import { nodeIdFromUris, sanUris } from "./peer-identity.js";

/** PEM text or bytes, as read from a file. */
export type PemInput = string | Uint8Array;

/** Options of {@link serverCredentials}. */
export interface ServerCredentialsOptions {
  /** CA certificate(s) client certificates must chain to (the federation root). */
  readonly ca: PemInput;
  /** The server's certificate chain (leaf first). */
  readonly cert: PemInput;
  /** The server's private key. */
  readonly key: PemInput;
  /**
   * Refuse connections without a valid client certificate. Defaults to true:
   * FederationService is mutual TLS by definition; only a local platform
   * port with token authentication may turn it off.
   */
  readonly requireClientCert?: boolean;
}

/** Server credentials whose certificate, key and client CA can be replaced while the server runs. */
export interface TlsServerCredentials extends ServerCredentials {
  /**
   * Replaces the certificate, key and client CA: connections made from now
   * on get them; connections already open keep theirs. The new set is
   * checked first (a TLS context is built from it), so a bad set throws
   * TRUST_CERT_INVALID and leaves the server serving the old one.
   */
  update(options: Omit<ServerCredentialsOptions, "requireClientCert">): void;
  /** What `update()` checks first, without updating: throws TRUST_CERT_INVALID for a set TLS cannot use. */
  check(options: Omit<ServerCredentialsOptions, "requireClientCert">): void;
}

// grpc-js servers watch their credentials and call setSecureContext() on the
// TLS server when they change (the mechanism behind its certificate providers).
class ReloadableServerCredentials extends ServerCredentials implements TlsServerCredentials {
  constructor(requireClientCert: boolean, context: SecureContextOptions) {
    // As grpc-js's createSsl: GRPC_SSL_CIPHER_SUITES, when set, limits the TLS 1.2 cipher suites.
    const ciphers = process.env["GRPC_SSL_CIPHER_SUITES"];
    super({ requestCert: requireClientCert, rejectUnauthorized: requireClientCert, ...(ciphers === undefined ? {} : { ciphers }) }, context);
  }
  update(options: Omit<ServerCredentialsOptions, "requireClientCert">): void {
    this.updateSecureContextOptions(secureContextOptions(options));
  }
  check(options: Omit<ServerCredentialsOptions, "requireClientCert">): void {
    secureContextOptions(options);
  }
  _equals(other: ServerCredentials): boolean {
    return this === other;
  }
}

function secureContextOptions(options: Omit<ServerCredentialsOptions, "requireClientCert">): SecureContextOptions {
  const context = { ca: toBuffer(options.ca, "ca"), cert: [toBuffer(options.cert, "cert")], key: [toBuffer(options.key, "key")] };
  try {
    createSecureContext(context);
  } catch (err) {
    throw new TongbanError("TRUST_CERT_INVALID", `the server certificate, key or CA cannot be used for TLS: ${(err as Error).message}`, { cause: err });
  }
  return context;
}

/**
 * Mutual-TLS server credentials for `startGrpcServer`: clients must present
 * a certificate chaining to `ca`, checked during the handshake, before any
 * handler runs. `update()` swaps certificate and key on the running server
 * (a node reloading its credentials without a restart).
 *
 * @throws TongbanError TRUST_CERT_INVALID when the certificate, key or CA cannot make a TLS context.
 */
export function serverCredentials(options: ServerCredentialsOptions): TlsServerCredentials {
  return new ReloadableServerCredentials(options.requireClientCert ?? true, secureContextOptions(options));
}

/** Decides whether a server certificate is the peer we meant to call; returns an Error to refuse. */
export type ServerIdentityCheck = (hostname: string, cert: PeerCertificate) => Error | undefined;

/** Options of {@link clientCredentials}. */
export interface ClientCredentialsOptions {
  /** CA certificate(s) the server certificate must chain to. */
  readonly ca: PemInput;
  /** The client's certificate chain; omit only for servers that do not require one. */
  readonly cert?: PemInput;
  /** The client's private key, with `cert`. */
  readonly key?: PemInput;
  /**
   * The node the caller means to reach: the server certificate must carry
   * exactly the URI SAN `urn:tongban:node:<expectedNodeId>`. This replaces
   * the host-name check, since federation endpoints are identified by node id
   * through the signed directory, not by DNS name. A client made with these
   * credentials (`createGrpcClient`) that dials an IP address sends this node
   * id as the TLS server name (SNI), since RFC 6066 allows no IP address there.
   */
  readonly expectedNodeId?: string;
  /** Check the server certificate's DNS/IP SAN against this name instead of the address host. */
  readonly serverNameOverride?: string;
  /**
   * A custom identity check; runs after (and in addition to) the checks above.
   * It is given the name the client sent: with `expectedNodeId` and an IP
   * address dialled, that is the node id.
   */
  readonly checkServerIdentity?: ServerIdentityCheck;
}

/**
 * Mutual-TLS channel credentials for `createGrpcClient`.
 *
 * Without `expectedNodeId` the server is checked like any TLS server: its
 * certificate must name the host dialled (or `serverNameOverride`). With it,
 * the URI SAN node id must equal it; a mismatch refuses the connection and
 * the call fails with `TRANSPORT_UNAVAILABLE` whose message names both ids.
 *
 * @example
 * ```ts
 * const creds = clientCredentials({ ca, cert, key, expectedNodeId: "cn.320509.wujiang" });
 * ```
 */
export function clientCredentials(options: ClientCredentialsOptions): ChannelCredentials {
  if ((options.cert === undefined) !== (options.key === undefined)) throw new TypeError("clientCredentials: cert and key go together");
  const check = identityCheck(options);
  const credentials = ChannelCredentials.createSsl(
    toBuffer(options.ca, "ca"),
    options.key === undefined ? null : toBuffer(options.key, "key"),
    options.cert === undefined ? null : toBuffer(options.cert, "cert"),
    { checkServerIdentity: check },
  );
  return options.expectedNodeId === undefined ? credentials : withNodeIdentity(credentials, options.expectedNodeId);
}

/** Credentials that check the server by node id (see {@link clientCredentials}), and which node. */
const nodeIdentities = new WeakMap<ChannelCredentials, string>();

/**
 * Records that `credentials` check the server by node id `nodeId` — for
 * credentials derived from {@link clientCredentials}'s (e.g. combined with
 * call credentials), so `createGrpcClient` still knows. Returns `credentials`.
 */
export function withNodeIdentity(credentials: ChannelCredentials, nodeId: string): ChannelCredentials {
  nodeIdentities.set(credentials, nodeId);
  return credentials;
}

/** The node id `credentials` check the server against, if they check by node id. */
export function nodeIdentityOf(credentials: ChannelCredentials): string | undefined {
  return nodeIdentities.get(credentials);
}

/**
 * A server-identity check that accepts exactly the node `expectedNodeId`
 * (URI SAN `urn:tongban:node:<id>`). Exposed for callers that build their own
 * grpc-js credentials.
 */
export function requireNodeIdentity(expectedNodeId: string): ServerIdentityCheck {
  if (typeof expectedNodeId !== "string" || expectedNodeId === "") throw new TypeError("expectedNodeId must be a non-empty string");
  return (_hostname, cert) => {
    const actual = nodeIdFromUris(sanUris(cert.subjectaltname));
    if (actual === expectedNodeId) return undefined;
    return new TongbanError("TRANSPORT_PEER_MISMATCH", `server certificate names node ${actual ?? "(none)"}, expected ${expectedNodeId}`, {
      details: { expected: expectedNodeId, actual: actual ?? null },
    });
  };
}

function identityCheck(options: ClientCredentialsOptions): ServerIdentityCheck {
  const { expectedNodeId, serverNameOverride, checkServerIdentity: custom } = options;
  const base: ServerIdentityCheck =
    expectedNodeId !== undefined
      ? requireNodeIdentity(expectedNodeId)
      : (hostname, cert) => tlsCheckServerIdentity(serverNameOverride ?? hostname, cert);
  if (custom === undefined) return base;
  return (hostname, cert) => base(hostname, cert) ?? custom(hostname, cert);
}

function toBuffer(value: PemInput, name: string): Buffer {
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`${name} must be PEM text or bytes`);
}
