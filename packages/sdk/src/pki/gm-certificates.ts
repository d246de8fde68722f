import { createPrivateKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { sm2PrivateKeyObject } from "../gm/key-object.js";
import { issueX509Certificate, type NameAttribute } from "../gm/issue-certificate.js";
import { sm2PublicKeyOf } from "../gm/key-object.js";
import { generateSm2KeyPair } from "../gm/sm2-keys.js";
import { validateNodeId } from "../identifiers/index.js";
import { KeyUsageFlags } from "./x509-library.js";
import { keyIdOf } from "./key-id.js";
import { nodeIdUri } from "./node-id.js";
import { toDer, toPem } from "./pem.js";
import { randomSerial } from "./serial.js";
import type { CertificateAuthority, IssuedCertificate } from "./types.js";
import { validityWindow } from "./validity.js";

/** Key algorithms of certificates issued here: SM2 or the JOSE-suite keys. */
export type CertificateKeyType = "SM2" | "ES256" | "EdDSA";

/** A CA made here, with the type of its key. */
export interface GmCapableCertificateAuthority extends CertificateAuthority, IssuedCertificate {
  readonly keyType: CertificateKeyType;
}

/** An issued certificate with the type of its key. */
export interface TypedIssuedCertificate extends IssuedCertificate {
  readonly keyType: CertificateKeyType;
}

function newKey(type: CertificateKeyType): { privateKey: KeyObject; publicKey: KeyObject | Uint8Array } {
  if (type === "SM2") {
    const kp = generateSm2KeyPair();
    return { privateKey: sm2PrivateKeyObject(kp.privateKey), publicKey: kp.publicKey };
  }
  const kp = type === "ES256" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("ed25519");
  return { privateKey: kp.privateKey, publicKey: kp.publicKey };
}

/** The type of a CA's (or any) private key. @throws TypeError for other keys. */
export function certificateKeyTypeOf(key: KeyObject): CertificateKeyType {
  if (sm2PublicKeyOf(key) !== undefined) return "SM2";
  if (key.asymmetricKeyType === "ed25519") return "EdDSA";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  throw new TypeError("the key must be SM2, ECDSA P-256 or Ed25519");
}

function checkType(type: CertificateKeyType): void {
  if (type !== "SM2" && type !== "ES256" && type !== "EdDSA") throw new TypeError(`key type must be SM2, ES256 or EdDSA, not ${String(type)}`);
}

function issue(params: {
  ca: CertificateAuthority | undefined;
  keyType: CertificateKeyType;
  subject: readonly NameAttribute[];
  validityDays: number;
  notBefore: Date | undefined;
  isCa?: boolean;
  pathLength?: number;
  keyUsage: number;
  uris?: readonly string[];
}): TypedIssuedCertificate & CertificateAuthority {
  checkType(params.keyType);
  const { notBefore, notAfter } = validityWindow(params.validityDays, params.notBefore);
  const key = newKey(params.keyType);
  const serial = randomSerial();
  const der = issueX509Certificate({
    subject: params.subject,
    subjectPublicKey: key.publicKey,
    ...(params.ca === undefined
      ? { selfSignedPrivateKey: key.privateKey }
      : { issuer: { certDer: toDer(params.ca.certificatePem), privateKey: createPrivateKey(params.ca.privateKeyPem) } }),
    notBefore,
    notAfter,
    serialNumber: Buffer.from(serial, "hex"),
    isCa: params.isCa === true,
    ...(params.pathLength === undefined ? {} : { pathLength: params.pathLength }),
    keyUsage: params.keyUsage,
    ...(params.uris === undefined ? {} : { subjectAltNameUris: params.uris }),
  });
  return {
    certificatePem: toPem(der, "CERTIFICATE"),
    privateKeyPem: key.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    serial,
    kid: keyIdOf(der),
    notBefore,
    notAfter,
    keyType: params.keyType,
  };
}

function subjectOf(name: string, organization: string | undefined): NameAttribute[] {
  if (typeof name !== "string" || name.trim() === "") throw new TypeError("name must be a non-empty string");
  return organization === undefined ? [["CN", name]] : [["O", organization], ["CN", name]];
}

/** Options for {@link issueSm2SigningCertificate}. */
export interface IssueSm2SigningCertificateOptions {
  /** The issuing CA: the federation root (P-256/Ed25519) or an SM2 CA below it. */
  readonly ca: CertificateAuthority;
  readonly nodeId: string;
  readonly validityDays: number;
  readonly notBefore?: Date;
}

/**
 * Issues a gm-v1 node's envelope signing certificate: an SM2 key, subject CN
 * and URI SAN `urn:tongban:node:<nodeId>`, keyUsage digitalSignature +
 * nonRepudiation + keyEncipherment, no EKU (so it cannot serve TLS). The
 * same certificate is the node's SM2 encryption certificate: gm-v1 bodies
 * addressed to the node are SM2-encrypted to its key (docs/protocol.md).
 *
 * @example
 * ```ts
 * const sign = await issueSm2SigningCertificate({ ca: root, nodeId: "cn.320509.wujiang", validityDays: 397 });
 * ```
 */
export async function issueSm2SigningCertificate(options: IssueSm2SigningCertificateOptions): Promise<IssuedCertificate> {
  const check = typeof options.nodeId === "string" ? validateNodeId(options.nodeId) : { ok: false as const, issues: [] };
  if (!check.ok) throw new TypeError(`not a valid node id: ${String(options.nodeId)}`);
  const { keyType: _keyType, ...issued } = issue({
    ca: options.ca,
    keyType: "SM2",
    subject: [["CN", options.nodeId]],
    validityDays: options.validityDays,
    notBefore: options.notBefore,
    keyUsage: KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation | KeyUsageFlags.keyEncipherment,
    uris: [nodeIdUri(options.nodeId)],
  });
  return issued;
}

/** Options for {@link createSm2Ca}. */
export interface CreateSm2CaOptions {
  readonly name: string;
  readonly validityDays: number;
  /** The issuing CA (e.g. the federation root); a self-signed SM2 root when absent. */
  readonly ca?: CertificateAuthority;
  /** basicConstraints pathLenConstraint. */
  readonly pathLength?: number;
  readonly notBefore?: Date;
}

/**
 * Creates an SM2 certificate authority: a self-signed SM2 root (a GM-only
 * federation's anchor) or an SM2 intermediate under the federation root,
 * issuing SM2-with-SM3 certificates that TrustStore chains to the root.
 */
export async function createSm2Ca(options: CreateSm2CaOptions): Promise<GmCapableCertificateAuthority> {
  return issue({
    ca: options.ca,
    keyType: "SM2",
    subject: subjectOf(options.name, undefined),
    validityDays: options.validityDays,
    notBefore: options.notBefore,
    isCa: true,
    ...(options.pathLength === undefined ? {} : { pathLength: options.pathLength }),
    keyUsage: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
  });
}

/** Options for {@link createSealCa}. */
export interface CreateSealCaOptions {
  /** Subject CN, e.g. "Tongban Seal CA". */
  readonly name: string;
  /** SM2 for GB/T 38540 seals; ES256 or EdDSA for the JOSE seal profile. */
  readonly keyType: CertificateKeyType;
  readonly validityDays: number;
  /** The federation root to issue it under; self-signed when absent. */
  readonly ca?: CertificateAuthority;
  readonly organization?: string;
  readonly notBefore?: Date;
}

/**
 * Creates the federation's seal CA, which issues seal-maker and seal-signer
 * certificates (DESIGN §9). Seal verifiers are given its certificate as the
 * trusted seal maker anchor. An SM2 seal CA signs with SM2-with-SM3 and
 * issues SM2 certificates (GB/T 38540); a P-256/Ed25519 one issues P-256 and
 * Ed25519 certificates (JOSE profile).
 */
export async function createSealCa(options: CreateSealCaOptions): Promise<GmCapableCertificateAuthority> {
  return issue({
    ca: options.ca,
    keyType: options.keyType,
    subject: subjectOf(options.name, options.organization),
    validityDays: options.validityDays,
    notBefore: options.notBefore,
    isCa: true,
    pathLength: 0,
    keyUsage: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
  });
}

/** What a seal certificate is for. */
export type SealCertificateRole = "maker" | "signer";

/** Options for {@link issueSealCertificate}. */
export interface IssueSealCertificateOptions {
  /** The seal CA. */
  readonly ca: CertificateAuthority;
  /** "maker" signs seals (制章人); "signer" signs documents with a seal (签章人). */
  readonly role: SealCertificateRole;
  /** Subject CN: the unit or person. */
  readonly name: string;
  readonly keyType: CertificateKeyType;
  readonly validityDays: number;
  readonly organization?: string;
  readonly notBefore?: Date;
}

/**
 * Issues a seal-maker or seal-signer certificate under a seal CA, with a new
 * key: keyUsage digitalSignature + nonRepudiation, not a CA. The key family
 * must match the CA's (SM2 under an SM2 CA, P-256/Ed25519 under a
 * P-256/Ed25519 CA), since each seal format checks the chain with its own
 * algorithms.
 *
 * @throws TypeError for a mismatched key family or a bad name/role.
 */
export async function issueSealCertificate(options: IssueSealCertificateOptions): Promise<TypedIssuedCertificate> {
  if (options.role !== "maker" && options.role !== "signer") throw new TypeError('role must be "maker" or "signer"');
  checkType(options.keyType);
  const caType = certificateKeyTypeOf(createPrivateKey(options.ca.privateKeyPem));
  if ((caType === "SM2") !== (options.keyType === "SM2"))
    throw new TypeError(
      caType === "SM2"
        ? "an SM2 seal CA issues SM2 seal certificates (GB/T 38540); use a P-256/Ed25519 seal CA for JOSE seals"
        : "a P-256/Ed25519 seal CA issues JOSE seal certificates; use an SM2 seal CA for SM2 (GB/T 38540) seals",
    );
  const { certificatePem, privateKeyPem, serial, kid, notBefore, notAfter, keyType } = issue({
    ca: options.ca,
    keyType: options.keyType,
    subject: subjectOf(options.name, options.organization),
    validityDays: options.validityDays,
    notBefore: options.notBefore,
    keyUsage: KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation,
  });
  return { certificatePem, privateKeyPem, serial, kid, notBefore, notAfter, keyType };
}
