// Public surface of mapping/: an explicit list of named exports.
export { HANDLING_MODES } from "./model.js";
export type {
  Agreement,
  AgreementTable,
  CatalogItem,
  CatalogMaterial,
  FieldMapping,
  FieldTransform,
  HandlingModeName,
  ImplementationItem,
  ImplementationList,
  LocalMaterial,
  MappingTable,
  NationalCatalog,
  TableKind,
  TableMeta,
  TableRef,
} from "./model.js";
export { canonicalBytes, canonicalJson } from "./canonical-json.js";
export { parseTable } from "./parse-table.js";
export { formatTableIssue, type TableIssue } from "./table-issue.js";
export { MappingRegistry, tableDigest, tableRef, type LoadedTable, type RegionalItem } from "./registry.js";
export { resolveItem, type Gap, type GapCode, type Resolution, type Resolved, type ResolvedMaterial, type ResolveQuery } from "./resolve.js";
export { dateFromCanonical, dateToCanonical, fromCanonical, toCanonical, translateForm, type Form, type TranslatedForm } from "./transforms.js";
export { NameIndex, bigrams, nameSimilarity, type NameCandidate } from "./similarity.js";
export { diffTables, type ChangedEntry, type TableDiff } from "./diff.js";
export { checkNewVersion, type VersionCheckOptions } from "./version-rules.js";
export { MAPPING_TABLE_JWS_TYPE, signTable, verifyTable, type TableKeyResolver, type TableSigner, type VerifiedTable } from "./signing.js";
export { IMPLEMENTATION_CSV_COLUMNS, exportImplementationCsv, importImplementationCsv, type CsvTableMeta } from "./csv.js";
export { loadTablesFromDirectory, readTableFile } from "./load-files.js";
