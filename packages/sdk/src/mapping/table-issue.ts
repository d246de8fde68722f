import { TongbanError } from "../errors/index.js";

/** One problem found in a table: where it is and what is wrong. */
export interface TableIssue {
  readonly file: string;
  /** 1-based row: the item's position in JSON, the line in CSV; 0 for the table itself. */
  readonly row: number;
  /** The field, e.g. "basicCode" or "materials[2].nationalCode". */
  readonly field: string;
  readonly reason: string;
}

/** Throws MAPPING_TABLE_INVALID listing every issue (nothing is loaded). */
export function throwTableIssues(issues: readonly TableIssue[]): never {
  const first = issues[0];
  const where = first === undefined ? "" : `${first.file}, row ${first.row}, field ${first.field}: ${first.reason}`;
  throw new TongbanError("MAPPING_TABLE_INVALID", `${issues.length} problem(s) in mapping tables; first: ${where}`, {
    details: { issues: issues.slice(0, 200), total: issues.length },
  });
}

/** Formats an issue as one line for people. */
export function formatTableIssue(i: TableIssue): string {
  return `${i.file}:${i.row} ${i.field}: ${i.reason}`;
}
