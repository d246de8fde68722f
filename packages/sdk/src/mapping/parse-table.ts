import { validateBasicCode, validateImplementationCode, validateRegionCode, validateUscc } from "../identifiers/index.js";
import {
  HANDLING_MODES,
  type Agreement,
  type AgreementTable,
  type CatalogItem,
  type FieldMapping,
  type FieldTransform,
  type HandlingModeName,
  type ImplementationItem,
  type ImplementationList,
  type LocalMaterial,
  type MappingTable,
  type NationalCatalog,
} from "./model.js";
import { throwTableIssues, type TableIssue } from "./table-issue.js";

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Checks a parsed JSON value against the table schema and returns the typed
 * table, or throws MAPPING_TABLE_INVALID listing every problem with file, row
 * and field. Cross-table references (catalog codes, materials) are checked
 * by the registry when tables are loaded together.
 */
export function parseTable(value: unknown, file: string): MappingTable {
  const issues: TableIssue[] = [];
  const at = (row: number, field: string, reason: string) => issues.push({ file, row, field, reason });
  if (value === null || typeof value !== "object" || Array.isArray(value)) throwTableIssues([{ file, row: 0, field: "", reason: "a table must be a JSON object" }]);
  const t = value as Record<string, unknown>;
  const kind = t.kind;
  if (kind !== "catalog" && kind !== "implementation" && kind !== "agreements") at(0, "kind", `must be "catalog", "implementation" or "agreements"`);
  const publisher = str(t.publisher);
  if (publisher === undefined || publisher === "") at(0, "publisher", "missing");
  if (kind === "catalog" && publisher !== "national") at(0, "publisher", `the catalog's publisher must be "national"`);
  if (kind === "implementation" && publisher !== undefined && !validateRegionCode(publisher).ok) at(0, "publisher", `${publisher} is not a GB/T 2260 region code`);
  if (!(Number.isInteger(t.version) && (t.version as number) >= 1)) at(0, "version", "must be an integer ≥ 1");
  if (!(typeof t.issued === "string" && ISO_DATE.test(t.issued))) at(0, "issued", "must be an ISO date YYYY-MM-DD");
  if (t.note !== undefined && typeof t.note !== "string") at(0, "note", "must be text");
  const meta = { publisher: publisher ?? "", version: t.version as number, issued: t.issued as string, ...(typeof t.note === "string" ? { note: t.note } : {}) };

  let table: MappingTable | undefined;
  if (kind === "catalog") {
    const items = rows(t.items, "items", at).map((r, i) => catalogItem(r, i + 1, at));
    dupes(items.map((x) => x?.basicCode), "basicCode", at);
    table = { kind, ...meta, items: items.filter(isDefined) } satisfies NationalCatalog;
  } else if (kind === "implementation") {
    const items = rows(t.items, "items", at).map((r, i) => implementationItem(r, i + 1, at));
    dupes(items.map((x) => x?.implementationCode), "implementationCode", at);
    table = { kind, ...meta, items: items.filter(isDefined) } satisfies ImplementationList;
  } else if (kind === "agreements") {
    const agreements = rows(t.agreements, "agreements", at).map((r, i) => agreement(r, i + 1, at));
    dupes(agreements.map((x) => x?.id), "id", at);
    table = { kind, ...meta, agreements: agreements.filter(isDefined) } satisfies AgreementTable;
  }
  if (issues.length > 0 || table === undefined) throwTableIssues(issues);
  return table;
}

type At = (row: number, field: string, reason: string) => void;

function isDefined<T>(x: T | undefined): x is T {
  return x !== undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
function rows(v: unknown, field: string, at: At): Record<string, unknown>[] {
  if (!Array.isArray(v)) {
    at(0, field, "must be a list");
    return [];
  }
  return v.map((r, i) => {
    if (r === null || typeof r !== "object" || Array.isArray(r)) {
      at(i + 1, "", "must be an object");
      return {};
    }
    return r as Record<string, unknown>;
  });
}
function dupes(keys: (string | undefined)[], field: string, at: At): void {
  const seen = new Map<string, number>();
  keys.forEach((k, i) => {
    if (k === undefined) return;
    const prior = seen.get(k);
    if (prior !== undefined) at(i + 1, field, `duplicate ${k} (first at row ${prior})`);
    else seen.set(k, i + 1);
  });
}
function text(r: Record<string, unknown>, field: string, row: number, at: At): string {
  const v = r[field];
  if (typeof v !== "string" || v.trim() === "") {
    at(row, field, "missing or empty");
    return "";
  }
  return v;
}
function count(r: Record<string, unknown>, field: string, row: number, at: At): number {
  const v = r[field];
  if (!(Number.isInteger(v) && (v as number) >= 0)) {
    at(row, field, "must be an integer ≥ 0");
    return 0;
  }
  return v as number;
}
function modes(v: unknown, row: number, field: string, at: At): HandlingModeName[] {
  if (!Array.isArray(v) || v.length === 0) {
    at(row, field, `must be a non-empty list of ${HANDLING_MODES.join(", ")}`);
    return [];
  }
  const out: HandlingModeName[] = [];
  v.forEach((m, i) => {
    if (typeof m === "string" && (HANDLING_MODES as readonly string[]).includes(m)) out.push(m as HandlingModeName);
    else at(row, `${field}[${i}]`, `unknown mode ${JSON.stringify(m)}`);
  });
  return out;
}
function codeIssue(kind: "basic" | "implementation" | "uscc", value: string): string | undefined {
  const r = kind === "basic" ? validateBasicCode(value) : kind === "implementation" ? validateImplementationCode(value) : validateUscc(value);
  return r.ok ? undefined : r.issues.map((i) => i.message).join("; ");
}

function catalogItem(r: Record<string, unknown>, row: number, at: At): CatalogItem | undefined {
  const basicCode = text(r, "basicCode", row, at);
  const bad = basicCode === "" ? undefined : codeIssue("basic", basicCode);
  if (bad) at(row, "basicCode", bad);
  const materials: { code: string; name: string }[] = [];
  if (!Array.isArray(r.materials)) at(row, "materials", "must be a list");
  else
    r.materials.forEach((m: unknown, i: number) => {
      const mm = (m ?? {}) as Record<string, unknown>;
      const code = str(mm.code);
      const name = str(mm.name);
      if (!code) at(row, `materials[${i}].code`, "missing");
      if (!name) at(row, `materials[${i}].name`, "missing");
      if (code && name) materials.push({ code, name });
    });
  dupes(materials.map((m) => m.code), `materials.code (item row ${row})`, (_r, f, reason) => at(row, f, reason));
  return { basicCode, name: text(r, "name", row, at), type: text(r, "type", row, at), materials, legalWorkingDays: count(r, "legalWorkingDays", row, at) };
}

function transform(v: unknown, row: number, field: string, at: At): FieldTransform | undefined {
  if (v === undefined) return undefined;
  const t = (v ?? {}) as Record<string, unknown>;
  if (t.kind === "date" && typeof t.format === "string" && /YYYY/.test(t.format) && /MM/.test(t.format) && /DD/.test(t.format)) return { kind: "date", format: t.format };
  if (t.kind === "code" && t.map !== null && typeof t.map === "object") {
    const map = t.map as Record<string, unknown>;
    const values = Object.values(map);
    if (!values.every((x) => typeof x === "string")) at(row, `${field}.map`, "values must be text");
    else if (new Set(values).size !== values.length) at(row, `${field}.map`, "must be one-to-one (two local codes map to one canonical code)");
    else return { kind: "code", map: map as Record<string, string> };
    return undefined;
  }
  if (t.kind === "join" && typeof t.separator === "string" && t.separator !== "" && Array.isArray(t.canonical) && t.canonical.length >= 2 && t.canonical.every((c) => typeof c === "string")) {
    return { kind: "join", separator: t.separator, canonical: t.canonical as string[] };
  }
  at(row, field, `unknown or incomplete transform ${JSON.stringify(v)}`);
  return undefined;
}

function implementationItem(r: Record<string, unknown>, row: number, at: At): ImplementationItem | undefined {
  const implementationCode = text(r, "implementationCode", row, at);
  const basicCode = text(r, "basicCode", row, at);
  const agency = text(r, "agency", row, at);
  for (const [field, kind, value] of [["implementationCode", "implementation", implementationCode], ["basicCode", "basic", basicCode], ["agency", "uscc", agency]] as const) {
    const bad = value === "" ? undefined : codeIssue(kind, value);
    if (bad) at(row, field, bad);
  }
  if (implementationCode.length === 31 && basicCode !== "" && implementationCode.slice(19) !== basicCode) at(row, "implementationCode", `its last 12 characters must be the basicCode ${basicCode}`);
  if (implementationCode.length === 31 && agency !== "" && implementationCode.slice(0, 18) !== agency) at(row, "implementationCode", `its first 18 characters must be the agency ${agency}`);
  if (typeof r.receivesForOthers !== "boolean") at(row, "receivesForOthers", "must be true or false");
  const materials: LocalMaterial[] = [];
  if (!Array.isArray(r.materials)) at(row, "materials", "must be a list");
  else
    r.materials.forEach((m: unknown, i: number) => {
      const mm = (m ?? {}) as Record<string, unknown>;
      const localName = str(mm.localName);
      const nationalCode = str(mm.nationalCode);
      if (!localName) at(row, `materials[${i}].localName`, "missing");
      if (!nationalCode) at(row, `materials[${i}].nationalCode`, "missing");
      if (typeof mm.required !== "boolean") at(row, `materials[${i}].required`, "must be true or false");
      if (localName && nationalCode) materials.push({ localName, nationalCode, required: mm.required === true });
    });
  const fields: FieldMapping[] = [];
  if (r.fields !== undefined && !Array.isArray(r.fields)) at(row, "fields", "must be a list");
  else
    ((r.fields as unknown[] | undefined) ?? []).forEach((f: unknown, i: number) => {
      const ff = (f ?? {}) as Record<string, unknown>;
      const local = str(ff.local);
      const canonical = str(ff.canonical);
      if (!local) at(row, `fields[${i}].local`, "missing");
      if (!canonical) at(row, `fields[${i}].canonical`, "missing");
      const tr = transform(ff.transform, row, `fields[${i}].transform`, at);
      if (local && canonical) fields.push({ local, canonical, ...(tr ? { transform: tr } : {}) });
    });
  return {
    implementationCode,
    basicCode,
    name: text(r, "name", row, at),
    agency,
    promisedWorkingDays: count(r, "promisedWorkingDays", row, at),
    feeFen: count(r, "feeFen", row, at),
    modes: modes(r.modes, row, "modes", at),
    receivesForOthers: r.receivesForOthers === true,
    materials,
    fields,
  };
}

function agreement(r: Record<string, unknown>, row: number, at: At): Agreement | undefined {
  const id = text(r, "id", row, at);
  const regions: string[] = [];
  if (!Array.isArray(r.regions) || r.regions.length < 2) at(row, "regions", "must list at least two regions");
  else
    r.regions.forEach((g: unknown, i: number) => {
      if (typeof g === "string" && validateRegionCode(g).ok) regions.push(g);
      else at(row, `regions[${i}]`, `${JSON.stringify(g)} is not a GB/T 2260 region code`);
    });
  const items: string[] = [];
  if (!Array.isArray(r.items) || r.items.length === 0) at(row, "items", `must list 基本编码 or ["*"]`);
  else
    r.items.forEach((c: unknown, i: number) => {
      if (c === "*" || (typeof c === "string" && validateBasicCode(c).ok)) items.push(c as string);
      else at(row, `items[${i}]`, `${JSON.stringify(c)} is not a 基本编码`);
    });
  const validFrom = text(r, "validFrom", row, at);
  const validTo = text(r, "validTo", row, at);
  if (validFrom && !ISO_DATE.test(validFrom)) at(row, "validFrom", "must be YYYY-MM-DD");
  if (validTo && !ISO_DATE.test(validTo)) at(row, "validTo", "must be YYYY-MM-DD");
  if (validFrom && validTo && validFrom > validTo) at(row, "validTo", "must not be before validFrom");
  return { id, regions, items, modes: modes(r.modes, row, "modes", at), validFrom, validTo };
}
