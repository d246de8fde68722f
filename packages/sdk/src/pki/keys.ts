import { createPrivateKey, type webcrypto } from "node:crypto";
import { subtleProvider } from "./x509-library.js";
import { toPem } from "./pem.js";

/** Key algorithms this module issues certificates for. */
export type CertificateKeyAlgorithm = "ES256" | "EdDSA";

const ES256_KEY: webcrypto.EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const ED25519_KEY: webcrypto.Algorithm = { name: "Ed25519" };

/** The signature algorithm WebCrypto and @peculiar/x509 use for a key algorithm. */
export function signingParams(alg: CertificateKeyAlgorithm): webcrypto.Algorithm | webcrypto.EcdsaParams {
  return alg === "ES256" ? { name: "ECDSA", hash: "SHA-256" } : ED25519_KEY;
}

/** Generates an extractable key pair for a certificate. */
export async function generateKeyPair(alg: CertificateKeyAlgorithm): Promise<webcrypto.CryptoKeyPair> {
  const params = alg === "ES256" ? ES256_KEY : ED25519_KEY;
  return (await subtleProvider.subtle.generateKey(params, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
}

/** PKCS#8 PEM of a private key. */
export async function exportPrivateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return toPem(await subtleProvider.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

/**
 * Imports a CA's PKCS#8 PEM private key for signing, working out its
 * algorithm from the key itself so callers cannot mismatch the two.
 *
 * @throws TypeError when the key is neither P-256 nor Ed25519.
 */
export async function importSigningKey(
  pem: string,
): Promise<{ key: webcrypto.CryptoKey; algorithm: CertificateKeyAlgorithm }> {
  const keyObject = createPrivateKey(pem);
  const der = keyObject.export({ format: "der", type: "pkcs8" });
  let algorithm: CertificateKeyAlgorithm;
  if (keyObject.asymmetricKeyType === "ed25519") algorithm = "EdDSA";
  else if (keyObject.asymmetricKeyType === "ec" && keyObject.asymmetricKeyDetails?.namedCurve === "prime256v1")
    algorithm = "ES256";
  else throw new TypeError("CA private key must be ECDSA P-256 or Ed25519");
  const params = algorithm === "ES256" ? ES256_KEY : ED25519_KEY;
  const key = await subtleProvider.subtle.importKey("pkcs8", der, params, false, ["sign"]);
  return { key, algorithm };
}
