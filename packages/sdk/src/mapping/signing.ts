import { createHash, sign, verify, type KeyObject } from "node:crypto";
import { TongbanError } from "../errors/index.js";
import type { SignatureAlgorithm } from "../trust/signer-resolver.js";
import { canonicalBytes } from "./canonical-json.js";
import type { MappingTable } from "./model.js";
import { parseTable } from "./parse-table.js";

/** The JWS `typ` of a signed mapping table. */
export const MAPPING_TABLE_JWS_TYPE = "tongban-mapping+jws";

/** Who signs a table. */
export interface TableSigner {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly algorithm: Exclude<SignatureAlgorithm, "SM2SM3">;
}

/** Resolves a signer's key id to a public key (e.g. via TrustStore.resolveSigner). */
export type TableKeyResolver = (kid: string) => KeyObject | { publicKey: KeyObject };

const b64u = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");

/**
 * Signs a table: a JWS compact serialization whose payload is the table's
 * canonical JSON and whose protected header names the publisher, kind and
 * version, so a verifier knows what it holds before parsing the payload.
 */
export function signTable(table: MappingTable, signer: TableSigner): string {
  const header = { alg: signer.algorithm, kid: signer.kid, typ: MAPPING_TABLE_JWS_TYPE, tbpub: table.publisher, tbkind: table.kind, tbver: table.version };
  // Sign the table as parsing normalises it, so verification's canonical check holds.
  const normalized = parseTable(JSON.parse(JSON.stringify(table)) as unknown, "(table to sign)");
  const input = `${b64u(JSON.stringify(header))}.${b64u(canonicalBytes(normalized))}`;
  const value = signer.algorithm === "ES256" ? sign("sha256", Buffer.from(input), { key: signer.privateKey, dsaEncoding: "ieee-p1363" }) : sign(null, Buffer.from(input), signer.privateKey);
  return `${input}.${b64u(value)}`;
}

/** A verified signed table. */
export interface VerifiedTable {
  readonly table: MappingTable;
  readonly kid: string;
  /** SHA-256 hex of the signed document's bytes. */
  readonly documentDigest: string;
}

/**
 * Verifies a signed table and parses it. Any failure — bad signature,
 * unknown key, header and payload disagreeing, payload not canonical — is
 * MAPPING_SIGNATURE_INVALID; a payload that verifies but breaks the schema
 * is MAPPING_TABLE_INVALID.
 */
export function verifyTable(document: string, resolve: TableKeyResolver, file = "(signed table)"): VerifiedTable {
  const bad = (reason: string, cause?: unknown): never => {
    throw new TongbanError("MAPPING_SIGNATURE_INVALID", `${file}: ${reason}`, { details: { file, reason }, ...(cause === undefined ? {} : { cause }) });
  };
  const parts = document.trim().split(".");
  if (parts.length !== 3) bad("not a JWS compact serialization");
  const [h, p, s] = parts as [string, string, string];
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch (err) {
    return bad("the protected header is not JSON", err);
  }
  if (header.typ !== MAPPING_TABLE_JWS_TYPE || typeof header.kid !== "string" || (header.alg !== "ES256" && header.alg !== "EdDSA")) bad("unexpected protected header");
  let key: KeyObject;
  try {
    const k = resolve(header.kid as string);
    key = "publicKey" in k ? k.publicKey : k;
  } catch (err) {
    return bad(`the signer ${String(header.kid)} is not trusted`, err);
  }
  const input = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s, "base64url");
  const ok = header.alg === "ES256" ? verify("sha256", input, { key, dsaEncoding: "ieee-p1363" }, sig) : verify(null, input, key, sig);
  if (!ok) bad("the signature does not verify");
  const payload = Buffer.from(p, "base64url");
  let json: unknown;
  try {
    json = JSON.parse(payload.toString("utf8"));
  } catch (err) {
    return bad("the payload is not JSON", err);
  }
  const table = parseTable(json, file);
  if (!Buffer.from(canonicalBytes(table)).equals(payload)) bad("the payload is not the table's canonical JSON");
  if (header.tbpub !== table.publisher || header.tbkind !== table.kind || header.tbver !== table.version) bad("the protected header and the table disagree on publisher, kind or version");
  return { table, kid: header.kid as string, documentDigest: createHash("sha256").update(document.trim()).digest("hex") };
}
