import { regionName } from "./region.js";
import { finish, issue, partsOrThrow, requireString, show } from "./result.js";
import type { IdIssue, IdValidation } from "./types.js";

/** The parts of a valid node id. */
export interface NodeIdParts {
  /** The GB/T 2260 code of the region the node serves. */
  readonly region: string;
  /** One or two labels after the region, in order. */
  readonly labels: readonly string[];
}

/** The longest node id allowed, in characters. */
export const NODE_ID_MAX_LENGTH = 64;

/**
 * The node id grammar as one regular expression (ABNF below). Validators in
 * other languages can copy it; `validateNodeId` also checks the region table
 * and the length limit, which a regular expression cannot.
 */
export const NODE_ID_PATTERN = /^cn\.[0-9]{6}\.[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?:\.[a-z][a-z0-9]*(?:-[a-z0-9]+)*)?$/;

const LABEL = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/**
 * Validates a Tongban node id.
 *
 * Grammar (ABNF, RFC 5234; every character is US-ASCII):
 * ```
 * node-id = "cn." region "." label [ "." label ]
 * region  = 6DIGIT                  ; a GB/T 2260 code in the vendored table
 * label   = lower *( lower / DIGIT ) *( "-" 1*( lower / DIGIT ) )
 * lower   = %x61-7A                 ; a-z only
 * ```
 * and at most {@link NODE_ID_MAX_LENGTH} characters in total. Upper case is
 * never accepted (rather than folded), so each node has exactly one spelling
 * and ids compare byte for byte. The region is the node's home region
 * (e.g. the county it serves); the labels name the node within it.
 *
 * Rules: `length`, `prefix`, `case`, `charset`, `region-unknown`, `label-empty`,
 * `label-start`, `label-hyphen`, `label-count`.
 *
 * @example
 * ```ts
 * validateNodeId("cn.310118.qingpu");        // ok, parts { region: "310118", labels: ["qingpu"] }
 * validateNodeId("cn.320509.wujiang.gov-2"); // ok, two labels
 * validateNodeId("cn.310118.QingPu");        // rule "case" at position 11
 * ```
 */
export function validateNodeId(value: string): IdValidation<NodeIdParts, "node-id"> {
  requireString(value, "validateNodeId");
  const issues: IdIssue[] = [];
  const chars = Array.from(value);
  if (chars.length === 0) {
    return finish("node-id", value, [issue("length", "a node id cannot be empty")], () => ({ region: "", labels: [] }));
  }
  if (chars.length > NODE_ID_MAX_LENGTH) {
    issues.push(issue("length", `a node id has at most ${NODE_ID_MAX_LENGTH} characters, got ${chars.length}`, NODE_ID_MAX_LENGTH + 1));
  }
  // Segments with their 1-based start positions, so issues point into the value.
  const segments: { text: string; start: number }[] = [];
  let start = 1;
  for (const text of value.split(".")) {
    segments.push({ text, start });
    start += Array.from(text).length + 1;
  }
  const [scheme, region, ...labels] = segments;
  if (scheme?.text !== "cn") {
    const lowered = scheme?.text.toLowerCase() === "cn";
    issues.push(
      lowered
        ? issue("case", `a node id starts with 'cn.' in lower case, got '${scheme?.text ?? ""}.'`, 1)
        : issue("prefix", `a node id starts with 'cn.', got '${chars.slice(0, 3).join("")}'`, 1),
    );
  }
  if (region === undefined) {
    issues.push(issue("length", "a node id needs a region code and a label after 'cn.'"));
  } else {
    const rchars = Array.from(region.text);
    if (rchars.length !== 6) {
      issues.push(issue("region-length", `the region code at position ${region.start} has 6 digits, got ${rchars.length} characters`, region.start));
    }
    rchars.forEach((ch, i) => {
      if (ch < "0" || ch > "9") issues.push(issue("charset", `character ${region.start + i} is ${show(ch)}, expected a digit of the region code`, region.start + i));
    });
    if (rchars.length === 6 && /^[0-9]{6}$/.test(region.text) && regionName(region.text) === undefined) {
      issues.push(issue("region-unknown", `${region.text} (characters ${region.start}-${region.start + 5}) is not a GB/T 2260 code in the vendored table`, region.start));
    }
  }
  if (region !== undefined && labels.length === 0) {
    issues.push(issue("label-count", "a node id needs at least one label after the region code"));
  }
  if (labels.length > 2) {
    const extra = labels[2];
    issues.push(issue("label-count", `a node id has at most two labels after the region code, got ${labels.length}`, extra === undefined ? undefined : extra.start - 1));
  }
  for (const label of labels) issues.push(...labelIssues(label.text, label.start));
  return finish("node-id", value, issues, () => ({ region: region?.text ?? "", labels: labels.map((l) => l.text) }));
}

function labelIssues(text: string, start: number): IdIssue[] {
  const out: IdIssue[] = [];
  const chars = Array.from(text);
  if (chars.length === 0) return [issue("label-empty", `empty label at position ${start}: two dots in a row or a dot at the end`, start)];
  if (LABEL.test(text)) return out;
  chars.forEach((ch, i) => {
    const pos = start + i;
    if (ch >= "A" && ch <= "Z") out.push(issue("case", `character ${pos} is '${ch}': node ids are lower case only ('${ch.toLowerCase()}')`, pos));
    else if (!/[a-z0-9-]/.test(ch)) out.push(issue("charset", `character ${pos} is ${show(ch)}; labels use a-z, 0-9 and '-'`, pos));
  });
  const first = chars[0] ?? "";
  if (!/[a-zA-Z]/.test(first)) out.push(issue("label-start", `character ${start} is ${show(first)}; a label starts with a letter a-z`, start));
  chars.forEach((ch, i) => {
    if (ch !== "-") return;
    const pos = start + i;
    if (i === chars.length - 1) out.push(issue("label-hyphen", `character ${pos} is '-' at the end of a label`, pos));
    else if (chars[i + 1] === "-") out.push(issue("label-hyphen", `characters ${pos}-${pos + 1} are '--'; hyphens separate letters and digits one at a time`, pos));
  });
  return out;
}

/** Returns the parts of a valid node id or throws IDENTIFIER_INVALID. */
export function assertNodeId(value: string): NodeIdParts {
  return partsOrThrow(validateNodeId(value), "node id");
}
