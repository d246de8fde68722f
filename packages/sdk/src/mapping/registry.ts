import { createHash } from "node:crypto";
import { canonicalBytes } from "./canonical-json.js";
import type { Agreement, AgreementTable, CatalogItem, ImplementationItem, ImplementationList, MappingTable, NationalCatalog, TableRef } from "./model.js";
import { NameIndex } from "./similarity.js";
import { throwTableIssues, type TableIssue } from "./table-issue.js";

/** A table with the file it came from (for error messages). */
export interface LoadedTable {
  readonly table: MappingTable;
  readonly file: string;
}

/** An implementation item with the region that publishes it. */
export interface RegionalItem {
  readonly region: string;
  readonly item: ImplementationItem;
}

/** SHA-256 hex of a table's canonical JSON: what a case records and a directory lists. */
export function tableDigest(table: MappingTable): string {
  return createHash("sha256").update(canonicalBytes(table)).digest("hex");
}

/**
 * The reference a resolution records for a table. The digest (canonical JSON of the whole table, about half the cost of
 * loading a registry) is taken the first time it is read — a case records it, JSON and spreads copy it — not at load.
 */
export function tableRef(table: MappingTable): TableRef {
  let digest: string | undefined;
  return {
    kind: table.kind,
    publisher: table.publisher,
    version: table.version,
    get digest() {
      return (digest ??= tableDigest(table));
    },
  };
}

/**
 * A consistent set of mapping tables with the indexes resolution needs.
 * Built all-or-nothing by {@link MappingRegistry.load}: any problem in any
 * table throws MAPPING_TABLE_INVALID listing every issue, and nothing is
 * loaded. To replace tables, load a new registry and swap the reference.
 */
export class MappingRegistry {
  readonly catalog: NationalCatalog;
  readonly lists: ReadonlyMap<string, ImplementationList>;
  readonly agreements: readonly Agreement[];
  readonly refs: readonly TableRef[];
  readonly #catalogByCode: ReadonlyMap<string, CatalogItem>;
  readonly #byImplementationCode: ReadonlyMap<string, RegionalItem>;
  /** region → basicCode → item (nested: a lookup builds no key string). */
  readonly #byRegionBasic: ReadonlyMap<string, ReadonlyMap<string, ImplementationItem>>;
  readonly #names: NameIndex<RegionalItem>;
  /** kind → publisher → ref. */
  readonly #refsByKey: ReadonlyMap<string, ReadonlyMap<string, TableRef>>;
  /** The references of the agreement tables (every resolution names them). */
  readonly agreementRefs: readonly TableRef[];

  private constructor(catalog: NationalCatalog, lists: Map<string, ImplementationList>, agreements: AgreementTable[], refs: Map<string, TableRef>) {
    this.catalog = catalog;
    this.lists = lists;
    this.agreements = agreements.flatMap((t) => t.agreements);
    this.refs = [...refs.values()];
    const refsByKey = new Map<string, Map<string, TableRef>>();
    for (const r of this.refs) {
      const byPublisher = refsByKey.get(r.kind) ?? new Map<string, TableRef>();
      byPublisher.set(r.publisher, r);
      refsByKey.set(r.kind, byPublisher);
    }
    this.#refsByKey = refsByKey;
    this.agreementRefs = this.refs.filter((r) => r.kind === "agreements");
    this.#catalogByCode = new Map(catalog.items.map((i) => [i.basicCode, i]));
    const byCode = new Map<string, RegionalItem>();
    const byRegionBasic = new Map<string, Map<string, ImplementationItem>>();
    const names = new NameIndex<RegionalItem>();
    for (const [region, list] of lists) {
      const byBasic = new Map<string, ImplementationItem>();
      byRegionBasic.set(region, byBasic);
      for (const item of list.items) {
        const ri = { region, item };
        byCode.set(item.implementationCode, ri);
        byBasic.set(item.basicCode, item);
        names.add(item.name, ri);
      }
    }
    this.#byImplementationCode = byCode;
    this.#byRegionBasic = byRegionBasic;
    this.#names = names;
  }

  /**
   * Checks the tables together and builds the registry. Exactly one catalog;
   * at most one implementation list per region; implementation codes unique
   * across regions; national 基本编码 (starting "00") and the national
   * materials items map to must exist in the catalog (no dangling
   * references); agreement items must exist somewhere.
   */
  static load(tables: readonly LoadedTable[]): MappingRegistry {
    const issues: TableIssue[] = [];
    const catalogs = tables.filter((t) => t.table.kind === "catalog");
    if (catalogs.length !== 1) issues.push({ file: catalogs[1]?.file ?? "(tables)", row: 0, field: "kind", reason: `exactly one national catalog is needed, found ${catalogs.length}` });
    const catalog = catalogs[0]?.table as NationalCatalog | undefined;
    const catalogByCode = new Map((catalog?.items ?? []).map((i) => [i.basicCode, i]));
    const lists = new Map<string, ImplementationList>();
    const listFile = new Map<string, string>();
    const codeOwner = new Map<string, string>();
    const knownBasic = new Set(catalogByCode.keys());
    for (const { table, file } of tables) {
      if (table.kind !== "implementation") continue;
      const prior = listFile.get(table.publisher);
      if (prior !== undefined) {
        issues.push({ file, row: 0, field: "publisher", reason: `region ${table.publisher} already has a list (${prior})` });
        continue;
      }
      lists.set(table.publisher, table);
      listFile.set(table.publisher, file);
      table.items.forEach((item, i) => {
        const row = i + 1;
        const owner = codeOwner.get(item.implementationCode);
        if (owner !== undefined) issues.push({ file, row, field: "implementationCode", reason: `${item.implementationCode} is also listed by ${owner}` });
        codeOwner.set(item.implementationCode, file);
        knownBasic.add(item.basicCode);
        const national = item.basicCode.startsWith("00");
        const entry = catalogByCode.get(item.basicCode);
        if (national && entry === undefined) {
          issues.push({ file, row, field: "basicCode", reason: `${item.basicCode} is not in the national catalog (dangling reference)` });
        }
        if (entry !== undefined) {
          const materialCodes = new Set(entry.materials.map((m) => m.code));
          item.materials.forEach((m, j) => {
            if (!materialCodes.has(m.nationalCode)) {
              issues.push({ file, row, field: `materials[${j}].nationalCode`, reason: `${m.nationalCode} is not a standard material of ${item.basicCode}` });
            }
          });
        }
      });
    }
    const agreementTables: AgreementTable[] = [];
    for (const { table, file } of tables) {
      if (table.kind !== "agreements") continue;
      agreementTables.push(table);
      table.agreements.forEach((a, i) => {
        a.items.forEach((c, j) => {
          if (c !== "*" && !knownBasic.has(c)) issues.push({ file, row: i + 1, field: `items[${j}]`, reason: `${c} is in no catalog or implementation list (dangling reference)` });
        });
      });
    }
    if (issues.length > 0 || catalog === undefined) throwTableIssues(issues);
    const refs = new Map<string, TableRef>();
    for (const { table } of tables) refs.set(`${table.kind}\u0000${table.publisher}`, tableRef(table));
    return new MappingRegistry(catalog, lists, agreementTables, refs);
  }

  /** The catalog entry for a 基本编码. */
  catalogItem(basicCode: string): CatalogItem | undefined {
    return this.#catalogByCode.get(basicCode);
  }

  /** The region and item for a 实施编码, in any loaded list. */
  byImplementationCode(code: string): RegionalItem | undefined {
    return this.#byImplementationCode.get(code);
  }

  /** A region's implementation of a 基本编码. */
  itemIn(region: string, basicCode: string): ImplementationItem | undefined {
    return this.#byRegionBasic.get(region)?.get(basicCode);
  }

  /** Items whose names are nearest to `name`, optionally in one region only. */
  nearestByName(name: string, region?: string, limit = 5): { region: string; implementationCode: string; basicCode: string; name: string; score: number }[] {
    return this.#names
      .nearest(name, { limit, ...(region === undefined ? {} : { filter: (v: RegionalItem) => v.region === region }) })
      .map((c) => ({ region: c.value.region, implementationCode: c.value.item.implementationCode, basicCode: c.value.item.basicCode, name: c.name, score: c.score }));
  }

  /** The reference of the table a region's list, the catalog or an agreement table came from. */
  refOf(kind: MappingTable["kind"], publisher: string): TableRef | undefined {
    return this.#refsByKey.get(kind)?.get(publisher);
  }
}
