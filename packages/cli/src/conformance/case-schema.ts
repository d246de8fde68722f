import { parse as parseYaml } from "yaml";
import { TongbanError } from "@tongban/sdk";

/** What the runner's partner sends and how it is spoiled (docs/conformance/schema.md). */
export const MUTATIONS = [
  "none",
  "tamper-header",
  "tamper-body",
  "tamper-signature",
  "tamper-protected-header",
  "drop-signature",
  "truncate-header",
  "wrong-recipient",
  "stale",
  "future",
  "sign-as-other-partner",
  "unknown-signer",
  "swap-header-body",
  "empty-envelope",
] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** Bodies the runner can build (`body:` in a deliver step). */
export const BODIES = ["status-update", "submission", "submission-online", "submission-unknown-item", "submission-joint-mode", "joint-assignment", "joint-assignment-other-site", "joint-assignment-not-agreed", "checkpoint-request", "checkpoint-request-fork", "result-bad-seal", "acceptance", "refusal", "decision", "withdrawal", "correction-request", "result"] as const;
export type BodyKind = (typeof BODIES)[number];

/** One step of a case. */
export type Step =
  | {
      readonly deliver: {
        readonly as?: "a" | "b" | "stranger";
        /** TLS identity used for the call: the sender's (default), the other partner's, none, or a certificate from another CA. */
        readonly tls?: "self" | "other-partner" | "none" | "other-ca";
        readonly body: BodyKind;
        /** `new` opens a fresh case (saved as `$case`), `$case` uses the saved one, omitted: no case. */
        readonly case?: "new" | "$case";
        readonly sequence?: number;
        readonly mutate?: Mutation;
        /** Send the exact bytes of step N again (0-based), or the same message id with other content. */
        readonly repeat?: number;
        readonly reuseIdOf?: number;
        readonly times?: number;
      };
      readonly expect: { readonly receipt?: boolean; readonly sameReceiptAs?: number; readonly code?: string; readonly codes?: readonly string[] };
    }
  | { readonly partner: { readonly failNext: number }; readonly expect?: Record<string, never> }
  | { readonly platform: { readonly call: "get-case" | "get-joint" | "events" | "resolve" | "submit" | "node-info" | "mapping-table" | "pull-events" | "pull-acknowledge"; readonly task?: string; readonly waitMs?: number; readonly cursor?: string; readonly outcome?: "refusal" | "none"; readonly publisher?: string; readonly kind?: string; readonly version?: string; readonly event?: string; readonly token?: "valid" | "none" | "wrong"; readonly item?: string; readonly handlingRegion?: string; readonly mode?: string; readonly spoil?: "materials" | "identity" | "form" | "item" }; readonly expect: { readonly code?: string; readonly state?: string; readonly resolved?: boolean; readonly gap?: string; readonly ok?: boolean; readonly alert?: boolean } }
  | { readonly receive: { readonly type: string; readonly withinMs?: number; readonly minWaitMs?: number; readonly materialsFirst?: boolean }; readonly expect?: { readonly count?: number } }
  /** The node itself: `kill` crashes it (SIGKILL, no shutdown code runs) and starts it again, `graceful` stops it cleanly first. Needs the `restart` feature (`--node-command`). */
  | { readonly node: { readonly restart: "kill" | "graceful" }; readonly expect?: Record<string, never> };

/** A case with a `node` step needs the node under test as a process the runner owns. */
export const RESTART_FEATURE = "restart";
/** True when the case restarts the node (it runs alone, after the others). */
export const restartsNode = (c: ConformanceCase): boolean => c.steps.some((s) => "node" in s);

/** A conformance case as data. */
export interface ConformanceCase {
  /** `area/name`, from the file's path. */
  readonly id: string;
  readonly title: string;
  /** Features the node under test must have; unmet ones skip the case with the reason. */
  readonly requires?: readonly string[];
  readonly steps: readonly Step[];
}

const AREAS = ["envelope", "trust", "replay", "transport", "platform", "remote-receipt", "full-online", "mapping-gaps", "reliability", "joint", "seals", "evidence"];

/**
 * Parses and checks one case file; a mistake is an error
 * (CONFIG_INVALID) with the file and the path in it, so a new case fails loudly, not silently.
 */
export function parseCase(id: string, text: string): ConformanceCase {
  const bad = (path: string, reason: string): never => {
    throw new TongbanError("CONFIG_INVALID", `conformance case ${id} at ${path}: ${reason}`, { details: { file: id, path, reason } });
  };
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return bad("$", `not YAML: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== "object") return bad("$", "must be a mapping");
  const c = doc as Record<string, unknown>;
  const area = id.split("/")[0] ?? "";
  if (!AREAS.includes(area)) bad("$", `unknown area ${area} (one of ${AREAS.join(", ")})`);
  if (typeof c["title"] !== "string" || c["title"] === "") bad("title", "a title is required");
  if (!Array.isArray(c["steps"]) || c["steps"].length === 0) bad("steps", "at least one step");
  (c["steps"] as unknown[]).forEach((s, i) => {
    if (s === null || typeof s !== "object") return bad(`steps[${i}]`, "must be a mapping");
    const step = s as Record<string, unknown>;
    const kinds = ["deliver", "platform", "receive", "partner", "node"].filter((k) => k in step);
    if (kinds.length !== 1) bad(`steps[${i}]`, "exactly one of deliver, platform, receive, partner, node");
    if ("node" in step) {
      const n = step["node"] as Record<string, unknown> | null;
      if (n === null || typeof n !== "object" || !["kill", "graceful"].includes(n["restart"] as string)) bad(`steps[${i}].node.restart`, "kill or graceful");
      if (!Array.isArray(c["requires"]) || !(c["requires"] as unknown[]).includes(RESTART_FEATURE)) bad("requires", `a case with a node step requires [${RESTART_FEATURE}]`);
    }
    if ("deliver" in step) {
      const d = step["deliver"] as Record<string, unknown>;
      if (!BODIES.includes(d["body"] as BodyKind)) bad(`steps[${i}].deliver.body`, `one of ${BODIES.join(", ")}`);
      if (d["mutate"] !== undefined && !MUTATIONS.includes(d["mutate"] as Mutation)) bad(`steps[${i}].deliver.mutate`, `one of ${MUTATIONS.join(", ")}`);
      if (step["expect"] === undefined) bad(`steps[${i}].expect`, "a deliver step says what it expects");
    }
  });
  if (c["requires"] !== undefined && !Array.isArray(c["requires"])) bad("requires", "a list of feature names");
  return { id, title: c["title"] as string, ...(c["requires"] === undefined ? {} : { requires: c["requires"] as string[] }), steps: c["steps"] as Step[] };
}
