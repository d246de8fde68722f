import { TongbanError } from "@tongban/sdk";

/** One problem found in a config file: where (a dotted path like `federation.listen`) and why. */
export interface ConfigIssue {
  readonly path: string;
  readonly reason: string;
}

/**
 * The CONFIG_INVALID error for a list of issues. Details carry the first
 * issue's `path` and `reason` (what most people fix first) and every issue
 * in `issues`, so one run reports all mistakes at once.
 */
export function configInvalid(file: string | undefined, issues: readonly ConfigIssue[]): TongbanError {
  const first = issues[0] ?? { path: "", reason: "invalid" };
  const where = file === undefined ? "node config" : file;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  const at = first.path === "" ? "" : ` at ${first.path}`;
  return new TongbanError("CONFIG_INVALID", `${where}${at}: ${first.reason}${more}`, {
    details: { file: file ?? null, path: first.path, reason: first.reason, issues: issues.map((i) => ({ path: i.path, reason: i.reason })) },
  });
}
