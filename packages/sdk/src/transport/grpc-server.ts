import type { DescService } from "@bufbuild/protobuf";
import { Server, type ServerCredentials, type ServerOptions } from "@grpc/grpc-js";
import { adaptService } from "./adapt-service.js";
import { toGrpcServiceDefinition } from "./grpc-definition.js";
import type { ServiceImpl } from "./types.js";

/** Options of {@link startGrpcServer}. */
export interface GrpcServerOptions<T extends readonly DescService[]> {
  /** Interface to listen on. Defaults to `127.0.0.1`; listening wider is a deliberate choice. */
  readonly host?: string;
  /** Port; 0 (the default) picks a free one, reported back as `port`. */
  readonly port?: number;
  /** Usually {@link serverCredentials} (mutual TLS). */
  readonly credentials: ServerCredentials;
  /**
   * The services and their implementations, as `[service, impl]` pairs; each
   * impl is type-checked against its service. Methods left out answer
   * `UNIMPLEMENTED`.
   */
  readonly services: { readonly [K in keyof T]: readonly [T[K], Partial<ServiceImpl<T[K]>>] };
  /** Largest request message accepted, in bytes (grpc-js default 4 MiB). */
  readonly maxReceiveMessageLength?: number;
  /** Largest response message sent, in bytes. */
  readonly maxSendMessageLength?: number;
  /** Raw grpc-js server options, applied last (e.g. keepalive, max concurrent streams). */
  readonly serverOptions?: ServerOptions;
}

/** A running server. */
export interface GrpcServerHandle {
  /** The bound port (useful with `port: 0`). */
  readonly port: number;
  /** The underlying grpc-js server, e.g. to add health or reflection services. */
  readonly server: Server;
  /**
   * Stops accepting calls, lets calls in flight finish for up to `graceMs`
   * (default 5000), then cancels whatever is left.
   */
  shutdown(graceMs?: number): Promise<void>;
}

/**
 * Binds a grpc-js server with the given services and starts it.
 *
 * @example
 * ```ts
 * const srv = await startGrpcServer({
 *   credentials: serverCredentials({ ca, cert, key }),
 *   services: [[FederationService, federationImpl]],
 *   maxReceiveMessageLength: 8 * 1024 * 1024,
 * });
 * // ...
 * await srv.shutdown(2_000);
 * ```
 */
export async function startGrpcServer<const T extends readonly DescService[]>(options: GrpcServerOptions<T>): Promise<GrpcServerHandle> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError("startGrpcServer: port must be an integer in 0..65535");
  const server = new Server({
    // Not "grpc.enable_channelz": 0 — it would save a little per call, but grpc-js 1.14 then
    // stops tracking sessions and forceShutdown no longer ends streams left after the grace period.
    ...(options.maxReceiveMessageLength === undefined ? {} : { "grpc.max_receive_message_length": options.maxReceiveMessageLength }),
    ...(options.maxSendMessageLength === undefined ? {} : { "grpc.max_send_message_length": options.maxSendMessageLength }),
    ...options.serverOptions,
  });
  for (const entry of options.services as ReadonlyArray<readonly [DescService, Partial<ServiceImpl<DescService>>]>) {
    const [service, impl] = entry;
    server.addService(toGrpcServiceDefinition(service), adaptService(service, impl));
  }
  const target = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, options.credentials, (err, p) => (err === null ? resolve(p) : reject(err)));
  });
  return {
    port: bound,
    server,
    shutdown: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          // Grace is over: cancel the stragglers; tryShutdown's callback then fires.
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
