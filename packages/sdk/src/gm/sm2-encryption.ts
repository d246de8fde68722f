import { sm2 } from "sm-crypto-v2";
import { TongbanError } from "../errors/index.js";
import { fromHex, toHex } from "./hex.js";
import { privateKeyHex, publicKeyHex } from "./sm2-keys.js";

/** cipherMode 1 in sm-crypto-v2 is the C1 || C3 || C2 order of GB/T 32918.4 (2016+). */
const C1C3C2 = 1;

/**
 * SM2 public-key encryption (GB/T 32918.4). Output is raw
 * C1 || C3 || C2 with C1 uncompressed (0x04 || x || y, 65 bytes), C3 the
 * 32-byte SM3 check value and C2 as long as the plaintext.
 *
 * An empty plaintext is refused (TypeError): the KDF output would be empty
 * and the standard's "t is all zero" check cannot be applied.
 */
export function sm2Encrypt(plaintext: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (!(plaintext instanceof Uint8Array) || plaintext.length === 0) {
    throw new TypeError("sm2Encrypt: plaintext must be a non-empty Uint8Array");
  }
  const hex = sm2.doEncrypt(plaintext, publicKeyHex(publicKey), C1C3C2);
  // The library drops the 0x04 point marker from C1; put it back so the
  // output is the standard's byte string.
  return fromHex(`04${hex}`);
}

/**
 * Decrypts raw C1 || C3 || C2 (C1 with or without the leading 0x04).
 * Throws GM_CRYPTO_FAILED when the check value C3 does not match.
 */
export function sm2Decrypt(ciphertext: Uint8Array, privateKey: Uint8Array): Uint8Array {
  if (!(ciphertext instanceof Uint8Array)) throw new TypeError("sm2Decrypt: ciphertext must be a Uint8Array");
  const body = ciphertext.length % 2 === 1 && ciphertext[0] === 0x04 ? ciphertext.subarray(1) : ciphertext;
  if (body.length <= 64 + 32) {
    throw new TongbanError("GM_CRYPTO_FAILED", "SM2 ciphertext too short (needs C1, C3 and a non-empty C2)");
  }
  let out: Uint8Array | number[];
  try {
    out = sm2.doDecrypt(toHex(body), privateKeyHex(privateKey), C1C3C2, { output: "array" });
  } catch (cause) {
    if (cause instanceof TypeError) throw cause;
    throw new TongbanError("GM_CRYPTO_FAILED", "SM2 decryption failed", { cause });
  }
  // The library signals a C3 mismatch by returning an empty result; C2 is
  // never empty here, so an empty result always means failure.
  if (out.length === 0) throw new TongbanError("GM_CRYPTO_FAILED", "SM2 decryption failed: check value C3 does not match");
  return Uint8Array.from(out);
}
