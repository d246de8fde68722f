import type { DescMessage, DescMethod, DescService, MessageShape } from "@bufbuild/protobuf";
import { TLSSocket } from "node:tls";
import {
  Metadata,
  type ServerDuplexStream,
  type ServerErrorResponse,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
  type sendUnaryData,
} from "@grpc/grpc-js";
import { TongbanError } from "../errors/index.js";
import { abortable, writeWithBackpressure } from "./abortable.js";
import { ERROR_CODE_TRAILER, ERROR_DETAILS_TRAILER, toWireError } from "./error-wire.js";
import { malformedRequestOf, toMessage } from "./grpc-definition.js";
import { peerFromTls } from "./peer-identity.js";
import { requestHeaders } from "./request-headers.js";
import type { HandlerContext, HandlerResult, PeerInfo, RequestHeaders, ServiceImpl } from "./types.js";

type AnyMessage = MessageShape<DescMessage>;
type AnyResult = HandlerResult<DescMessage>;
type UnaryFn = (req: AnyMessage, ctx: HandlerContext) => Promise<AnyResult>;
type ClientStreamFn = (reqs: AsyncIterable<AnyMessage>, ctx: HandlerContext) => Promise<AnyResult>;
type ServerStreamFn = (req: AnyMessage, ctx: HandlerContext) => AsyncIterable<AnyResult>;
/** The parts of a grpc-js server call every kind shares (grpc-js does not export the type). */
interface SurfaceCall extends Pick<ServerUnaryCall<AnyMessage, AnyMessage>, "getDeadline" | "getPeer" | "getAuthContext" | "metadata" | "cancelled"> {
  on(event: "cancelled", listener: () => void): unknown;
  off(event: "cancelled", listener: () => void): unknown;
}
type BidiFn = (reqs: AsyncIterable<AnyMessage>, ctx: HandlerContext) => AsyncIterable<AnyResult>;

/**
 * Adapts a typed {@link ServiceImpl} to the grpc-js
 * `UntypedServiceImplementation` that `server.addService` takes together with
 * `toGrpcServiceDefinition(service)`.
 *
 * A thrown `TongbanError` travels as its table status, with the code in the
 * `tongban-error-code` trailer and its details as JSON in
 * `tongban-error-details-bin`. Anything else becomes INTERNAL with the
 * message "internal error": handler internals never reach the peer.
 *
 * Methods `impl` leaves out answer `UNIMPLEMENTED` (with the trailer), like
 * methods the server does not know at all.
 *
 * @throws TypeError when a method's entry is present but not a function.
 */
export function adaptService<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {};
  const handlers = impl as unknown as Record<string, unknown>;
  for (const method of service.methods) {
    let fn = handlers[method.localName];
    if (fn === undefined) fn = unimplemented(method);
    if (typeof fn !== "function") throw new TypeError(`adaptService: ${service.typeName} implementation has a non-function "${method.localName}"`);
    out[method.localName] = adaptMethod(method, fn.bind(impl) as (...args: never[]) => unknown);
  }
  return out;
}

function unimplemented(method: DescMethod): (...args: unknown[]) => unknown {
  const fail = (): TongbanError => new TongbanError("UNIMPLEMENTED", `${method.parent.typeName}/${method.name} is not implemented`);
  return method.methodKind === "unary" || method.methodKind === "client_streaming"
    ? () => Promise.reject(fail())
    : async function* () {
        throw fail();
      };
}

function adaptMethod(method: DescMethod, fn: (...args: never[]) => unknown): UntypedHandleCall {
  switch (method.methodKind) {
    case "unary":
      return (call: ServerUnaryCall<AnyMessage, AnyMessage>, callback: sendUnaryData<AnyMessage>) => {
        const scope = openScope(call, method);
        settle(() => (fn as unknown as UnaryFn)(wellFormed(call.request), scope.ctx), method, callback, scope.close);
      };
    case "client_streaming":
      return (call: ServerReadableStream<AnyMessage, AnyMessage>, callback: sendUnaryData<AnyMessage>) => {
        const scope = openScope(call, method);
        settle(() => (fn as unknown as ClientStreamFn)(requestsOf(call, scope.ctx.signal), scope.ctx), method, callback, scope.close);
      };
    case "server_streaming":
      return (call: ServerWritableStream<AnyMessage, AnyMessage>) => {
        const scope = openScope(call, method);
        void pump(() => (fn as unknown as ServerStreamFn)(wellFormed(call.request), scope.ctx), call, method, scope);
      };
    case "bidi_streaming":
      return (call: ServerDuplexStream<AnyMessage, AnyMessage>) => {
        const scope = openScope(call, method);
        void pump(() => (fn as unknown as BidiFn)(requestsOf(call, scope.ctx.signal), scope.ctx), call, method, scope);
      };
  }
}

/**
 * The request stream as an async iterable. `destroyOnReturn: false` matters:
 * the default Readable iterator destroys the stream when reading ends, and
 * for a bidi call that also kills the response side before its status.
 */
function requestsOf(call: ServerReadableStream<AnyMessage, AnyMessage> | ServerDuplexStream<AnyMessage, AnyMessage>, signal: AbortSignal): AsyncIterable<AnyMessage> {
  return checked(abortable(call.iterator({ destroyOnReturn: false }) as AsyncIterable<AnyMessage>, signal));
}

/** A request that did not decode is ENVELOPE_MALFORMED, answered with its code. */
function wellFormed(request: AnyMessage): AnyMessage {
  const reason = malformedRequestOf(request);
  if (reason !== undefined) throw new TongbanError("ENVELOPE_MALFORMED", reason);
  return request;
}

async function* checked(requests: AsyncIterable<AnyMessage>): AsyncIterable<AnyMessage> {
  for await (const r of requests) yield wellFormed(r);
}

function settle(run: () => Promise<AnyResult>, method: DescMethod, callback: sendUnaryData<AnyMessage>, close: () => void): void {
  // A non-async handler may throw synchronously; the executor turns that into a rejection.
  new Promise<AnyResult>((resolve) => resolve(run()))
    .then((value) => toMessage(method.output, value))
    .then(
      (message) => callback(null, message),
      (err: unknown) => callback(toServiceError(err)),
    )
    .finally(close);
}

async function pump(
  run: () => AsyncIterable<AnyResult>,
  call: ServerWritableStream<AnyMessage, AnyMessage> | ServerDuplexStream<AnyMessage, AnyMessage>,
  method: DescMethod,
  scope: Scope,
): Promise<void> {
  const { signal } = scope.ctx;
  try {
    for await (const value of run()) {
      await writeWithBackpressure(call, toMessage(method.output, value), signal);
    }
    if (!signal.aborted) call.end();
  } catch (err) {
    // After a cancel nobody is listening; grpc-js has already closed the stream.
    if (!signal.aborted) call.emit("error", toServiceError(err));
  } finally {
    scope.close();
  }
}

/** The wire form grpc-js sends: status, message, and our trailers. */
export function toServiceError(err: unknown): ServerErrorResponse {
  const wire = toWireError(err);
  const metadata = new Metadata();
  if (wire.code !== undefined) metadata.set(ERROR_CODE_TRAILER, wire.code);
  if (wire.details !== undefined) metadata.set(ERROR_DETAILS_TRAILER, Buffer.from(wire.details));
  return Object.assign(new Error(wire.message), { code: wire.status, details: wire.message, metadata });
}

interface Scope {
  readonly ctx: HandlerContext;
  readonly close: () => void;
}

function openScope(call: SurfaceCall, method: DescMethod): Scope {
  const deadline = toDate(call.getDeadline());
  // The abort signal is made when a handler first looks at it: most unary
  // handlers never do, and a controller, a deadline timer and a
  // "cancelled" listener per call are a measurable part of a busy intake.
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  const onCancel = (): void => controller?.abort(new TongbanError("TRANSPORT_CANCELLED", "call cancelled"));
  const signal = (): AbortSignal => {
    if (controller !== undefined) return controller.signal;
    controller = new AbortController();
    // grpc-js answers DEADLINE_EXCEEDED itself but does not always tell the
    // handler; our own timer makes ctx.signal fire either way.
    if (deadline !== undefined) {
      timer = setTimeout(
        () => controller!.abort(new TongbanError("TRANSPORT_DEADLINE_EXCEEDED", "deadline exceeded")),
        Math.max(0, deadline.getTime() - Date.now()),
      );
      timer.unref();
    }
    call.on("cancelled", onCancel);
    if (call.cancelled) onCancel();
    return controller.signal;
  };
  let headers: RequestHeaders | undefined;
  const ctx: HandlerContext = {
    method,
    peer: peerOf(call),
    get metadata() {
      return (headers ??= headersOf(call.metadata));
    },
    get signal() {
      return signal();
    },
    deadline,
  };
  return {
    ctx,
    close: () => {
      if (timer !== undefined) clearTimeout(timer);
      if (controller !== undefined) call.off("cancelled", onCancel);
    },
  };
}

/** The peer's identity per connection (HTTP/2 session): the certificate cannot change on a TLS 1.3 connection. */
const peerBySession = new WeakMap<object, Omit<PeerInfo, "address">>();

/**
 * The HTTP/2 session and TLS socket under a grpc-js call, reached through
 * grpc-js internals (`call.call[.nextCall…].stream.session`); undefined when
 * their layout differs, and then every call takes the slow path
 * (grpc-transport.test.ts notices: it counts the certificate reads).
 */
function sessionOf(call: object): { session: object; socket: TLSSocket } | undefined {
  let c: unknown = (call as { call?: unknown }).call;
  for (let i = 0; i < 6 && c !== null && typeof c === "object"; i++) {
    const session = (c as { stream?: { session?: { socket?: unknown } } }).stream?.session;
    if (session?.socket instanceof TLSSocket) return { session, socket: session.socket };
    c = (c as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

/**
 * The caller's address, certificate and node id. grpc-js parses the peer
 * certificate on every call (getPeerCertificate, ~7 % of a busy intake);
 * on a TLS 1.3 connection (no renegotiation) it is read once per connection.
 */
function peerOf(call: SurfaceCall): PeerInfo {
  const address = call.getPeer();
  const under = sessionOf(call);
  if (under === undefined || !under.socket.authorized || under.socket.getProtocol() !== "TLSv1.3") return peerFromTls(address, call.getAuthContext().sslPeerCertificate);
  let known = peerBySession.get(under.session);
  if (known === undefined) {
    const p = peerFromTls(address, call.getAuthContext().sslPeerCertificate);
    known = { certificate: p.certificate, nodeId: p.nodeId };
    peerBySession.set(under.session, known);
  }
  return { address, ...known };
}

function toDate(deadline: Date | number): Date | undefined {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

function headersOf(metadata: Metadata): RequestHeaders {
  const pairs: Array<[string, string]> = [];
  for (const name of Object.keys(metadata.getMap())) {
    // Binary (-bin) headers are not text; the header view leaves them out.
    for (const value of metadata.get(name)) if (typeof value === "string") pairs.push([name, value]);
  }
  return requestHeaders(pairs);
}
