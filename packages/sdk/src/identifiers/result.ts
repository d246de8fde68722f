import { TongbanError } from "../errors/index.js";
import type { IdIssue, IdValidation, IdentifierKind } from "./types.js";

/** Builds a validation from collected issues: parts only when there are none. */
export function finish<P, K extends string>(
  kind: K,
  value: string,
  issues: readonly IdIssue[],
  parts: () => P,
): IdValidation<P, K> {
  if (issues.length > 0) return { ok: false, kind, value, issues };
  return { ok: true, kind, value, parts: parts() };
}

/** An issue, leaving `position` out when there is none (exactOptionalPropertyTypes). */
export function issue(rule: string, message: string, position?: number): IdIssue {
  return position === undefined ? { rule, message } : { rule, position, message };
}

/**
 * Returns the parts of a valid identifier or throws IDENTIFIER_INVALID.
 * `shown` is what the error message may quote: personal identifiers pass a
 * masked form, because TongbanError messages end up in logs.
 */
export function partsOrThrow<P>(validation: IdValidation<P>, label: string, shown: string = validation.value): P {
  if (validation.ok) return validation.parts;
  const first = validation.issues[0];
  const more = validation.issues.length > 1 ? ` (and ${validation.issues.length - 1} more)` : "";
  throw new TongbanError("IDENTIFIER_INVALID", `invalid ${label} '${shown}': ${first?.message ?? "invalid"}${more}`, {
    details: { kind: validation.kind satisfies IdentifierKind, issues: validation.issues.map((i) => ({ ...i })) },
  });
}

/** Throws TypeError unless the argument is a string (a programmer's mistake). */
export function requireString(value: unknown, fn: string): asserts value is string {
  if (typeof value !== "string") throw new TypeError(`${fn}: expected a string, got ${value === null ? "null" : typeof value}`);
}

/** Quotes one character for messages, showing invisible ones by code point. */
export function show(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x21 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0)) return `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  return `'${ch}'`;
}
