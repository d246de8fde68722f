import { X509Certificate } from "node:crypto";
import {
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  PeculiarCertificate,
  SubjectAlternativeNameExtension,
} from "./x509-library.js";
import { sm2PublicKeyOf } from "../gm/key-object.js";
import { normalizeSerial } from "./der-integer.js";
import { keyIdOf } from "./key-id.js";
import { certificateDer, nodeIdOf, type CertificateInput } from "./node-id.js";

/** A human- and machine-readable summary of a certificate. */
export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  /** Serial number, canonical hex. */
  readonly serial: string;
  /** From the `urn:tongban:node:` URI SAN, when present. */
  readonly nodeId: string | undefined;
  readonly kid: string;
  /** SHA-256 fingerprint as colon-separated hex, as OpenSSL prints it. */
  readonly fingerprint256: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCa: boolean;
  /** `ec-P-256`, `ed25519`, `sm2`, … */
  readonly keyAlgorithm: string;
  /** RFC 5280 keyUsage bit names. */
  readonly keyUsage: readonly string[];
  /** EKU names (`serverAuth`, …) or OIDs for unnamed purposes. */
  readonly extendedKeyUsage: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

const EKU_NAMES = new Map<string, string>(Object.entries(ExtendedKeyUsage).map(([name, oid]) => [oid, name]));

/** Summarises a certificate for `tongban pki show` and logs. Does not verify it. */
export function describeCertificate(cert: CertificateInput): CertificateSummary {
  const der = certificateDer(cert);
  const node = new X509Certificate(der);
  const parsed = new PeculiarCertificate(der);
  const ku = parsed.getExtension(KeyUsagesExtension);
  const eku = parsed.getExtension(ExtendedKeyUsageExtension);
  const san = parsed.getExtension(SubjectAlternativeNameExtension);
  const bc = parsed.getExtension(BasicConstraintsExtension);
  const keyUsage: string[] = [];
  if (ku !== null)
    for (const [name, bit] of Object.entries(KeyUsageFlags))
      if (typeof bit === "number" && (ku.usages & bit) !== 0) keyUsage.push(name);
  const key = node.publicKey;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return {
    subject: parsed.subject,
    issuer: parsed.issuer,
    serial: normalizeSerial(parsed.serialNumber),
    nodeId: nodeIdOf(der),
    kid: keyIdOf(der),
    fingerprint256: node.fingerprint256,
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    isCa: bc?.ca === true,
    keyAlgorithm: sm2PublicKeyOf(key) !== undefined ? "sm2" : curve === undefined ? String(key.asymmetricKeyType) : `${String(key.asymmetricKeyType)}-${curve === "prime256v1" ? "P-256" : curve}`,
    keyUsage,
    extendedKeyUsage: (eku?.usages ?? []).map((u) => EKU_NAMES.get(String(u)) ?? String(u)),
    dnsNames: san === null ? [] : san.names.items.filter((n) => n.type === "dns").map((n) => n.value),
    ipAddresses: san === null ? [] : san.names.items.filter((n) => n.type === "ip").map((n) => n.value),
  };
}
