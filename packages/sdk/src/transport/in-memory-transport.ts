import { fromBinary, toBinary, type DescMessage, type DescMethod, type DescService, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { TongbanError } from "../errors/index.js";
import { abortable } from "./abortable.js";
import { fromWireError, toWireError } from "./error-wire.js";
import { toMessage } from "./grpc-definition.js";
import { nodeIdFromCertificate } from "./peer-identity.js";
import { requestHeaders } from "./request-headers.js";
import type { CallOptions, HandlerContext, HandlerResult, PeerInfo, RequestHeaders, ServiceClient, ServiceImpl } from "./types.js";

type AnyMessage = MessageShape<DescMessage>;
type AnyInit = MessageInitShape<DescMessage>;
type AnyResult = HandlerResult<DescMessage>;
type Handler = (input: unknown, ctx: HandlerContext) => unknown;

/** The identity the in-memory transport reports to handlers as `ctx.peer`. */
export interface FakePeer {
  /** Defaults to `"in-memory"`. */
  readonly address?: string;
  /** A DER certificate; `nodeId` is read from its URI SAN unless given. */
  readonly certificate?: Uint8Array;
  /** The peer's node id, as if read from its TLS certificate. */
  readonly nodeId?: string;
}

/** Handlers registered in memory, and typed clients that call them directly. */
export interface InMemoryTransport {
  /**
   * Registers (or replaces) the implementation of a service. Methods left out
   * answer `UNIMPLEMENTED`, so a test implements only what it exercises.
   */
  register<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): void;
  /** A client with the same shape as `createGrpcClient`'s, calling as `peer` (default: the transport's peer). */
  client<S extends DescService>(service: S, options?: { readonly peer?: FakePeer }): ServiceClient<S>;
}

/**
 * An in-process transport for unit tests of the layers above (the node's
 * inbox, the outbox, CLI commands): no sockets, no TLS, but the same client
 * shape, the same error mapping (a `TongbanError` round-trips with its code
 * and details; anything else arrives as `INTERNAL`), messages round-tripped
 * through the binary encoding, cancellation and deadlines reaching
 * `ctx.signal`, and a configurable fake peer identity.
 *
 * @example
 * ```ts
 * const t = createInMemoryTransport({ peer: { nodeId: "cn.320509.wujiang" } });
 * t.register(FederationService, impl);
 * const client = t.client(FederationService);
 * await client.getNodeInfo({});
 * ```
 */
export function createInMemoryTransport(options: { readonly peer?: FakePeer } = {}): InMemoryTransport {
  const services = new Map<string, Record<string, unknown>>();
  const defaultPeer = options.peer ?? {};
  return {
    register(service, impl) {
      const handlers = impl as unknown as Record<string, unknown>;
      for (const m of service.methods) {
        const fn = handlers[m.localName];
        if (fn !== undefined && typeof fn !== "function") throw new TypeError(`register: ${service.typeName} implementation has a non-function "${m.localName}"`);
      }
      services.set(service.typeName, handlers);
    },
    client(service, clientOptions = {}) {
      const peer = toPeerInfo(clientOptions.peer ?? defaultPeer);
      const out: Record<string, unknown> = {};
      for (const method of service.methods) {
        const lookup = (): Handler => {
          const impl = services.get(service.typeName);
          const fn = impl?.[method.localName];
          if (typeof fn !== "function") throw new TongbanError("UNIMPLEMENTED", `${service.typeName}/${method.name} is not registered`);
          return (fn as Handler).bind(impl);
        };
        out[method.localName] = bindMethod(method, lookup, peer);
      }
      return out as ServiceClient<typeof service>;
    },
  };
}

function toPeerInfo(fake: FakePeer): PeerInfo {
  const certificate = fake.certificate;
  return {
    address: fake.address ?? "in-memory",
    certificate,
    nodeId: fake.nodeId ?? (certificate === undefined ? undefined : nodeIdFromCertificate(certificate)),
  };
}

/** Copies through the wire encoding, as a real transport would. */
function wire(schema: DescMessage, value: AnyInit | AnyMessage): AnyMessage {
  return fromBinary(schema, toBinary(schema, toMessage(schema, value)));
}

function bindMethod(method: DescMethod, lookup: () => Handler, peer: PeerInfo): unknown {
  switch (method.methodKind) {
    case "unary":
      return async (request: AnyInit, opts: CallOptions = {}) => {
        const call = openCall(method, peer, opts);
        try {
          const input = wire(method.input, request);
          const result = await call.race(Promise.resolve().then(() => lookup()(input, call.ctx) as Promise<AnyResult>));
          return wire(method.output, result);
        } catch (err) {
          throw call.failure(err);
        } finally {
          call.close();
        }
      };
    case "client_streaming":
      return async (requests: AsyncIterable<AnyInit>, opts: CallOptions = {}) => {
        const call = openCall(method, peer, opts);
        try {
          const result = await call.race(Promise.resolve().then(() => lookup()(call.feed(requests), call.ctx) as Promise<AnyResult>));
          return wire(method.output, result);
        } catch (err) {
          throw call.failure(err);
        } finally {
          call.close();
        }
      };
    case "server_streaming":
      return (request: AnyInit, opts: CallOptions = {}) => stream(method, peer, opts, (call) => lookup()(wire(method.input, request), call.ctx));
    case "bidi_streaming":
      return (requests: AsyncIterable<AnyInit>, opts: CallOptions = {}) => stream(method, peer, opts, (call) => lookup()(call.feed(requests), call.ctx));
  }
}

async function* stream(method: DescMethod, peer: PeerInfo, opts: CallOptions, start: (call: OpenCall) => unknown): AsyncGenerator<AnyMessage> {
  const call = openCall(method, peer, opts);
  let finished = false;
  try {
    const iterator = (start(call) as AsyncIterable<AnyResult>)[Symbol.asyncIterator]();
    for (;;) {
      // Pull one response per consumer pull: the handler runs no further ahead than the reader.
      const next = await call.race(iterator.next());
      if (next.done === true) break;
      yield wire(method.output, next.value);
    }
    finished = true;
  } catch (err) {
    finished = true;
    throw call.failure(err);
  } finally {
    // A consumer that stops early cancels the handler, as gRPC would.
    if (!finished) call.cancel();
    call.close();
  }
}

interface OpenCall {
  readonly ctx: HandlerContext;
  race<T>(work: Promise<T>): Promise<T>;
  feed(requests: AsyncIterable<AnyInit>): AsyncIterable<AnyMessage>;
  failure(err: unknown): unknown;
  cancel(): void;
  close(): void;
}

function openCall(method: DescMethod, peer: PeerInfo, opts: CallOptions): OpenCall {
  if (opts.timeoutMs !== undefined && !(Number.isFinite(opts.timeoutMs) && opts.timeoutMs >= 0)) {
    throw new TypeError("timeoutMs must be a finite number ≥ 0");
  }
  const controller = new AbortController();
  let sourceError: { error: unknown } | undefined;
  const cancel = (): void => controller.abort(new TongbanError("TRANSPORT_CANCELLED", "call cancelled"));
  if (opts.signal?.aborted === true) cancel();
  opts.signal?.addEventListener("abort", cancel, { once: true });
  const deadline = opts.timeoutMs === undefined ? undefined : new Date(Date.now() + opts.timeoutMs);
  const timer =
    opts.timeoutMs === undefined
      ? undefined
      : setTimeout(() => controller.abort(new TongbanError("TRANSPORT_DEADLINE_EXCEEDED", "deadline exceeded")), opts.timeoutMs);
  const aborted = new Promise<never>((_, reject) => {
    const fire = (): void => reject(controller.signal.reason);
    if (controller.signal.aborted) fire();
    else controller.signal.addEventListener("abort", fire, { once: true });
  });
  aborted.catch(() => undefined);
  const ctx: HandlerContext = { method, peer, metadata: headersOf(opts.metadata ?? {}), signal: controller.signal, deadline };
  return {
    ctx,
    race: (work) => {
      // If the client gave up first, the handler's later outcome has nobody to go to.
      work.catch(() => undefined);
      return Promise.race([work, aborted]);
    },
    feed: (requests) => {
      const signal = controller.signal;
      const source = (async function* () {
        try {
          for await (const request of requests) {
            signal.throwIfAborted();
            yield wire(method.input, request);
          }
        } catch (err) {
          if (signal.aborted) throw signal.reason;
          // The caller's own request source failed: like gRPC, the call is cancelled and the caller sees its own error.
          sourceError = { error: err };
          cancel();
          throw signal.reason;
        }
      })();
      // A handler blocked on a slow source still learns of the cancel at once.
      return abortable(source, signal);
    },
    failure: (err) => {
      if (sourceError !== undefined) return sourceError.error;
      if (controller.signal.aborted) return controller.signal.reason;
      return fromWireError(toWireError(err));
    },
    cancel,
    close: () => {
      if (timer !== undefined) clearTimeout(timer);
      opts.signal?.removeEventListener("abort", cancel);
    },
  };
}

function headersOf(metadata: Readonly<Record<string, string | readonly string[]>>): RequestHeaders {
  return requestHeaders(Object.entries(metadata).flatMap(([name, value]) => (typeof value === "string" ? [[name, value] as const] : value.map((v) => [name, v] as const))));
}
