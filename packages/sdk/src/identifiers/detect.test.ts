import { describe, expect, it } from "vitest";
import { IDENTIFIER_KINDS, detectIdentifier, isIdentifierKind, validateIdentifier } from "./detect.js";

describe("detectIdentifier", () => {
  it.each([
    ["310118", "region"],
    ["cn.330421.jiashan", "node-id"],
    ["91350100M000100Y43", "uscc"],
    ["11100000000013338W", "uscc"],
    ["11010519491231002X", "citizen-id"],
    ["000117001000", "basic-code"],
    ["11370800MB285591843370117002011", "implementation-code"],
    ["11370800MB28559184337011700201101", "handling-item-code"],
    ["11370800MB285591843370117002011202503010001", "case-number"],
    ["1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U", "license-id"],
    ["0192f5a4-7c1e-7a3b-9f2d-5e8c1b2a3d4f", "message-id"],
  ])("recognises %s as %s", (value, kind) => {
    const v = detectIdentifier(value);
    expect(v).toMatchObject({ ok: true, kind });
  });

  it("picks the closer kind for an invalid 18-character value", () => {
    expect(detectIdentifier("110105194912310025")).toMatchObject({ ok: false, kind: "citizen-id", issues: [{ rule: "check-character" }] });
    expect(detectIdentifier("91350100M000100Y44")).toMatchObject({ ok: false, kind: "uscc", issues: [{ rule: "check-character" }] });
    expect(detectIdentifier("CN.310118.qingpu")).toMatchObject({ ok: false, kind: "node-id", issues: [{ rule: "case", position: 1 }] });
  });

  it("takes a value one character off a known length for that kind", () => {
    expect(detectIdentifier("9135010OM000100Y4")).toMatchObject({ ok: false, kind: "uscc", issues: [{ rule: "length" }] });
    expect(detectIdentifier("11010519491231002")).toMatchObject({ ok: false, kind: "citizen-id", issues: [{ rule: "length" }] });
    expect(detectIdentifier("3101180")).toMatchObject({ ok: false, kind: "region", issues: [{ rule: "length" }] });
  });

  it("answers kind unknown for a value of no known shape", () => {
    expect(detectIdentifier("hello, tongban!")).toMatchObject({ ok: false, kind: "unknown", issues: [{ rule: "shape" }] });
  });
});

describe("validateIdentifier", () => {
  it("dispatches on every kind", () => {
    for (const kind of IDENTIFIER_KINDS) expect(validateIdentifier(kind, "x").kind).toBe(kind);
    expect(isIdentifierKind("uscc")).toBe(true);
    expect(isIdentifierKind("passport")).toBe(false);
    expect(() => validateIdentifier("passport" as never, "x")).toThrow(TypeError);
  });
});
