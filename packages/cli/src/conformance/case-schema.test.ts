import { describe, expect, it } from "vitest";
import { TongbanError } from "@tongban/sdk";
import { parseCase, restartsNode } from "./case-schema.js";
import { globMatch } from "./suite.js";

const refusal = (id: string, text: string) => {
  try {
    parseCase(id, text);
  } catch (err) {
    expect(err).toBeInstanceOf(TongbanError);
    return (err as TongbanError & { details: { path: string } }).details.path;
  }
  throw new Error("parseCase accepted a broken case");
};

describe("conformance case files", () => {
  it("a crash case parses and is marked to run alone", () => {
    const c = parseCase("reliability/x", "title: t\nrequires: [restart]\nsteps:\n- node: { restart: kill }\n");
    expect(restartsNode(c)).toBe(true);
    expect(restartsNode(parseCase("replay/x", "title: t\nsteps:\n- deliver: { body: status-update }\n  expect: { receipt: true }\n"))).toBe(false);
  });

  it("names the path of each mistake", () => {
    expect(refusal("reliability/x", "title: t\nsteps:\n- node: { restart: kill }\n")).toBe("requires");
    expect(refusal("reliability/x", "title: t\nrequires: [restart]\nsteps:\n- node: { restart: reboot }\n")).toBe("steps[0].node.restart");
    expect(refusal("nowhere/x", "title: t\nsteps:\n- node: { restart: kill }\n")).toBe("$");
    expect(refusal("replay/x", "title: t\nsteps:\n- deliver: { body: nonsense }\n  expect: { receipt: true }\n")).toBe("steps[0].deliver.body");
    expect(refusal("replay/x", "title: t\nsteps:\n- deliver: { body: status-update }\n")).toBe("steps[0].expect");
    expect(refusal("replay/x", "title: t\nsteps:\n- deliver: { body: status-update }\n  partner: { failNext: 1 }\n  expect: {}\n")).toBe("steps[0]");
  });

  it("globs match within and across segments", () => {
    expect(globMatch("envelope/*", "envelope/tampered-body")).toBe(true);
    expect(globMatch("*/tampered-*", "envelope/tampered-body")).toBe(true);
    expect(globMatch("envelope/*", "replay/x")).toBe(false);
    expect(globMatch("**", "a/b")).toBe(true);
  });
});
