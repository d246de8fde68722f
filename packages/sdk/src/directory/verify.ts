import { X509Certificate, createHash, verify } from "node:crypto";
import { TongbanError } from "../errors/index.js";
import { canonicalJson } from "../mapping/index.js";
import { keyIdOf, nodeIdOf, readCrl } from "../pki/index.js";
import { toDer } from "../pki/pem.js";
import { KeyUsageFlags } from "../pki/x509-library.js";
import { TrustStore } from "../trust/index.js";
import { fromB64u, utf8 } from "./jws.js";
import { DIRECTORY_JWS_TYPE, type FederationDirectory } from "./model.js";
import { directorySignerFederations, issuedBy, keyUsageOf } from "./signer-certificate.js";
import { normalizeSerial } from "../pki/der-integer.js";
import { collectDirectoryIssues, throwIfIssues } from "./validate.js";

/** Options for {@link verifyDirectory}. Give `anchorPem` or `trustStore`. */
export interface VerifyDirectoryOptions {
  /** The federation root certificate (PEM or DER): the node's one out-of-band anchor. */
  readonly anchorPem?: string | Uint8Array;
  /**
   * A trust store built on the anchor. The store knows its anchor only by
   * kid, so the signer's issuer is taken from the JWS `x5c` when its kid
   * matches (sign with `anchor` set), or is the signer itself when the root
   * signed.
   */
  readonly trustStore?: TrustStore;
  /** The time to judge expiry at; defaults to now. */
  readonly now?: Date;
  /** The version of the directory the node holds; a lower one is refused (no rollback). */
  readonly held?: number;
  /** How long past expiresAt the directory is still used, with alerts. Default 0. */
  readonly graceMs?: number;
}

/** Something an operator must hear about now (the node still works). */
export interface DirectoryAlert {
  readonly kind: "directory-expired";
  readonly message: string;
  readonly expiredAt: string;
  /** When verification starts throwing DIRECTORY_STALE. */
  readonly graceEndsAt: string;
}

/** A directory whose signature, signer and shape were verified. */
export interface VerifiedDirectory {
  readonly directory: FederationDirectory;
  /** `current` before expiresAt; `expired-within-grace` after it, until the grace ends. */
  readonly status: "current" | "expired-within-grace";
  /** Empty when current. */
  readonly alerts: readonly DirectoryAlert[];
  /** The signer: its kid and whether it was the federation root itself. */
  readonly signer: { readonly kid: string; readonly root: boolean; readonly notAfter: Date };
  /** SHA-256 hex of the signed document as received: identifies this exact publication. */
  readonly digest: string;
}

/**
 * Verifies a signed directory, in this order (docs/directory.md, "Verification"):
 * JWS form and header (`typ`, `alg`, `kid`, `x5c`); the signer certificate's
 * kid; the signer is the anchor itself, or a non-CA certificate issued by the
 * anchor with digitalSignature and the `urn:tongban:directory:<federation>`
 * SAN and no node SAN; the signature; the payload is UTF-8 canonical JSON
 * meeting every directory rule; `authority.kid` equals the header kid; the
 * directory's validity lies within the signer's; the CRL is signed by the
 * anchor and does not revoke the signer; then rollback against `held`, then
 * expiry and grace.
 *
 * @throws TongbanError DIRECTORY_INVALID for anything wrong with the
 *   document or its signature; DIRECTORY_STALE when its version is lower
 *   than `held` or it expired more than `graceMs` ago; TypeError when
 *   neither anchorPem nor trustStore is given or an option is malformed.
 *
 * @example
 * ```ts
 * const { directory, status, alerts } = verifyDirectory(bytes, { anchorPem, held: current.version, graceMs: 86_400_000 });
 * for (const a of alerts) log.warn(a.message);
 * ```
 */
export function verifyDirectory(document: string | Uint8Array, options: VerifyDirectoryOptions): VerifiedDirectory {
  if (options === null || typeof options !== "object") throw new TypeError("verifyDirectory needs options");
  const now = options.now ?? new Date();
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new TypeError("now must be a valid Date");
  const graceMs = options.graceMs ?? 0;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new TypeError("graceMs must be a non-negative number");
  if (options.held !== undefined && !Number.isSafeInteger(options.held)) throw new TypeError("held must be an integer version");
  if (options.anchorPem === undefined && options.trustStore === undefined) throw new TypeError("give anchorPem or trustStore");

  const bad = (reason: string, path = "$", cause?: unknown): never => {
    throw new TongbanError("DIRECTORY_INVALID", `the directory is invalid: ${reason}`, {
      details: { path, reason },
      ...(cause === undefined ? {} : { cause }),
    });
  };
  const text = typeof document === "string" ? document : utf8(document);
  if (text === undefined) return bad("the document is not UTF-8");
  const parts = text.trim().split(".");
  if (parts.length !== 3) return bad("not a JWS compact serialization");
  const [h, p, s] = parts as [string, string, string];
  const header = parseJson(fromB64u(h));
  if (header === undefined || header === null || typeof header !== "object" || Array.isArray(header)) return bad("the protected header is not a JSON object", "header");
  const hdr = header as Record<string, unknown>;
  if (hdr["typ"] !== DIRECTORY_JWS_TYPE) return bad(`typ must be ${DIRECTORY_JWS_TYPE}`, "header.typ");
  // No extension is understood, so any critical one must be refused (RFC 7515 §4.1.11).
  if (Object.hasOwn(hdr, "crit")) return bad("crit extensions are not supported", "header.crit");
  const alg = hdr["alg"];
  if (alg !== "ES256" && alg !== "EdDSA") return bad("alg must be ES256 or EdDSA", "header.alg");
  const kid = hdr["kid"];
  if (typeof kid !== "string") return bad("kid is missing", "header.kid");
  const x5c = hdr["x5c"];
  if (!Array.isArray(x5c) || x5c.length < 1 || x5c.length > 2 || !x5c.every((c) => typeof c === "string"))
    return bad("x5c must hold the signer certificate and at most the anchor after it", "header.x5c");
  const chain = (x5c as string[]).map((c, i) => {
    try {
      const der = new Uint8Array(Buffer.from(c, "base64"));
      return { der, cert: new X509Certificate(der) };
    } catch (err) {
      return bad("an x5c certificate cannot be parsed", `header.x5c[${i}]`, err);
    }
  });
  const signer = chain[0] as { der: Uint8Array; cert: X509Certificate };
  if (keyIdOf(signer.der) !== kid) return bad("kid is not the kid of the x5c signer certificate", "header.kid");

  // Which certificate is the anchor: given, or recognised by the store's anchor kid.
  let anchorDer: Uint8Array;
  if (options.anchorPem !== undefined) anchorDer = toDer(options.anchorPem, "CERTIFICATE");
  else {
    const want = (options.trustStore as TrustStore).anchorKid;
    const found = chain.find((c) => keyIdOf(c.der) === want);
    if (found === undefined) return bad("the signer does not chain to the trust store's anchor (x5c lacks it)", "header.x5c");
    anchorDer = found.der;
  }
  const anchor = new X509Certificate(anchorDer);
  const signedByRoot = keyIdOf(anchorDer) === kid;
  let signerFederations: string[] = [];
  if (!signedByRoot) {
    if (!issuedBy(signer.cert, anchor)) return bad("the signer certificate is not issued by the federation anchor", "header.x5c[0]");
    if (signer.cert.ca) return bad("the signer certificate is a CA certificate", "header.x5c[0]");
    const ku = keyUsageOf(signer.der);
    if (ku === undefined || (ku & KeyUsageFlags.digitalSignature) === 0) return bad("the signer certificate lacks digitalSignature", "header.x5c[0]");
    if (nodeIdOf(signer.der) !== undefined) return bad("a node certificate cannot sign the directory", "header.x5c[0]");
    signerFederations = directorySignerFederations(signer.der);
    if (signerFederations.length === 0) return bad("the signer certificate is not a directory signer (no urn:tongban:directory: SAN)", "header.x5c[0]");
  }
  const key = signer.cert.publicKey;
  const keyAlg = key.asymmetricKeyType === "ed25519" ? "EdDSA" : key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1" ? "ES256" : undefined;
  if (keyAlg !== alg) return bad(`alg ${alg} does not match the signer's key`, "header.alg");
  const signature = fromB64u(s);
  if (signature === undefined) return bad("the signature is not base64url", "signature");
  let ok = false;
  try {
    const input = Buffer.from(`${h}.${p}`, "ascii");
    ok = alg === "ES256" ? verify("sha256", input, { key, dsaEncoding: "ieee-p1363" }, signature) : verify(null, input, key, signature);
  } catch {
    ok = false;
  }
  if (!ok) return bad("the signature does not verify", "signature");

  // From here the bytes are the authority's; what remains is whether they make sense.
  const payloadBytes = fromB64u(p);
  const payloadText = payloadBytes === undefined ? undefined : utf8(payloadBytes);
  if (payloadText === undefined) return bad("the payload is not UTF-8", "payload");
  const value = parseJson(payloadBytes);
  if (value === undefined) return bad("the payload is not JSON", "payload");
  // Canonical form is required, so that a publication has one byte form and
  // duplicate keys (which parsers resolve differently) cannot hide.
  if (canonicalJson(value) !== payloadText) return bad("the payload is not canonical JSON", "payload");
  throwIfIssues(collectDirectoryIssues(value, { authority: "required" }));
  const directory = value as FederationDirectory;
  if (directory.authority.kid !== kid) return bad("authority.kid differs from the header kid", "authority.kid");
  if (!signedByRoot && !signerFederations.includes(directory.federation.id))
    return bad(`the signer may sign directories for ${signerFederations.join(", ")}, not ${directory.federation.id}`, "federation.id");
  const signerFrom = Date.parse(signer.cert.validFrom);
  const signerTo = Date.parse(signer.cert.validTo);
  if (Date.parse(directory.issuedAt) < signerFrom || Date.parse(directory.expiresAt) > signerTo)
    return bad("the directory's validity is not within the signer certificate's", "expiresAt");
  try {
    new TrustStore({ anchor: anchorDer }).setCrl(directory.crl);
  } catch (err) {
    return bad("the CRL is not a valid CRL of the federation anchor", "crl", err);
  }
  if (!signedByRoot) {
    const serial = normalizeSerial(signer.cert.serialNumber);
    if (readCrl(directory.crl).revoked.some((r) => r.serial === serial)) return bad("the signer certificate is revoked by the directory's own CRL", "crl");
  }

  if (options.held !== undefined && directory.version < options.held)
    throw new TongbanError("DIRECTORY_STALE", `directory version ${directory.version} is older than the held version ${options.held}`, {
      details: { reason: "rollback", version: directory.version, held: options.held },
    });
  const expiresAt = Date.parse(directory.expiresAt);
  const t = now.getTime();
  const alerts: DirectoryAlert[] = [];
  if (t > expiresAt) {
    const graceEndsAt = new Date(expiresAt + graceMs).toISOString();
    if (t > expiresAt + graceMs)
      throw new TongbanError("DIRECTORY_STALE", `directory version ${directory.version} expired at ${directory.expiresAt}, beyond the grace period`, {
        details: { reason: "expired", version: directory.version, expiresAt: directory.expiresAt, graceEndsAt, at: now.toISOString() },
      });
    alerts.push({
      kind: "directory-expired",
      message: `directory version ${directory.version} expired at ${directory.expiresAt}; still in use until ${graceEndsAt}: fetch a newer one`,
      expiredAt: directory.expiresAt,
      graceEndsAt,
    });
  }
  return {
    directory,
    status: alerts.length === 0 ? "current" : "expired-within-grace",
    alerts,
    signer: { kid, root: signedByRoot, notAfter: new Date(signerTo) },
    digest: createHash("sha256").update(text.trim(), "utf8").digest("hex"),
  };
}

function parseJson(bytes: Uint8Array | undefined): unknown {
  if (bytes === undefined) return undefined;
  const text = utf8(bytes);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
