import { AsnConvert } from "@peculiar/asn1-schema";
import * as asn1js from "asn1js";
import { Certificate, type Name } from "@peculiar/asn1-x509";
import { TongbanError } from "../errors/index.js";
import { decodeStrictDer } from "./der.js";
import { bytesEqual, toHex } from "./hex.js";
import { GM_OIDS } from "./oids.js";
import { sm2Verify, type Sm2SignatureOptions } from "./sm2-signature.js";

/** The fields of an X.509 certificate (any key type) a seal verifier needs, with raw bytes kept. */
export interface ParsedCertificate {
  /** The whole certificate, DER. */
  readonly der: Uint8Array;
  /** The exact TBSCertificate bytes the issuer signed. */
  readonly tbsDer: Uint8Array;
  /** Serial number, lowercase hex without leading zeros. */
  readonly serialNumber: string;
  /** Subject as `CN=…, O=…` (display only; compare `subjectDer`). */
  readonly subject: string;
  /** Issuer as `CN=…, O=…` (display only; compare `issuerDer`). */
  readonly issuer: string;
  /** DER of the subject Name. */
  readonly subjectDer: Uint8Array;
  /** DER of the issuer Name. */
  readonly issuerDer: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SubjectPublicKeyInfo algorithm and its parameter (curve) OIDs. */
  readonly publicKeyAlgorithm: string;
  readonly publicKeyCurve: string | undefined;
  /** The subject public key bits (0x04 || x || y for SM2). */
  readonly publicKey: Uint8Array;
  /** The outer signature algorithm OID. */
  readonly signatureAlgorithm: string;
  /** The signature value (DER `SEQUENCE { r, s }` for SM2). */
  readonly signature: Uint8Array;
}

const NAME_LABELS: Readonly<Record<string, string>> = {
  "2.5.4.3": "CN",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.5": "serialNumber",
  "1.2.840.113549.1.9.1": "E",
};

/** Formats a Name for people; never used for comparisons. */
function nameToString(name: Name): string {
  return name
    .map((rdn) => rdn.map((atv) => `${NAME_LABELS[atv.type] ?? atv.type}=${atv.value.toString()}`).join("+"))
    .join(", ");
}

/**
 * Parses an X.509 certificate (DER) and returns the fields a seal or trust
 * check needs. Throws TRUST_CERT_INVALID when the bytes are not a certificate.
 */
export function parseCertificate(certDer: Uint8Array): ParsedCertificate {
  if (!(certDer instanceof Uint8Array)) throw new TypeError("parseCertificate: certificate must be a Uint8Array");
  const strict = decodeStrictDer(certDer);
  if (!strict.ok) throw new TongbanError("TRUST_CERT_INVALID", `not a DER X.509 certificate: ${strict.why}`);
  let cert: Certificate;
  try {
    cert = AsnConvert.parse(certDer, Certificate);
  } catch (cause) {
    throw new TongbanError("TRUST_CERT_INVALID", "not a DER X.509 certificate", { cause });
  }
  const tbs = cert.tbsCertificate;
  if (cert.tbsCertificateRaw === undefined) {
    throw new TongbanError("TRUST_CERT_INVALID", "certificate parser kept no TBSCertificate bytes");
  }
  const spki = tbs.subjectPublicKeyInfo;
  // For EC keys the algorithm parameter is the curve as a bare OID.
  let curve: string | undefined;
  if (spki.algorithm.parameters) {
    try {
      const param = asn1js.fromBER(spki.algorithm.parameters).result;
      if (param instanceof asn1js.ObjectIdentifier) curve = param.getValue();
    } catch {
      curve = undefined;
    }
  }
  return {
    der: Uint8Array.from(certDer),
    tbsDer: new Uint8Array(cert.tbsCertificateRaw),
    serialNumber: toHex(new Uint8Array(tbs.serialNumber)).replace(/^(00)+(?=.)/, ""),
    subject: nameToString(tbs.subject),
    issuer: nameToString(tbs.issuer),
    subjectDer: new Uint8Array(AsnConvert.serialize(tbs.subject)),
    issuerDer: new Uint8Array(AsnConvert.serialize(tbs.issuer)),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    publicKeyAlgorithm: spki.algorithm.algorithm,
    publicKeyCurve: curve,
    publicKey: new Uint8Array(spki.subjectPublicKey),
    signatureAlgorithm: cert.signatureAlgorithm.algorithm,
    signature: new Uint8Array(cert.signatureValue),
  };
}

/**
 * The SM2 public key (0x04 || x || y) of a certificate whose
 * SubjectPublicKeyInfo is id-ecPublicKey with the sm2p256v1 curve.
 * Throws TRUST_CERT_INVALID for any other key type.
 */
export function sm2PublicKeyFromCertificate(certDer: Uint8Array): Uint8Array {
  const info = parseCertificate(certDer);
  if (info.publicKeyAlgorithm !== GM_OIDS.ecPublicKey || info.publicKeyCurve !== GM_OIDS.sm2p256v1) {
    throw new TongbanError("TRUST_CERT_INVALID", "certificate does not carry an SM2 (sm2p256v1) public key", {
      details: { algorithm: info.publicKeyAlgorithm, curve: info.publicKeyCurve ?? null },
    });
  }
  return info.publicKey;
}

/**
 * True when `certDer` is signed with SM2-with-SM3 by the key of `issuerCertDer`
 * and names that certificate's subject as its issuer. Validity dates,
 * extensions and revocation are the caller's to check.
 */
export function verifySm2CertificateSignature(
  certDer: Uint8Array,
  issuerCertDer: Uint8Array,
  options: Sm2SignatureOptions = {},
): boolean {
  const cert = parseCertificate(certDer);
  const issuer = parseCertificate(issuerCertDer);
  if (cert.signatureAlgorithm !== GM_OIDS.sm2WithSm3) return false;
  if (!bytesEqual(cert.issuerDer, issuer.subjectDer)) return false;
  return sm2Verify(cert.tbsDer, cert.signature, sm2PublicKeyFromCertificate(issuerCertDer), options);
}
