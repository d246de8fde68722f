import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Client, Metadata, type CallOptions as GrpcCallOptions, type ChannelCredentials, type ChannelOptions, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import { isIP } from "node:net";
import type { Writable } from "node:stream";
import { TongbanError } from "../errors/index.js";
import { writeWithBackpressure } from "./abortable.js";
import { nodeIdentityOf } from "./credentials.js";
import { ERROR_CODE_TRAILER, ERROR_DETAILS_TRAILER, fromWireError } from "./error-wire.js";
import { toGrpcMethodDefinition, toMessage } from "./grpc-definition.js";
import type { CallOptions, ServiceClient } from "./types.js";

type AnyMessage = MessageShape<DescMessage>;
type AnyInit = MessageInitShape<DescMessage>;

/** Options of {@link createGrpcClient}. */
export interface GrpcClientOptions {
  /** Largest response message accepted, in bytes (grpc-js default 4 MiB). */
  readonly maxReceiveMessageLength?: number;
  /** Largest request message sent, in bytes (grpc-js default unlimited). */
  readonly maxSendMessageLength?: number;
  /** Applied to calls that set no `timeoutMs` of their own. */
  readonly defaultTimeoutMs?: number;
  /** Raw grpc-js channel options, applied last. */
  readonly channelOptions?: ChannelOptions;
}

/** A typed gRPC client plus the channel it owns. */
export type GrpcClient<S extends DescService> = ServiceClient<S> & {
  /** Closes the channel; calls in flight fail with `TRANSPORT_CANCELLED` or `TRANSPORT_UNAVAILABLE`. */
  close(): void;
};

/**
 * A typed client for a generated service over grpc-js: one function per RPC
 * (unary → Promise, server streaming → AsyncIterable, client streaming →
 * `(AsyncIterable<init>) => Promise`). Requests may be init objects. A
 * streaming call starts when its iterable is first read; leaving the loop
 * early cancels it.
 *
 * Every failure is a `TongbanError`: the server's own code when the
 * `tongban-error-code` trailer is present and consistent with the status,
 * otherwise the code from `STATUS_FALLBACK_CODES` (e.g. UNAVAILABLE →
 * `TRANSPORT_UNAVAILABLE`, DEADLINE_EXCEEDED → `TRANSPORT_DEADLINE_EXCEEDED`).
 *
 * @example
 * ```ts
 * const peer = createGrpcClient(FederationService, "qingpu.example:7443", clientCredentials({ ca, cert, key, expectedNodeId: "cn.310118.qingpu" }));
 * const { receipt } = await peer.deliver({ envelope }, { timeoutMs: 10_000 });
 * peer.close();
 * ```
 */
export function createGrpcClient<S extends DescService>(
  service: S,
  address: string,
  credentials: ChannelCredentials,
  options: GrpcClientOptions = {},
): GrpcClient<S> {
  if (typeof address !== "string" || address === "") throw new TypeError("createGrpcClient: address must be a non-empty string");
  const channelOptions: ChannelOptions = {
    ...serverNameFor(address, credentials),
    ...(options.maxReceiveMessageLength === undefined ? {} : { "grpc.max_receive_message_length": options.maxReceiveMessageLength }),
    ...(options.maxSendMessageLength === undefined ? {} : { "grpc.max_send_message_length": options.maxSendMessageLength }),
    ...options.channelOptions,
  };
  const client = new Client(address, credentials, channelOptions);
  const out: Record<string, unknown> = {
    close: () => client.close(),
  };
  for (const method of service.methods) {
    out[method.localName] = bindMethod(client, method, options.defaultTimeoutMs);
  }
  return out as GrpcClient<S>;
}

/**
 * The TLS server name for a node dialled at an IP address. grpc-js sends the
 * address host as the server name (SNI), but RFC 6066 allows only DNS names
 * there (Node warns, DEP0123). Credentials that check the server by node id
 * ignore the host name, so the node id is sent instead: a DNS-shaped name
 * that says whom the client means to reach. A DNS host is left as it is
 * (a TLS proxy in front of a node may route by it).
 */
function serverNameFor(address: string, credentials: ChannelCredentials): ChannelOptions {
  const nodeId = nodeIdentityOf(credentials);
  if (nodeId === undefined) return {};
  const host = /^\[([^\]]+)\](?::\d+)?$/.exec(address)?.[1] ?? /^([^:/]+)(?::\d+)?$/.exec(address)?.[1];
  return host !== undefined && isIP(host) !== 0 ? { "grpc.ssl_target_name_override": nodeId } : {};
}

function bindMethod(client: Client, method: DescMethod, defaultTimeoutMs: number | undefined): unknown {
  const def = toGrpcMethodDefinition(method);
  switch (method.methodKind) {
    case "unary":
      return (request: AnyInit, opts: CallOptions = {}): Promise<AnyMessage> =>
        new Promise((resolve, reject) => {
          const prep = prepare(opts, defaultTimeoutMs);
          if (prep === undefined) return reject(cancelled());
          const call = client.makeUnaryRequest(
            def.path,
            def.requestSerialize,
            def.responseDeserialize,
            toMessage(method.input, request),
            prep.metadata,
            prep.callOptions,
            (err, value) => {
              prep.release();
              if (err !== null) reject(mapError(err));
              else if (value === undefined) reject(new TongbanError("INTERNAL", "empty response"));
              else resolve(value);
            },
          );
          prep.onAbort(() => call.cancel());
        });
    case "client_streaming":
      return (requests: AsyncIterable<AnyInit>, opts: CallOptions = {}): Promise<AnyMessage> =>
        new Promise((resolve, reject) => {
          const prep = prepare(opts, defaultTimeoutMs);
          if (prep === undefined) return reject(cancelled());
          const call = client.makeClientStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, prep.metadata, prep.callOptions, (err, value) => {
            prep.release();
            if (err !== null) reject(mapError(err));
            else if (value === undefined) reject(new TongbanError("INTERNAL", "empty response"));
            else resolve(value);
          });
          prep.onAbort(() => call.cancel());
          void sendAll(requests, method, call, prep.pumpSignal).then(
            () => call.end(),
            (err: unknown) => {
              // The call ended first (its error is already on its way to the callback) or the source failed.
              if (prep.pumpSignal.aborted) return;
              call.cancel();
              prep.release();
              reject(err);
            },
          );
        });
    case "server_streaming":
      return (request: AnyInit, opts: CallOptions = {}): AsyncIterable<AnyMessage> =>
        receive(opts, defaultTimeoutMs, (prep) =>
          client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, toMessage(method.input, request), prep.metadata, prep.callOptions),
        );
    case "bidi_streaming":
      return (requests: AsyncIterable<AnyInit>, opts: CallOptions = {}): AsyncIterable<AnyMessage> =>
        receive(opts, defaultTimeoutMs, (prep) => {
          const call = client.makeBidiStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, prep.metadata, prep.callOptions);
          void sendAll(requests, method, call, prep.pumpSignal).then(
            () => call.end(),
            (err: unknown) => {
              if (prep.pumpSignal.aborted) return;
              // Surface the source's failure to the reader instead of a bare CANCELLED.
              call.destroy(err instanceof Error ? err : new Error(String(err)));
              call.cancel();
            },
          );
          return call;
        });
  }
}

async function* receive(
  opts: CallOptions,
  defaultTimeoutMs: number | undefined,
  start: (prep: Prepared) => ClientReadableStream<AnyMessage>,
): AsyncGenerator<AnyMessage> {
  const prep = prepare(opts, defaultTimeoutMs);
  if (prep === undefined) throw cancelled();
  let call: ClientReadableStream<AnyMessage> | undefined;
  let finished = false;
  try {
    call = start(prep);
    const started = call;
    prep.onAbort(() => started.cancel());
    // The Readable's iterator pulls one message per read: grpc-js only reads
    // from the HTTP/2 stream when asked, so a slow consumer slows the server.
    for await (const value of call as AsyncIterable<AnyMessage>) yield value;
    finished = true;
  } catch (err) {
    finished = true;
    throw isServiceError(err) ? mapError(err) : err;
  } finally {
    // A consumer that stops early (break/return) cancels the call instead of leaking it.
    if (!finished) call?.cancel();
    prep.release();
  }
}

async function sendAll(
  requests: AsyncIterable<AnyInit>,
  method: DescMethod,
  call: Writable,
  signal: AbortSignal,
): Promise<void> {
  for await (const request of requests) {
    await writeWithBackpressure(call, toMessage(method.input, request), signal);
  }
}

interface Prepared {
  readonly metadata: Metadata;
  readonly callOptions: GrpcCallOptions;
  /** Aborts when the caller cancels or the call completes; stops request pumps. */
  readonly pumpSignal: AbortSignal;
  onAbort(cancel: () => void): void;
  release(): void;
}

function prepare(opts: CallOptions, defaultTimeoutMs: number | undefined): Prepared | undefined {
  if (opts.signal?.aborted === true) return undefined;
  const timeoutMs = opts.timeoutMs ?? defaultTimeoutMs;
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
    throw new TypeError("timeoutMs must be a finite number ≥ 0");
  }
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(opts.metadata ?? {})) {
    for (const v of typeof value === "string" ? [value] : value) metadata.add(name.toLowerCase(), v);
  }
  const pump = new AbortController();
  let cancel: (() => void) | undefined;
  const onUserAbort = (): void => {
    pump.abort();
    cancel?.();
  };
  opts.signal?.addEventListener("abort", onUserAbort, { once: true });
  return {
    metadata,
    callOptions: timeoutMs === undefined ? {} : { deadline: new Date(Date.now() + timeoutMs) },
    pumpSignal: pump.signal,
    onAbort: (fn) => {
      cancel = fn;
    },
    release: () => {
      pump.abort();
      opts.signal?.removeEventListener("abort", onUserAbort);
    },
  };
}

function cancelled(): TongbanError {
  return new TongbanError("TRANSPORT_CANCELLED", "call cancelled before it started");
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === "number" && (err as Partial<ServiceError>).metadata instanceof Metadata;
}

function mapError(err: ServiceError): TongbanError {
  const code = err.metadata.get(ERROR_CODE_TRAILER)[0];
  const details = err.metadata.get(ERROR_DETAILS_TRAILER)[0];
  return fromWireError(
    {
      status: err.code,
      message: err.details,
      code: typeof code === "string" ? code : undefined,
      details: details instanceof Buffer ? details : undefined,
    },
    err,
  );
}
