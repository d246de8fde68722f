import { sm2 } from "sm-crypto-v2";
import { TongbanError } from "../errors/index.js";
import { fromHex, toHex } from "./hex.js";

/** An SM2 key pair as raw bytes. */
export interface Sm2KeyPair {
  /** The private scalar d, 32 bytes big-endian. */
  readonly privateKey: Uint8Array;
  /** The public point, uncompressed: 0x04 || x || y (65 bytes). */
  readonly publicKey: Uint8Array;
}

/** Generates a fresh SM2 key pair on the recommended curve (sm2p256v1). */
export function generateSm2KeyPair(): Sm2KeyPair {
  const kp = sm2.generateKeyPairHex();
  return { privateKey: fromHex(kp.privateKey.padStart(64, "0")), publicKey: fromHex(kp.publicKey) };
}

/** The uncompressed public key (65 bytes) belonging to a 32-byte SM2 private key. */
export function sm2PublicKeyFromPrivateKey(privateKey: Uint8Array): Uint8Array {
  return fromHex(sm2.getPublicKeyFromPrivateKey(privateKeyHex(privateKey)));
}

/** Checks the shape of a private key and returns it as the library's hex. @internal */
export function privateKeyHex(privateKey: Uint8Array): string {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== 32) {
    throw new TypeError("SM2 private key must be 32 bytes");
  }
  return toHex(privateKey);
}

/**
 * Checks that `publicKey` is an uncompressed point on the SM2 curve and
 * returns it as the library's hex. A point off the curve is GM_CRYPTO_FAILED,
 * not a TypeError: it usually comes from a certificate, not from the caller.
 * @internal
 */
export function publicKeyHex(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array)) throw new TypeError("SM2 public key must be a Uint8Array");
  const hex = toHex(publicKey);
  let onCurve = false;
  try {
    // The library throws (rather than returning false) for most off-curve points.
    onCurve = publicKey.length === 65 && publicKey[0] === 0x04 && sm2.verifyPublicKey(hex);
  } catch {
    onCurve = false;
  }
  if (!onCurve) {
    throw new TongbanError("GM_CRYPTO_FAILED", "not an uncompressed SM2 public key on the curve", {
      details: { length: publicKey.length },
    });
  }
  return hex;
}
