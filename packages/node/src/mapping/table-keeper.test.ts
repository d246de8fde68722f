import { generateKeyPairSync } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readTableFile, signTable, tableDigest, type DirectoryMappingTable, type ImplementationList, type MappingTable, type NationalCatalog } from "@tongban/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TableKeeper } from "./table-keeper.js";

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "examples", "mapping");
const publisher = generateKeyPairSync("ec", { namedCurve: "P-256" });
const KID = "test-publisher";
const resolveKey = (kid: string) => {
  if (kid !== KID) throw new Error(`unknown key ${kid}`);
  return publisher.publicKey;
};
const sign = (t: MappingTable) => signTable(t, { kid: KID, privateKey: publisher.privateKey, algorithm: "ES256" });
const ref = (t: MappingTable): DirectoryMappingTable => ({ publisher: t.publisher, kind: t.kind, version: t.version, digest: tableDigest(t) });

let dir: string;
let tables: string;
let v1: ImplementationList;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tongban-keeper-"));
  tables = join(dir, "tables");
  cpSync(EXAMPLES, tables, { recursive: true });
  v1 = readTableFile(join(tables, "330421.csv")) as ImplementationList;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function keeper(served: Map<string, string>) {
  const asked: string[] = [];
  const k = new TableKeeper({
    tablesDir: tables,
    fetchedDir: join(dir, "fetched"),
    resolveKey,
    fetch: async (peer, r) => {
      asked.push(`${peer} ${r.publisher} v${r.version}`);
      return served.get(`${peer} ${r.publisher} v${r.version}`);
    },
  });
  k.load();
  return { k, asked };
}

describe("TableKeeper", () => {
  it("asks peers in order, skips one answering with another table, and keeps the one that matches the listed digest", async () => {
    const v2: ImplementationList = { ...v1, version: 2, items: v1.items.slice(0, 1) };
    const other: ImplementationList = { ...v1, version: 2, items: v1.items.slice(1, 2) }; // same number, other content
    const { k, asked } = keeper(new Map([["a 330421 v2", sign(other)], ["b 330421 v2", sign(v2)]]));
    const listed = [...k.inForce.filter((t) => t.table.publisher !== "330421").map((t) => ref(t.table)), ref(v2)];
    const r = await k.follow(listed, () => ["a", "b", "c"]);
    expect(asked).toEqual(["a 330421 v2", "b 330421 v2"]);
    expect(r).toMatchObject({ changed: true, missing: [], fetched: [ref(v2)] });
    expect(k.registry!.refs.find((t) => t.publisher === "330421")).toEqual(ref(v2));
    expect(readdirSync(join(dir, "fetched"))).toEqual(["implementation-330421-v2.jws"]);
    // Nothing is fetched twice.
    expect(await k.follow(listed, () => ["a", "b"])).toMatchObject({ changed: false, fetched: [], missing: [] });
    expect(asked).toHaveLength(2);
  });

  it("keeps the old tables in force when the listed set does not load together", async () => {
    // A catalog version 2 without an item the regions' lists still name: the registry refuses the set.
    const catalog = readTableFile(join(tables, "catalog.json")) as NationalCatalog;
    const broken: NationalCatalog = { ...catalog, version: 2, items: catalog.items.filter((i) => i.basicCode !== "00TB00000102") };
    const { k } = keeper(new Map([["a national v2", sign(broken)]]));
    const before = k.registry!.refs;
    const listed = [...k.inForce.filter((t) => t.table.kind !== "catalog").map((t) => ref(t.table)), ref(broken)];
    const r = await k.follow(listed, () => ["a"]);
    expect(r.refused?.code).toBe("MAPPING_TABLE_INVALID");
    expect(r.changed).toBe(false);
    expect(k.registry!.refs).toEqual(before);
  });

  it("reports a listed table no peer has, with the last reason", async () => {
    const v3: ImplementationList = { ...v1, version: 3 };
    const { k } = keeper(new Map());
    const r = await k.follow([ref(v3)], () => ["a", "b"]);
    expect(r.missing).toEqual([{ ...ref(v3), reason: "b does not have it" }]);
    expect(k.registry!.refs.find((t) => t.publisher === "330421")!.version).toBe(1);
  });

  it("refuses a table whose signature does not verify", async () => {
    const v2: ImplementationList = { ...v1, version: 2 };
    // One character in the middle of the signature changed (the last one may only carry unused bits).
    const good = sign(v2);
    const at = good.length - 20;
    const forged = `${good.slice(0, at)}${good[at] === "A" ? "B" : "A"}${good.slice(at + 1)}`;
    const { k } = keeper(new Map([["a 330421 v2", forged]]));
    const r = await k.follow([ref(v2)], () => ["a"]);
    expect(r.missing[0]!.reason).toMatch(/MAPPING_SIGNATURE_INVALID/);
    expect(existsSync(join(dir, "fetched")) ? readdirSync(join(dir, "fetched")) : []).toEqual([]); // nothing kept
  });
});
