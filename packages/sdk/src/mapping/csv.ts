import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { HANDLING_MODES, type ImplementationList } from "./model.js";
import { parseTable } from "./parse-table.js";
import { throwTableIssues, type TableIssue } from "./table-issue.js";

/**
 * The CSV columns of an implementation list, as vendors keep them in
 * spreadsheets (docs/mapping.md "CSV"). One item per line after the header.
 */
export const IMPLEMENTATION_CSV_COLUMNS = [
  "implementation_code",
  "basic_code",
  "name",
  "agency",
  "promised_working_days",
  "fee_fen",
  "modes",
  "receives_for_others",
  "materials",
  "fields",
] as const;

const TRUE = new Set(["true", "yes", "y", "1", "是"]);
const FALSE = new Set(["false", "no", "n", "0", "否"]);

/** Table facts a CSV does not carry. */
export interface CsvTableMeta {
  readonly publisher: string;
  readonly version: number;
  readonly issued: string;
  readonly note?: string;
}

/**
 * Imports an implementation list from CSV. `materials` is
 * `本地名称=国家材料编码[*]` joined by `;` (`*` marks a required material);
 * `modes` is mode names joined by `|`; `fields` is empty or a JSON list of
 * field mappings. Every problem is reported with file, line and column, and
 * nothing is returned unless the whole file is valid.
 */
export function importImplementationCsv(text: string, meta: CsvTableMeta, file = "(csv)"): ImplementationList {
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: false, trim: true }) as string[][];
  } catch (err) {
    const e = err as { lines?: number; message: string };
    throwTableIssues([{ file, row: e.lines ?? 0, field: "", reason: `not valid CSV: ${e.message}` }]);
  }
  const issues: TableIssue[] = [];
  const header = records[0] ?? [];
  const col = new Map(header.map((h, i) => [h.trim().toLowerCase(), i]));
  for (const c of IMPLEMENTATION_CSV_COLUMNS) {
    if (c !== "fields" && !col.has(c)) issues.push({ file, row: 1, field: c, reason: "column missing from the header" });
  }
  if (issues.length > 0) throwTableIssues(issues);
  const items: unknown[] = [];
  records.slice(1).forEach((rec, i) => {
    const line = i + 2;
    const get = (c: string) => rec[col.get(c) ?? -1] ?? "";
    const num = (c: string) => {
      const v = get(c);
      if (!/^\d+$/.test(v)) issues.push({ file, row: line, field: c, reason: `"${v}" is not a whole number` });
      return Number(v);
    };
    const flag = get("receives_for_others").toLowerCase();
    if (!TRUE.has(flag) && !FALSE.has(flag)) issues.push({ file, row: line, field: "receives_for_others", reason: `"${flag}" is not yes/no` });
    const modes = get("modes").split("|").map((m) => m.trim()).filter(Boolean);
    for (const m of modes) if (!(HANDLING_MODES as readonly string[]).includes(m)) issues.push({ file, row: line, field: "modes", reason: `unknown mode "${m}"` });
    const materials = get("materials")
      .split(";")
      .map((m) => m.trim())
      .filter(Boolean)
      .map((m) => {
        const eq = m.lastIndexOf("=");
        if (eq <= 0) {
          issues.push({ file, row: line, field: "materials", reason: `"${m}" is not 名称=编码` });
          return undefined;
        }
        const code = m.slice(eq + 1).trim();
        return { localName: m.slice(0, eq).trim(), nationalCode: code.replace(/\*$/, ""), required: code.endsWith("*") };
      })
      .filter((m) => m !== undefined);
    let fields: unknown = [];
    const rawFields = get("fields");
    if (rawFields !== "") {
      try {
        fields = JSON.parse(rawFields);
      } catch {
        issues.push({ file, row: line, field: "fields", reason: "not a JSON list of field mappings" });
      }
    }
    items.push({
      implementationCode: get("implementation_code"),
      basicCode: get("basic_code"),
      name: get("name"),
      agency: get("agency"),
      promisedWorkingDays: num("promised_working_days"),
      feeFen: num("fee_fen"),
      modes,
      receivesForOthers: TRUE.has(flag),
      materials,
      fields,
    });
  });
  if (issues.length > 0) throwTableIssues(issues);
  try {
    return parseTable({ kind: "implementation", ...meta, items }, file) as ImplementationList;
  } catch (err) {
    // Item rows of the JSON form are CSV lines minus the header line.
    const e = err as { details?: { issues?: TableIssue[] } };
    if (e.details?.issues) throwTableIssues(e.details.issues.map((x) => ({ ...x, row: x.row === 0 ? 0 : x.row + 1 })));
    throw err;
  }
}

/** Exports an implementation list back to the CSV form {@link importImplementationCsv} reads. */
export function exportImplementationCsv(list: ImplementationList): string {
  const rows = list.items.map((it) => [
    it.implementationCode,
    it.basicCode,
    it.name,
    it.agency,
    String(it.promisedWorkingDays),
    String(it.feeFen),
    it.modes.join("|"),
    it.receivesForOthers ? "true" : "false",
    it.materials.map((m) => `${m.localName}=${m.nationalCode}${m.required ? "*" : ""}`).join(";"),
    it.fields.length === 0 ? "" : JSON.stringify(it.fields),
  ]);
  return stringify([[...IMPLEMENTATION_CSV_COLUMNS], ...rows]);
}
