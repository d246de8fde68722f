import { TongbanError } from "../errors/index.js";
import { toDer } from "../pki/pem.js";
import { fromB64u, toB64u, utf8 } from "./bytes.js";
import { decodeCheckpoint } from "./checkpoint.js";
import { decodeEntry } from "./entry.js";
import { inclusionProof, type LeafHashAt, type TreeReader } from "./merkle.js";

/** The `format` of every evidence bundle. */
export const BUNDLE_FORMAT = "tongban-evidence-bundle";
/** The bundle format version this SDK writes and reads. */
export const BUNDLE_VERSION = 1;

/** One entry in a bundle; every byte string base64url without padding. */
export interface BundleEntry {
  /** The canonical entry bytes (the Merkle leaf). */
  readonly entry: string;
  /** The payload bytes; absent when deleted by retention before export. */
  readonly payload?: string;
  /** Inclusion proof of the entry in the checkpoint's tree, leaf upwards. */
  readonly proof: readonly string[];
}

/** A case's evidence as one self-contained JSON document (docs/evidence.md "Bundle"). */
export interface CaseBundle {
  readonly format: typeof BUNDLE_FORMAT;
  readonly version: typeof BUNDLE_VERSION;
  /** The node whose log the entries come from. */
  readonly origin: string;
  readonly caseId: string;
  /** When the bundle was made (ISO 8601); informative, not signed. */
  readonly exportedAt: string;
  /** The origin's signed checkpoint (compact JWS) every proof leads to. */
  readonly checkpoint: string;
  /** Witness cosignatures of that checkpoint (compact JWS). */
  readonly cosignatures: readonly string[];
  /** Extra certificates (base64 DER), e.g. the partners' envelope signing certificates. */
  readonly certificates: readonly string[];
  /** The case's entries in log order. */
  readonly entries: readonly BundleEntry[];
}

/** Input to {@link buildCaseBundle}. */
export interface BuildCaseBundleInput {
  readonly caseId: string;
  /** The signed checkpoint; its tree must contain every entry. */
  readonly checkpoint: string;
  readonly cosignatures?: readonly string[];
  /** Entry bytes, payload when still held, and the proof (or give `tree`). */
  readonly entries: readonly { readonly entry: Uint8Array; readonly payload?: Uint8Array | undefined; readonly proof?: readonly Uint8Array[] }[];
  /** Computes missing inclusion proofs. */
  readonly tree?: TreeReader | LeafHashAt;
  readonly certificates?: readonly (string | Uint8Array)[];
  readonly exportedAt?: Date;
}

/**
 * Builds a case bundle. Nothing is verified here beyond shape: run
 * {@link verifyCaseBundle} on the result before handing it out.
 *
 * @throws TypeError for a missing proof without `tree`, or an entry past
 *   the checkpoint's tree.
 *
 * @example
 * ```ts
 * const bundle = await buildCaseBundle({ caseId, checkpoint, cosignatures, entries, tree: store.treeReader() });
 * await writeFile(`${caseId}.evidence.json`, serializeCaseBundle(bundle));
 * ```
 */
export async function buildCaseBundle(input: BuildCaseBundleInput): Promise<CaseBundle> {
  const cp = decodeCheckpoint(input.checkpoint);
  const decoded = input.entries.map((e) => ({ ...e, index: decodeEntry(e.entry).index })).sort((a, b) => a.index - b.index);
  const entries: BundleEntry[] = [];
  for (const e of decoded) {
    if (e.index >= cp.treeSize) throw new TypeError(`entry ${e.index} is not in the checkpoint's tree of ${cp.treeSize}`);
    let proof = e.proof;
    if (proof === undefined) {
      if (input.tree === undefined) throw new TypeError(`entry ${e.index} has no proof and no tree was given`);
      proof = await inclusionProof(e.index, cp.treeSize, input.tree);
    }
    const out: BundleEntry = { entry: toB64u(e.entry), proof: proof.map(toB64u) };
    entries.push(e.payload === undefined ? out : { ...out, payload: toB64u(e.payload) });
  }
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    origin: cp.origin,
    caseId: input.caseId,
    exportedAt: (input.exportedAt ?? new Date()).toISOString(),
    checkpoint: input.checkpoint,
    cosignatures: [...(input.cosignatures ?? [])],
    certificates: (input.certificates ?? []).map((c) => Buffer.from(toDer(c, "CERTIFICATE")).toString("base64")),
    entries,
  };
}

/** The bundle as UTF-8 JSON text (two-space indented). */
export function serializeCaseBundle(bundle: CaseBundle): string {
  return `${JSON.stringify(bundle, null, 2)}\n`;
}

/**
 * Parses and shape-checks a bundle (JSON text, bytes, or an object).
 * Signatures and proofs are not checked here.
 *
 * @throws TongbanError BUNDLE_INVALID naming the first problem.
 */
export function parseCaseBundle(input: string | Uint8Array | unknown): CaseBundle {
  const bad = (why: string): never => {
    throw new TongbanError("BUNDLE_INVALID", `not an evidence bundle: ${why}`, { details: { reason: "malformed", why } });
  };
  let value: unknown = input;
  if (input instanceof Uint8Array) value = utf8(input) ?? bad("not UTF-8");
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      bad("not JSON");
    }
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) bad("not a JSON object");
  const b = value as Record<string, unknown>;
  if (b["format"] !== BUNDLE_FORMAT) bad(`format is not ${BUNDLE_FORMAT}`);
  if (b["version"] !== BUNDLE_VERSION) bad(`unsupported version ${JSON.stringify(b["version"])}`);
  for (const k of ["origin", "caseId", "exportedAt", "checkpoint"]) if (typeof b[k] !== "string") bad(`${k} is not a string`);
  const strings = (k: string, check: (s: string) => boolean): string[] => {
    const a = b[k];
    if (!Array.isArray(a) || !a.every((s) => typeof s === "string" && check(s))) bad(`${k} is not a list of well-formed strings`);
    return a as string[];
  };
  const cosignatures = strings("cosignatures", () => true);
  const certificates = strings("certificates", (s) => /^[A-Za-z0-9+/]+=*$/.test(s));
  if (!Array.isArray(b["entries"])) bad("entries is not a list");
  const entries = (b["entries"] as unknown[]).map((e, i): BundleEntry => {
    if (e === null || typeof e !== "object") bad(`entries[${i}] is not an object`);
    const r = e as Record<string, unknown>;
    if (fromB64u(r["entry"]) === undefined) bad(`entries[${i}].entry is not base64url`);
    if (r["payload"] !== undefined && fromB64u(r["payload"]) === undefined) bad(`entries[${i}].payload is not base64url`);
    const proof = r["proof"];
    if (!Array.isArray(proof) || !proof.every((p) => fromB64u(p)?.byteLength === 32)) bad(`entries[${i}].proof is not a list of hashes`);
    const out: BundleEntry = { entry: r["entry"] as string, proof: proof as string[] };
    return r["payload"] === undefined ? out : { ...out, payload: r["payload"] as string };
  });
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    origin: b["origin"] as string,
    caseId: b["caseId"] as string,
    exportedAt: b["exportedAt"] as string,
    checkpoint: b["checkpoint"] as string,
    cosignatures,
    certificates,
    entries,
  };
}
