import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadTablesFromDirectory } from "./load-files.js";
import type { HandlingModeName } from "./model.js";
import { resolveItem } from "./resolve.js";
import { translateForm } from "./transforms.js";

// The example tables that ship in examples/mapping and feed the demo.
const dir = fileURLToPath(new URL("../../../../examples/mapping/", import.meta.url));
const registry = loadTablesFromDirectory(dir);
const DATE = "2026-06-01";
const DELTA = ["310118", "320509", "330421"];

describe("example mapping tables", () => {
  it("load: one catalog, five regions (嘉善 from CSV), two agreements", () => {
    expect(registry.catalog.items.length).toBe(11);
    expect([...registry.lists.keys()].sort()).toEqual(["310118", "320509", "330421", "330802", "361129"]);
    expect(registry.agreements.map((a) => a.id).sort()).toEqual(["kecheng-wannian", "yrd-demonstration-zone"]);
  });

  it("resolve every item between every pair of delta regions, both ways, given as either side's code or the national code", () => {
    let count = 0;
    for (const from of DELTA) {
      for (const to of DELTA) {
        if (from === to) continue;
        for (const c of registry.catalog.items) {
          const mine = registry.itemIn(from, c.basicCode)!.implementationCode;
          const theirs = registry.itemIn(to, c.basicCode)!.implementationCode;
          for (const item of [c.basicCode, mine, theirs]) {
            const r = resolveItem(registry, { receivingRegion: from, handlingRegion: to, item, date: DATE });
            expect(r.ok, `${from}→${to} ${item}: ${r.ok ? "" : r.message}`).toBe(true);
            if (r.ok) {
              expect(r.handling.item.implementationCode).toBe(theirs);
              expect(r.materials.every((m) => m.receivingName !== undefined)).toBe(true);
              expect(r.tables.map((t) => `${t.kind}:${t.publisher}`).sort()).toEqual(["agreements:yrd-and-partners", "catalog:national", `implementation:${from}`, `implementation:${to}`].sort());
            }
            count++;
          }
        }
      }
    }
    expect(count).toBe(6 * 11 * 3);
  });

  it("resolve the 柯城/万年 shared items both ways", () => {
    for (const [from, to] of [["330802", "361129"], ["361129", "330802"]] as const) {
      for (const code of ["00TB00000101", "00TB00000304"]) {
        const r = resolveItem(registry, { receivingRegion: from, handlingRegion: to, item: code, date: DATE });
        expect(r.ok, `${from}→${to} ${code}`).toBe(true);
      }
    }
  });

  it("gives the not-offered gap with name candidates for 老年人优待证, both ways, not an exception", () => {
    const kecheng = registry.itemIn("330802", "00TB00000102")!;
    const a = resolveItem(registry, { receivingRegion: "330802", handlingRegion: "361129", item: kecheng.implementationCode, date: DATE });
    expect(a.ok).toBe(false);
    if (!a.ok) {
      expect(a.code).toBe("GAP_ITEM_NOT_OFFERED");
      expect(a.candidates[0]).toMatchObject({ region: "361129", name: "老年优待证申领" });
      expect(a.candidates[0]!.score).toBeGreaterThan(0.4);
    }
    const wannian = registry.byImplementationCode(registry.lists.get("361129")!.items.find((i) => i.name === "老年优待证申领")!.implementationCode)!;
    const b = resolveItem(registry, { receivingRegion: "361129", handlingRegion: "330802", item: wannian.item.implementationCode, date: DATE });
    expect(b.ok).toBe(false);
    if (!b.ok) {
      expect(b.code).toBe("GAP_ITEM_NOT_OFFERED");
      expect(b.candidates[0]).toMatchObject({ region: "330802", name: "老年人优待证办理" });
    }
  });

  it("gives each other gap code where it applies", () => {
    const gap = (q: { from: string; to: string; item: string; mode?: HandlingModeName; date?: string }) => {
      const r = resolveItem(registry, { receivingRegion: q.from, handlingRegion: q.to, item: q.item, date: q.date ?? DATE, ...(q.mode ? { mode: q.mode } : {}) });
      return r.ok ? "ok" : r.code;
    };
    expect(gap({ from: "310118", to: "320509", item: "00TB99999999" })).toBe("GAP_ITEM_UNKNOWN");
    expect(gap({ from: "310118", to: "361129", item: "00TB00000101" })).toBe("GAP_NO_AGREEMENT");
    expect(gap({ from: "330802", to: "361129", item: "00TB00000101", date: "2024-01-01" })).toBe("GAP_NO_AGREEMENT");
    expect(gap({ from: "330802", to: "361129", item: "00TB00000101", mode: "joint" })).toBe("GAP_NO_AGREEMENT");
    expect(gap({ from: "310118", to: "320509", item: "00TB00000101", mode: "joint" })).toBe("GAP_MODE_NOT_SUPPORTED");
    // 万年's own item is online only; 万年 does not receive it for others either.
    const wn = registry.lists.get("361129")!.items.find((i) => i.basicCode === "36TB00000001")!;
    expect(gap({ from: "330802", to: "361129", item: wn.implementationCode })).toBe("GAP_MODE_NOT_SUPPORTED");
    expect(gap({ from: "330802", to: "361129", item: wn.implementationCode, mode: "full_online" })).toBe("ok");
  });

  it("translates a form from 青浦's fields to 吴江's through the canonical fields", () => {
    const r = resolveItem(registry, { receivingRegion: "310118", handlingRegion: "320509", item: "00TB00000101", date: DATE });
    if (!r.ok) throw new Error(r.message);
    const t = translateForm({ 申请人姓名: "张三", 出生日期: "19491231", 性别: "男", 联系地址: "江苏省|苏州市|吴江区中山南路1号", 备注: "x" }, r.fields.receiving, r.fields.handling);
    expect(t.form).toEqual({ 姓名: "张三", 出生年月日: "1949年12月31日", 性别代码: "1", 省份: "江苏省", 城市: "苏州市", 详细地址: "吴江区中山南路1号" });
    expect(t.unmappedSource).toEqual(["备注"]);
    expect(t.missingTarget).toEqual([]);
  });
});
