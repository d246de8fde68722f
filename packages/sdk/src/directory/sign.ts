import { X509Certificate, createPrivateKey, createPublicKey, sign, type KeyObject } from "node:crypto";
import { canonicalJson } from "../mapping/index.js";
import { keyIdOf } from "../pki/index.js";
import { toDer } from "../pki/pem.js";
import { b64u } from "./jws.js";
import { DIRECTORY_JWS_TYPE, type FederationDirectory, type UnsignedDirectory } from "./model.js";
import { directorySignerFederations } from "./signer-certificate.js";
import { collectDirectoryIssues, throwIfIssues } from "./validate.js";

/** Who signs a directory: a directory-signing certificate (or the root itself) and its private key. */
export interface DirectorySigner {
  /** PKCS#8 PEM or a KeyObject; must belong to `cert`. */
  readonly key: string | KeyObject;
  /**
   * A directory-signing certificate for the directory's federation (see
   * {@link issueDirectorySigningCertificate}), or the federation root
   * certificate itself when the root signs directly. PEM or DER.
   */
  readonly cert: string | Uint8Array;
  /**
   * The federation root certificate, placed after the signer in `x5c` so a
   * verifier that holds only a TrustStore (which knows the anchor by kid)
   * can check the signer's issuer. Unneeded when the root signs.
   */
  readonly anchor?: string | Uint8Array;
}

/**
 * Signs a directory: sets `authority.kid` to the signer certificate's kid
 * and returns a JWS compact serialization (payload attached) whose payload
 * is the directory's canonical JSON and whose protected header is
 * `{ alg, kid, typ: "tongban-directory+jws", x5c }`. ES256 keys sign with
 * IEEE P1363 (r‖s) signatures as JWS requires; Ed25519 keys sign EdDSA.
 *
 * @throws TongbanError DIRECTORY_INVALID when the directory breaks a rule, or
 *   outlives the signing certificate (its issuedAt–expiresAt window must lie
 *   within the certificate's validity); TypeError when the key does not
 *   match the certificate, is not P-256 or Ed25519, or the certificate is
 *   neither a self-signed CA nor a directory signer for this federation.
 *
 * @example
 * ```ts
 * const jws = signDirectory(dir, { key: signer.privateKeyPem, cert: signer.certificatePem, anchor: root.certificatePem });
 * await writeFile("directory.jws", jws);
 * ```
 */
export function signDirectory(dir: UnsignedDirectory | FederationDirectory, signer: DirectorySigner): string {
  if (dir === null || typeof dir !== "object") throw new TypeError("signDirectory needs a directory");
  if (signer === null || typeof signer !== "object") throw new TypeError("signDirectory needs { key, cert }");
  const der = toDer(signer.cert, "CERTIFICATE");
  const cert = new X509Certificate(der);
  const key = typeof signer.key === "string" ? createPrivateKey(signer.key) : signer.key;
  if (key.type !== "private") throw new TypeError("key must be a private key");
  const publicDer = (k: KeyObject): string => k.export({ format: "der", type: "spki" }).toString("base64");
  if (publicDer(createPublicKey(key)) !== publicDer(cert.publicKey)) throw new TypeError("key does not belong to cert");
  const alg = algorithmOf(key);
  const kid = keyIdOf(der);
  const { authority: _ignored, ...unsigned } = dir as FederationDirectory;
  const full: FederationDirectory = { ...unsigned, authority: { kid } };
  throwIfIssues(collectDirectoryIssues(full, { authority: "required" }));

  const isRoot = cert.ca && cert.checkIssued(cert);
  if (!isRoot && !directorySignerFederations(der).includes(full.federation.id))
    throw new TypeError(`cert is neither the federation root nor a directory signer for ${full.federation.id}`);
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (Date.parse(full.issuedAt) < from || Date.parse(full.expiresAt) > to)
    throwIfIssues([{ path: "expiresAt", reason: `the directory's validity must lie within the signing certificate's (${new Date(from).toISOString()} – ${new Date(to).toISOString()})` }]);

  const x5c = [Buffer.from(der).toString("base64")];
  if (!isRoot && signer.anchor !== undefined) x5c.push(Buffer.from(toDer(signer.anchor, "CERTIFICATE")).toString("base64"));
  const header = { alg, kid, typ: DIRECTORY_JWS_TYPE, x5c };
  const input = `${b64u(canonicalJson(header))}.${b64u(canonicalJson(full))}`;
  const signature =
    alg === "ES256" ? sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }) : sign(null, Buffer.from(input), key);
  return `${input}.${b64u(signature)}`;
}

/** The JWS alg for a signing key. */
export function algorithmOf(key: KeyObject): "ES256" | "EdDSA" {
  if (key.asymmetricKeyType === "ed25519") return "EdDSA";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  throw new TypeError("directory signing keys must be ECDSA P-256 or Ed25519");
}
