import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { Attributes, CertificationRequest, CertificationRequestInfo } from "@peculiar/asn1-csr";
import { AlgorithmIdentifier, Attribute, Extension, Extensions, GeneralName, SubjectAlternativeName, id_ce_subjectAltName } from "@peculiar/asn1-x509";
import * as asn1js from "asn1js";
import { buildName, spkiOf, type NameAttribute } from "./issue-certificate.js";
import { GM_OIDS } from "./oids.js";
import { sm2Sign, sm2Verify } from "./sm2-signature.js";
import { publicKeyHex } from "./sm2-keys.js";

/** PKCS#9 extensionRequest: the extensions a certificate request asks for. */
const EXTENSION_REQUEST = "1.2.840.113549.1.9.14";
const COMMON_NAME = "2.5.4.3";

/** What {@link createSm2CertificateRequest} needs. */
export interface CreateSm2CertificateRequestOptions {
  readonly subject: readonly NameAttribute[];
  /** The SM2 key pair: raw private key (32 bytes) and public point (0x04 || x || y). */
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
  /** URI subject alternative names asked for (e.g. `urn:tongban:node:<id>`). */
  readonly uris?: readonly string[];
}

/**
 * A PKCS#10 certificate request for an SM2 key, signed with SM2-with-SM3 (OID 1.2.156.10197.1.501, user ID
 * `1234567812345678`, as certificates are): proof that the requester holds the private key. OpenSSL verifies it with
 * `openssl req -verify -vfyopt distid:1234567812345678`.
 */
export function createSm2CertificateRequest(options: CreateSm2CertificateRequestOptions): Uint8Array {
  publicKeyHex(options.publicKey);
  const uris = options.uris ?? [];
  const extensions = new Extensions(
    uris.length === 0
      ? []
      : [new Extension({ extnID: id_ce_subjectAltName, critical: false, extnValue: new OctetString(AsnConvert.serialize(new SubjectAlternativeName(uris.map((u) => new GeneralName({ uniformResourceIdentifier: u }))))) })],
  );
  const info = new CertificationRequestInfo({
    version: 0,
    subject: buildName(options.subject),
    subjectPKInfo: spkiOf(options.publicKey).spki,
    attributes: new Attributes(extensions.length === 0 ? [] : [new Attribute({ type: EXTENSION_REQUEST, values: [AsnConvert.serialize(extensions)] })]),
  });
  const infoDer = new Uint8Array(AsnConvert.serialize(info));
  const request = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: GM_OIDS.sm2WithSm3 }),
    signature: Uint8Array.from(sm2Sign(infoDer, options.privateKey)).buffer,
  });
  return new Uint8Array(AsnConvert.serialize(request));
}

/** A certificate request read by {@link readSm2CertificateRequest}. */
export interface Sm2CertificateRequest {
  /** The SM2 public point (0x04 || x || y). */
  readonly publicKey: Uint8Array;
  /** True when the request's SM2-with-SM3 signature verifies under that key. */
  readonly verified: boolean;
  readonly commonNames: readonly string[];
  readonly uris: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  /** Kinds of other names asked for (e.g. `rfc822Name`). */
  readonly otherNames: readonly string[];
}

/** True when a DER certificate request is signed with SM2-with-SM3 (then read it with {@link readSm2CertificateRequest}). */
export function isSm2CertificateRequest(der: Uint8Array): boolean {
  try {
    return AsnConvert.parse(der, CertificationRequest).signatureAlgorithm.algorithm === GM_OIDS.sm2WithSm3;
  } catch {
    return false;
  }
}

/**
 * Reads an SM2 certificate request: its key, whether its signature verifies (over the exact bytes of the request info
 * as received), the subject CN and the names its extensionRequest asks for.
 *
 * @throws TypeError when it is not a well-formed SM2-with-SM3 request for an SM2 key.
 */
export function readSm2CertificateRequest(der: Uint8Array): Sm2CertificateRequest {
  const request = AsnConvert.parse(der, CertificationRequest);
  if (request.signatureAlgorithm.algorithm !== GM_OIDS.sm2WithSm3) throw new TypeError("not signed with SM2-with-SM3");
  const info = request.certificationRequestInfo;
  const spki = info.subjectPKInfo;
  const params = spki.algorithm.parameters === null || spki.algorithm.parameters === undefined ? undefined : asn1js.fromBER(spki.algorithm.parameters).result;
  if (spki.algorithm.algorithm !== GM_OIDS.ecPublicKey || !(params instanceof asn1js.ObjectIdentifier) || params.getValue() !== GM_OIDS.sm2p256v1) throw new TypeError("the key is not an SM2 key");
  const publicKey = new Uint8Array(spki.subjectPublicKey);
  publicKeyHex(publicKey);
  const raw = request.certificationRequestInfoRaw;
  const signed = raw === undefined ? new Uint8Array(AsnConvert.serialize(info)) : new Uint8Array(raw);
  const verified = sm2Verify(signed, new Uint8Array(request.signature), publicKey);
  const commonNames: string[] = [];
  for (const rdn of info.subject) for (const atv of rdn) if (atv.type === COMMON_NAME) commonNames.push(atv.value.toString());
  const uris: string[] = [];
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  const otherNames: string[] = [];
  for (const attribute of info.attributes ?? []) {
    if (attribute.type !== EXTENSION_REQUEST) continue;
    for (const value of attribute.values) {
      for (const ext of AsnConvert.parse(value, Extensions)) {
        if (ext.extnID !== id_ce_subjectAltName) continue;
        for (const name of AsnConvert.parse(ext.extnValue.buffer, SubjectAlternativeName)) {
          if (name.uniformResourceIdentifier !== undefined) uris.push(name.uniformResourceIdentifier);
          else if (name.dNSName !== undefined) dnsNames.push(name.dNSName);
          else if (name.iPAddress !== undefined) ipAddresses.push(name.iPAddress);
          else otherNames.push(Object.keys(name).find((k) => (name as unknown as Record<string, unknown>)[k] !== undefined) ?? "unknown");
        }
      }
    }
  }
  return { publicKey, verified, commonNames, uris, dnsNames, ipAddresses, otherNames };
}
