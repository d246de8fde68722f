import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
  subtleProvider,
} from "./x509-library.js";
import { exportPrivateKeyPem, generateKeyPair, signingParams } from "./keys.js";
import { keyIdOf } from "./key-id.js";
import { toPem } from "./pem.js";
import { randomSerial } from "./serial.js";
import type { FederationRoot } from "./types.js";
import { validityWindow } from "./validity.js";

/** Options for {@link createFederationRoot}. */
export interface CreateFederationRootOptions {
  /** Subject common name, e.g. "Tongban Federation Root CA". */
  readonly name: string;
  readonly validityDays: number;
  /** Start of validity; defaults to now. */
  readonly notBefore?: Date;
}

/**
 * Creates the federation's self-signed root CA: ECDSA P-256 (ES256),
 * basicConstraints CA:true and keyUsage keyCertSign+cRLSign, both critical,
 * and a subject key identifier. Its certificate is the one out-of-band trust
 * anchor every node joins with.
 *
 * @example
 * ```ts
 * const root = await createFederationRoot({ name: "Tongban Root CA", validityDays: 3650 });
 * const store = new TrustStore({ anchor: root.certificatePem });
 * ```
 */
export async function createFederationRoot(options: CreateFederationRootOptions): Promise<FederationRoot> {
  if (typeof options.name !== "string" || options.name.trim() === "") throw new TypeError("name must be a non-empty string");
  const { notBefore, notAfter } = validityWindow(options.validityDays, options.notBefore);
  const keys = await generateKeyPair("ES256");
  const serial = randomSerial();
  const cert = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial,
      name: [{ CN: [options.name] }],
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: signingParams("ES256"),
      extensions: [
        new BasicConstraintsExtension(true, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
        await SubjectKeyIdentifierExtension.create(keys.publicKey, false, subtleProvider),
      ],
    },
    subtleProvider,
  );
  return {
    certificatePem: toPem(cert.rawData, "CERTIFICATE"),
    privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
    serial,
    kid: keyIdOf(new Uint8Array(cert.rawData)),
    notBefore,
    notAfter,
  };
}
