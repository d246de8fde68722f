import { TongbanError } from "../errors/index.js";
import { canonicalJson } from "./canonical-json.js";
import { diffTables, type TableDiff } from "./diff.js";
import type { MappingTable } from "./model.js";

/** Options for {@link checkNewVersion}. */
export interface VersionCheckOptions {
  /**
   * Codes still referenced elsewhere — by agreements, by other regions'
   * tables, or by open cases — which a new version must not remove.
   */
  readonly referenced?: ReadonlySet<string>;
}

/**
 * Applies the OOTS-style code-list rules to a proposed new version of a
 * table and returns the diff when it is acceptable:
 *
 * 1. same kind and publisher;
 * 2. a version number lower than the current one is refused;
 * 3. the same version number with different content is refused (content
 *    never changes without a version bump); the same version with identical
 *    content is a no-op;
 * 4. a higher version must change something;
 * 5. a code still referenced may not be removed.
 *
 * Violations throw MAPPING_VERSION_RULE with the rule and the codes concerned.
 */
export function checkNewVersion(current: MappingTable, proposed: MappingTable, options: VersionCheckOptions = {}): TableDiff {
  const refuse = (rule: string, message: string, details: Record<string, unknown> = {}): never => {
    throw new TongbanError("MAPPING_VERSION_RULE", message, { details: { rule, publisher: current.publisher, kind: current.kind, ...details } });
  };
  if (current.kind !== proposed.kind || current.publisher !== proposed.publisher) {
    refuse("same-table", `a new version must be the same table (${current.kind}/${current.publisher}), not ${proposed.kind}/${proposed.publisher}`);
  }
  const diff = diffTables(current, proposed);
  if (proposed.version < current.version) refuse("no-downgrade", `version ${proposed.version} is older than the current ${current.version}`);
  if (proposed.version === current.version) {
    if (canonicalJson(current) !== canonicalJson(proposed)) refuse("bump-on-change", `version ${proposed.version} already exists with different content; publish it as version ${current.version + 1}`, { added: diff.added, removed: diff.removed, changed: diff.changed.map((c) => c.key) });
    return diff;
  }
  if (diff.sameContent && diff.meta.length === 0) refuse("no-empty-version", `version ${proposed.version} changes nothing`);
  const stillUsed = diff.removed.filter((c) => options.referenced?.has(c) === true);
  if (stillUsed.length > 0) refuse("no-removal-in-use", `cannot remove ${stillUsed.join(", ")}: still referenced`, { codes: stillUsed });
  return diff;
}
