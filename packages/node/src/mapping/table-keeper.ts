import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  MappingRegistry,
  TongbanError,
  readTableFile,
  tableDigest,
  verifyTable,
  type DirectoryMappingTable,
  type MappingTable,
  type TableKeyResolver,
} from "@tongban/sdk";

/** A table the node holds, where it came from, and its signed document when it has one. */
export interface HeldTable {
  readonly table: MappingTable;
  /** File name (in `mapping.tablesDir`, or in the node's fetched-tables directory). */
  readonly file: string;
  readonly source: "tablesDir" | "fetched";
  /** SHA-256 hex of the table's canonical JSON: what a directory names it by. */
  readonly digest: string;
  /** The signed JWS, when the table was read from one (only these are served to peers). */
  readonly document: string | undefined;
}

/** A table the directory lists that this node does not hold (yet). */
export interface MissingTable extends DirectoryMappingTable {
  /** Why it is not in force: not fetched yet, or every peer asked failed (the last reason). */
  readonly reason: string;
}

/** What following a directory's table list did. */
export interface FollowResult {
  /** Tables fetched from peers and now held. */
  readonly fetched: readonly DirectoryMappingTable[];
  /** Tables listed but still not held. */
  readonly missing: readonly MissingTable[];
  /** True when the tables in force changed (the registry was rebuilt). */
  readonly changed: boolean;
  /** When the rebuilt set was refused (MAPPING_TABLE_INVALID): the old registry stays. */
  readonly refused?: TongbanError;
}

export interface TableKeeperOptions {
  /** The operator's tables (`mapping.tablesDir`): `.json`, `.csv` with `.meta.json`, `.jws`. */
  readonly tablesDir?: string | undefined;
  /** Where the node keeps the signed tables it fetched from peers (created when needed). */
  readonly fetchedDir: string;
  /** Resolves a table signer's key id through the federation trust store. */
  readonly resolveKey: TableKeyResolver;
  /** Asks a peer for a signed table (GetMappingTable); undefined when it has none. */
  readonly fetch?: (peer: string, ref: { readonly publisher: string; readonly kind: string; readonly version: number }) => Promise<string | undefined>;
}

const keyOf = (t: { readonly kind: string; readonly publisher: string }) => `${t.kind}\u0000${t.publisher}`;
const refText = (t: DirectoryMappingTable) => `${t.kind} table of ${t.publisher} v${t.version}`;
/** A set of tables as one comparable string: their digests, sorted. */
const setOf = (tables: readonly HeldTable[]) => tables.map((t) => t.digest).sort().join();

/**
 * The mapping tables a node uses (docs/mapping.md "In the node"). It reads the
 * operator's `mapping.tablesDir` — signed tables verified through the trust
 * store — and the signed tables it fetched from peers. Without a directory the
 * newest version of each (kind, publisher) is in force. With one, the
 * directory's `mappingTables` list decides: for each table it lists, exactly
 * the version whose canonical JSON has the listed digest, fetched with
 * GetMappingTable from the peers (the node serving the publisher's region
 * first) when not held; the authority's signature over the directory is what
 * makes a fetched table trusted, beside its own signature. The set in force is
 * swapped only when it loads as a whole; otherwise the old one stays.
 */
export class TableKeeper {
  readonly #o: TableKeeperOptions;
  #held: HeldTable[] = [];
  #registry: MappingRegistry | undefined;
  #inForce: readonly HeldTable[] = [];
  #missing: MissingTable[] = [];

  constructor(options: TableKeeperOptions) {
    this.#o = options;
  }

  /** The registry of the tables in force; undefined when the node holds none. */
  get registry(): MappingRegistry | undefined {
    return this.#registry;
  }
  /** The tables in force. */
  get inForce(): readonly HeldTable[] {
    return this.#inForce;
  }
  /** Tables the directory lists that are not in force. */
  get missing(): readonly MissingTable[] {
    return this.#missing;
  }

  /**
   * Reads every table (at start). Throws what a bad table file throws
   * (MAPPING_TABLE_INVALID, MAPPING_SIGNATURE_INVALID): a node does not start
   * on tables it cannot read. `listed` is the held directory's list, if any.
   */
  load(listed?: readonly DirectoryMappingTable[]): void {
    this.reload(listed);
  }

  /**
   * Reads every table again (SIGHUP: the operator added a new version to
   * `mapping.tablesDir`). All or nothing: a file that does not read, or a set
   * that does not load together, throws and leaves the tables in force as
   * they were. Returns whether the tables in force changed.
   */
  reload(listed?: readonly DirectoryMappingTable[]): boolean {
    const held: HeldTable[] = [];
    const dir = this.#o.tablesDir;
    if (dir !== undefined) {
      const names = readdirSync(dir).filter((n) => /\.(json|csv|jws)$/.test(n) && !n.endsWith(".meta.json")).sort();
      // A table both signed and unsigned under one stem: the signed one.
      const signed = new Set(names.filter((n) => n.endsWith(".jws")).map((n) => n.slice(0, -4)));
      for (const n of names) {
        if (!n.endsWith(".jws") && signed.has(n.replace(/\.(json|csv)$/, ""))) continue;
        held.push(this.#read(join(dir, n), n, "tablesDir"));
      }
    }
    // The same directory configured as both (tablesDir pointed at the node's own): its files were read above.
    if (existsSync(this.#o.fetchedDir) && (dir === undefined || resolve(dir) !== resolve(this.#o.fetchedDir))) {
      for (const n of readdirSync(this.#o.fetchedDir).filter((x) => x.endsWith(".jws")).sort()) held.push(this.#read(join(this.#o.fetchedDir, n), n, "fetched"));
    }
    const chosen = this.#choose(listed, new Map(), held);
    const registry = chosen.inForce.length === 0 ? undefined : MappingRegistry.load(chosen.inForce);
    const changed = setOf(chosen.inForce) !== setOf(this.#inForce);
    this.#held = held;
    this.#registry = registry;
    this.#inForce = chosen.inForce;
    this.#missing = chosen.missing;
    return changed;
  }

  /**
   * Brings the tables in force in step with a directory's list: fetches what
   * is not held from `peersFor(publisher)` in order, keeps what verifies
   * (signature through the trust store, canonical digest equal to the listed
   * one, the listed publisher, kind and version), and swaps the registry when
   * the set changed and loads. Never throws; what failed is in the result.
   */
  async follow(listed: readonly DirectoryMappingTable[], peersFor: (publisher: string) => readonly string[]): Promise<FollowResult> {
    const fetched: DirectoryMappingTable[] = [];
    const failures = new Map<string, string>();
    for (const want of listed) {
      if (this.#held.some((h) => h.digest === want.digest && keyOf(h.table) === keyOf(want))) continue;
      if (this.#o.fetch === undefined) {
        failures.set(keyOf(want), "this node cannot fetch tables from peers");
        continue;
      }
      let reason = "no peer serves it";
      for (const peer of peersFor(want.publisher)) {
        try {
          const document = await this.#o.fetch(peer, { publisher: want.publisher, kind: want.kind, version: want.version });
          if (document === undefined) {
            reason = `${peer} does not have it`;
            continue;
          }
          const v = verifyTable(document, this.#o.resolveKey, `${refText(want)} from ${peer}`);
          if (v.table.kind !== want.kind || v.table.publisher !== want.publisher || v.table.version !== want.version) {
            reason = `${peer} answered with another table (${v.table.kind} of ${v.table.publisher} v${v.table.version})`;
            continue;
          }
          const digest = tableDigest(v.table);
          if (digest !== want.digest) {
            reason = `${peer} answered with content whose digest ${digest} is not the directory's ${want.digest}`;
            continue;
          }
          const file = `${want.kind}-${want.publisher}-v${want.version}.jws`;
          await writeDurably(this.#o.fetchedDir, file, document.trim());
          this.#held = [...this.#held.filter((h) => !(h.source === "fetched" && h.file === file)), { table: v.table, file, source: "fetched", digest, document: document.trim() }];
          fetched.push(want);
          reason = "";
          break;
        } catch (err) {
          reason = `${peer}: ${err instanceof TongbanError ? `${err.code} ${err.message}` : err instanceof Error ? err.message : String(err)}`;
        }
      }
      if (reason !== "") failures.set(keyOf(want), reason);
    }
    const chosen = this.#choose(listed, failures);
    if (setOf(chosen.inForce) === setOf(this.#inForce)) {
      this.#missing = chosen.missing;
      return { fetched, missing: chosen.missing, changed: false };
    }
    try {
      const registry = MappingRegistry.load(chosen.inForce);
      this.#registry = registry;
      this.#inForce = chosen.inForce;
      this.#missing = chosen.missing;
      return { fetched, missing: chosen.missing, changed: true };
    } catch (err) {
      const refused = err instanceof TongbanError ? err : new TongbanError("MAPPING_TABLE_INVALID", String(err), { cause: err });
      this.#missing = chosen.missing;
      return { fetched, missing: chosen.missing, changed: false, refused };
    }
  }

  /**
   * A signed table held, for GetMappingTable: by publisher and kind, the
   * given version or (0 / undefined) the one in force, else the newest.
   */
  document(publisher: string, kind: string, version?: number): { readonly version: number; readonly document: string } | undefined {
    const signed = this.#held.filter((h) => h.document !== undefined && h.table.publisher === publisher && h.table.kind === kind);
    const pick =
      version !== undefined && version > 0
        ? signed.find((h) => h.table.version === version)
        : (signed.find((h) => this.#inForce.includes(h)) ?? signed.sort((a, b) => b.table.version - a.table.version)[0]);
    return pick === undefined ? undefined : { version: pick.table.version, document: pick.document! };
  }

  #read(path: string, file: string, source: HeldTable["source"]): HeldTable {
    const table = readTableFile(path, this.#o.resolveKey);
    const document = file.endsWith(".jws") ? readFileSync(path, "utf8").trim() : undefined;
    return { table, file, source, digest: tableDigest(table), document };
  }

  /** One table per (kind, publisher): the listed digest when listed, else the newest version (the operator's file on a tie). */
  #choose(listed: readonly DirectoryMappingTable[] | undefined, failures = new Map<string, string>(), held = this.#held): { inForce: HeldTable[]; missing: MissingTable[] } {
    const byKey = new Map<string, HeldTable[]>();
    for (const h of held) byKey.set(keyOf(h.table), [...(byKey.get(keyOf(h.table)) ?? []), h]);
    const inForce: HeldTable[] = [];
    const missing: MissingTable[] = [];
    const listedByKey = new Map((listed ?? []).map((t) => [keyOf(t), t]));
    for (const [key, candidates] of byKey) {
      const want = listedByKey.get(key);
      const exact = want === undefined ? undefined : candidates.find((c) => c.digest === want.digest);
      if (exact !== undefined) {
        inForce.push(exact);
        continue;
      }
      // Not listed, or listed but not held: the table used until now stays in force (the newest held) — a node
      // keeps resolving with what it has while it fetches; `missing` says it is out of step.
      const newest = [...candidates].sort((a, b) => b.table.version - a.table.version || (a.source === "tablesDir" ? -1 : 1))[0]!;
      const current = this.#inForce.find((t) => keyOf(t.table) === key);
      inForce.push(want !== undefined && current !== undefined ? current : newest);
    }
    for (const want of listed ?? []) {
      if (inForce.some((h) => keyOf(h.table) === keyOf(want) && h.digest === want.digest)) continue;
      missing.push({ ...want, reason: failures.get(keyOf(want)) ?? "not fetched yet" });
    }
    return { inForce, missing };
  }
}

/** Writes `file` in `dir` as a temporary file, fsync'd, then renamed: a crash leaves the old file or the new one. */
async function writeDurably(dir: string, file: string, text: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${file}.${createHash("sha256").update(text).digest("hex").slice(0, 8)}.partial`);
  const fh = await open(tmp, "w", 0o644);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, join(dir, file));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const d = await open(dir, "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
