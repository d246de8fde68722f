import type { KeyObject } from "node:crypto";
import { CompactEncrypt, compactDecrypt } from "jose";
import { TongbanError } from "../errors/index.js";

/** The JWE profile for envelope bodies: ECDH-ES key agreement, AES-256-GCM content. */
export const BODY_JWE_ALG = "ECDH-ES+A256KW";
export const BODY_JWE_ENC = "A256GCM";

/**
 * Encrypts a clear protobuf Body to the recipient's P-256 public key (its
 * TLS certificate key) as a JWE compact serialization, returned as UTF-8 bytes.
 */
export async function encryptBody(plaintext: Uint8Array, recipientKey: KeyObject): Promise<Uint8Array> {
  if (recipientKey.asymmetricKeyType !== "ec") throw new TypeError("body encryption needs the recipient's EC (P-256) public key");
  const jwe = await new CompactEncrypt(plaintext)
    .setProtectedHeader({ alg: BODY_JWE_ALG, enc: BODY_JWE_ENC, cty: "application/tongban-body+protobuf" })
    .encrypt(recipientKey);
  return new TextEncoder().encode(jwe);
}

/** Decrypts a JWE body; any failure is ENVELOPE_DECRYPTION_FAILED. */
export async function decryptBody(ciphertext: Uint8Array, privateKey: KeyObject): Promise<Uint8Array> {
  try {
    const jwe = new TextDecoder("utf-8", { fatal: true }).decode(ciphertext);
    const { plaintext, protectedHeader } = await compactDecrypt(jwe, privateKey, {
      keyManagementAlgorithms: [BODY_JWE_ALG],
      contentEncryptionAlgorithms: [BODY_JWE_ENC],
    });
    if (protectedHeader.alg !== BODY_JWE_ALG || protectedHeader.enc !== BODY_JWE_ENC) throw new Error("unexpected JWE algorithms");
    return plaintext;
  } catch (err) {
    throw new TongbanError("ENVELOPE_DECRYPTION_FAILED", "the encrypted body cannot be decrypted by this node", { cause: err });
  }
}
