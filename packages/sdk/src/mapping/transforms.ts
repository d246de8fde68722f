import { TongbanError } from "../errors/index.js";
import type { FieldMapping, FieldTransform } from "./model.js";

/** A form: field name → value. */
export type Form = Readonly<Record<string, string>>;

/**
 * TRANSFORM_FAILED naming the field and the rule it breaks, never the value: form values are
 * personal data (birth dates, addresses), and error messages end up in logs.
 */
function fail(reason: string, details: Record<string, unknown>): never {
  throw new TongbanError("TRANSFORM_FAILED", reason, { details });
}

const DATE_TOKENS = /YYYY|MM|DD/g;

/** Parses a date written in `format` (tokens YYYY, MM, DD) into canonical YYYY-MM-DD; `field` names it in errors. */
export function dateToCanonical(value: string, format: string, field = "the date"): string {
  const groups: string[] = [];
  const pattern = format.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(DATE_TOKENS, (t) => {
    groups.push(t);
    return t === "YYYY" ? "(\\d{4})" : "(\\d{2})";
  });
  const m = new RegExp(`^${pattern}$`).exec(value);
  if (!m) fail(`${field} does not have the date format ${format}`, { field, format });
  const part = (t: string) => m[groups.indexOf(t) + 1] ?? "";
  const iso = `${part("YYYY")}-${part("MM")}-${part("DD")}`;
  const d = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso) fail(`${field} is not a real calendar date`, { field, format });
  return iso;
}

/** Writes a canonical YYYY-MM-DD date in `format`; `field` names it in errors. */
export function dateFromCanonical(iso: string, format: string, field = "the date"): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) fail(`${field} is not a canonical YYYY-MM-DD date`, { field, format });
  return format.replace(DATE_TOKENS, (t) => (t === "YYYY" ? m[1]! : t === "MM" ? m[2]! : m[3]!));
}

/**
 * Turns one local field into canonical fields. A "join" field yields several
 * canonical fields; the others yield one.
 */
export function toCanonical(mapping: FieldMapping, value: string): Record<string, string> {
  const t: FieldTransform | undefined = mapping.transform;
  if (t === undefined) return { [mapping.canonical]: value };
  switch (t.kind) {
    case "date":
      return { [mapping.canonical]: dateToCanonical(value, t.format, mapping.local) };
    case "code": {
      const v = t.map[value];
      if (v === undefined) fail(`${mapping.local} is not one of its codes (${Object.keys(t.map).join(", ")})`, { field: mapping.local });
      return { [mapping.canonical]: v };
    }
    case "join": {
      const parts = value.split(t.separator);
      if (parts.length < t.canonical.length) fail(`${mapping.local} needs ${t.canonical.length} parts separated by "${t.separator}"`, { field: mapping.local });
      // The last canonical field takes the remainder, so a separator inside it survives.
      const head = parts.slice(0, t.canonical.length - 1);
      const tail = parts.slice(t.canonical.length - 1).join(t.separator);
      return Object.fromEntries([...head, tail].map((p, i) => [t.canonical[i]!, p]));
    }
  }
}

/** Turns canonical fields back into one local field, or undefined when they are absent. */
export function fromCanonical(mapping: FieldMapping, canonical: Form): string | undefined {
  const t = mapping.transform;
  if (t?.kind === "join") {
    const parts = t.canonical.map((c) => canonical[c]);
    if (parts.some((p) => p === undefined)) return undefined;
    for (const [i, p] of parts.slice(0, -1).entries()) {
      if (p!.includes(t.separator)) fail(`canonical ${t.canonical[i]} contains the separator "${t.separator}"`, { field: t.canonical[i] });
    }
    return parts.join(t.separator);
  }
  const value = canonical[mapping.canonical];
  if (value === undefined) return undefined;
  if (t === undefined) return value;
  if (t.kind === "date") return dateFromCanonical(value, t.format, mapping.local);
  const local = Object.entries(t.map).find(([, c]) => c === value)?.[0];
  if (local === undefined) fail(`the canonical value of ${mapping.canonical} has no local code in ${mapping.local}`, { field: mapping.local });
  return local;
}

/** A form translated from one region's field names to another's. */
export interface TranslatedForm {
  /** The form in the target region's local field names. */
  readonly form: Record<string, string>;
  /** The canonical form in between. */
  readonly canonical: Record<string, string>;
  /** Source fields the source region does not map (left out). */
  readonly unmappedSource: readonly string[];
  /** Target fields no source field supplied. */
  readonly missingTarget: readonly string[];
}

/**
 * Translates a form from the source region's field names to the target
 * region's, through the canonical fields: source local → canonical with the
 * source's mappings, canonical → target local with the target's (inverted).
 * Throws TRANSFORM_FAILED for a value a transform cannot take.
 */
export function translateForm(form: Form, source: readonly FieldMapping[], target: readonly FieldMapping[]): TranslatedForm {
  const canonical: Record<string, string> = {};
  const unmappedSource: string[] = [];
  const bySourceLocal = new Map(source.map((m) => [m.local, m]));
  for (const [name, value] of Object.entries(form)) {
    const m = bySourceLocal.get(name);
    if (m === undefined) unmappedSource.push(name);
    else Object.assign(canonical, toCanonical(m, value));
  }
  const out: Record<string, string> = {};
  const missingTarget: string[] = [];
  for (const m of target) {
    const v = fromCanonical(m, canonical);
    if (v === undefined) missingTarget.push(m.local);
    else out[m.local] = v;
  }
  return { form: out, canonical, unmappedSource, missingTarget };
}
