import { verify as verifySignature } from "node:crypto";
import { TongbanError } from "../errors/index.js";
import { readCrl } from "../pki/crl.js";
import { toDer } from "../pki/pem.js";
import { AsnConvert } from "@peculiar/asn1-schema";
import { CertificateList } from "@peculiar/asn1-x509";
import { KeyUsageFlags } from "../pki/x509-library.js";
import type { CertificateRecord } from "./certificate-record.js";

/** Revocation data whose signature has been checked against the anchor. */
export interface RevocationData {
  readonly thisUpdate: number;
  readonly nextUpdate: number;
  readonly crlNumber: bigint | undefined;
  /** Revoked serials, canonical hex. */
  readonly serials: ReadonlySet<string>;
}

// Hash for each signature algorithm a federation CA may use; Ed25519 hashes internally.
const SIGNATURE_HASH = new Map<string, string | null>([
  ["1.2.840.10045.4.3.2", "sha256"],
  ["1.2.840.10045.4.3.3", "sha384"],
  ["1.3.101.112", null],
]);

/**
 * Parses a CRL and checks it was issued and signed by the anchor, carries a
 * nextUpdate after its thisUpdate, and the anchor may sign CRLs.
 *
 * @throws TongbanError TRUST_CERT_INVALID for a malformed CRL,
 *   TRUST_UNTRUSTED_CHAIN for one not signed by the anchor.
 */
export function verifyRevocationList(crl: string | Uint8Array, anchor: CertificateRecord): RevocationData {
  let parsed: CertificateList;
  let der: Uint8Array;
  let info: ReturnType<typeof readCrl>;
  try {
    der = toDer(crl, ["X509 CRL", "CRL"]);
    parsed = AsnConvert.parse(der, CertificateList);
    info = readCrl(der);
  } catch (err) {
    throw new TongbanError("TRUST_CERT_INVALID", "the CRL cannot be parsed", { cause: err });
  }
  // The signature covers the tbsCertList bytes as received, not a re-encoding.
  const tbs = parsed.tbsCertListRaw;
  if (tbs === undefined) throw new TongbanError("TRUST_CERT_INVALID", "the CRL cannot be parsed");
  const nextUpdate = info.nextUpdate?.getTime();
  if (nextUpdate === undefined || !(nextUpdate > info.thisUpdate.getTime()))
    throw new TongbanError("TRUST_CERT_INVALID", "the CRL has no nextUpdate after its thisUpdate");
  if (anchor.keyUsage !== undefined && (anchor.keyUsage & KeyUsageFlags.cRLSign) === 0)
    throw new TongbanError("TRUST_CERT_INVALID", "the anchor may not sign CRLs");
  const algorithm = parsed.signatureAlgorithm.algorithm;
  const hash = SIGNATURE_HASH.get(algorithm);
  if (hash === undefined)
    throw new TongbanError("TRUST_CERT_INVALID", "the CRL's signature algorithm is not supported", { details: { algorithm } });
  let signed = false;
  // The name check only short-cuts obvious mismatches; the signature is what counts.
  if (info.issuer === anchor.subject) {
    try {
      signed = verifySignature(hash, new Uint8Array(tbs), { key: anchor.publicKey, dsaEncoding: "der" }, new Uint8Array(parsed.signature));
    } catch {
      signed = false;
    }
  }
  if (!signed) throw new TongbanError("TRUST_UNTRUSTED_CHAIN", "the CRL is not signed by the federation anchor", { details: { issuer: info.issuer } });
  return {
    thisUpdate: info.thisUpdate.getTime(),
    nextUpdate,
    crlNumber: info.crlNumber,
    serials: new Set(info.revoked.map((r) => r.serial)),
  };
}
