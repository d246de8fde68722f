import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { TongbanError } from "../errors/index.js";
import { importImplementationCsv } from "./csv.js";
import type { MappingTable } from "./model.js";
import { parseTable } from "./parse-table.js";
import { MappingRegistry, type LoadedTable } from "./registry.js";
import { verifyTable, type TableKeyResolver } from "./signing.js";
import { throwTableIssues } from "./table-issue.js";

/**
 * Reads one table file: `.json` (a table), `.jws` (a signed table; needs
 * `resolveKey`), or `.csv` (an implementation list; publisher, version and
 * issued come from a sibling `<name>.meta.json`).
 */
export function readTableFile(path: string, resolveKey?: TableKeyResolver): MappingTable {
  const file = basename(path);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new TongbanError("MAPPING_TABLE_INVALID", `${file}: cannot read (${(err as Error).message})`, { details: { file }, cause: err });
  }
  if (path.endsWith(".jws")) {
    if (resolveKey === undefined) throw new TongbanError("MAPPING_SIGNATURE_INVALID", `${file}: a signed table needs a key resolver`, { details: { file } });
    return verifyTable(text, resolveKey, file).table;
  }
  if (path.endsWith(".csv")) {
    const metaPath = path.replace(/\.csv$/, ".meta.json");
    let meta: unknown;
    try {
      meta = JSON.parse(readFileSync(metaPath, "utf8"));
    } catch (err) {
      throwTableIssues([{ file, row: 0, field: "", reason: `needs ${basename(metaPath)} with publisher, version and issued (${(err as Error).message})` }]);
    }
    return importImplementationCsv(text, meta as { publisher: string; version: number; issued: string }, file);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throwTableIssues([{ file, row: 0, field: "", reason: `not JSON: ${(err as Error).message}` }]);
  }
  return parseTable(json, file);
}

/**
 * Loads every table in a directory (`*.json` except `*.meta.json`, `*.csv`,
 * `*.jws`) into a registry, all or nothing. When a table exists both signed
 * and unsigned under the same stem, the signed one is used.
 */
export function loadTablesFromDirectory(dir: string, resolveKey?: TableKeyResolver): MappingRegistry {
  const names = readdirSync(dir).filter((n) => /\.(json|csv|jws)$/.test(n) && !n.endsWith(".meta.json")).sort();
  const stems = new Set(names.filter((n) => n.endsWith(".jws")).map((n) => n.replace(/\.jws$/, "")));
  const chosen = names.filter((n) => n.endsWith(".jws") || resolveKey === undefined || !stems.has(n.replace(/\.(json|csv)$/, "")));
  const tables: LoadedTable[] = chosen
    .filter((n) => resolveKey !== undefined || !n.endsWith(".jws"))
    .map((n) => ({ table: readTableFile(join(dir, n), resolveKey), file: n }));
  return MappingRegistry.load(tables);
}
