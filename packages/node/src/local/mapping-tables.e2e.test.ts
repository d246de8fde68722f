/**
 * Mapping tables in step with the directory, over real nodes (mTLS, LevelDB): the directory lists a new version
 * of 嘉善's implementation list; 青浦 and 吴江 fetch it from 嘉善 (GetMappingTable), check it against the listed
 * digest, keep it across a restart, and resolve with it. A listed digest no peer can match leaves the tables in
 * force as they were, with the table reported missing.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TongbanError, createFederationClient, readTableFile, tableDigest, type DirectoryMappingTable, type ImplementationList } from "@tongban/sdk";
import { HandlingMode } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consolePage, until } from "./e2e-helpers.js";
import { startLocalFederation, type LocalFederation } from "./local-federation.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const JIASHAN = "cn.330421.jiashan";
const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "examples", "mapping");
const ITEM = "00TB00000102"; // 老年人优待证办理: 3 promised working days in 嘉善's list v1
const CONSOLE_TOKEN = "tbp_console-tables-operator";
let dir: string;
let fed: LocalFederation;
let listed: DirectoryMappingTable[];
let v2: string;

/** The directory's table list: every table as the nodes hold it, with 嘉善's list replaced by `jiashan`. */
const tableList = (jiashan: DirectoryMappingTable): DirectoryMappingTable[] => [...listed.filter((t) => t.publisher !== "330421"), jiashan];
const promisedDays = (nodeId: string) => fed.node(nodeId).composed!.registry!.itemIn("330421", ITEM)?.promisedWorkingDays;
const inForce330421 = (nodeId: string) => fed.node(nodeId).composed!.tables.inForce.find((t) => t.table.publisher === "330421")!;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-tables-"));
  const shared = join(dir, "tables-shared");
  const jiashan = join(dir, "tables-jiashan");
  cpSync(EXAMPLES, shared, { recursive: true });
  cpSync(EXAMPLES, jiashan, { recursive: true });
  fed = await startLocalFederation({
    dir,
    nodes: [{ nodeId: QINGPU, tablesDir: shared }, { nodeId: WUJIANG, tablesDir: shared }, { nodeId: JIASHAN, tablesDir: jiashan }],
    fromDirectory: { refreshMs: 1_000 },
    console: { nodeId: WUJIANG, operatorToken: CONSOLE_TOKEN },
    compose: { outboxIntervalMs: 50 },
  });
  listed = fed.node(QINGPU).composed!.registry!.refs.map((r) => ({ publisher: r.publisher, kind: r.kind, version: r.version, digest: r.digest }));
  // 嘉善 publishes version 2 of its list (one promise shortened), signed with its node signing key, and restarts on it.
  const v1 = readTableFile(join(jiashan, "330421.csv")) as ImplementationList;
  const next: ImplementationList = { ...v1, version: 2, issued: "2026-12-01", items: v1.items.map((i) => (i.basicCode === ITEM ? { ...i, promisedWorkingDays: 2 } : i)) };
  v2 = fed.signTableAs(JIASHAN, next);
  writeFileSync(join(jiashan, "330421.jws"), v2);
  await fed.stopNode(JIASHAN);
  await fed.startNode(JIASHAN);
}, 60_000);
afterAll(async () => {
  await fed?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("mapping tables in step with the directory", () => {
  it("fetches a listed version from the publishing node, checks its digest, and resolves with it", async () => {
    expect(inForce330421(JIASHAN).table.version).toBe(2);
    expect(promisedDays(WUJIANG)).toBe(3);
    const want = { publisher: "330421", kind: "implementation" as const, version: 2, digest: inForce330421(JIASHAN).digest };
    await fed.publishDirectory((input) => ({ ...input, mappingTables: tableList(want) }));
    for (const id of [QINGPU, WUJIANG]) {
      await until(`${id} has v2`, async () => (inForce330421(id).table.version === 2 ? true : undefined), 15_000);
      const n = fed.node(id).composed!;
      expect(inForce330421(id).source).toBe("fetched");
      expect(n.tables.missing).toEqual([]);
      expect(promisedDays(id)).toBe(2);
      // Kept as the signed document it was, in the node's tables directory (beside its data directory).
      expect(readFileSync(join(dirname(fed.node(id).config.dataDir), "fetched-tables", "implementation-330421-v2.jws"), "utf8")).toBe(v2.trim());
      // The event is written just after the swap: polled, not read once.
      const updated = await until(`${id} event`, async () => {
        const found: unknown[] = [];
        for await (const e of n.events.read()) if (e.type === "mapping.tables-updated") found.push(e.detail);
        return found.length > 0 ? found : undefined;
      });
      expect(updated).toEqual([expect.objectContaining({ fetched: [want] })]);
    }
    // The platform API resolves with the new promise (青浦 receives for 嘉善).
    const r = await fed.node(QINGPU).platform!.resolveItem({ receivingRegion: "310118", handlingRegion: "330421", item: ITEM, mode: HandlingMode.REMOTE_RECEIPT });
    expect(r.resolved).toBe(true);
    expect(JSON.parse(r.resultJson)).toMatchObject({ handling: { item: { promisedWorkingDays: 2 } } });
  }, 30_000);

  it("keeps the tables in force when no peer holds the listed digest, and says which table is missing", async () => {
    const wrong = { publisher: "330421", kind: "implementation" as const, version: 2, digest: "ab".repeat(32) };
    await fed.publishDirectory((input) => ({ ...input, mappingTables: tableList(wrong) }));
    const w = fed.node(WUJIANG).composed!;
    const missing = await until("missing reported", async () => (w.tables.missing.length > 0 ? w.tables.missing : undefined), 15_000);
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({ publisher: "330421", version: 2, digest: wrong.digest });
    expect(missing[0]!.reason).toMatch(/digest/);
    // Still resolving with the version it had.
    expect(inForce330421(WUJIANG).table.version).toBe(2);
    expect(promisedDays(WUJIANG)).toBe(2);
    // The operator console shows both: v2 in force (fetched), the listed table missing and why.
    const page = await consolePage(fed.consoleUrl!, CONSOLE_TOKEN, "/tables?lang=en");
    expect(page).toMatch(/<td>330421<\/td><td>implementation<\/td><td>2<\/td><td><code>[0-9a-f]{16}…<\/code><\/td><td>fetched from a peer<\/td><td>✓<\/td>/);
    expect(page).toMatch(/<tr class="missing"><td>330421<\/td><td>implementation<\/td><td>2<\/td><td><code>abababababababab…<\/code><\/td><td>[^<]*digest/);
  }, 30_000);

  it("restarts on the tables it fetched, without asking a peer", async () => {
    await fed.stopNode(JIASHAN); // nobody to fetch from
    await fed.stopNode(WUJIANG);
    await fed.startNode(WUJIANG);
    expect(inForce330421(WUJIANG).table.version).toBe(2);
    expect(promisedDays(WUJIANG)).toBe(2);
    await fed.startNode(JIASHAN);
  }, 30_000);

  it("publishes a new version: the publishing node re-reads its tables on SIGHUP, the directory puts it in force everywhere", async () => {
    const j = fed.node(JIASHAN);
    const v2table = inForce330421(JIASHAN).table as ImplementationList;
    const v3table: ImplementationList = { ...v2table, version: 3, issued: "2026-12-07", items: v2table.items.map((i) => (i.basicCode === ITEM ? { ...i, promisedWorkingDays: 1 } : i)) };
    const v3 = fed.signTableAs(JIASHAN, v3table);
    writeFileSync(join(dirname(j.config.mapping.tablesDir!), "tables-jiashan", "330421.jws"), v3);
    await j.node!.reloadCredentials(); // what SIGHUP does
    // Held and served, but not in force: the directory still lists another digest for 330421.
    expect(j.composed!.tables.document("330421", "implementation", 3)?.document).toBe(v3.trim());
    expect(inForce330421(JIASHAN).table.version).not.toBe(3);
    const want = { publisher: "330421", kind: "implementation" as const, version: 3, digest: tableDigest(v3table) };
    await fed.publishDirectory((input) => ({ ...input, mappingTables: tableList(want) }));
    for (const id of [JIASHAN, WUJIANG, QINGPU]) {
      await until(`${id} has v3`, async () => (inForce330421(id).table.version === 3 ? true : undefined), 15_000);
      expect(promisedDays(id)).toBe(1);
    }
    expect(fed.node(WUJIANG).composed!.tables.missing).toEqual([]);
  }, 30_000);

  it("serves signed tables with GetMappingTable, and refuses with codes", async () => {
    const q = fed.node(QINGPU).certificates;
    const client = createFederationClient({ address: fed.node(JIASHAN).node!.addresses!.federation, nodeId: JIASHAN, ca: fed.root.certificatePem, cert: q.tls.certificatePem, key: q.tls.privateKeyPem });
    try {
      // The version in force (3, the directory's) when no version is asked for; v2 is no longer in 嘉善's files.
      const inForce = await client.getMappingTable({ publisher: "330421", kind: "implementation", version: "" });
      expect(inForce.version).toBe("3");
      expect(new TextDecoder().decode(inForce.document)).toBe(fed.node(JIASHAN).composed!.tables.document("330421", "implementation")!.document);
      // 吴江 serves the v2 it fetched, as fetched.
      const w = createFederationClient({ address: fed.node(WUJIANG).node!.addresses!.federation, nodeId: WUJIANG, ca: fed.root.certificatePem, cert: q.tls.certificatePem, key: q.tls.privateKeyPem });
      const old = await w.getMappingTable({ publisher: "330421", kind: "implementation", version: "2" }).finally(() => w.close());
      expect(new TextDecoder().decode(old.document)).toBe(v2.trim());
      const code = (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof TongbanError ? e.code : String(e)));
      // Unsigned tables (嘉善's catalog is a JSON file) are not served: a peer could not check them.
      expect(await code(client.getMappingTable({ publisher: "national", kind: "catalog", version: "" }))).toBe("MAPPING_TABLE_NOT_FOUND");
      expect(await code(client.getMappingTable({ publisher: "330421", kind: "implementation", version: "7" }))).toBe("MAPPING_TABLE_NOT_FOUND");
      expect(await code(client.getMappingTable({ publisher: "330421", kind: "implementation", version: "v2" }))).toBe("MAPPING_TABLE_INVALID");
    } finally {
      client.close();
    }
  });
});

describe("the directory from peers", () => {
  it("takes a newer directory from a peer when its own file does not have it (GetDirectory), and refuses none older", async () => {
    const file = join(dir, "directory.jws");
    const old = readFileSync(file, "utf8");
    await fed.stopNode(WUJIANG);
    // The authority's file reaches 青浦 only: it takes the new version, then the file goes back to the old one.
    const next = await fed.publishDirectory();
    await fed.node(QINGPU).composed!.directory.offer(next, "test");
    writeFileSync(file, old);
    const version = fed.node(QINGPU).composed!.directory.version!;
    await fed.startNode(WUJIANG);
    const w = fed.node(WUJIANG).composed!.directory;
    expect(w.version).toBeLessThan(version);
    await until("吴江 has the peer's directory", async () => (w.version === version ? true : undefined), 15_000);
    expect(w.document).toBe(next);
    // Its next ticks read the older file again and keep the newer one.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(w.version).toBe(version);
  }, 30_000);
});
