import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { NODE_ID_PATTERN, assertNodeId, validateNodeId } from "./node-id.js";

const rules = (value: string): [string, number | undefined][] => {
  const v = validateNodeId(value);
  return v.ok ? [] : v.issues.map((i) => [i.rule, i.position]);
};

describe("validateNodeId", () => {
  it.each(["cn.310118.qingpu", "cn.320509.wujiang", "cn.330421.jiashan", "cn.330802.kecheng", "cn.361129.wannian"])(
    "accepts %s",
    (id) => {
      const v = validateNodeId(id);
      expect(v.ok).toBe(true);
      expect(NODE_ID_PATTERN.test(id)).toBe(true);
    },
  );

  it("returns the region and labels", () => {
    expect(validateNodeId("cn.320509.wujiang.gov-2")).toEqual({
      ok: true,
      kind: "node-id",
      value: "cn.320509.wujiang.gov-2",
      parts: { region: "320509", labels: ["wujiang", "gov-2"] },
    });
  });

  it("rejects upper case with the position of each letter", () => {
    expect(rules("cn.310118.QingPu")).toEqual([
      ["case", 11],
      ["case", 15],
    ]);
    expect(rules("CN.310118.qingpu")).toEqual([["case", 1]]);
  });

  it("rejects a wrong prefix, region and label shapes", () => {
    expect(rules("us.310118.qingpu")).toEqual([["prefix", 1]]);
    expect(rules("cn.31011.qingpu")).toEqual([["region-length", 4]]);
    expect(rules("cn.3101a8.qingpu")).toEqual([["charset", 8]]);
    expect(rules("cn.999999.qingpu")).toEqual([["region-unknown", 4]]);
    expect(rules("cn.310118.9pu")).toEqual([["label-start", 11]]);
    expect(rules("cn.310118.qing_pu")).toEqual([["charset", 15]]);
    expect(rules("cn.310118.qing--pu")).toEqual([["label-hyphen", 15]]);
    expect(rules("cn.310118.qingpu-")).toEqual([["label-hyphen", 17]]);
    expect(rules("cn.310118..qingpu")).toEqual([
      ["label-empty", 11],
    ]);
    expect(rules("cn.310118.qingpu.")).toEqual([["label-empty", 18]]);
    expect(rules("cn.310118")).toEqual([["label-count", undefined]]);
    expect(rules("cn.310118.a.b.c")).toEqual([["label-count", 14]]);
    expect(rules("")).toEqual([["length", undefined]]);
  });

  it("limits the length to 64 characters", () => {
    const ok = `cn.310118.${"a".repeat(54)}`;
    expect(ok).toHaveLength(64);
    expect(validateNodeId(ok).ok).toBe(true);
    expect(rules(`${ok}b`)).toEqual([["length", 65]]);
  });

  it("agrees with NODE_ID_PATTERN on arbitrary strings (known region, ≤ 64)", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9.-]{1,30}$/), (tail) => {
        const id = `cn.310118.${tail}`;
        expect(validateNodeId(id).ok).toBe(NODE_ID_PATTERN.test(id));
      }),
    );
  });

  it("assertNodeId throws IDENTIFIER_INVALID", () => {
    expect(assertNodeId("cn.330421.jiashan").region).toBe("330421");
    expect(() => assertNodeId("cn.330421.JiaShan")).toThrow(TongbanError);
  });
});
