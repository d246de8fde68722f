import { isIP } from "node:net";
import { TongbanError } from "../errors/index.js";
import { validateBasicCode, validateNodeId, validateRegionCode } from "../identifiers/index.js";
import { describeCertificate, readCrl, type CertificateSummary } from "../pki/index.js";
import type { DirectoryIssue } from "./model.js";

/** Options for {@link collectDirectoryIssues}. */
export interface CollectOptions {
  /** Whether `authority` must be present (signed directories) or absent (built, unsigned ones). */
  readonly authority: "required" | "absent";
  /**
   * When set, certificates already expired at this time are issues. Building
   * passes issuedAt; verification does not, since expiry of a node's
   * certificate is the trust store's business at the time of use.
   */
  readonly expiredAt?: Date;
}

type Obj = Record<string, unknown>;

const FEDERATION_ID = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?:\.[a-z][a-z0-9]*(?:-[a-z0-9]+)*)*$/;
const FEDERATION_ID_MAX = 64;

/** True for a federation id: lower-case dotted words of letters, digits and hyphens, at most 64 characters. */
export function isFederationId(value: unknown): value is string {
  return typeof value === "string" && value.length <= FEDERATION_ID_MAX && FEDERATION_ID.test(value);
}

/**
 * Throws DIRECTORY_INVALID naming the first issue (path and reason) and
 * carrying all of them in `details.issues`; returns when there are none.
 */
export function throwIfIssues(issues: readonly DirectoryIssue[], what = "the directory"): void {
  const first = issues[0];
  if (first === undefined) return;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  throw new TongbanError("DIRECTORY_INVALID", `${what} is invalid: ${first.path}: ${first.reason}${more}`, {
    details: { path: first.path, reason: first.reason, issues: issues.map((i) => ({ ...i })) },
  });
}
const PROTOCOL = /^tongban\/[1-9][0-9]*$/;
const DNS_HOST = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const PORT = /^[1-9][0-9]{0,4}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const KID = /^[A-Za-z0-9_-]{43}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
const PHONE = /^\+?[0-9][0-9 -]{4,30}$/;
const SUITES = ["jose-v1", "gm-v1"] as const;
const TABLE_KINDS = ["catalog", "implementation", "agreements"] as const;
const TLS_EKUS = ["serverAuth", "clientAuth"];
// Free text fields are bounded so a directory cannot carry megabytes of prose.
const MAX_TEXT = 200;

/**
 * Every rule a directory document must meet, as a list of issues (empty when
 * valid). Validation keeps going after the first problem so an authority
 * sees all of them at once. Unknown keys are issues too: a signed document
 * must not carry fields that some nodes would ignore and others act on.
 */
export function collectDirectoryIssues(value: unknown, options: CollectOptions): DirectoryIssue[] {
  const issues: DirectoryIssue[] = [];
  const add = (path: string, reason: string): void => void issues.push({ path, reason });
  if (!isObj(value)) {
    add("$", "the directory must be a JSON object");
    return issues;
  }
  const required = ["federation", "version", "issuedAt", "expiresAt", "protocols", "nodes", "crl", "mappingTables"];
  checkKeys(value, "", options.authority === "required" ? [...required, "authority"] : required, [], add);
  if (options.authority === "absent" && Object.hasOwn(value, "authority")) add("authority", "an unsigned directory must not name an authority; signing sets it");

  const fed = value["federation"];
  if (isObj(fed)) {
    checkKeys(fed, "federation", ["id", "name"], [], add);
    const id = fed["id"];
    if (!isFederationId(id))
      add("federation.id", "must be lower-case dotted words of letters, digits and hyphens, at most 64 characters (e.g. yangtze-delta)");
    text(fed["name"], "federation.name", add);
  } else if (Object.hasOwn(value, "federation")) add("federation", "must be an object { id, name }");

  const version = value["version"];
  if (Object.hasOwn(value, "version") && !(Number.isSafeInteger(version) && (version as number) >= 1)) add("version", "must be a positive integer");

  const issuedAt = isoTime(value["issuedAt"], "issuedAt", add, Object.hasOwn(value, "issuedAt"));
  const expiresAt = isoTime(value["expiresAt"], "expiresAt", add, Object.hasOwn(value, "expiresAt"));
  if (issuedAt !== undefined && expiresAt !== undefined && !(expiresAt > issuedAt)) add("expiresAt", "must be later than issuedAt");

  const protocols = value["protocols"];
  if (Array.isArray(protocols)) {
    if (protocols.length === 0) add("protocols", "must name at least one protocol version");
    uniqueStrings(protocols, "protocols", add, (p, path) => {
      if (!PROTOCOL.test(p)) add(path, 'must look like "tongban/1"');
    });
  } else if (Object.hasOwn(value, "protocols")) add("protocols", "must be an array of protocol versions");

  const crl = value["crl"];
  if (typeof crl === "string") {
    try {
      if (readCrl(crl).nextUpdate === undefined) add("crl", "the CRL has no nextUpdate");
    } catch {
      add("crl", "not a parseable PEM CRL");
    }
  } else if (Object.hasOwn(value, "crl")) add("crl", "must be the federation root's CRL as PEM");

  checkNodes(value["nodes"], Object.hasOwn(value, "nodes"), options.expiredAt, add);
  checkTables(value["mappingTables"], Object.hasOwn(value, "mappingTables"), add);

  const authority = value["authority"];
  if (options.authority === "required" && Object.hasOwn(value, "authority")) {
    if (isObj(authority)) {
      checkKeys(authority, "authority", ["kid"], [], add);
      if (typeof authority["kid"] !== "string" || !KID.test(authority["kid"]))
        add("authority.kid", "must be a kid: base64url SHA-256 of the signer certificate, 43 characters");
    } else add("authority", "must be an object { kid }");
  }
  return issues;
}

function checkNodes(nodes: unknown, present: boolean, expiredAt: Date | undefined, add: (path: string, reason: string) => void): void {
  if (!Array.isArray(nodes)) {
    if (present) add("nodes", "must be an array of nodes");
    return;
  }
  const nodeIds = new Map<string, number>();
  const regionOwner = new Map<string, string>();
  const kids = new Map<string, string>();
  nodes.forEach((node: unknown, i) => {
    const at = `nodes[${i}]`;
    if (!isObj(node)) return add(at, "must be an object");
    checkKeys(node, at, ["nodeId", "name", "regions", "endpoints", "suite", "certificates", "itemsServed", "receivesFor", "contact"], ["delivery"], add);
    const nodeId = node["nodeId"];
    let id: string | undefined;
    if (typeof nodeId === "string" && validateNodeId(nodeId).ok) {
      id = nodeId;
      const first = nodeIds.get(nodeId);
      if (first !== undefined) add(`${at}.nodeId`, `duplicate node id ${nodeId} (first at nodes[${first}])`);
      else nodeIds.set(nodeId, i);
    } else add(`${at}.nodeId`, "not a valid node id (e.g. cn.310118.qingpu)");
    text(node["name"], `${at}.name`, add);

    const regions = node["regions"];
    if (Array.isArray(regions)) {
      if (regions.length === 0) add(`${at}.regions`, "a node serves at least one region");
      uniqueStrings(regions, `${at}.regions`, add, (r, path) => {
        if (!validateRegionCode(r).ok) return add(path, `${r} is not a GB/T 2260 region code`);
        const owner = regionOwner.get(r);
        // One region, one node: routing by region must never have to choose.
        if (owner !== undefined) add(path, `region ${r} already belongs to ${owner}`);
        else regionOwner.set(r, id ?? at);
      });
    } else add(`${at}.regions`, "must be an array of GB/T 2260 codes");

    const delivery = node["delivery"];
    if (Object.hasOwn(node, "delivery") && delivery !== "push" && delivery !== "pull") add(`${at}.delivery`, 'must be "push" or "pull"');
    const pull = delivery === "pull";
    const endpoints = node["endpoints"];
    if (isObj(endpoints)) {
      // A pull node takes no inbound connections: partners never dial it, so it need not publish an endpoint.
      checkKeys(endpoints, `${at}.endpoints`, pull ? [] : ["federation"], pull ? ["federation", "platform"] : ["platform"], add);
      if (Object.hasOwn(endpoints, "federation")) endpoint(endpoints["federation"], `${at}.endpoints.federation`, add);
      if (Object.hasOwn(endpoints, "platform")) endpoint(endpoints["platform"], `${at}.endpoints.platform`, add);
    } else add(`${at}.endpoints`, pull ? "must be an object { federation?, platform? }" : "must be an object { federation, platform? }");

    const suite = node["suite"];
    if (!(SUITES as readonly unknown[]).includes(suite)) add(`${at}.suite`, `must be one of ${SUITES.join(", ")}`);

    const certs = node["certificates"];
    if (isObj(certs)) {
      checkKeys(certs, `${at}.certificates`, ["tls", "signing"], [], add);
      for (const use of ["tls", "signing"] as const) {
        const list = certs[use];
        const listPath = `${at}.certificates.${use}`;
        if (!Array.isArray(list)) {
          add(listPath, "must be an array of certificates");
          continue;
        }
        if (list.length === 0) add(listPath, `a node needs at least one ${use} certificate`);
        list.forEach((entry: unknown, j) =>
          checkCertificate(entry, `${listPath}[${j}]`, { use, nodeId: id, suite, expiredAt, kids }, add),
        );
      }
    } else add(`${at}.certificates`, "must be an object { tls: [...], signing: [...] }");

    for (const field of ["itemsServed", "receivesFor"] as const) {
      const items = node[field];
      if (Array.isArray(items))
        uniqueStrings(items, `${at}.${field}`, add, (code, path) => {
          if (!validateBasicCode(code).ok) add(path, `${code} is not a valid 基本编码 (12 characters)`);
        });
      else add(`${at}.${field}`, "must be an array of 基本编码");
    }

    const contact = node["contact"];
    if (isObj(contact)) {
      checkKeys(contact, `${at}.contact`, ["name"], ["email", "phone"], add);
      text(contact["name"], `${at}.contact.name`, add);
      if (Object.hasOwn(contact, "email") && !(typeof contact["email"] === "string" && EMAIL.test(contact["email"]) && contact["email"].length <= MAX_TEXT))
        add(`${at}.contact.email`, "not an e-mail address");
      if (Object.hasOwn(contact, "phone") && !(typeof contact["phone"] === "string" && PHONE.test(contact["phone"])))
        add(`${at}.contact.phone`, "not a telephone number (digits, spaces, hyphens, optional leading +)");
    } else add(`${at}.contact`, "must be an object { name, email?, phone? }");
  });
}

interface CertContext {
  readonly use: "tls" | "signing";
  readonly nodeId: string | undefined;
  readonly suite: unknown;
  readonly expiredAt: Date | undefined;
  /** kid → path of first occurrence, across the whole directory. */
  readonly kids: Map<string, string>;
}

function checkCertificate(entry: unknown, path: string, ctx: CertContext, add: (path: string, reason: string) => void): void {
  if (!isObj(entry)) return add(path, "must be an object { pem, notAfter? }");
  checkKeys(entry, path, ["pem"], ["notAfter"], add);
  const pem = entry["pem"];
  let cert: CertificateSummary;
  try {
    if (typeof pem !== "string") throw new TypeError("not a string");
    cert = describeCertificate(pem);
  } catch {
    // nodeIdOf throws for a certificate naming two nodes; that is unparseable for us too.
    return add(path, "not a parseable PEM certificate naming at most one node");
  }
  if (cert.isCa) add(path, "is a CA certificate, not a node certificate");
  if (cert.nodeId === undefined) add(path, "carries no urn:tongban:node: URI SAN");
  else if (ctx.nodeId !== undefined && cert.nodeId !== ctx.nodeId) add(path, `issued to node ${cert.nodeId}, not ${ctx.nodeId}`);
  const first = ctx.kids.get(cert.kid);
  if (first !== undefined) add(path, `duplicate certificate (also at ${first})`);
  else ctx.kids.set(cert.kid, path);
  if (!cert.keyUsage.includes("digitalSignature")) add(path, "keyUsage lacks digitalSignature");
  const tlsEku = cert.extendedKeyUsage.some((u) => TLS_EKUS.includes(u));
  if (ctx.use === "tls" && !tlsEku) add(path, "a TLS certificate needs the serverAuth or clientAuth EKU");
  if (ctx.use === "signing" && tlsEku) add(path, "a TLS certificate (serverAuth/clientAuth EKU) cannot be a signing certificate");
  if (ctx.use === "signing" && ctx.suite === "jose-v1" && cert.keyAlgorithm !== "ec-P-256" && cert.keyAlgorithm !== "ed25519")
    add(path, `suite jose-v1 signs with ES256 or EdDSA, but the key is ${cert.keyAlgorithm}`);
  if (ctx.expiredAt !== undefined && cert.notAfter.getTime() <= ctx.expiredAt.getTime())
    add(path, `expired at ${cert.notAfter.toISOString()}, before the directory's issuedAt`);
  if (Object.hasOwn(entry, "notAfter")) {
    const announced = isoTime(entry["notAfter"], `${path}.notAfter`, add, true);
    if (announced !== undefined && announced > cert.notAfter.getTime())
      add(`${path}.notAfter`, `announced ${entry["notAfter"] as string}, later than the certificate's own notAfter ${cert.notAfter.toISOString()}`);
  }
}

function checkTables(tables: unknown, present: boolean, add: (path: string, reason: string) => void): void {
  if (!Array.isArray(tables)) {
    if (present) add("mappingTables", "must be an array of { publisher, kind, version, digest }");
    return;
  }
  const seen = new Map<string, number>();
  tables.forEach((t: unknown, i) => {
    const at = `mappingTables[${i}]`;
    if (!isObj(t)) return add(at, "must be an object");
    checkKeys(t, at, ["publisher", "kind", "version", "digest"], [], add);
    text(t["publisher"], `${at}.publisher`, add);
    if (!(TABLE_KINDS as readonly unknown[]).includes(t["kind"])) add(`${at}.kind`, `must be one of ${TABLE_KINDS.join(", ")}`);
    if (!(Number.isSafeInteger(t["version"]) && (t["version"] as number) >= 1)) add(`${at}.version`, "must be a positive integer");
    if (typeof t["digest"] !== "string" || !SHA256_HEX.test(t["digest"])) add(`${at}.digest`, "must be a SHA-256 digest, 64 lower-case hex characters");
    const key = `${String(t["publisher"])}\u0000${String(t["kind"])}`;
    const first = seen.get(key);
    // One version of each table is in force at a time.
    if (first !== undefined) add(at, `a second ${String(t["kind"])} table of ${String(t["publisher"])} (first at mappingTables[${first}])`);
    else seen.set(key, i);
  });
}

/** `host:port` with a lower-case DNS name, an IPv4 address or a bracketed IPv6 address. */
function endpoint(value: unknown, path: string, add: (path: string, reason: string) => void): void {
  const bad = (): void => add(path, "must be host:port (DNS name, IPv4 or [IPv6], port 1-65535)");
  if (typeof value !== "string") return bad();
  const colon = value.lastIndexOf(":");
  if (colon <= 0) return bad();
  const host = value.slice(0, colon);
  const port = value.slice(colon + 1);
  if (!PORT.test(port) || Number(port) > 65535) return bad();
  if (host.startsWith("[") && host.endsWith("]")) {
    if (isIP(host.slice(1, -1)) !== 6) bad();
  } else if (!(isIP(host) === 4 || (DNS_HOST.test(host) && !/^[0-9.]+$/.test(host)))) bad();
}

function isoTime(value: unknown, path: string, add: (path: string, reason: string) => void, present: boolean): number | undefined {
  if (!present) return undefined;
  if (typeof value === "string") {
    const t = Date.parse(value);
    // Exactly Date#toISOString's form, so that equal instants are equal strings.
    if (!Number.isNaN(t) && new Date(t).toISOString() === value) return t;
  }
  add(path, "must be an ISO 8601 UTC time as Date#toISOString writes it (e.g. 2026-11-22T00:00:00.000Z)");
  return undefined;
}

function text(value: unknown, path: string, add: (path: string, reason: string) => void): void {
  if (typeof value !== "string" || value.trim() === "" || value.length > MAX_TEXT) add(path, `must be non-empty text of at most ${MAX_TEXT} characters`);
}

function uniqueStrings(list: readonly unknown[], path: string, add: (path: string, reason: string) => void, each: (value: string, path: string) => void): void {
  const seen = new Set<string>();
  list.forEach((v, i) => {
    const at = `${path}[${i}]`;
    if (typeof v !== "string") return add(at, "must be a string");
    if (seen.has(v)) return add(at, `duplicate ${v}`);
    seen.add(v);
    each(v, at);
  });
}

function checkKeys(obj: Obj, path: string, required: readonly string[], optional: readonly string[], add: (path: string, reason: string) => void): void {
  const join = (k: string): string => (path === "" ? k : `${path}.${k}`);
  for (const k of required) if (!Object.hasOwn(obj, k)) add(join(k), "is required");
  for (const k of Object.keys(obj))
    if (!required.includes(k) && !optional.includes(k) && !(path === "" && k === "authority")) add(join(k), "is not a directory field");
}

function isObj(value: unknown): value is Obj {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
