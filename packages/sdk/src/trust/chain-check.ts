import { TongbanError } from "../errors/index.js";
import { GM_OIDS } from "../gm/oids.js";
import { sm2Verify } from "../gm/sm2-signature.js";
import { ExtendedKeyUsage, KeyUsageFlags } from "../pki/x509-library.js";
import type { CertificateRecord } from "./certificate-record.js";
import type { RevocationData } from "./revocation-list.js";

/** What a leaf certificate is being accepted for. */
export type CertificatePurpose = "signing" | "tls";

/** Where chain checks look things up; the trust store provides it. */
export interface ChainContext {
  readonly anchor: CertificateRecord;
  /** Known CA certificates (intermediates) with the given subject name. */
  casWithSubject(subject: string): readonly CertificateRecord[];
  readonly revocation: RevocationData | undefined;
}

/** The outcome of a successful chain check: the window in which the whole chain is valid. */
export interface ChainResult {
  readonly notBefore: number;
  readonly notAfter: number;
}

// Deep enough for root → region → city CAs; bounds the work a crafted
// certificate set can cause.
const MAX_DEPTH = 6;

/**
 * The time-independent checks on a leaf: purpose, identity, signatures up to
 * the anchor, CA constraints and revocation. Validity is returned as the
 * intersection of all windows, for the caller to compare with a time.
 *
 * Revocation is checked for every certificate the anchor issued directly
 * (the anchor's CRL only speaks for those); certificates below an
 * intermediate are revoked by revoking the intermediate.
 *
 * @throws TongbanError TRUST_CERT_INVALID, TRUST_UNTRUSTED_CHAIN or TRUST_CERT_REVOKED.
 */
export function checkChain(leaf: CertificateRecord, purpose: CertificatePurpose, ctx: ChainContext): ChainResult {
  checkLeaf(leaf, purpose);
  let notBefore = leaf.notBefore;
  let notAfter = leaf.notAfter;
  let current = leaf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const issuer = findIssuer(current, depth, ctx);
    if (issuer === ctx.anchor) {
      revocationCheck(current, ctx.revocation);
      notBefore = Math.max(notBefore, issuer.notBefore);
      notAfter = Math.min(notAfter, issuer.notAfter);
      return { notBefore, notAfter };
    }
    notBefore = Math.max(notBefore, issuer.notBefore);
    notAfter = Math.min(notAfter, issuer.notAfter);
    current = issuer;
  }
  throw new TongbanError("TRUST_UNTRUSTED_CHAIN", "the certificate chain is too long", { details: { kid: leaf.kid } });
}

function checkLeaf(leaf: CertificateRecord, purpose: CertificatePurpose): void {
  const invalid = (why: string): TongbanError =>
    new TongbanError("TRUST_CERT_INVALID", `the certificate is not fit for ${purpose}: ${why}`, { details: { kid: leaf.kid, purpose } });
  if (leaf.isCa) throw invalid("it is a CA certificate");
  if (leaf.nodeId === undefined) throw invalid("it names no node (urn:tongban:node: URI SAN)");
  if (leaf.keyUsage === undefined || (leaf.keyUsage & KeyUsageFlags.digitalSignature) === 0)
    throw invalid("keyUsage lacks digitalSignature");
  if (purpose === "tls") {
    const eku = leaf.extendedKeyUsage;
    // An EKU is required: its absence is what keeps signing certificates out of TLS.
    if (eku === undefined || !(eku.includes(ExtendedKeyUsage.serverAuth) || eku.includes(ExtendedKeyUsage.clientAuth)))
      throw invalid("extendedKeyUsage lacks serverAuth/clientAuth");
  }
}

function findIssuer(cert: CertificateRecord, depth: number, ctx: ChainContext): CertificateRecord {
  const candidates = cert.issuer === ctx.anchor.subject ? [ctx.anchor, ...ctx.casWithSubject(cert.issuer)] : ctx.casWithSubject(cert.issuer);
  for (const candidate of candidates) {
    if (candidate === cert) continue;
    if (!cert.x509.checkIssued(candidate.x509)) continue;
    if (!isSignedBy(cert, candidate)) continue;
    if (candidate !== ctx.anchor) {
      if (!candidate.isCa)
        throw new TongbanError("TRUST_UNTRUSTED_CHAIN", "an issuer in the chain is not a CA", { details: { kid: cert.kid, issuer: candidate.kid } });
      // depth counts the CA certificates already below this one.
      if (candidate.pathLength !== undefined && depth > candidate.pathLength)
        throw new TongbanError("TRUST_UNTRUSTED_CHAIN", "the chain exceeds an issuer's path length", { details: { issuer: candidate.kid } });
    }
    if (candidate.keyUsage !== undefined && (candidate.keyUsage & KeyUsageFlags.keyCertSign) === 0)
      throw new TongbanError("TRUST_UNTRUSTED_CHAIN", "an issuer in the chain may not sign certificates", { details: { issuer: candidate.kid } });
    return candidate;
  }
  throw new TongbanError("TRUST_UNTRUSTED_CHAIN", "the certificate does not chain to the federation anchor", {
    details: { kid: cert.kid, issuer: cert.issuer },
  });
}

function revocationCheck(cert: CertificateRecord, revocation: RevocationData | undefined): void {
  if (revocation?.serials.has(cert.serial) === true)
    throw new TongbanError("TRUST_CERT_REVOKED", "the certificate is on the federation revocation list", {
      details: { kid: cert.kid, serial: cert.serial },
    });
}

/**
 * True when `issuer`'s key made the signature on `cert`. SM2-with-SM3
 * signatures (GB/T 32918 with the default user ID `1234567812345678`, as
 * GM/T 0015 certificates use) are checked with gm/, since Node's X.509
 * verification does not apply the SM2 user ID; everything else with Node.
 */
export function isSignedBy(cert: CertificateRecord, issuer: CertificateRecord): boolean {
  try {
    if (cert.signatureAlgorithm === GM_OIDS.sm2WithSm3) {
      return issuer.sm2PublicKey !== undefined && sm2Verify(cert.tbs, cert.signatureValue, issuer.sm2PublicKey);
    }
    // An SM2 key never signs anything but SM2-with-SM3.
    if (issuer.sm2PublicKey !== undefined) return false;
    return cert.x509.verify(issuer.publicKey);
  } catch {
    return false;
  }
}
