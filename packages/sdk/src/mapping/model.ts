/**
 * The mapping-table model (docs/mapping.md). Three kinds of table, each
 * published, versioned and signed by its publisher:
 *
 * - the national catalog (基本编码 → name, type, standard materials, legal limit);
 * - a region's implementation list (实施编码 → 基本编码 + local facts);
 * - partner agreements (合作框架协议: who handles what for whom, when).
 */

/** The handling modes an item may support (国办发〔2020〕35号). */
export type HandlingModeName = "full_online" | "remote_receipt" | "joint";

/** All mode names, in a fixed order. */
export const HANDLING_MODES: readonly HandlingModeName[] = ["full_online", "remote_receipt", "joint"];

/** The kinds of mapping table. */
export type TableKind = "catalog" | "implementation" | "agreements";

/** What every table carries besides its content. */
export interface TableMeta {
  readonly kind: TableKind;
  /** "national" for the catalog; a GB/T 2260 region code for implementation lists; any id for agreements. */
  readonly publisher: string;
  /** Positive integer; every content change needs a higher one. */
  readonly version: number;
  /** ISO date from which this version applies. */
  readonly issued: string;
  /** Free text: whether codes are illustrative, sources, contact. */
  readonly note?: string;
}

/** A standard material in the national catalog. */
export interface CatalogMaterial {
  readonly code: string;
  readonly name: string;
}

/** One 基本编码 of the national catalog. */
export interface CatalogItem {
  readonly basicCode: string;
  readonly name: string;
  /** 事项类型, e.g. "行政许可", "公共服务", "行政给付". */
  readonly type: string;
  readonly materials: readonly CatalogMaterial[];
  /** 法定时限 in working days. */
  readonly legalWorkingDays: number;
}

/** The national basic catalog. */
export interface NationalCatalog extends TableMeta {
  readonly kind: "catalog";
  readonly items: readonly CatalogItem[];
}

/** A material as a region asks for it, mapped to the national material. */
export interface LocalMaterial {
  readonly localName: string;
  /** The national material code it corresponds to. */
  readonly nationalCode: string;
  readonly required: boolean;
}

/** A transform between a local field value and the canonical value. */
export type FieldTransform =
  /** Date formats with tokens YYYY, MM, DD (e.g. "YYYYMMDD" ↔ canonical "YYYY-MM-DD"). */
  | { readonly kind: "date"; readonly format: string }
  /** A code list: local value → canonical value (must be one-to-one). */
  | { readonly kind: "code"; readonly map: Readonly<Record<string, string>> }
  /** One local field holds several canonical fields joined by a separator (e.g. a full name or address). */
  | { readonly kind: "join"; readonly separator: string; readonly canonical: readonly string[] };

/** A local form field mapped to a canonical field. */
export interface FieldMapping {
  readonly local: string;
  /** The canonical field name (for "join": ignored, see transform.canonical). */
  readonly canonical: string;
  readonly transform?: FieldTransform;
}

/** One 实施编码 of a region. */
export interface ImplementationItem {
  readonly implementationCode: string;
  readonly basicCode: string;
  readonly name: string;
  /** 统一社会信用代码 of the implementing agency. */
  readonly agency: string;
  readonly promisedWorkingDays: number;
  /** Fee in CNY fen (0 = free). */
  readonly feeFen: number;
  readonly modes: readonly HandlingModeName[];
  /** Whether this region's windows receive this item for other regions (代收). */
  readonly receivesForOthers: boolean;
  readonly materials: readonly LocalMaterial[];
  readonly fields: readonly FieldMapping[];
}

/** A region's implementation list. */
export interface ImplementationList extends TableMeta {
  readonly kind: "implementation";
  readonly items: readonly ImplementationItem[];
}

/** One partner agreement (合作框架协议). */
export interface Agreement {
  readonly id: string;
  /** Regions that take part; each may receive for any other in the list. */
  readonly regions: readonly string[];
  /** 基本编码 covered, or ["*"] for every item both sides offer. */
  readonly items: readonly string[];
  readonly modes: readonly HandlingModeName[];
  /** ISO dates, inclusive. */
  readonly validFrom: string;
  readonly validTo: string;
}

/** A table of partner agreements. */
export interface AgreementTable extends TableMeta {
  readonly kind: "agreements";
  readonly agreements: readonly Agreement[];
}

/** Any mapping table. */
export type MappingTable = NationalCatalog | ImplementationList | AgreementTable;

/** Records which table version a resolution used. */
export interface TableRef {
  readonly kind: TableKind;
  readonly publisher: string;
  readonly version: number;
  /** SHA-256 hex of the table's canonical JSON. */
  readonly digest: string;
}
