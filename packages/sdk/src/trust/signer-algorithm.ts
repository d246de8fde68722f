import type { KeyObject } from "node:crypto";
import { TongbanError } from "../errors/index.js";
import { sm2PublicKeyOf } from "../gm/key-object.js";
import type { SignatureAlgorithm } from "./signer-resolver.js";

/**
 * The signature algorithm a certificate key signs with. It is derived from
 * the key, never taken from a message header, so an envelope cannot ask for
 * a weaker algorithm than its signer's certificate fixes.
 *
 * @throws TongbanError TRUST_CERT_INVALID for any other key type.
 */
export function signatureAlgorithmOf(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === "ed25519") return "EdDSA";
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === "prime256v1") return "ES256";
  }
  // Node reports SM2 keys (public or private) without a key type; the curve
  // OID in their SubjectPublicKeyInfo tells.
  if (sm2PublicKeyOf(key) !== undefined) return "SM2SM3";
  throw new TongbanError("TRUST_CERT_INVALID", "the certificate key is not one Tongban signs with", {
    details: { keyType: key.asymmetricKeyType, curve: key.asymmetricKeyDetails?.namedCurve },
  });
}
