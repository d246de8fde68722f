import { TongbanError } from "../errors/index.js";
import { toDer, toPem } from "../pki/pem.js";
import { TrustStore } from "../trust/index.js";
import { DIRECTORY_PROTOCOLS, type DirectoryIssue, type DirectoryNode, type UnsignedDirectory } from "./model.js";
import { collectDirectoryIssues, throwIfIssues } from "./validate.js";

/** A certificate as given to {@link buildDirectory}: PEM, or PEM with a retirement announcement. */
export type DirectoryCertificateInput = string | { readonly pem: string; readonly notAfter?: string | Date };

/** A node as given to {@link buildDirectory}; lists default to empty where that makes sense. */
export interface DirectoryNodeInput extends Omit<DirectoryNode, "certificates" | "itemsServed" | "receivesFor"> {
  readonly certificates: { readonly tls: readonly DirectoryCertificateInput[]; readonly signing: readonly DirectoryCertificateInput[] };
  readonly itemsServed?: readonly string[];
  readonly receivesFor?: readonly string[];
}

/** What {@link buildDirectory} takes: a directory with friendlier types and defaults. */
export interface DirectoryInput extends Omit<UnsignedDirectory, "issuedAt" | "expiresAt" | "protocols" | "nodes" | "mappingTables"> {
  readonly issuedAt: string | Date;
  readonly expiresAt: string | Date;
  /** Defaults to `["tongban/1"]`. */
  readonly protocols?: readonly string[];
  readonly nodes: readonly DirectoryNodeInput[];
  /** Defaults to none. */
  readonly mappingTables?: UnsignedDirectory["mappingTables"];
}

/** Options for {@link buildDirectory}. */
export interface BuildDirectoryOptions {
  /**
   * The federation root (PEM or DER). When given, the CRL must be signed by
   * it and every certificate must chain to it and be unrevoked at issuedAt,
   * so the authority cannot publish a certificate nodes would then refuse.
   */
  readonly anchor?: string | Uint8Array;
}

/**
 * Builds an unsigned directory from input, normalising it (times as
 * `Date#toISOString`, PEM re-encoded with LF line ends, defaults filled) and
 * validating it: node ids, regions (GB/T 2260, none served by two nodes),
 * endpoints, suites, 基本编码 lists, certificates (parse, not CA, carry the
 * node's own `urn:tongban:node:` SAN, fit for their list, not expired at
 * issuedAt, no duplicates), the CRL, mapping table references, and
 * expiresAt after issuedAt.
 *
 * @throws TongbanError DIRECTORY_INVALID naming the first problem as
 *   `details.path` (e.g. `nodes[2].certificates.tls[0]`) and `details.reason`,
 *   with every problem in `details.issues`.
 *
 * @example
 * ```ts
 * const dir = buildDirectory({ federation: { id: "yangtze-delta", name: "长三角" }, version: 7,
 *   issuedAt: new Date(), expiresAt: new Date(Date.now() + 7 * 86_400_000), crl, nodes: [...] }, { anchor: rootPem });
 * const jws = signDirectory(dir, { key, cert });
 * ```
 */
export function buildDirectory(input: DirectoryInput, options: BuildDirectoryOptions = {}): UnsignedDirectory {
  if (input === null || typeof input !== "object") throw new TypeError("buildDirectory needs a directory input object");
  const raw = input as unknown as Record<string, unknown>;
  const dir = {
    ...raw,
    issuedAt: isoOf(input.issuedAt),
    expiresAt: isoOf(input.expiresAt),
    protocols: input.protocols ?? [...DIRECTORY_PROTOCOLS],
    mappingTables: input.mappingTables ?? [],
    crl: typeof input.crl === "string" ? normalisePem(input.crl, ["X509 CRL", "CRL"], "X509 CRL") : input.crl,
    nodes: Array.isArray(input.nodes) ? input.nodes.map(normaliseNode) : input.nodes,
  };
  const issuedAt = Date.parse(String(dir.issuedAt));
  const issues = collectDirectoryIssues(dir, { authority: "absent", ...(Number.isNaN(issuedAt) ? {} : { expiredAt: new Date(issuedAt) }) });
  throwIfIssues(issues);
  const built = dir as unknown as UnsignedDirectory;
  if (options.anchor !== undefined) throwIfIssues(anchorIssues(built, options.anchor));
  return built;
}

/** Chain, revocation and CRL-signature checks against the anchor, at issuedAt. */
function anchorIssues(dir: UnsignedDirectory, anchor: string | Uint8Array): DirectoryIssue[] {
  const issues: DirectoryIssue[] = [];
  const store = new TrustStore({ anchor });
  try {
    store.setCrl(dir.crl);
  } catch (err) {
    issues.push({ path: "crl", reason: `not accepted by the anchor: ${reasonOf(err)}` });
    return issues;
  }
  const at = new Date(dir.issuedAt);
  dir.nodes.forEach((node, i) => {
    for (const use of ["tls", "signing"] as const)
      node.certificates[use].forEach((c, j) => {
        try {
          if (use === "signing") store.resolveSigner(store.addCertificate(c.pem), at);
          else store.verifyPeerCertificate(c.pem, at);
        } catch (err) {
          issues.push({ path: `nodes[${i}].certificates.${use}[${j}]`, reason: reasonOf(err) });
        }
      });
  });
  return issues;
}

function reasonOf(err: unknown): string {
  return err instanceof TongbanError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
}

function normaliseNode(node: DirectoryNodeInput): unknown {
  if (node === null || typeof node !== "object") return node;
  const certs = node.certificates as unknown;
  const certificates =
    certs !== null && typeof certs === "object"
      ? Object.fromEntries(
          Object.entries(certs).map(([use, list]) => [use, Array.isArray(list) ? list.map(normaliseCertificate) : list]),
        )
      : certs;
  return { ...node, itemsServed: node.itemsServed ?? [], receivesFor: node.receivesFor ?? [], certificates };
}

function normaliseCertificate(entry: unknown): unknown {
  if (typeof entry === "string") return { pem: normalisePem(entry, ["CERTIFICATE"], "CERTIFICATE") };
  if (entry === null || typeof entry !== "object") return entry;
  const e = entry as Record<string, unknown>;
  const out: Record<string, unknown> = { ...e };
  if (typeof e["pem"] === "string") out["pem"] = normalisePem(e["pem"], ["CERTIFICATE"], "CERTIFICATE");
  if (e["notAfter"] !== undefined) out["notAfter"] = isoOf(e["notAfter"]);
  return out;
}

// Re-encoding gives every publisher the same bytes for the same certificate
// (no CRLF, no trailing text), so digests and diffs are stable. Input that
// does not decode is left for the validator to report with its path.
function normalisePem(pem: string, labels: readonly string[], label: string): string {
  try {
    return toPem(toDer(pem, labels), label);
  } catch {
    return pem;
  }
}

function isoOf(value: unknown): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (typeof value === "string") {
    // Any ISO 8601 instant with an explicit zone is accepted and rewritten in the one canonical form.
    const t = Date.parse(value);
    if (/(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(t)) return new Date(t).toISOString();
  }
  return value;
}
