import * as asn1js from "asn1js";
import { sm2 } from "sm-crypto-v2";
import { TongbanError } from "../errors/index.js";
import { decodeStrictDer } from "./der.js";
import { fromHex, toHex } from "./hex.js";
import { DEFAULT_SM2_USER_ID } from "./oids.js";
import { privateKeyHex, publicKeyHex } from "./sm2-keys.js";

/** Options shared by SM2 sign and verify. */
export interface Sm2SignatureOptions {
  /**
   * The signer's distinguishing identifier, UTF-8 encoded into Z_A
   * (GB/T 32918.2 §5.5). Defaults to `1234567812345678` (GM/T 0009);
   * both sides must use the same value or the signature does not verify.
   */
  readonly userId?: string;
}

/**
 * e = SM3(Z_A || M), the value an SM2 signature actually signs
 * (GB/T 32918.2 §6.1 steps A1–A2). Useful when the private key lives in a
 * device that signs a pre-computed digest.
 */
export function sm2SignatureDigest(data: Uint8Array, publicKey: Uint8Array, options: Sm2SignatureOptions = {}): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError("sm2SignatureDigest: data must be a Uint8Array");
  return fromHex(sm2.getHash(data, publicKeyHex(publicKey), options.userId ?? DEFAULT_SM2_USER_ID));
}

/**
 * Signs `data` with SM2 (SM3 digest with Z_A, user ID default
 * `1234567812345678`) and returns the DER signature
 * `SEQUENCE { r INTEGER, s INTEGER }` used by certificates and GB/T 38540.
 *
 * @example
 * ```ts
 * const { privateKey, publicKey } = generateSm2KeyPair();
 * const sig = sm2Sign(bytes, privateKey);
 * sm2Verify(bytes, sig, publicKey); // true
 * ```
 */
export function sm2Sign(data: Uint8Array, privateKey: Uint8Array, options: Sm2SignatureOptions = {}): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError("sm2Sign: data must be a Uint8Array");
  const raw = sm2.doSignature(data, privateKeyHex(privateKey), {
    hash: true,
    userId: options.userId ?? DEFAULT_SM2_USER_ID,
  });
  return sm2SignatureFromRaw(fromHex(raw));
}

/**
 * Verifies a DER SM2 signature over `data`. Returns false for a wrong or
 * malformed signature; throws GM_CRYPTO_FAILED only when the public key is
 * not a point on the curve.
 */
export function sm2Verify(
  data: Uint8Array,
  signatureDer: Uint8Array,
  publicKey: Uint8Array,
  options: Sm2SignatureOptions = {},
): boolean {
  if (!(data instanceof Uint8Array) || !(signatureDer instanceof Uint8Array)) {
    throw new TypeError("sm2Verify: data and signature must be Uint8Arrays");
  }
  const pub = publicKeyHex(publicKey);
  let raw: Uint8Array;
  try {
    raw = sm2SignatureToRaw(signatureDer);
  } catch {
    return false;
  }
  try {
    return sm2.doVerifySignature(data, toHex(raw), pub, { hash: true, userId: options.userId ?? DEFAULT_SM2_USER_ID });
  } catch {
    return false;
  }
}

/** SM2 curve order n; r and s must lie in [1, n-1]. */
const SM2_N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;

/**
 * Converts a DER signature `SEQUENCE { r, s }` to raw r || s (64 bytes).
 * Throws GM_CRYPTO_FAILED for anything that is not exactly that structure
 * with r, s in [1, n-1].
 */
export function sm2SignatureToRaw(signatureDer: Uint8Array): Uint8Array {
  const parsed = decodeStrictDer(signatureDer);
  if (!parsed.ok) fail(parsed.why);
  const seq = parsed.block;
  if (!(seq instanceof asn1js.Sequence) || seq.valueBlock.value.length !== 2) fail("expected SEQUENCE of two INTEGERs");
  const out = new Uint8Array(64);
  seq.valueBlock.value.forEach((item, i) => {
    if (!(item instanceof asn1js.Integer)) fail("expected INTEGER");
    const v = item.toBigInt();
    if (v <= 0n || v >= SM2_N) fail("r or s out of range");
    out.set(fromHex(v.toString(16).padStart(64, "0")), i * 32);
  });
  // Only the one DER encoding is accepted (no padded INTEGERs), so a
  // signature has exactly one byte form.
  if (toHex(sm2SignatureFromRaw(out)) !== toHex(signatureDer)) fail("INTEGERs not minimally encoded");
  return out;
}

function fail(why: string): never {
  throw new TongbanError("GM_CRYPTO_FAILED", `not a DER SM2 signature: ${why}`);
}

/** Converts raw r || s (64 bytes) to the DER `SEQUENCE { r, s }`. */
export function sm2SignatureFromRaw(raw: Uint8Array): Uint8Array {
  if (!(raw instanceof Uint8Array) || raw.length !== 64) throw new TypeError("raw SM2 signature must be 64 bytes (r || s)");
  const int = (bytes: Uint8Array) => asn1js.Integer.fromBigInt(BigInt(`0x${toHex(bytes)}`));
  const seq = new asn1js.Sequence({ value: [int(raw.subarray(0, 32)), int(raw.subarray(32))] });
  return new Uint8Array(seq.toBER(false));
}
