import { ERROR_CODES, type ErrorCode } from "./codes.js";
import { GrpcStatus } from "./grpc-status.js";

/**
 * The base of every protocol error Tongban raises. `code` is stable and
 * listed in docs/errors.md; `details` carries machine-readable context (never
 * personal data); `cause` keeps the underlying error.
 *
 * Argument mistakes by a programmer (wrong type, missing option) are plain
 * `TypeError`s, not `TongbanError`s.
 *
 * @example
 * ```ts
 * try { await verifier.verify(bytes) } catch (err) {
 *   if (err instanceof TongbanError && err.code === "ENVELOPE_REPLAYED") { ... }
 * }
 * ```
 */
export class TongbanError extends Error {
  override readonly name: string = "TongbanError";
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }

  /** The numeric gRPC status this error travels as. */
  get grpcStatus(): number {
    return GrpcStatus[ERROR_CODES[this.code].grpc];
  }

  /** A JSON form for CLI `--json` output and API error details. */
  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: { ...this.details } };
  }
}

/** True when `err` is a TongbanError, optionally with the given code. */
export function isTongbanError(err: unknown, code?: ErrorCode): err is TongbanError {
  return err instanceof TongbanError && (code === undefined || err.code === code);
}
