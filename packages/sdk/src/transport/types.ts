import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";

/**
 * Who is on the other end of a call, as the transport established it.
 * Over mutual TLS the certificate has been chain-verified against the
 * configured CA before any handler runs; the trust layer above still decides
 * whether that node may do what it asks.
 */
export interface PeerInfo {
  /** Remote address as `host:port` (`"in-memory"` for the in-memory transport). */
  readonly address: string;
  /** The peer's leaf certificate (DER), when the connection is TLS with a client certificate. */
  readonly certificate: Uint8Array | undefined;
  /** The node id from the certificate's `urn:tongban:node:<id>` URI SAN, when there is exactly one. */
  readonly nodeId: string | undefined;
}

/** Read-only view of a call's request headers (gRPC metadata). */
export interface RequestHeaders {
  /** First value of a text header, or undefined. Names are case-insensitive. */
  get(name: string): string | undefined;
  /** Every value of a text header, in order. */
  getAll(name: string): readonly string[];
}

/** What a handler learns about the call besides its request. */
export interface HandlerContext {
  /** The RPC being served. */
  readonly method: DescMethod;
  /** The transport-level peer identity. */
  readonly peer: PeerInfo;
  /** Request headers. */
  readonly metadata: RequestHeaders;
  /** Aborts when the caller cancels, the deadline passes or the connection drops. */
  readonly signal: AbortSignal;
  /** The caller's deadline, if it set one. */
  readonly deadline: Date | undefined;
}

/** A handler may answer with a full message or an init object. */
export type HandlerResult<O extends DescMessage> = MessageInitShape<O> | MessageShape<O>;

/** Handler of a unary RPC. */
export type UnaryImpl<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  ctx: HandlerContext,
) => Promise<HandlerResult<O>>;

/** Handler of a client-streaming RPC: consumes the request stream, answers once. */
export type ClientStreamingImpl<I extends DescMessage, O extends DescMessage> = (
  requests: AsyncIterable<MessageShape<I>>,
  ctx: HandlerContext,
) => Promise<HandlerResult<O>>;

/** Handler of a server-streaming RPC: an async generator of responses. */
export type ServerStreamingImpl<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  ctx: HandlerContext,
) => AsyncIterable<HandlerResult<O>>;

/** Handler of a bidi-streaming RPC. */
export type BidiStreamingImpl<I extends DescMessage, O extends DescMessage> = (
  requests: AsyncIterable<MessageShape<I>>,
  ctx: HandlerContext,
) => AsyncIterable<HandlerResult<O>>;

/** The handler type for one method descriptor. */
export type MethodImpl<M> = M extends { methodKind: "unary"; input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? UnaryImpl<I, O>
  : M extends { methodKind: "client_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? ClientStreamingImpl<I, O>
    : M extends { methodKind: "server_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
      ? ServerStreamingImpl<I, O>
      : M extends { methodKind: "bidi_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
        ? BidiStreamingImpl<I, O>
        : never;

/**
 * A typed implementation of a service: one handler per RPC, keyed by the
 * method's `localName`.
 *
 * @example
 * ```ts
 * const impl: ServiceImpl<typeof FederationService> = {
 *   async deliver(req, ctx) { return { receipt: await inbox.accept(req.envelope, ctx.peer) }; },
 *   ...
 * };
 * ```
 */
export type ServiceImpl<S extends DescService> = { [K in keyof S["method"]]: MethodImpl<S["method"][K]> };

/** Options of one client call. */
export interface CallOptions {
  /** Cancels the call; the promise or iteration rejects with `TRANSPORT_CANCELLED`. */
  readonly signal?: AbortSignal;
  /** Deadline relative to the start of the call; expiry rejects with `TRANSPORT_DEADLINE_EXCEEDED`. */
  readonly timeoutMs?: number;
  /** Request headers. Names are lower-cased; binary headers are not supported here. */
  readonly metadata?: Readonly<Record<string, string | readonly string[]>>;
}

/** The client function for one method descriptor. */
export type MethodClient<M> = M extends { methodKind: "unary"; input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? (request: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>>
  : M extends { methodKind: "client_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? (requests: AsyncIterable<MessageInitShape<I>>, options?: CallOptions) => Promise<MessageShape<O>>
    : M extends { methodKind: "server_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
      ? (request: MessageInitShape<I>, options?: CallOptions) => AsyncIterable<MessageShape<O>>
      : M extends { methodKind: "bidi_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
        ? (requests: AsyncIterable<MessageInitShape<I>>, options?: CallOptions) => AsyncIterable<MessageShape<O>>
        : never;

/**
 * A typed client of a service: one function per RPC keyed by `localName`,
 * the same shape whether it speaks gRPC or calls handlers in memory.
 * Every rejection is a `TongbanError`.
 */
export type ServiceClient<S extends DescService> = { [K in keyof S["method"]]: MethodClient<S["method"][K]> };
