import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCase, restartsNode, type ConformanceCase } from "./case-schema.js";
import type { RunReport } from "./report.js";
import { runCase, type CaseResult, type RunContext } from "./runner.js";

/** The cases shipped with the CLI (packages/cli/conformance), found from this module in src/ or dist/. */
export function defaultCasesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const c = join(dir, "conformance");
    if (existsSync(join(c, "envelope"))) return c;
    dir = dirname(dir);
  }
  throw new TypeError("the conformance cases were not found (packages/cli/conformance)");
}

/** Every case under `dir` (`<area>/<name>.yaml`), parsed and checked, in id order. */
export function loadCases(dir: string): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const area of readdirSync(dir, { withFileTypes: true })) {
    if (!area.isDirectory()) continue;
    for (const f of readdirSync(join(dir, area.name))) {
      if (!f.endsWith(".yaml")) continue;
      const id = relative(dir, join(dir, area.name, f)).replace(/\\/g, "/").replace(/\.yaml$/, "");
      out.push(parseCase(id, readFileSync(join(dir, area.name, f), "utf8")));
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** `*` matches within a path segment, `**` across; `envelope/*`, `*\/replay-*`. */
export function globMatch(pattern: string, id: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*\*/g, "\u0000").replace(/\*/g, "[^/]*").replace(/\u0000/g, ".*").replace(/\?/g, ".")}$`);
  return re.test(id);
}

/** Options of {@link runSuite}. */
export interface SuiteOptions {
  readonly run?: readonly string[];
  readonly skip?: readonly string[];
  readonly knownFailing?: readonly string[];
  readonly parallel?: number;
  /** Called after each case (progress). */
  readonly onResult?: (r: CaseResult, done: number, total: number) => void;
}

/**
 * Runs the selected cases against the target, `parallel` at a time; cases
 * that restart the node run after the others, one at a time (a restart would
 * disturb whatever else was in flight).
 */
export async function runSuite(cases: readonly ConformanceCase[], ctx: RunContext, options: SuiteOptions = {}): Promise<RunReport> {
  const selected = cases.filter((c) => (options.run === undefined || options.run.length === 0 || options.run.some((g) => globMatch(g, c.id))) && !(options.skip ?? []).some((g) => globMatch(g, c.id)));
  const started = Date.now();
  const results: CaseResult[] = new Array(selected.length);
  let next = 0;
  let done = 0;
  const alone = new Set(selected.filter(restartsNode));
  const order = [...selected.keys()].sort((a, b) => Number(alone.has(selected[a]!)) - Number(alone.has(selected[b]!)));
  const firstAlone = order.findIndex((i) => alone.has(selected[i]!));
  const worker = async (until: number) => {
    for (let k = next++; k < until; k = next++) {
      const i = order[k]!;
      results[i] = await runCase(selected[i]!, ctx);
      options.onResult?.(results[i]!, ++done, selected.length);
    }
    next = Math.min(next, until);
  };
  const split = firstAlone === -1 ? order.length : firstAlone;
  await Promise.all(Array.from({ length: Math.max(1, options.parallel ?? 1) }, () => worker(split)));
  await worker(order.length);
  return { target: `${ctx.target.nodeId} @ ${ctx.target.federation}`, startedAt: new Date(started).toISOString(), ms: Date.now() - started, results, knownFailing: options.knownFailing ?? [] };
}
