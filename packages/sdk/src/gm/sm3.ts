import { sm3 as sm3Hex } from "sm-crypto-v2";
import { fromHex } from "./hex.js";

/**
 * SM3 digest (GB/T 32905) of `data`: 32 bytes.
 *
 * @example
 * ```ts
 * sm3(new TextEncoder().encode("abc")) // 66c7f0f4…8f4ba8e0
 * ```
 */
export function sm3(data: Uint8Array): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError("sm3: data must be a Uint8Array");
  return fromHex(sm3Hex(data));
}

/** HMAC-SM3 (RFC 2104 construction over SM3) of `data` under `key`: 32 bytes. */
export function sm3Hmac(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || !(data instanceof Uint8Array)) throw new TypeError("sm3Hmac: key and data must be Uint8Arrays");
  return fromHex(sm3Hex(data, { key, mode: "hmac" }));
}
