import { serverCredentials, type ServiceImpl, type TrustStore } from "@tongban/sdk";
import { FederationService } from "@tongban/sdk/gen";
import type { NodeConfig } from "../config/types.js";
import { guardService } from "./guard-service.js";
import { peerNodeId } from "./peer-node-id.js";
import { readPem } from "./read-pem.js";
import { startServiceServer, type ServiceServerHandle } from "./service-server.js";

/** What {@link startFederationServer} needs. */
export interface FederationServerOptions {
  readonly config: NodeConfig;
  /** Checks every caller's certificate (validity now, revocation) after the handshake. */
  readonly trust: TrustStore;
  /** The FederationService implementation; methods left out answer UNIMPLEMENTED. */
  readonly impl: Partial<ServiceImpl<typeof FederationService>>;
  readonly now?: () => Date;
}

/**
 * Starts FederationService on `federation.listen` over mutual TLS: the
 * handshake requires a client certificate chaining to the federation anchor;
 * then, before any handler runs, the certificate is checked against the
 * trust store as of now (expired or revoked peers are refused with
 * TRUST_CERT_EXPIRED / TRUST_CERT_REVOKED) and the handler's
 * `ctx.peer.nodeId` is the node id the trust store vouched for.
 * Health (grpc.health.v1) and reflection are served on the same port.
 *
 * @example
 * ```ts
 * const fed = await startFederationServer({ config, trust, impl: federationService({ nodeId, intake, trust }) });
 * // ...
 * await fed.shutdown();
 * ```
 */
export async function startFederationServer(options: FederationServerOptions): Promise<ServiceServerHandle> {
  const { config, trust } = options;
  const now = options.now ?? (() => new Date());
  const [ca, cert, key] = await Promise.all([
    readPem(config.file, "trust.anchor", config.trust.anchor),
    readPem(config.file, "federation.tlsCert", config.federation.tlsCert),
    readPem(config.file, "federation.tlsKey", config.federation.tlsKey),
  ]);
  const impl = guardService(FederationService, options.impl, (ctx) => {
    const nodeId = peerNodeId(ctx, trust, now());
    return { ...ctx, peer: { ...ctx.peer, nodeId } };
  });
  return startServiceServer({
    listen: config.federation.listen,
    credentials: serverCredentials({ ca, cert, key, requireClientCert: true }),
    service: FederationService,
    impl,
    maxMessageBytes: config.limits.maxMessageBytes,
    graceMs: config.shutdown.graceMs,
    drainDelayMs: config.shutdown.drainDelayMs,
  });
}
