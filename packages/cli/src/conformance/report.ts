import type { CaseResult } from "./runner.js";

/** What a run produced, for every report format. */
export interface RunReport {
  readonly target: string;
  readonly startedAt: string;
  readonly ms: number;
  readonly results: readonly CaseResult[];
  readonly knownFailing: readonly string[];
}

export function summary(r: RunReport): { passed: number; failed: number; skipped: number; knownFailing: number; byArea: Record<string, { passed: number; failed: number; skipped: number }> } {
  const byArea: Record<string, { passed: number; failed: number; skipped: number }> = {};
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let known = 0;
  for (const c of r.results) {
    const area = c.id.split("/")[0] ?? "";
    const a = (byArea[area] ??= { passed: 0, failed: 0, skipped: 0 });
    a[c.status]++;
    if (c.status === "passed") passed++;
    else if (c.status === "skipped") skipped++;
    else if (r.knownFailing.includes(c.id)) known++;
    else failed++;
  }
  return { passed, failed, skipped, knownFailing: known, byArea };
}

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** JUnit XML: one testsuite per area, one testcase per case, the exchange in system-out. */
export function junit(r: RunReport): string {
  const areas = new Map<string, CaseResult[]>();
  for (const c of r.results) areas.set(c.id.split("/")[0] ?? "", [...(areas.get(c.id.split("/")[0] ?? "") ?? []), c]);
  const suites = [...areas.entries()].map(([area, cases]) => {
    const failures = cases.filter((c) => c.status === "failed").length;
    const skipped = cases.filter((c) => c.status === "skipped").length;
    const body = cases
      .map((c) => {
        const inner =
          c.status === "failed"
            ? `<failure message="${xml(c.reason ?? "")}">${xml(c.exchange.join("\n"))}</failure>`
            : c.status === "skipped"
              ? `<skipped message="${xml(c.reason ?? "")}"/>`
              : `<system-out>${xml(c.exchange.join("\n"))}</system-out>`;
        return `    <testcase classname="conformance.${xml(area)}" name="${xml(c.id)}" time="${(c.ms / 1000).toFixed(3)}">${inner}</testcase>`;
      })
      .join("\n");
    return `  <testsuite name="${xml(area)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${(cases.reduce((a, c) => a + c.ms, 0) / 1000).toFixed(3)}">\n${body}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="tongban conformance" tests="${r.results.length}">\n${suites.join("\n")}\n</testsuites>\n`;
}

/** One self-contained HTML file: per-area pass/fail, each failure with the exchange that failed. */
export function html(r: RunReport): string {
  const s = summary(r);
  const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const areaRows = Object.entries(s.byArea)
    .map(([a, v]) => `<tr><td>${esc(a)}</td><td class="ok">${v.passed}</td><td class="${v.failed > 0 ? "bad" : ""}">${v.failed}</td><td>${v.skipped}</td></tr>`)
    .join("");
  const caseRows = r.results
    .map((c) => `<tr class="${c.status}"><td><code>${esc(c.id)}</code></td><td>${esc(c.title)}</td><td>${c.status}${r.knownFailing.includes(c.id) && c.status === "failed" ? " (known)" : ""}</td><td>${c.ms} ms</td><td>${c.reason === undefined ? "" : esc(c.reason)}${c.status === "failed" ? `<pre>${esc(c.exchange.join("\n"))}</pre>` : ""}</td></tr>`)
    .join("\n");
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Tongban conformance — ${esc(r.target)}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}.ok{color:#176f2c}.bad,.failed td:nth-child(3){color:#b00020;font-weight:bold}.skipped{color:#777}pre{margin:4px 0;font-size:12px;white-space:pre-wrap}</style></head>
<body><h1>Tongban conformance 一致性测试</h1>
<p>Node under test: <code>${esc(r.target)}</code> — ${esc(r.startedAt)}, ${(r.ms / 1000).toFixed(1)} s. <strong>${s.passed} passed, ${s.failed} failed${s.knownFailing > 0 ? ` (+${s.knownFailing} known)` : ""}, ${s.skipped} skipped</strong> of ${r.results.length}.</p>
<h2>By area</h2><table><tr><th>area</th><th>passed</th><th>failed</th><th>skipped</th></tr>${areaRows}</table>
<h2>Cases</h2><table><tr><th>case</th><th>what</th><th>result</th><th>time</th><th>reason / exchange</th></tr>
${caseRows}
</table></body></html>
`;
}
