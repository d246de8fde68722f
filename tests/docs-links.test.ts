import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Every relative link in the README and docs/ points at a file that exists,
// and every #anchor at a heading of that file.
const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const files = [join(repo, "README.md"), ...walk(join(repo, "docs"))];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".md") ? [p] : [];
  });
}

/** GitHub's heading anchors: lower case, punctuation dropped (CJK kept), spaces to hyphens. */
function anchorsOf(file: string): Set<string> {
  const out = new Set<string>();
  let inFence = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.startsWith("```")) inFence = !inFence;
    const m = inFence ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (m === null) continue;
    const slug = m[1]!.trim().toLowerCase().replace(/[`*_~]/g, "").replace(/[^\p{L}\p{N}\s-]/gu, "").replace(/\s/g, "-");
    out.add(slug);
  }
  return out;
}

describe("documentation links", () => {
  it("resolve to files and headings that exist", () => {
    const broken: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target)) continue; // http:, mailto:, …
        const [path, anchor] = target.split("#") as [string, string | undefined];
        const dest = path === "" ? file : resolve(dirname(file), path);
        if (!existsSync(dest)) {
          broken.push(`${relative(repo, file)} → ${target} (no such file)`);
          continue;
        }
        if (anchor !== undefined && anchor !== "" && dest.endsWith(".md") && !anchorsOf(dest).has(anchor)) broken.push(`${relative(repo, file)} → ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});
