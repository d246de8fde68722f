import { createHash, createPublicKey, randomBytes, sign as nodeSign, type KeyObject } from "node:crypto";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AuthorityKeyIdentifier,
  AttributeValue,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  GeneralName,
  Extension,
  Extensions,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  KeyIdentifier,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
} from "@peculiar/asn1-x509";
import * as asn1js from "asn1js";
import { parseCertificate } from "./certificate.js";
import { sm2PrivateKeyOf, sm2PublicKeyOf } from "./key-object.js";
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

export function buildName(attrs: readonly NameAttribute[]): Name {
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
  return issueX509Certificate({ ...options, authorityKeyIdentifier: false });
}

/**
 * A key that signs a certificate: a raw 32-byte SM2 private key, or a
 * private KeyObject holding an SM2, ECDSA P-256 or Ed25519 key.
 */
export type CertificateSigningKey = Uint8Array | KeyObject;

/** A certified public key: a raw SM2 point (0x04 || x || y) or any public (or private) KeyObject. */
export type CertificateSubjectKey = Uint8Array | KeyObject;

/** What {@link issueX509Certificate} needs. */
export interface IssueX509CertificateOptions {
  /** Subject name, in order (most significant first, e.g. C, O, CN). */
  readonly subject: readonly NameAttribute[];
  readonly subjectPublicKey: CertificateSubjectKey;
  /** The issuing CA's certificate (DER; the issuer name is copied from it) and private key. */
  readonly issuer?: { readonly certDer: Uint8Array; readonly privateKey: CertificateSigningKey };
  /** Private key of a self-signed certificate (must match subjectPublicKey). */
  readonly selfSignedPrivateKey?: CertificateSigningKey;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Serial number bytes; 16 random bytes when absent. */
  readonly serialNumber?: Uint8Array;
  /** A CA certificate. Default false. */
  readonly isCa?: boolean;
  /** basicConstraints pathLenConstraint of a CA certificate. */
  readonly pathLength?: number;
  /**
   * keyUsage bits (`KeyUsageFlags` of @peculiar/asn1-x509). Default:
   * keyCertSign | cRLSign | digitalSignature for a CA, digitalSignature |
   * nonRepudiation otherwise.
   */
  readonly keyUsage?: number;
  /** extendedKeyUsage OIDs; the extension is left out when absent. */
  readonly extendedKeyUsage?: readonly string[];
  /** URI subject alternative names (e.g. `urn:tongban:node:<id>`). */
  readonly subjectAltNameUris?: readonly string[];
  /** Add an authority key identifier copied from the issuer's SKI. Default true. */
  readonly authorityKeyIdentifier?: boolean;
}

const ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
const ED25519 = "1.3.101.112";

/** The signature algorithm and signer of a certificate-signing key. */
function signerOf(key: CertificateSigningKey): { algorithm: string; sign: (tbs: Uint8Array) => Uint8Array } {
  if (key instanceof Uint8Array) return { algorithm: GM_OIDS.sm2WithSm3, sign: (tbs) => sm2Sign(tbs, key) };
  if (key.type !== "private") throw new TypeError("the certificate-signing key must be a private key");
  if (sm2PublicKeyOf(key) !== undefined) {
    const d = sm2PrivateKeyOf(key);
    return { algorithm: GM_OIDS.sm2WithSm3, sign: (tbs) => sm2Sign(tbs, d) };
  }
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1")
    return { algorithm: ECDSA_WITH_SHA256, sign: (tbs) => new Uint8Array(nodeSign("sha256", tbs, { key, dsaEncoding: "der" })) };
  if (key.asymmetricKeyType === "ed25519") return { algorithm: ED25519, sign: (tbs) => new Uint8Array(nodeSign(null, tbs, key)) };
  throw new TypeError("the certificate-signing key must be SM2, ECDSA P-256 or Ed25519");
}

export function spkiOf(key: CertificateSubjectKey): { spki: SubjectPublicKeyInfo; ski: Uint8Array } {
  const sm2Point = key instanceof Uint8Array ? key : sm2PublicKeyOf(key);
  if (sm2Point !== undefined) {
    publicKeyHex(sm2Point);
    const spki = new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({
        algorithm: GM_OIDS.ecPublicKey,
        parameters: new asn1js.ObjectIdentifier({ value: GM_OIDS.sm2p256v1 }).toBER(false),
      }),
      subjectPublicKey: Uint8Array.from(sm2Point).buffer,
    });
    return { spki, ski: sm3(sm2Point).slice(0, 20) };
  }
  const pub = (key as KeyObject).type === "public" ? (key as KeyObject) : createPublicKey(key as KeyObject);
  const spki = AsnConvert.parse(pub.export({ type: "spki", format: "der" }), SubjectPublicKeyInfo);
  // RFC 5280 §4.2.1.2 method (1): SHA-1 over the subjectPublicKey bits.
  return { spki, ski: new Uint8Array(createHash("sha1").update(new Uint8Array(spki.subjectPublicKey)).digest()) };
}

function subjectKeyIdentifierOf(certDer: Uint8Array): Uint8Array | undefined {
  const cert = AsnConvert.parse(certDer, Certificate);
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_subjectKeyIdentifier);
  if (ext === undefined) return undefined;
  return new Uint8Array(AsnConvert.parse(ext.extnValue.buffer, SubjectKeyIdentifier).buffer);
}

/**
 * Issues an X.509 v3 certificate where the subject key, the issuer key or
 * both may be SM2: an SM2 CA issuing SM2 or P-256/Ed25519 certificates
 * (SM2-with-SM3, user ID `1234567812345678`, DER signature value), or a
 * P-256/Ed25519 CA (the federation root) issuing SM2 certificates
 * (ecdsa-with-SHA256 / Ed25519). WebCrypto, which pki/ issues with, knows
 * no SM2, hence this issuer.
 *
 * The subject key identifier is SM3(point)[0..20] for SM2 keys and SHA-1
 * over the key bits for other keys; the authority key identifier repeats
 * the issuer's SKI.
 *
 * @example
 * ```ts
 * const node = generateSm2KeyPair();
 * const der = issueX509Certificate({ subject: [["CN", nodeId]], subjectPublicKey: node.publicKey,
 *   issuer: { certDer: rootDer, privateKey: createPrivateKey(rootKeyPem) },
 *   subjectAltNameUris: [`urn:tongban:node:${nodeId}`], notBefore, notAfter });
 * ```
 */
export function issueX509Certificate(options: IssueX509CertificateOptions): Uint8Array {
  if (options.issuer === undefined && options.selfSignedPrivateKey === undefined) {
    throw new TypeError("issueX509Certificate: give issuer or selfSignedPrivateKey");
  }
  if (!(options.notBefore instanceof Date) || !(options.notAfter instanceof Date) || !(options.notAfter > options.notBefore)) {
    throw new TypeError("issueX509Certificate: notBefore and notAfter must be Dates with notBefore < notAfter");
  }
  const serial = options.serialNumber ?? new Uint8Array(randomBytes(16));
  // A positive INTEGER: clear the top bit rather than prepend a zero byte.
  const serialBytes = Uint8Array.from(serial);
  if (serialBytes.length === 0) throw new TypeError("issueX509Certificate: empty serial number");
  serialBytes[0] = (serialBytes[0] ?? 0) & 0x7f || 0x01;

  const subject = buildName(options.subject);
  const issuerName =
    options.issuer === undefined ? subject : AsnConvert.parse(parseCertificate(options.issuer.certDer).subjectDer, Name);
  const signingKey = options.issuer?.privateKey ?? options.selfSignedPrivateKey;
  if (signingKey === undefined) throw new TypeError("issueX509Certificate: no signing key");
  const signer = signerOf(signingKey);
  const sigAlg = new AlgorithmIdentifier({ algorithm: signer.algorithm });
  const isCa = options.isCa === true;
  const keyUsage =
    options.keyUsage ??
    (isCa
      ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature
      : KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation);
  if (options.pathLength !== undefined && (!isCa || !Number.isInteger(options.pathLength) || options.pathLength < 0))
    throw new TypeError("issueX509Certificate: pathLength needs isCa and a non-negative integer");
  const { spki, ski } = spkiOf(options.subjectPublicKey);

  const extensions = [
    extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: isCa, ...(options.pathLength === undefined ? {} : { pathLenConstraint: options.pathLength }) })),
    extension(id_ce_keyUsage, true, new KeyUsage(keyUsage)),
  ];
  if (options.extendedKeyUsage !== undefined) extensions.push(extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([...options.extendedKeyUsage])));
  if (options.subjectAltNameUris !== undefined && options.subjectAltNameUris.length > 0)
    extensions.push(
      extension(id_ce_subjectAltName, false, new SubjectAlternativeName(options.subjectAltNameUris.map((u) => new GeneralName({ uniformResourceIdentifier: u })))),
    );
  extensions.push(extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(ski)));
  if (options.authorityKeyIdentifier !== false) {
    const aki = options.issuer === undefined ? ski : subjectKeyIdentifierOf(options.issuer.certDer);
    if (aki !== undefined) extensions.push(extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(aki) })));
  }

  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialBytes.slice().buffer,
    signature: sigAlg,
    issuer: issuerName,
    validity: new Validity({ notBefore: options.notBefore, notAfter: options.notAfter }),
    subject,
    subjectPublicKeyInfo: spki,
    extensions: new Extensions(extensions),
  });
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: sigAlg,
    signatureValue: signer.sign(tbsDer).slice().buffer,
  });
  return new Uint8Array(AsnConvert.serialize(cert));
}
