// @peculiar/x509 resolves its algorithm providers through tsyringe, which
// needs the Reflect metadata API at load time. Loading the polyfill here, and
// importing the library only through this module, keeps that ordering in one
// place (see docs/decisions/0001-certificate-library.md).
import "reflect-metadata";
import { webcrypto } from "node:crypto";

export {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Pkcs10CertificateRequest,
  Pkcs10CertificateRequestGenerator,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate as PeculiarCertificate,
  X509CertificateGenerator,
  X509Crl as PeculiarCrl,
  X509CrlGenerator,
  X509CrlReason,
} from "@peculiar/x509";
export type { JsonGeneralName } from "@peculiar/x509";

/**
 * The WebCrypto implementation every generator call is given explicitly, so
 * nothing depends on (or mutates) the library's global crypto provider.
 */
export const subtleProvider: webcrypto.Crypto = webcrypto;
