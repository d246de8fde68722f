import Table from "cli-table3";
import { TongbanError } from "@tongban/sdk";

/**
 * Where a command writes. Human output goes as readable lines and tables;
 * with `--json` every command prints exactly one JSON document on stdout.
 * Commands never call console.log directly, so tests can capture output.
 */
export interface Output {
  readonly json: boolean;
  /** A line for people (suppressed in JSON mode). */
  line(text?: string): void;
  /** A table for people (suppressed in JSON mode). */
  table(head: string[], rows: (string | number | boolean | null | undefined)[][]): void;
  /** The machine result: printed in JSON mode, ignored otherwise. */
  result(value: unknown): void;
  /** A warning or progress note on stderr (never pollutes JSON on stdout). */
  note(text: string): void;
}

/** Stream sinks; tests pass their own. */
export interface Sinks {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The process's stdout/stderr. */
export const processSinks: Sinks = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/** Creates an Output for one command run. */
export function createOutput(json: boolean, sinks: Sinks = processSinks): Output {
  return {
    json,
    line(text = "") {
      if (!json) sinks.stdout(`${text}\n`);
    },
    table(head, rows) {
      if (json) return;
      const t = new Table({ head, style: { head: [], border: [] } });
      for (const r of rows) t.push(r.map((c) => (c === null || c === undefined ? "" : String(c))));
      sinks.stdout(`${t.toString()}\n`);
    },
    result(value) {
      if (json) sinks.stdout(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
    },
    note(text) {
      sinks.stderr(`${text}\n`);
    },
  };
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return value;
}

/**
 * A failure a command reports: exit code plus a stable code. TongbanErrors
 * keep their own code; anything else is reported as INTERNAL.
 */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 1,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Formats an error for the user and returns the exit code to use. */
export function reportError(err: unknown, json: boolean, sinks: Sinks = processSinks): number {
  let code = "INTERNAL";
  let message = String(err);
  let details: Record<string, unknown> = {};
  let exitCode = 1;
  if (err instanceof TongbanError) {
    code = err.code;
    message = err.message;
    details = { ...err.details };
  } else if (err instanceof CliError) {
    code = err.code;
    message = err.message;
    details = err.details;
    exitCode = err.exitCode;
  } else if (err instanceof Error) {
    message = err.message;
    if (err instanceof TypeError) code = "USAGE";
  }
  if (json) sinks.stdout(`${JSON.stringify({ ok: false, error: { code, message, details } }, null, 2)}\n`);
  else sinks.stderr(`error ${code}: ${message}\n`);
  return exitCode;
}
