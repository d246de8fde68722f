import { randomBytes } from "node:crypto";
import { sm4 as sm4Lib } from "sm-crypto-v2";
import { TongbanError } from "../errors/index.js";

/** SM4-GCM output: the three parts a receiver needs besides the key. */
export interface Sm4GcmSealed {
  /** 12-byte nonce; never reuse one with the same key. */
  readonly iv: Uint8Array;
  readonly ciphertext: Uint8Array;
  /** 16-byte authentication tag. */
  readonly tag: Uint8Array;
}

/** Options for SM4-GCM. */
export interface Sm4GcmOptions {
  /** 12-byte nonce; a random one is drawn when absent. */
  readonly iv?: Uint8Array;
  /** Additional authenticated data (bound by the tag, not encrypted). */
  readonly aad?: Uint8Array;
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== 16) throw new TypeError("SM4 key must be 16 bytes");
}

/**
 * SM4 in GCM mode (authenticated; RFC 8998 `TLS_SM4_GCM_SM3` uses the same
 * construction). GCM was chosen over CBC + HMAC because the library provides
 * it and it authenticates in one pass.
 */
export function sm4GcmEncrypt(key: Uint8Array, plaintext: Uint8Array, options: Sm4GcmOptions = {}): Sm4GcmSealed {
  checkKey(key);
  if (!(plaintext instanceof Uint8Array)) throw new TypeError("sm4GcmEncrypt: plaintext must be a Uint8Array");
  const iv = options.iv ?? new Uint8Array(randomBytes(12));
  if (iv.length !== 12) throw new TypeError("SM4-GCM iv must be 12 bytes");
  const res = sm4Lib.encrypt(plaintext, key, {
    mode: "gcm",
    iv,
    output: "array",
    outputTag: true,
    ...(options.aad === undefined ? {} : { associatedData: options.aad }),
  });
  if (res.tag === undefined) throw new TongbanError("GM_CRYPTO_FAILED", "SM4-GCM produced no tag");
  return { iv: Uint8Array.from(iv), ciphertext: Uint8Array.from(res.output), tag: Uint8Array.from(res.tag) };
}

/** Opens SM4-GCM output; throws GM_CRYPTO_FAILED when the tag does not verify. */
export function sm4GcmDecrypt(key: Uint8Array, sealed: Sm4GcmSealed, options: Pick<Sm4GcmOptions, "aad"> = {}): Uint8Array {
  checkKey(key);
  if (sealed.iv.length !== 12 || sealed.tag.length !== 16) throw new TypeError("SM4-GCM needs a 12-byte iv and a 16-byte tag");
  try {
    const out = sm4Lib.decrypt(sealed.ciphertext, key, {
      mode: "gcm",
      iv: sealed.iv,
      tag: sealed.tag,
      output: "array",
      ...(options.aad === undefined ? {} : { associatedData: options.aad }),
    });
    return Uint8Array.from(out);
  } catch (cause) {
    throw new TongbanError("GM_CRYPTO_FAILED", "SM4-GCM authentication failed", { cause });
  }
}
