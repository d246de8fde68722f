import { X509Certificate } from "node:crypto";
import { issueCertificate } from "../pki/issue-certificate.js";
import type { CertificateAuthority, IssuedCertificate } from "../pki/index.js";
import { isFederationId } from "./validate.js";
import { validityWindow } from "../pki/validity.js";
import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  PeculiarCertificate,
  SubjectAlternativeNameExtension,
} from "../pki/x509-library.js";

/**
 * The URI SAN prefix marking a directory-signing certificate; the federation
 * id follows it. A node certificate never carries it, so a node's signing key
 * (which also chains to the root) cannot sign a directory.
 */
export const DIRECTORY_SIGNER_URI_PREFIX = "urn:tongban:directory:";

/** Options for {@link issueDirectorySigningCertificate}. */
export interface IssueDirectorySigningCertificateOptions {
  /** The federation root (the directory's trust anchor) that issues it. */
  readonly ca: CertificateAuthority;
  /** The federation id the certificate may sign directories for, e.g. `yangtze-delta`. */
  readonly federationId: string;
  readonly validityDays: number;
  /** Start of validity; defaults to now. */
  readonly notBefore?: Date;
}

/**
 * Issues the certificate the federation authority signs directories with:
 * ECDSA P-256 (ES256), a leaf (CA:false), keyUsage
 * digitalSignature+nonRepudiation, no EKU, and the single URI SAN
 * `urn:tongban:directory:<federationId>`. Keeping the root key offline and
 * signing with this one is the recommended setup; the root may also sign
 * directories itself (see docs/directory.md).
 *
 * @throws TypeError for an empty federation id or bad validity.
 *
 * @example
 * ```ts
 * const signer = await issueDirectorySigningCertificate({ ca: root, federationId: "yangtze-delta", validityDays: 90 });
 * const jws = signDirectory(dir, { key: signer.privateKeyPem, cert: signer.certificatePem });
 * ```
 */
export async function issueDirectorySigningCertificate(options: IssueDirectorySigningCertificateOptions): Promise<IssuedCertificate> {
  const id = options.federationId;
  if (!isFederationId(id)) throw new TypeError(`not a valid federation id: ${String(id)}`);
  const { notBefore, notAfter } = validityWindow(options.validityDays, options.notBefore);
  return issueCertificate({
    ca: options.ca,
    commonName: `${id} directory signer`,
    keyAlgorithm: "ES256",
    notBefore,
    notAfter,
    extensions: [
      new BasicConstraintsExtension(false, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation, true),
      new SubjectAlternativeNameExtension([{ type: "url", value: `${DIRECTORY_SIGNER_URI_PREFIX}${id}` }]),
    ],
  });
}

/**
 * The federation ids a certificate may sign directories for (from its
 * `urn:tongban:directory:` URI SANs). Empty for every other certificate.
 */
export function directorySignerFederations(der: Uint8Array): string[] {
  const san = new PeculiarCertificate(der).getExtension(SubjectAlternativeNameExtension);
  if (san === null) return [];
  return san.names.items
    .filter((n) => n.type === "url" && n.value.startsWith(DIRECTORY_SIGNER_URI_PREFIX))
    .map((n) => n.value.slice(DIRECTORY_SIGNER_URI_PREFIX.length));
}

/** keyUsage bits of a certificate, or undefined when it has none. */
export function keyUsageOf(der: Uint8Array): number | undefined {
  return new PeculiarCertificate(der).getExtension(KeyUsagesExtension)?.usages;
}

/** True when `cert` was issued and signed by `issuer`. */
export function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}
