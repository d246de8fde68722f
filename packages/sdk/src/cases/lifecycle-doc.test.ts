import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HandlingMode } from "../gen/tongban/v1/common_pb.js";
import { toMarkdownTable, toMermaid, type Lifecycle } from "./to-mermaid.js";

// docs/lifecycle.md embeds the generated diagrams and tables verbatim, so the
// documentation cannot drift from the transition tables the node enforces.
const doc = readFileSync(new URL("../../../../docs/lifecycle.md", import.meta.url), "utf8");

const lifecycles: [string, Lifecycle][] = [
  ["remote receipt", HandlingMode.REMOTE_RECEIPT],
  ["full online", HandlingMode.FULL_ONLINE],
  ["joint sub-task", "joint-task"],
];

describe("docs/lifecycle.md", () => {
  it.each(lifecycles)("contains the generated %s diagram and table", (_, lifecycle) => {
    expect(doc).toContain("```mermaid\n" + toMermaid(lifecycle) + "```");
    expect(doc).toContain(toMarkdownTable(lifecycle));
  });

  it("renders only the two case modes and the joint sub-task", () => {
    expect(() => toMermaid(HandlingMode.JOINT as never)).toThrow(TypeError);
    expect(() => toMarkdownTable(HandlingMode.UNSPECIFIED as never)).toThrow(TypeError);
  });

  it("draws each terminal state with an exit and notes evaluation instead of drawing it", () => {
    const remote = toMermaid(HandlingMode.REMOTE_RECEIPT);
    for (const s of ["REFUSED", "WITHDRAWN", "ARCHIVED"]) expect(remote).toContain(`${s} --> [*]`);
    expect(remote).not.toMatch(/--> \w+ : evaluate/);
    expect(remote).toContain("note right of RESULT_DELIVERED");
  });
});
