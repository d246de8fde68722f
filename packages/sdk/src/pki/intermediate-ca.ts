import { BasicConstraintsExtension, KeyUsageFlags, KeyUsagesExtension } from "./x509-library.js";
import { issueCertificate } from "./issue-certificate.js";
import type { CertificateAuthority, IssuedCertificate } from "./types.js";
import { validityWindow } from "./validity.js";

/** Options for {@link createIntermediateCa}. */
export interface CreateIntermediateCaOptions {
  /** The issuing CA, usually the federation root. */
  readonly ca: CertificateAuthority;
  readonly name: string;
  readonly validityDays: number;
  /** basicConstraints pathLenConstraint; defaults to 0 (issues node certificates only). */
  readonly pathLength?: number;
  readonly notBefore?: Date;
}

/**
 * Issues a subordinate CA (ECDSA P-256), e.g. one per region, so the root key
 * can stay offline. Node certificates it issues chain through it to the root.
 */
export async function createIntermediateCa(options: CreateIntermediateCaOptions): Promise<IssuedCertificate> {
  if (typeof options.name !== "string" || options.name.trim() === "") throw new TypeError("name must be a non-empty string");
  const { notBefore, notAfter } = validityWindow(options.validityDays, options.notBefore);
  return issueCertificate({
    ca: options.ca,
    commonName: options.name,
    keyAlgorithm: "ES256",
    notBefore,
    notAfter,
    extensions: [
      new BasicConstraintsExtension(true, options.pathLength ?? 0, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
    ],
  });
}
