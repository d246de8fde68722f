import { canonicalJson } from "./canonical-json.js";
import type { MappingTable } from "./model.js";

/** One changed entry: its key and the fields that differ. */
export interface ChangedEntry {
  readonly key: string;
  readonly fields: readonly { readonly field: string; readonly before: unknown; readonly after: unknown }[];
}

/** What changed between two versions of a table. */
export interface TableDiff {
  readonly kind: MappingTable["kind"];
  readonly publisher: string;
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly ChangedEntry[];
  /** Table-level fields (note, issued) that changed. */
  readonly meta: readonly string[];
  /** True when the content (entries) is identical. */
  readonly sameContent: boolean;
}

/** The entries of a table keyed by their code or id. */
export function entriesOf(table: MappingTable): Map<string, Record<string, unknown>> {
  const rows: Record<string, unknown>[] =
    table.kind === "agreements" ? [...table.agreements] as unknown as Record<string, unknown>[] : [...table.items] as unknown as Record<string, unknown>[];
  const key = table.kind === "catalog" ? "basicCode" : table.kind === "implementation" ? "implementationCode" : "id";
  return new Map(rows.map((r) => [String(r[key]), r]));
}

/** Compares two versions of the same table (same kind and publisher). */
export function diffTables(before: MappingTable, after: MappingTable): TableDiff {
  if (before.kind !== after.kind || before.publisher !== after.publisher) {
    throw new TypeError(`cannot diff ${before.kind}/${before.publisher} against ${after.kind}/${after.publisher}`);
  }
  const a = entriesOf(before);
  const b = entriesOf(after);
  const added = [...b.keys()].filter((k) => !a.has(k)).sort();
  const removed = [...a.keys()].filter((k) => !b.has(k)).sort();
  const changed: ChangedEntry[] = [];
  for (const [k, x] of a) {
    const y = b.get(k);
    if (y === undefined) continue;
    const fields = [...new Set([...Object.keys(x), ...Object.keys(y)])]
      .filter((f) => canonicalJson(x[f] ?? null) !== canonicalJson(y[f] ?? null))
      .sort()
      .map((f) => ({ field: f, before: x[f], after: y[f] }));
    if (fields.length > 0) changed.push({ key: k, fields });
  }
  changed.sort((p, q) => p.key.localeCompare(q.key));
  const meta = (["issued", "note"] as const).filter((f) => (before[f] ?? null) !== (after[f] ?? null));
  return {
    kind: before.kind,
    publisher: before.publisher,
    fromVersion: before.version,
    toVersion: after.version,
    added,
    removed,
    changed,
    meta,
    sameContent: added.length === 0 && removed.length === 0 && changed.length === 0,
  };
}
