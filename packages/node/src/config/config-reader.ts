import { isAbsolute, resolve } from "node:path";
import type { ConfigIssue } from "./config-issues.js";
import { parseListenAddress } from "./listen-address.js";
import type { ListenAddress } from "./types.js";

type Obj = Record<string, unknown>;

/**
 * Reads typed fields out of untrusted parsed YAML/JSON, remembering the
 * dotted path of each so every mistake is reported where it is. Readers
 * record issues and return undefined instead of throwing, so one pass
 * finds every problem.
 */
export class ConfigReader {
  readonly issues: ConfigIssue[] = [];

  constructor(
    /** Relative paths resolve against this directory. */
    readonly baseDir: string,
  ) {}

  issue(path: string, reason: string): undefined {
    this.issues.push({ path, reason });
    return undefined;
  }

  /** The object at `path`, or {} (with an issue) when it is something else; undefined when absent and optional. */
  object(value: unknown, path: string, required: boolean): Obj | undefined {
    if (value === undefined || value === null) return required ? this.issue(path, "is required") : undefined;
    if (typeof value !== "object" || Array.isArray(value)) return this.issue(path, `must be a mapping, got ${kind(value)}`);
    return value as Obj;
  }

  /** Flags keys the schema does not know: a misspelt key must not silently fall back to a default. */
  known(obj: Obj, path: string, keys: readonly string[]): void {
    for (const k of Object.keys(obj)) if (!keys.includes(k)) this.issue(join(path, k), `unknown key (expected one of: ${keys.join(", ")})`);
  }

  string(obj: Obj, key: string, path: string, required: boolean): string | undefined {
    const v = obj[key];
    const p = join(path, key);
    if (v === undefined || v === null) return required ? this.issue(p, "is required") : undefined;
    if (typeof v !== "string") return this.issue(p, `must be a string, got ${kind(v)}`);
    if (v.trim() === "") return this.issue(p, "must not be empty");
    return v;
  }

  /** A file or directory path; relative ones resolve against the config file's directory. */
  path(obj: Obj, key: string, path: string, required: boolean): string | undefined {
    const v = this.string(obj, key, path, required);
    return v === undefined ? undefined : this.resolvePath(v);
  }

  /** Resolves a path from the file against {@link baseDir}. */
  resolvePath(value: string): string {
    return isAbsolute(value) ? value : resolve(this.baseDir, value);
  }

  listen(obj: Obj, key: string, path: string, fallback: string | undefined): ListenAddress | undefined {
    const v = this.string(obj, key, path, false) ?? fallback;
    if (v === undefined) return undefined;
    const parsed = parseListenAddress(v);
    return typeof parsed === "string" ? this.issue(join(path, key), parsed) : parsed;
  }

  /** A whole number in [min, max]. */
  integer(obj: Obj, key: string, path: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "number" || !Number.isInteger(v)) return this.issue(join(path, key), `must be a whole number, got ${kind(v)}`) ?? fallback;
    if (v < min || v > max) return this.issue(join(path, key), `must be between ${min} and ${max}, got ${v}`) ?? fallback;
    return v;
  }

  /** A finite number ≥ min (no default: absent stays absent). */
  number(obj: Obj, key: string, path: string, min: number): number | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v)) return this.issue(join(path, key), `must be a number, got ${kind(v)}`);
    if (v < min) return this.issue(join(path, key), `must be ≥ ${min}, got ${v}`);
    return v;
  }

  oneOf<T extends string>(obj: Obj, key: string, path: string, allowed: readonly T[], fallback: T): T {
    const v = obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "string" || !(allowed as readonly string[]).includes(v))
      return this.issue(join(path, key), `must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`) ?? fallback;
    return v as T;
  }

  array(obj: Obj, key: string, path: string): unknown[] {
    const v = obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return this.issue(join(path, key), `must be a list, got ${kind(v)}`) ?? [];
    return v;
  }

  boolean(obj: Obj, key: string, path: string): boolean | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") return this.issue(join(path, key), `must be true or false, got ${kind(v)}`);
    return v;
  }
}

/** `a.b` + `c` → `a.b.c`; list items are `peers[0]`. */
export function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path === "" ? key : `${path}.${key}`;
}

function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}
