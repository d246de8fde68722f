import { createHash } from "node:crypto";
import { describeCertificate, readCrl } from "../pki/index.js";
import type { DirectoryCertificate, DirectoryMappingTable, DirectoryNode, UnsignedDirectory } from "./model.js";

/** A scalar field that changed; `undefined` means absent on that side. */
export interface ValueChange {
  readonly kind: "value";
  readonly field: string;
  readonly from: string | number | undefined;
  readonly to: string | number | undefined;
}

/** A list treated as a set: what entered and what left. */
export interface SetChange {
  readonly kind: "set";
  readonly field: "regions" | "itemsServed" | "receivesFor" | "protocols";
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** A certificate as a diff names it. */
export interface CertificateRef {
  readonly kid: string;
  readonly serial: string;
  readonly notAfter: string;
}

/** Certificates added to or removed from one list, and changed retirement announcements. */
export interface CertificateChange {
  readonly kind: "certificates";
  readonly field: "certificates.tls" | "certificates.signing";
  readonly added: readonly CertificateRef[];
  readonly removed: readonly CertificateRef[];
  readonly announced: readonly { readonly kid: string; readonly from: string | undefined; readonly to: string | undefined }[];
}

/** One field-level change of a node. */
export type NodeChange = ValueChange | SetChange | CertificateChange;

/** Everything that changed about one node present in both directories. */
export interface NodeDiff {
  readonly nodeId: string;
  readonly changes: readonly NodeChange[];
}

/** How the revocation list changed. */
export interface CrlDiff {
  readonly crlNumber: { readonly from: string | undefined; readonly to: string | undefined };
  /** Serials (hex) newly revoked. */
  readonly revokedAdded: readonly string[];
  /** Serials no longer listed (expired certificates drop off CRLs). */
  readonly revokedRemoved: readonly string[];
}

/** How the mapping tables in force changed, keyed by publisher and kind. */
export interface MappingTablesDiff {
  readonly added: readonly DirectoryMappingTable[];
  readonly removed: readonly DirectoryMappingTable[];
  readonly changed: readonly { readonly publisher: string; readonly kind: string; readonly from: DirectoryMappingTable; readonly to: DirectoryMappingTable }[];
}

/** The difference between two directories, from `a` (old) to `b` (new). */
export interface DirectoryDiff {
  /** False when nothing but (possibly) version, times and signer changed. */
  readonly changed: boolean;
  /** Top-level changes: version, federation, issuedAt, expiresAt, protocols, authority. */
  readonly header: readonly (ValueChange | SetChange)[];
  readonly nodesAdded: readonly string[];
  readonly nodesRemoved: readonly string[];
  readonly nodesChanged: readonly NodeDiff[];
  /** Undefined when the CRL bytes are the same. */
  readonly crl: CrlDiff | undefined;
  readonly mappingTables: MappingTablesDiff;
}

/**
 * Compares two directories field by field: nodes added, removed and changed
 * (names, endpoints, suite, contact, regions, items, certificates added and
 * removed by kid, retirement announcements), CRL entries, mapping tables.
 * Useful before signing (what am I publishing?) and on receipt (what do I
 * need to reload?).
 *
 * @example
 * ```ts
 * const d = diffDirectories(held, verified.directory);
 * if (d.crl !== undefined) store.setCrl(verified.directory.crl);
 * ```
 */
export function diffDirectories(a: UnsignedDirectory, b: UnsignedDirectory): DirectoryDiff {
  const header: (ValueChange | SetChange)[] = [];
  value(header, "version", a.version, b.version);
  value(header, "federation.id", a.federation.id, b.federation.id);
  value(header, "federation.name", a.federation.name, b.federation.name);
  value(header, "issuedAt", a.issuedAt, b.issuedAt);
  value(header, "expiresAt", a.expiresAt, b.expiresAt);
  set(header, "protocols", a.protocols, b.protocols);
  value(header, "authority.kid", authorityOf(a), authorityOf(b));

  const before = new Map(a.nodes.map((n) => [n.nodeId, n]));
  const after = new Map(b.nodes.map((n) => [n.nodeId, n]));
  const nodesAdded = [...after.keys()].filter((id) => !before.has(id));
  const nodesRemoved = [...before.keys()].filter((id) => !after.has(id));
  const nodesChanged: NodeDiff[] = [];
  for (const [id, old] of before) {
    const next = after.get(id);
    if (next === undefined) continue;
    const changes = diffNode(old, next);
    if (changes.length > 0) nodesChanged.push({ nodeId: id, changes });
  }
  const crl = a.crl === b.crl ? undefined : diffCrl(a.crl, b.crl);
  const mappingTables = diffTables(a.mappingTables, b.mappingTables);
  const cosmetic = new Set(["version", "issuedAt", "expiresAt", "authority.kid"]);
  const changed =
    header.some((c) => !cosmetic.has(c.field)) ||
    nodesAdded.length + nodesRemoved.length + nodesChanged.length > 0 ||
    crl !== undefined ||
    mappingTables.added.length + mappingTables.removed.length + mappingTables.changed.length > 0;
  return { changed, header, nodesAdded, nodesRemoved, nodesChanged, crl, mappingTables };
}

function diffNode(a: DirectoryNode, b: DirectoryNode): NodeChange[] {
  const out: NodeChange[] = [];
  value(out, "name", a.name, b.name);
  value(out, "suite", a.suite, b.suite);
  value(out, "delivery", a.delivery ?? "push", b.delivery ?? "push");
  value(out, "endpoints.federation", a.endpoints.federation, b.endpoints.federation);
  value(out, "endpoints.platform", a.endpoints.platform, b.endpoints.platform);
  value(out, "contact.name", a.contact.name, b.contact.name);
  value(out, "contact.email", a.contact.email, b.contact.email);
  value(out, "contact.phone", a.contact.phone, b.contact.phone);
  set(out, "regions", a.regions, b.regions);
  set(out, "itemsServed", a.itemsServed, b.itemsServed);
  set(out, "receivesFor", a.receivesFor, b.receivesFor);
  for (const use of ["tls", "signing"] as const) {
    const change = diffCertificates(`certificates.${use}`, a.certificates[use], b.certificates[use]);
    if (change !== undefined) out.push(change);
  }
  return out;
}

function diffCertificates(field: CertificateChange["field"], a: readonly DirectoryCertificate[], b: readonly DirectoryCertificate[]): CertificateChange | undefined {
  const index = (list: readonly DirectoryCertificate[]): Map<string, DirectoryCertificate> => new Map(list.map((c) => [kidOf(c.pem), c]));
  const before = index(a);
  const after = index(b);
  const added = [...after].filter(([kid]) => !before.has(kid)).map(([, c]) => refOf(c));
  const removed = [...before].filter(([kid]) => !after.has(kid)).map(([, c]) => refOf(c));
  const announced = [...after]
    .filter(([kid, c]) => before.has(kid) && before.get(kid)?.notAfter !== c.notAfter)
    .map(([kid, c]) => ({ kid, from: before.get(kid)?.notAfter, to: c.notAfter }));
  if (added.length + removed.length + announced.length === 0) return undefined;
  return { kind: "certificates", field, added, removed, announced };
}

function diffCrl(a: string, b: string): CrlDiff {
  const old = readCrl(a);
  const next = readCrl(b);
  const oldSerials = new Set(old.revoked.map((r) => r.serial));
  const newSerials = new Set(next.revoked.map((r) => r.serial));
  return {
    crlNumber: { from: old.crlNumber?.toString(), to: next.crlNumber?.toString() },
    revokedAdded: [...newSerials].filter((s) => !oldSerials.has(s)),
    revokedRemoved: [...oldSerials].filter((s) => !newSerials.has(s)),
  };
}

function diffTables(a: readonly DirectoryMappingTable[], b: readonly DirectoryMappingTable[]): MappingTablesDiff {
  const key = (t: DirectoryMappingTable): string => `${t.publisher}\u0000${t.kind}`;
  const before = new Map(a.map((t) => [key(t), t]));
  const after = new Map(b.map((t) => [key(t), t]));
  return {
    added: [...after].filter(([k]) => !before.has(k)).map(([, t]) => t),
    removed: [...before].filter(([k]) => !after.has(k)).map(([, t]) => t),
    changed: [...after].flatMap(([k, to]) => {
      const from = before.get(k);
      return from !== undefined && (from.version !== to.version || from.digest !== to.digest) ? [{ publisher: to.publisher, kind: to.kind, from, to }] : [];
    }),
  };
}

function value(out: NodeChange[] | (ValueChange | SetChange)[], field: string, from: string | number | undefined, to: string | number | undefined): void {
  if (from !== to) out.push({ kind: "value", field, from, to });
}

function set(out: NodeChange[] | (ValueChange | SetChange)[], field: SetChange["field"], a: readonly string[], b: readonly string[]): void {
  const before = new Set(a);
  const after = new Set(b);
  const added = b.filter((x) => !before.has(x));
  const removed = a.filter((x) => !after.has(x));
  if (added.length + removed.length > 0) out.push({ kind: "set", field, added, removed });
}

function refOf(c: DirectoryCertificate): CertificateRef {
  const d = describeCertificate(c.pem);
  return { kid: d.kid, serial: d.serial, notAfter: d.notAfter.toISOString() };
}

function kidOf(pem: string): string {
  try {
    return describeCertificate(pem).kid;
  } catch {
    // A diff should still say something about a certificate it cannot parse.
    return `unparseable:${createHash("sha256").update(pem).digest("hex").slice(0, 16)}`;
  }
}

function authorityOf(dir: UnsignedDirectory): string | undefined {
  const authority = (dir as { authority?: { kid?: unknown } }).authority;
  return typeof authority?.kid === "string" ? authority.kid : undefined;
}
