import { pino, stdSerializers, type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "../config/types.js";

/**
 * Log fields that may hold personal data (DESIGN §4: personal identifiers
 * never reach logs). Whatever code logs, these keys are censored, at the top
 * level and one object deep (`{ envelope: { body } }`).
 */
export const PERSONAL_DATA_LOG_PATHS: readonly string[] = [
  "applicant", "citizenId", "idNumber", "personalId", "name", "phone", "mobile", "email", "address",
  "formData", "form", "materials", "body", "plaintext", "token", "authorization",
].flatMap((k) => [k, `*.${k}`]);

/** Options of {@link createNodeLogger}. */
export interface NodeLoggerOptions {
  readonly nodeId: string;
  readonly level: LogLevel;
  /** Where lines go; stdout by default. Tests pass a stream to read them. */
  readonly destination?: DestinationStream;
}

/**
 * The node's structured logger: JSON lines (pino), `nodeId` on every line,
 * personal-data fields censored as {@link PERSONAL_DATA_LOG_PATHS}.
 *
 * @example
 * ```ts
 * const log = createNodeLogger({ nodeId: "cn.310118.qingpu", level: "info" });
 * log.info({ port: 7443 }, "federation server listening");
 * ```
 */
export function createNodeLogger(options: NodeLoggerOptions): Logger {
  const config = {
    level: options.level,
    base: { nodeId: options.nodeId },
    redact: { paths: [...PERSONAL_DATA_LOG_PATHS], censor: "[redacted]" },
    // An error's class is its `type`; its own `name` property would only show as "[redacted]" (the personal-data
    // path `*.name`), so it is left out.
    serializers: { err: serializeError },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination === undefined ? pino(config) : pino(config, options.destination);
}

function serializeError(err: unknown): unknown {
  const out = stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  if (out !== null && typeof out === "object") delete out["name"];
  return out;
}

export type { Logger };
