import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { createFederationRoot, issueNodeCertificates } from "../pki/index.js";
import { TrustStore } from "../trust/index.js";
import { importImplementationCsv, exportImplementationCsv } from "./csv.js";
import { diffTables } from "./diff.js";
import type { FieldMapping } from "./model.js";
import type { ImplementationList, MappingTable } from "./model.js";
import { parseTable } from "./parse-table.js";
import { MappingRegistry, tableDigest, tableRef } from "./registry.js";
import { signTable, verifyTable } from "./signing.js";
import type { TableIssue } from "./table-issue.js";
import { fromCanonical, toCanonical } from "./transforms.js";
import { checkNewVersion } from "./version-rules.js";

const ex = (name: string) => readFileSync(fileURLToPath(new URL(`../../../../examples/mapping/${name}`, import.meta.url)), "utf8");
const catalog = parseTable(JSON.parse(ex("catalog.json")), "catalog.json");
const qingpu = parseTable(JSON.parse(ex("310118.json")), "310118.json") as ImplementationList;

function issuesOf(fn: () => unknown): TableIssue[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof TongbanError && err.code === "MAPPING_TABLE_INVALID") return (err.details.issues as TableIssue[]) ?? [];
    throw err;
  }
  throw new Error("expected MAPPING_TABLE_INVALID");
}
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe("table references", () => {
  it("carry the digest of the table's canonical JSON, taken when first read, through JSON and spreads", () => {
    const ref = tableRef(qingpu);
    const digest = tableDigest(qingpu);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(JSON.stringify(ref))).toEqual({ kind: "implementation", publisher: "310118", version: qingpu.version, digest });
    expect({ ...ref }.digest).toBe(digest);
    expect(ref.digest).toBe(digest);
    expect(tableDigest(clone(qingpu))).toBe(digest); // the same table read again: the same digest
  });
});

describe("malformed tables name file, row and field, and load nothing", () => {
  it("bad codes, duplicates and missing fields", () => {
    const t = clone(qingpu) as unknown as { items: Record<string, unknown>[] };
    t.items[1]!.basicCode = "00TB0000010"; // 11 chars
    t.items[2]!.agency = "11310118310118020X"; // bad USCC check
    t.items[3]!.implementationCode = (t.items[0] as { implementationCode: string }).implementationCode;
    delete t.items[4]!.name;
    t.items[5]!.modes = ["by_pigeon"];
    const issues = issuesOf(() => parseTable(t, "310118.json"));
    const at = (row: number, field: string) => issues.find((i) => i.row === row && i.field === field);
    expect(at(2, "basicCode")?.reason).toMatch(/length|12/);
    expect(at(3, "agency")).toBeDefined();
    expect(issues.some((i) => i.row === 4 && i.field === "implementationCode" && /duplicate/.test(i.reason))).toBe(true);
    expect(at(5, "name")?.reason).toBe("missing or empty");
    expect(at(6, "modes[0]")?.reason).toMatch(/unknown mode/);
    expect(issues.every((i) => i.file === "310118.json")).toBe(true);
  });

  it("dangling references across tables fail the whole load", () => {
    const list = clone(qingpu) as unknown as { items: { basicCode: string; implementationCode: string; materials: { nationalCode: string }[] }[] };
    list.items[0]!.materials[0]!.nationalCode = "M999";
    const issues = issuesOf(() =>
      MappingRegistry.load([
        { table: catalog, file: "catalog.json" },
        { table: parseTable(list, "310118.json"), file: "310118.json" },
        { table: parseTable({ kind: "agreements", publisher: "x", version: 1, issued: "2026-01-01", agreements: [{ id: "a", regions: ["310118", "320509"], items: ["00TB09999999"], modes: ["remote_receipt"], validFrom: "2026-01-01", validTo: "2027-01-01" }] }, "agreements.json"), file: "agreements.json" },
      ]),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: "310118.json", row: 1, field: "materials[0].nationalCode" }),
        expect.objectContaining({ file: "agreements.json", row: 1, field: "items[0]" }),
      ]),
    );
  });

  it("bad CSV: a broken quote, a missing column and a bad cell, with line numbers", () => {
    const meta = { publisher: "330421", version: 1, issued: "2026-01-01" };
    const good = ex("330421.csv");
    expect(issuesOf(() => importImplementationCsv(`${good}"unterminated,row\n`, meta, "330421.csv"))[0]?.reason).toMatch(/not valid CSV/);
    const noCol = good.replace("promised_working_days,", "").split("\n").map((l, i) => (i === 0 ? l : "")).join("\n");
    expect(issuesOf(() => importImplementationCsv(noCol, meta, "330421.csv"))).toContainEqual(expect.objectContaining({ row: 1, field: "promised_working_days" }));
    const lines = good.split("\n");
    lines[3] = lines[3]!.replace(",true,", ",maybe,");
    expect(issuesOf(() => importImplementationCsv(lines.join("\n"), meta, "330421.csv"))).toContainEqual(expect.objectContaining({ row: 4, field: "receives_for_others" }));
  });

  it("CSV round-trips through export and import", () => {
    const list = importImplementationCsv(ex("330421.csv"), { publisher: "330421", version: 1, issued: "2026-01-01" }, "330421.csv");
    const again = importImplementationCsv(exportImplementationCsv(list), { publisher: "330421", version: 1, issued: "2026-01-01" });
    expect(again).toEqual(list);
  });
});

describe("version rules (OOTS code lists)", () => {
  const v2 = (mutate: (t: { version: number; items: { name: string; implementationCode: string }[] }) => void): MappingTable => {
    const t = clone(qingpu) as unknown as { version: number; items: { name: string; implementationCode: string }[] };
    mutate(t);
    return parseTable(t, "310118.v2.json");
  };
  const rule = (fn: () => unknown) => {
    try {
      fn();
      return "accepted";
    } catch (err) {
      return err instanceof TongbanError && err.code === "MAPPING_VERSION_RULE" ? String(err.details.rule) : String(err);
    }
  };

  it("refuses changed content without a version bump", () => expect(rule(() => checkNewVersion(qingpu, v2((t) => void (t.items[0]!.name = "改名"))))).toBe("bump-on-change"));
  it("refuses a downgrade", () => expect(rule(() => checkNewVersion(v2((t) => void (t.version = 3)), qingpu))).toBe("no-downgrade"));
  it("refuses removing a code still referenced", () => {
    const used = new Set([qingpu.items[0]!.implementationCode]);
    expect(rule(() => checkNewVersion(qingpu, v2((t) => { t.version = 2; t.items.shift(); }), { referenced: used }))).toBe("no-removal-in-use");
  });
  it("refuses an empty version", () => expect(rule(() => checkNewVersion(qingpu, v2((t) => void (t.version = 2))))).toBe("no-empty-version"));
  it("accepts a bumped change and reports it field by field", () => {
    const next = v2((t) => { t.version = 2; t.items[0]!.name = "补领结婚证（新）"; t.items.pop(); });
    expect(rule(() => checkNewVersion(qingpu, next))).toBe("accepted");
    const d = diffTables(qingpu, next);
    expect(d.removed).toEqual([qingpu.items.at(-1)!.implementationCode]);
    expect(d.changed).toEqual([{ key: qingpu.items[0]!.implementationCode, fields: [{ field: "name", before: "补领结婚证", after: "补领结婚证（新）" }] }]);
  });
});

describe("signed tables", () => {
  it("verify with the publisher's key through the trust store; any tampering is rejected", async () => {
    const root = await createFederationRoot({ name: "mapping test root", validityDays: 30 });
    const pub = await issueNodeCertificates({ ca: root, nodeId: "cn.310118.qingpu", signingAlgorithm: "EdDSA", validityDays: 30 });
    const trust = new TrustStore({ anchor: root.certificatePem });
    trust.addCertificate(pub.signing.certificatePem);
    const { createPrivateKey } = await import("node:crypto");
    const jws = signTable(qingpu, { kid: pub.signing.kid, privateKey: createPrivateKey(pub.signing.privateKeyPem), algorithm: "EdDSA" });
    const resolve = (kid: string) => trust.resolveSigner(kid, new Date());
    expect(verifyTable(jws, resolve).table).toEqual(qingpu);

    const [h, p, s] = jws.split(".") as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, "base64url").toString()) as { items: { promisedWorkingDays: number }[] };
    payload.items[0]!.promisedWorkingDays = 99;
    const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`;
    expect(() => verifyTable(tampered, resolve)).toThrow(expect.objectContaining({ code: "MAPPING_SIGNATURE_INVALID" }));
    const other = generateKeyPairSync("ed25519");
    const forged = signTable(qingpu, { kid: pub.signing.kid, privateKey: other.privateKey, algorithm: "EdDSA" });
    expect(() => verifyTable(forged, resolve)).toThrow(expect.objectContaining({ code: "MAPPING_SIGNATURE_INVALID" }));
    const stranger = signTable(qingpu, { kid: "unknown-kid", privateKey: other.privateKey, algorithm: "EdDSA" });
    expect(() => verifyTable(stranger, resolve)).toThrow(expect.objectContaining({ code: "MAPPING_SIGNATURE_INVALID" }));
  });
});

describe("field transforms round-trip (property tests)", () => {
  const date = fc.date({ min: new Date("1900-01-01T00:00:00Z"), max: new Date("2099-12-31T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));

  it("dates: canonical → local → canonical for every format", () => {
    for (const format of ["YYYYMMDD", "YYYY年MM月DD日", "YYYY/MM/DD", "DD.MM.YYYY"]) {
      const m = { local: "d", canonical: "birth_date", transform: { kind: "date" as const, format } };
      fc.assert(
        fc.property(date, (iso) => {
          expect(toCanonical(m, fromCanonical(m, { birth_date: iso })!)).toEqual({ birth_date: iso });
        }),
      );
    }
  });

  it("dates: impossible calendar dates are refused", () => {
    const m = { local: "d", canonical: "birth_date", transform: { kind: "date" as const, format: "YYYYMMDD" } };
    expect(() => toCanonical(m, "20250230")).toThrow(expect.objectContaining({ code: "TRANSFORM_FAILED" }));
  });

  it("a refused value is named by its field and rule, never repeated (form values are personal data)", () => {
    const refusals: [FieldMapping, string][] = [
      [{ local: "生日", canonical: "birth_date", transform: { kind: "date", format: "YYYY/MM/DD" } }, "1990-07-14"],
      [{ local: "生日", canonical: "birth_date", transform: { kind: "date", format: "YYYYMMDD" } }, "19900230"],
      [{ local: "性别", canonical: "sex", transform: { kind: "code", map: { 男性: "M", 女性: "F" } } }, "未知性别值"],
      [{ local: "住址", canonical: "address", transform: { kind: "join", separator: " ", canonical: ["province", "city", "street"] } }, "浙江省嘉善县罗星街道"],
    ];
    for (const [m, value] of refusals) {
      let caught: unknown;
      try {
        toCanonical(m, value);
      } catch (err) {
        caught = err;
      }
      expect(caught).toMatchObject({ code: "TRANSFORM_FAILED", details: { field: m.local } });
      expect(JSON.stringify({ message: (caught as Error).message, details: (caught as { details: unknown }).details })).not.toContain(value);
    }
    const out = { local: "性别", canonical: "sex", transform: { kind: "code" as const, map: { 男性: "M" } } };
    expect(() => fromCanonical(out, { sex: "X-secret" })).toThrow(expect.objectContaining({ code: "TRANSFORM_FAILED", message: expect.not.stringContaining("X-secret") }));
  });

  it("code lists: one-to-one maps invert exactly", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(fc.string({ minLength: 1 }), fc.string({ minLength: 1 })), { selector: (p) => p[0], minLength: 1 }).filter((ps) => new Set(ps.map((p) => p[1])).size === ps.length), (pairs) => {
        const m = { local: "c", canonical: "code", transform: { kind: "code" as const, map: Object.fromEntries(pairs) } };
        for (const [local] of pairs) expect(fromCanonical(m, toCanonical(m, local))).toBe(local);
      }),
    );
  });

  it("split/join: canonical parts survive a join and a split (the last part may hold the separator)", () => {
    const m = { local: "addr", canonical: "address", transform: { kind: "join" as const, separator: "|", canonical: ["province", "city", "street"] } };
    const part = fc.string().filter((s) => !s.includes("|"));
    fc.assert(
      fc.property(part, part, fc.string(), (province, city, street) => {
        const local = fromCanonical(m, { province, city, street })!;
        expect(toCanonical(m, local)).toEqual({ province, city, street });
      }),
    );
  });
});
