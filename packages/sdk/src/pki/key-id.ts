import { createHash } from "node:crypto";
import { certificateDer, type CertificateInput } from "./node-id.js";

/**
 * The key id of a certificate: base64url(SHA-256(DER)). It is the JWS `kid`
 * of every envelope signed with the certificate's key, and the trust store's
 * cache key. Hashing the whole certificate (not only the key) means a
 * re-issued certificate gets a new kid even if the key is reused.
 */
export function keyIdOf(cert: CertificateInput): string {
  return createHash("sha256").update(certificateDer(cert)).digest("base64url");
}
