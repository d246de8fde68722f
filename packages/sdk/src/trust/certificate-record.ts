import { X509Certificate, type KeyObject } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import * as asn1js from "asn1js";
import { TongbanError } from "../errors/index.js";
import { normalizeSerial } from "../pki/der-integer.js";
import { keyIdOf } from "../pki/key-id.js";
import { nodeIdOf } from "../pki/node-id.js";
import { toDer } from "../pki/pem.js";
import {
  BasicConstraintsExtension,
  ExtendedKeyUsageExtension,
  KeyUsagesExtension,
  PeculiarCertificate,
} from "../pki/x509-library.js";

/**
 * A certificate parsed once into what chain checks need, so that the ASN.1
 * work happens when a certificate is added, never per message.
 */
export interface CertificateRecord {
  readonly kid: string;
  readonly x509: X509Certificate;
  readonly publicKey: KeyObject;
  readonly serial: string;
  /** Subject and issuer distinguished names in RFC 4514 text form. */
  readonly subject: string;
  readonly issuer: string;
  readonly isCa: boolean;
  /** basicConstraints pathLenConstraint, when set. */
  readonly pathLength: number | undefined;
  /** keyUsage bits, or undefined when the extension is absent. */
  readonly keyUsage: number | undefined;
  /** EKU OIDs, or undefined when the extension is absent. */
  readonly extendedKeyUsage: readonly string[] | undefined;
  readonly nodeId: string | undefined;
  readonly notBefore: number;
  readonly notAfter: number;
  /** The outer signatureAlgorithm OID (how the issuer signed this certificate). */
  readonly signatureAlgorithm: string;
  /** The exact TBSCertificate bytes and signature value, for SM2-with-SM3 checks Node's crypto cannot make. */
  readonly tbs: Uint8Array;
  readonly signatureValue: Uint8Array;
  /** The raw SM2 public key (0x04 || x || y) when the certificate certifies an SM2 key. */
  readonly sm2PublicKey: Uint8Array | undefined;
}

const EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const SM2P256V1 = "1.2.156.10197.1.301";

/**
 * Parses a certificate (PEM or DER).
 *
 * @throws TongbanError TRUST_CERT_INVALID when it cannot be parsed.
 */
export function parseCertificate(input: string | Uint8Array): CertificateRecord {
  try {
    const der = toDer(input, "CERTIFICATE");
    const x509 = new X509Certificate(der);
    const parsed = new PeculiarCertificate(der);
    const bc = parsed.getExtension(BasicConstraintsExtension);
    const ku = parsed.getExtension(KeyUsagesExtension);
    const eku = parsed.getExtension(ExtendedKeyUsageExtension);
    const asn = AsnConvert.parse(der, Certificate);
    if (asn.tbsCertificateRaw === undefined) throw new Error("no TBSCertificate bytes");
    const spki = asn.tbsCertificate.subjectPublicKeyInfo;
    let curve: string | undefined;
    if (spki.algorithm.algorithm === EC_PUBLIC_KEY && spki.algorithm.parameters) {
      const param = asn1js.fromBER(spki.algorithm.parameters).result;
      if (param instanceof asn1js.ObjectIdentifier) curve = param.getValue();
    }
    return {
      kid: keyIdOf(der),
      x509,
      publicKey: x509.publicKey,
      serial: normalizeSerial(parsed.serialNumber),
      subject: parsed.subject,
      issuer: parsed.issuer,
      isCa: bc?.ca === true,
      pathLength: bc?.pathLength,
      keyUsage: ku?.usages,
      extendedKeyUsage: eku?.usages.map(String),
      nodeId: nodeIdOf(der),
      notBefore: parsed.notBefore.getTime(),
      notAfter: parsed.notAfter.getTime(),
      signatureAlgorithm: asn.signatureAlgorithm.algorithm,
      tbs: new Uint8Array(asn.tbsCertificateRaw),
      signatureValue: new Uint8Array(asn.signatureValue),
      sm2PublicKey: curve === SM2P256V1 ? new Uint8Array(spki.subjectPublicKey) : undefined,
    };
  } catch (err) {
    throw new TongbanError("TRUST_CERT_INVALID", "the certificate cannot be parsed", { cause: err });
  }
}
