import type { DescService } from "@bufbuild/protobuf";
import type { Server } from "@grpc/grpc-js";
import { startGrpcServer, type ServiceImpl, type TlsServerCredentials } from "@tongban/sdk";
import type { ListenAddress } from "../config/types.js";
import { formatListenAddress } from "../config/listen-address.js";
import { addHealthService, type HealthReporter } from "./health.js";
import { addReflectionService } from "./reflection.js";

/** A running node gRPC server: one Tongban service plus health and reflection. */
export interface ServiceServerHandle {
  /** The bound port. */
  readonly port: number;
  /** `host:port` actually bound (the configured port 0 replaced). */
  readonly address: string;
  /** grpc.health.v1 status of this server's services; SERVING once started. */
  readonly health: HealthReporter;
  /** The grpc-js server, for tests and extra services. */
  readonly server: Server;
  /** Its TLS credentials: `update()` gives connections from now on a new certificate and key. */
  readonly credentials: TlsServerCredentials;
  /**
   * Graceful stop: reports NOT_SERVING, waits `drainDelayMs` so balancers and
   * health watchers notice, stops accepting calls, lets calls in flight
   * finish for up to `graceMs`, then cancels the rest. Idempotent.
   */
  shutdown(options?: { graceMs?: number; drainDelayMs?: number }): Promise<void>;
}

/** What {@link startServiceServer} serves and how. */
export interface ServiceServerOptions<S extends DescService> {
  readonly listen: ListenAddress;
  readonly credentials: TlsServerCredentials;
  readonly service: S;
  readonly impl: Partial<ServiceImpl<S>>;
  readonly maxMessageBytes: number;
  /** Defaults used by `shutdown()` without arguments. */
  readonly graceMs: number;
  readonly drainDelayMs: number;
}

/**
 * Starts one of the node's gRPC servers through the SDK transport and adds
 * grpc.health.v1 and server reflection for its service. Health turns
 * SERVING only after the port is bound and every service is registered.
 */
export async function startServiceServer<S extends DescService>(options: ServiceServerOptions<S>): Promise<ServiceServerHandle> {
  const handle = await startGrpcServer({
    host: options.listen.host,
    port: options.listen.port,
    credentials: options.credentials,
    services: [[options.service, options.impl]] as const,
    maxReceiveMessageLength: options.maxMessageBytes,
    maxSendMessageLength: options.maxMessageBytes,
  });
  const health = addHealthService(handle.server, [options.service.typeName]);
  addReflectionService(handle.server, [options.service]);
  health.setServing(true);
  let stopping: Promise<void> | undefined;
  return {
    port: handle.port,
    address: formatListenAddress({ host: options.listen.host, port: handle.port }),
    health,
    server: handle.server,
    credentials: options.credentials,
    shutdown(opts = {}) {
      stopping ??= (async () => {
        health.setServing(false);
        const drain = opts.drainDelayMs ?? options.drainDelayMs;
        if (drain > 0) await new Promise((r) => setTimeout(r, drain));
        await handle.shutdown(opts.graceMs ?? options.graceMs);
      })();
      return stopping;
    },
  };
}
