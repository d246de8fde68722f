import type { webcrypto } from "node:crypto";
import {
  AuthorityKeyIdentifierExtension,
  type Extension,
  PeculiarCertificate,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
  subtleProvider,
} from "./x509-library.js";
import { exportPrivateKeyPem, generateKeyPair, importSigningKey, signingParams, type CertificateKeyAlgorithm } from "./keys.js";
import { keyIdOf } from "./key-id.js";
import { toDer, toPem } from "./pem.js";
import { randomSerial } from "./serial.js";
import type { CertificateAuthority, IssuedCertificate } from "./types.js";

/** What the shared issuing step needs; extensions are the ones specific to the profile. */
export interface IssueParams {
  readonly ca: CertificateAuthority;
  readonly commonName: string;
  readonly keyAlgorithm: CertificateKeyAlgorithm;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: readonly Extension[];
}

/**
 * Generates a key and a CA-signed certificate for it, adding the subject and
 * authority key identifiers every profile carries. Internal to pki/.
 */
export async function issueCertificate(params: IssueParams): Promise<IssuedCertificate> {
  const keys = await generateKeyPair(params.keyAlgorithm);
  const issued = await certifyPublicKey(params, keys.publicKey);
  return { ...issued, privateKeyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/**
 * Signs a certificate for a public key the CA was given (a certificate request's): the same profile and key
 * identifiers as {@link issueCertificate}, no private key. Internal to pki/.
 */
export async function certifyPublicKey(params: Omit<IssueParams, "keyAlgorithm">, publicKey: webcrypto.CryptoKey): Promise<Omit<IssuedCertificate, "privateKeyPem">> {
  const caCert = new PeculiarCertificate(toDer(params.ca.certificatePem));
  const { key: caKey, algorithm: caAlgorithm } = await importSigningKey(params.ca.privateKeyPem);
  const caSki = caCert.getExtension(SubjectKeyIdentifierExtension);
  // Reusing the CA's own SKI (rather than recomputing it) keeps AKI and SKI
  // equal even for a CA whose SKI was derived by another method.
  const aki =
    caSki === null
      ? await AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, subtleProvider)
      : new AuthorityKeyIdentifierExtension(caSki.keyId);
  const serial = randomSerial();
  const cert = await X509CertificateGenerator.create(
    {
      serialNumber: serial,
      subject: [{ CN: [params.commonName] }],
      // The exact encoded issuer name of the CA, so name matching in chain
      // builders (OpenSSL compares canonical forms, others compare bytes) works.
      issuer: caCert.subjectName,
      notBefore: params.notBefore,
      notAfter: params.notAfter,
      publicKey,
      signingKey: caKey,
      signingAlgorithm: signingParams(caAlgorithm),
      extensions: [
        ...params.extensions,
        await SubjectKeyIdentifierExtension.create(publicKey, false, subtleProvider),
        aki,
      ],
    },
    subtleProvider,
  );
  const der = new Uint8Array(cert.rawData);
  return {
    certificatePem: toPem(cert.rawData, "CERTIFICATE"),
    serial,
    kid: keyIdOf(der),
    notBefore: params.notBefore,
    notAfter: params.notAfter,
  };
}
