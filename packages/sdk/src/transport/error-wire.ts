import { ERROR_CODES, GrpcStatus, TongbanError, isErrorCode, type ErrorCode } from "../errors/index.js";

/** Trailer carrying the stable Tongban error code of a failed call. */
export const ERROR_CODE_TRAILER = "tongban-error-code";

/** Binary trailer carrying the error's `details` as UTF-8 JSON. */
export const ERROR_DETAILS_TRAILER = "tongban-error-details-bin";

/**
 * A failed call as it travels: the gRPC status and message, plus the Tongban
 * code and details that ride in trailers. Transport-neutral so the gRPC and
 * in-memory transports share one mapping.
 */
export interface WireError {
  /** Numeric gRPC status. */
  readonly status: number;
  /** Status message (gRPC `details`). */
  readonly message: string;
  /** Value of the `tongban-error-code` trailer, if any. */
  readonly code: string | undefined;
  /** Value of the `tongban-error-details-bin` trailer, if any. */
  readonly details: Uint8Array | undefined;
}

/**
 * Statuses that arrive without a (consistent) `tongban-error-code` trailer —
 * from grpc-js itself, a proxy or a non-Tongban peer — and the code they
 * become. Every other status becomes `TRANSPORT_UNKNOWN_STATUS`, whose
 * details keep the original `grpcStatus`.
 *
 * | gRPC status        | TongbanError code              |
 * |--------------------|--------------------------------|
 * | CANCELLED          | TRANSPORT_CANCELLED            |
 * | DEADLINE_EXCEEDED  | TRANSPORT_DEADLINE_EXCEEDED    |
 * | UNAVAILABLE        | TRANSPORT_UNAVAILABLE          |
 * | UNAUTHENTICATED    | TRANSPORT_UNAUTHENTICATED      |
 * | RESOURCE_EXHAUSTED | TRANSPORT_RESOURCE_EXHAUSTED   |
 * | UNIMPLEMENTED      | UNIMPLEMENTED                  |
 * | INTERNAL           | INTERNAL                       |
 * | anything else      | TRANSPORT_UNKNOWN_STATUS       |
 *
 * `DELIVERY_FAILED` is deliberately not used here: it is the outbox's verdict
 * after a failed attempt, not what one call observed.
 */
export const STATUS_FALLBACK_CODES: Readonly<Partial<Record<number, ErrorCode>>> = {
  [GrpcStatus.CANCELLED]: "TRANSPORT_CANCELLED",
  [GrpcStatus.DEADLINE_EXCEEDED]: "TRANSPORT_DEADLINE_EXCEEDED",
  [GrpcStatus.UNAVAILABLE]: "TRANSPORT_UNAVAILABLE",
  [GrpcStatus.UNAUTHENTICATED]: "TRANSPORT_UNAUTHENTICATED",
  [GrpcStatus.RESOURCE_EXHAUSTED]: "TRANSPORT_RESOURCE_EXHAUSTED",
  [GrpcStatus.UNIMPLEMENTED]: "UNIMPLEMENTED",
  [GrpcStatus.INTERNAL]: "INTERNAL",
};

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Turns whatever a handler threw into what goes on the wire. A
 * `TongbanError` keeps its code, message and details; anything else becomes
 * a bare INTERNAL so stack traces, paths and messages never leak to a peer.
 */
export function toWireError(err: unknown): WireError {
  if (err instanceof TongbanError) {
    let details: Uint8Array | undefined;
    if (Object.keys(err.details).length > 0) {
      try {
        details = encoder.encode(JSON.stringify(err.details));
      } catch {
        // Details that cannot be serialised (cycles, bigint) are dropped rather than failing the reply.
        details = undefined;
      }
    }
    return { status: err.grpcStatus, message: err.message, code: err.code, details };
  }
  return { status: GrpcStatus.INTERNAL, message: "internal error", code: "INTERNAL", details: undefined };
}

/**
 * Turns a failed call back into a `TongbanError`. The trailer code wins when
 * it is a known code whose table status equals the received status (a
 * mismatch means a proxy or a confused peer rewrote one of them); otherwise
 * {@link STATUS_FALLBACK_CODES} decides.
 */
export function fromWireError(wire: WireError, cause?: unknown): TongbanError {
  const options = (details: Record<string, unknown>): { cause?: unknown; details: Record<string, unknown> } =>
    cause === undefined ? { details } : { cause, details };
  if (wire.code !== undefined && isErrorCode(wire.code) && GrpcStatus[ERROR_CODES[wire.code].grpc] === wire.status) {
    return new TongbanError(wire.code, wire.message, options(parseDetails(wire.details)));
  }
  const code = STATUS_FALLBACK_CODES[wire.status] ?? "TRANSPORT_UNKNOWN_STATUS";
  return new TongbanError(code, wire.message === "" ? `gRPC status ${wire.status}` : wire.message, options({ grpcStatus: wire.status }));
}

function parseDetails(bytes: Uint8Array | undefined): Record<string, unknown> {
  if (bytes === undefined || bytes.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(decoder.decode(bytes));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    // Unreadable details must not hide the error code itself.
    return {};
  }
}
