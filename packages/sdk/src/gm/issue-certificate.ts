import { randomBytes } from "node:crypto";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  Certificate,
  Extension,
  Extensions,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
} from "@peculiar/asn1-x509";
import * as asn1js from "asn1js";
import { parseCertificate } from "./certificate.js";
import { GM_OIDS } from "./oids.js";
import { sm2Sign } from "./sm2-signature.js";
import { publicKeyHex } from "./sm2-keys.js";
import { sm3 } from "./sm3.js";

/** One attribute of a distinguished name, e.g. `["CN", "Seal maker"]`. */
export type NameAttribute = readonly ["CN" | "O" | "OU" | "C" | "ST" | "L", string];

/** What `issueSm2Certificate` needs. */
export interface IssueSm2CertificateOptions {
  /** Subject name, in order (most significant first, e.g. C, O, CN). */
  readonly subject: readonly NameAttribute[];
  /** The subject's SM2 public key, 0x04 || x || y. */
  readonly subjectPublicKey: Uint8Array;
  /**
   * The issuing CA: its certificate (the issuer name is copied from it) and
   * private key. Absent for a self-signed certificate, which is then signed
   * with `selfSignedPrivateKey`.
   */
  readonly issuer?: { readonly certDer: Uint8Array; readonly privateKey: Uint8Array };
  /** Private key of a self-signed certificate (must match subjectPublicKey). */
  readonly selfSignedPrivateKey?: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Serial number bytes; 16 random bytes when absent. */
  readonly serialNumber?: Uint8Array;
  /** A CA certificate (basicConstraints cA, keyCertSign + cRLSign). Default false. */
  readonly isCa?: boolean;
}

const NAME_OIDS = { CN: "2.5.4.3", O: "2.5.4.10", OU: "2.5.4.11", C: "2.5.4.6", ST: "2.5.4.8", L: "2.5.4.7" } as const;

function buildName(attrs: readonly NameAttribute[]): Name {
  return new Name(
    attrs.map(([type, value]) => {
      // Country is PrintableString by RFC 5280; everything else UTF8String
      // so Chinese names survive.
      const v = type === "C" ? new AttributeValue({ printableString: value }) : new AttributeValue({ utf8String: value });
      return new RelativeDistinguishedName([new AttributeTypeAndValue({ type: NAME_OIDS[type], value: v })]);
    }),
  );
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/**
 * Issues an X.509 v3 certificate for an SM2 key, signed with SM2-with-SM3
 * (OID 1.2.156.10197.1.501, user ID `1234567812345678`). Used for seal-maker
 * and signer certificates in tests and by `tongban pki` for seal certificates.
 *
 * The subject key identifier is the first 20 bytes of SM3 over the public
 * key (RFC 5280 §4.2.1.2 allows any method; SM3 keeps the GM suite whole).
 *
 * @example
 * ```ts
 * const ca = generateSm2KeyPair();
 * const caCert = issueSm2Certificate({ subject: [["CN", "Seal CA"]], subjectPublicKey: ca.publicKey,
 *   selfSignedPrivateKey: ca.privateKey, isCa: true, notBefore, notAfter });
 * ```
 */
export function issueSm2Certificate(options: IssueSm2CertificateOptions): Uint8Array {
  publicKeyHex(options.subjectPublicKey);
  if (options.issuer === undefined && options.selfSignedPrivateKey === undefined) {
    throw new TypeError("issueSm2Certificate: give issuer or selfSignedPrivateKey");
  }
  if (!(options.notBefore instanceof Date) || !(options.notAfter instanceof Date) || options.notAfter <= options.notBefore) {
    throw new TypeError("issueSm2Certificate: notBefore and notAfter must be Dates with notBefore < notAfter");
  }
  const serial = options.serialNumber ?? new Uint8Array(randomBytes(16));
  // A positive INTEGER: clear the top bit rather than prepend a zero byte.
  const serialBytes = Uint8Array.from(serial);
  if (serialBytes.length === 0) throw new TypeError("issueSm2Certificate: empty serial number");
  serialBytes[0] = (serialBytes[0] ?? 0) & 0x7f || 0x01;

  const subject = buildName(options.subject);
  const issuerName =
    options.issuer === undefined ? subject : AsnConvert.parse(parseCertificate(options.issuer.certDer).subjectDer, Name);
  const signingKey = options.issuer?.privateKey ?? options.selfSignedPrivateKey;
  if (signingKey === undefined) throw new TypeError("issueSm2Certificate: no signing key");
  const sm2Alg = new AlgorithmIdentifier({ algorithm: GM_OIDS.sm2WithSm3 });
  const isCa = options.isCa === true;
  const keyUsage = isCa
    ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature
    : KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation;

  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialBytes.slice().buffer,
    signature: sm2Alg,
    issuer: issuerName,
    validity: new Validity({ notBefore: options.notBefore, notAfter: options.notAfter }),
    subject,
    subjectPublicKeyInfo: new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({
        algorithm: GM_OIDS.ecPublicKey,
        parameters: new asn1js.ObjectIdentifier({ value: GM_OIDS.sm2p256v1 }).toBER(false),
      }),
      subjectPublicKey: Uint8Array.from(options.subjectPublicKey).buffer,
    }),
    extensions: new Extensions([
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: isCa })),
      extension(id_ce_keyUsage, true, new KeyUsage(keyUsage)),
      extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(sm3(options.subjectPublicKey).slice(0, 20))),
    ]),
  });
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const signature = sm2Sign(tbsDer, signingKey);
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: sm2Alg,
    signatureValue: signature.slice().buffer,
  });
  return new Uint8Array(AsnConvert.serialize(cert));
}
