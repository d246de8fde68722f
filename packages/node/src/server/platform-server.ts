import { serverCredentials, type HandlerContext, type ServiceImpl } from "@tongban/sdk";
import { PlatformService } from "@tongban/sdk/gen";
import type { NodeConfig } from "../config/types.js";
import { guardService } from "./guard-service.js";
import { bearerTokenGuard } from "./platform-auth.js";
import { readPem } from "./read-pem.js";
import { startServiceServer, type ServiceServerHandle } from "./service-server.js";

/** What {@link startPlatformServer} needs. */
export interface PlatformServerOptions {
  readonly config: NodeConfig;
  /** The PlatformService implementation; methods left out answer UNIMPLEMENTED. */
  readonly impl: Partial<ServiceImpl<typeof PlatformService>>;
  /** Called for each authenticated call with the token name (token mode) or the client's node id (mTLS). */
  readonly onAuthenticated?: (principal: string, ctx: HandlerContext) => void;
}

/**
 * Starts PlatformService — the vendor platform's API to its own node — on
 * `platform.listen`, a port of its own, always TLS with the node's TLS
 * certificate. With `auth.tokens`, every call needs
 * `authorization: Bearer <token>` whose SHA-256 is configured (missing or
 * wrong → TRANSPORT_UNAUTHENTICATED); with `auth.mtls`, the handshake
 * requires a client certificate chaining to `auth.clientCa`.
 * Health and reflection are served without authentication.
 */
export async function startPlatformServer(options: PlatformServerOptions): Promise<ServiceServerHandle> {
  const { config } = options;
  const { auth } = config.platform;
  const [cert, key, ca] = await Promise.all([
    readPem(config.file, "federation.tlsCert", config.federation.tlsCert),
    readPem(config.file, "federation.tlsKey", config.federation.tlsKey),
    platformClientCa(config),
  ]);
  const impl =
    auth.kind === "tokens"
      ? guardService(PlatformService, options.impl, bearerTokenGuard(auth.tokens, options.onAuthenticated))
      : guardService(PlatformService, options.impl, (ctx) => {
          options.onAuthenticated?.(ctx.peer.nodeId ?? ctx.peer.address, ctx);
          return ctx;
        });
  return startServiceServer({
    listen: config.platform.listen,
    credentials: serverCredentials({ ca, cert, key, requireClientCert: auth.kind === "mtls" }),
    service: PlatformService,
    impl,
    maxMessageBytes: config.limits.maxMessageBytes,
    graceMs: config.shutdown.graceMs,
    drainDelayMs: config.shutdown.drainDelayMs,
  });
}

/** The CA the platform port's TLS context carries: `platform.auth.clientCa` with mTLS, else the federation anchor. */
export function platformClientCa(config: NodeConfig): Promise<string> {
  const { auth } = config.platform;
  return auth.kind === "mtls" ? readPem(config.file, "platform.auth.clientCa", auth.clientCa) : readPem(config.file, "trust.anchor", config.trust.anchor);
}
