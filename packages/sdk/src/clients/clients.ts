import { credentials as grpcCredentials, Metadata } from "@grpc/grpc-js";
import { FederationService } from "../gen/tongban/v1/federation_pb.js";
import { PlatformService } from "../gen/tongban/v1/platform_pb.js";
import { clientCredentials, withNodeIdentity } from "../transport/credentials.js";
import { createGrpcClient, type GrpcClient } from "../transport/grpc-client.js";

/** A typed client of a node's PlatformService (the vendor platform's API to its own node). */
export type PlatformClient = GrpcClient<typeof PlatformService>;

/** A typed client of a node's FederationService (node to node). */
export type FederationClient = GrpcClient<typeof FederationService>;

/** How to reach a node's PlatformService. */
export interface PlatformClientOptions {
  /** `host:port` of the node's platform port. */
  readonly address: string;
  /** The node id the server certificate must name (`urn:tongban:node:` SAN). */
  readonly nodeId: string;
  /** The federation root (PEM) the node's TLS certificate chains to. */
  readonly ca: string;
  /** A platform token from the node's config (`tongban node init` prints one). */
  readonly token?: string;
  /** A client certificate and key (PEM), for nodes configured with `platform.auth.mtls`. */
  readonly cert?: string;
  readonly key?: string;
  /** Applied to calls that set no timeout of their own (default 30 s). */
  readonly timeoutMs?: number;
}

/**
 * Connects to a node's PlatformService over TLS, with a bearer token or a
 * client certificate. Every method is typed from the protocol; every failure
 * is a `TongbanError` with its stable code.
 *
 * @example
 * ```ts
 * const node = createPlatformClient({ address: "127.0.0.1:7444", nodeId: "cn.310118.qingpu", ca, token });
 * const { view } = await node.submitApplication({ requestId, handlingNode: "cn.330421.jiashan", application });
 * node.close();
 * ```
 */
export function createPlatformClient(options: PlatformClientOptions): PlatformClient {
  if (options.token === undefined && options.cert === undefined) throw new TypeError("createPlatformClient needs a token or a client certificate");
  let creds = clientCredentials({ ca: options.ca, ...(options.cert === undefined || options.key === undefined ? {} : { cert: options.cert, key: options.key }), expectedNodeId: options.nodeId });
  const token = options.token;
  if (token !== undefined) {
    const bearer = grpcCredentials.createFromMetadataGenerator((_params, callback) => {
      const md = new Metadata();
      md.set("authorization", `Bearer ${token}`);
      callback(null, md);
    });
    creds = withNodeIdentity(grpcCredentials.combineChannelCredentials(creds, bearer), options.nodeId);
  }
  return createGrpcClient(PlatformService, options.address, creds, { defaultTimeoutMs: options.timeoutMs ?? 30_000 });
}

/** How to reach a partner's FederationService. */
export interface FederationClientOptions {
  readonly address: string;
  /** The partner's node id; its TLS certificate must name it. */
  readonly nodeId: string;
  /** The federation root (PEM). */
  readonly ca: string;
  /** This node's TLS certificate and key (PEM): federation calls are mutual TLS. */
  readonly cert: string;
  readonly key: string;
  readonly timeoutMs?: number;
}

/**
 * Connects to a partner node's FederationService over mutual TLS, checking
 * that the server is the node named.
 *
 * @example
 * ```ts
 * const partner = createFederationClient({ address, nodeId: "cn.320509.wujiang", ca, cert, key });
 * const { receipt } = await partner.deliver({ envelope });
 * ```
 */
export function createFederationClient(options: FederationClientOptions): FederationClient {
  return createGrpcClient(FederationService, options.address, clientCredentials({ ca: options.ca, cert: options.cert, key: options.key, expectedNodeId: options.nodeId }), {
    defaultTimeoutMs: options.timeoutMs ?? 30_000,
  });
}
