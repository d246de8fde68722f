import { createPrivateKey, type KeyObject } from "node:crypto";
import { CompactSign, compactVerify, decodeProtectedHeader } from "jose";
import { TongbanError } from "../errors/index.js";
import { canonicalJson } from "../mapping/canonical-json.js";
import { keyIdOf } from "../pki/index.js";
import { toDer } from "../pki/pem.js";
import type { ResolvedSigner, TrustStore } from "../trust/index.js";
import { signatureAlgorithmOf } from "../trust/index.js";
import { X509Certificate } from "node:crypto";
import { utf8 } from "./bytes.js";

/**
 * The key a node signs checkpoints and cosignatures with: its envelope
 * signing key, and that key's certificate chain, leaf first (the federation
 * root may be left out). The chain travels in the JWS `x5c`, so a statement
 * verifies offline with only the trust anchor.
 */
export interface EvidenceSigner {
  /** PKCS#8 PEM or a KeyObject. */
  readonly privateKey: KeyObject | string;
  readonly certificateChain: readonly (string | Uint8Array)[];
}

/** Signs `payload` (encoded as canonical JSON) as a compact JWS with typ, kid and x5c. */
export async function signStatement(payload: Record<string, unknown>, typ: string, signer: EvidenceSigner): Promise<string> {
  if (signer === null || typeof signer !== "object") throw new TypeError("a signer is required");
  const key = typeof signer.privateKey === "string" ? createPrivateKey(signer.privateKey) : signer.privateKey;
  const chain = signer.certificateChain.map((c) => toDer(c, "CERTIFICATE"));
  const leaf = chain[0];
  if (leaf === undefined) throw new TypeError("certificateChain must hold at least the signer's certificate");
  const alg = signatureAlgorithmOf(new X509Certificate(leaf).publicKey);
  if (alg === "SM2SM3") throw new TypeError("checkpoints are signed with ES256 or EdDSA");
  const x5c = chain.map((der) => Buffer.from(der).toString("base64"));
  return new CompactSign(new TextEncoder().encode(canonicalJson(payload)))
    .setProtectedHeader({ alg, kid: keyIdOf(leaf), typ, x5c })
    .sign(key);
}

/** A statement whose signature and signer chain were verified. */
export interface VerifiedStatement {
  readonly payload: Record<string, unknown>;
  readonly signer: ResolvedSigner;
}

function invalid(message: string, details: Record<string, unknown> = {}, cause?: unknown): never {
  throw new TongbanError("AUDIT_CHECKPOINT_INVALID", message, cause === undefined ? { details } : { details, cause });
}

/** Decodes the payload of a compact JWS without verifying anything. */
export function statementPayload(jws: string): Record<string, unknown> {
  if (typeof jws !== "string") invalid("a signed statement must be a compact JWS string");
  const parts = jws.split(".");
  if (parts.length !== 3) invalid("not a compact JWS");
  const text = utf8(new Uint8Array(Buffer.from(parts[1] as string, "base64url")));
  let value: unknown;
  try {
    value = JSON.parse(text ?? "");
  } catch (err) {
    invalid("the JWS payload is not JSON", {}, err);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) invalid("the JWS payload is not a JSON object");
  return value as Record<string, unknown>;
}

/**
 * Verifies a compact JWS statement: `typ`; `x5c` whose first certificate
 * has the header `kid`; that certificate chains to the trust store's anchor
 * (the other x5c certificates are offered as intermediates) and is valid,
 * unrevoked, at `at(payload)`; `alg` is the one its key signs with; the
 * signature; and the payload is a JSON object.
 *
 * The x5c certificates are added to `trust` (they are checked on use, so
 * this cannot make an untrusted signer pass).
 *
 * @throws TongbanError AUDIT_CHECKPOINT_INVALID, or a TRUST_* code from the
 *   trust store.
 */
export async function verifyStatement(jws: string, typ: string, trust: TrustStore, at: (payload: Record<string, unknown>) => Date): Promise<VerifiedStatement> {
  const payload = statementPayload(jws);
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws);
  } catch (err) {
    invalid("the JWS protected header cannot be decoded", {}, err);
  }
  if (header.typ !== typ) invalid(`expected a ${typ}, found typ ${JSON.stringify(header.typ)}`, { typ: header.typ });
  if (typeof header.kid !== "string") invalid("the JWS header has no kid");
  const x5c = header.x5c;
  if (!Array.isArray(x5c) || x5c.length === 0 || !x5c.every((c) => typeof c === "string")) invalid("the JWS header has no x5c chain");
  const ders = x5c.map((c) => new Uint8Array(Buffer.from(c, "base64")));
  if (keyIdOf(ders[0] as Uint8Array) !== header.kid) invalid("the kid is not the fingerprint of the first x5c certificate", { kid: header.kid });
  for (const der of ders) if (keyIdOf(der) !== trust.anchorKid) trust.addCertificate(der);
  const when = at(payload);
  const signer = trust.resolveSigner(header.kid, when);
  if (header.alg !== signer.algorithm) invalid(`the signer's key signs with ${signer.algorithm}, not ${String(header.alg)}`, { alg: header.alg });
  try {
    await compactVerify(jws, signer.publicKey, { algorithms: [signer.algorithm] });
  } catch (err) {
    invalid("the signature does not verify", { kid: header.kid }, err);
  }
  return { payload, signer };
}
