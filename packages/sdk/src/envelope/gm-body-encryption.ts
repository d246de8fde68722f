import { randomBytes, type KeyObject } from "node:crypto";
import { TongbanError } from "../errors/index.js";
import { sm2PrivateKeyOf, sm2PublicKeyOf } from "../gm/key-object.js";
import { sm2Decrypt, sm2Encrypt } from "../gm/sm2-encryption.js";
import { sm4GcmDecrypt, sm4GcmEncrypt } from "../gm/sm4.js";
import { base64url } from "./base64url.js";

/** Key transport of the GM body container: SM2 encryption (GB/T 32918.4), C1 || C3 || C2. */
export const BODY_GM_ALG = "SM2-C1C3C2";
/** Content encryption of the GM body container: SM4 in GCM mode (128-bit tag, 96-bit IV). */
export const BODY_GM_ENC = "SM4-GCM";

const CONTENT_TYPE = "application/tongban-body+protobuf";
// Fixed bytes, key order alg, enc, cty; receivers parse whatever arrives.
const PROTECTED = new TextEncoder().encode(JSON.stringify({ alg: BODY_GM_ALG, enc: BODY_GM_ENC, cty: CONTENT_TYPE }));
const PROTECTED_B64 = base64url(PROTECTED);
/** 0x04 || x || y (65) + C3 (32) + C2 (16, the SM4 key). */
const ENCRYPTED_KEY_BYTES = 65 + 32 + 16;

function rawPublicKey(key: KeyObject | Uint8Array): Uint8Array {
  if (key instanceof Uint8Array) return key;
  const raw = sm2PublicKeyOf(key);
  if (raw === undefined) throw new TypeError("GM body encryption needs the recipient's SM2 public key");
  return raw;
}

/**
 * Encrypts a clear protobuf Body to the recipient's SM2 public key (from its
 * SM2 certificate) as the GM container, a JWE-shaped compact string returned
 * as ASCII bytes:
 *
 *     BASE64URL(protected) "." BASE64URL(EK) "." BASE64URL(IV) "." BASE64URL(C) "." BASE64URL(TAG)
 *
 * where a fresh 16-byte SM4 key K is wrapped as EK = SM2Encrypt(K) in the
 * C1 || C3 || C2 layout with C1 uncompressed (113 bytes), IV is 12 random
 * bytes, and (C, TAG) = SM4-GCM(K, IV, body) with additional authenticated
 * data ASCII(BASE64URL(protected)). See docs/protocol.md "gm-v1".
 */
export function encryptBodyGm(plaintext: Uint8Array, recipientKey: KeyObject | Uint8Array): Uint8Array {
  const point = rawPublicKey(recipientKey);
  const cek = new Uint8Array(randomBytes(16));
  try {
    const ek = sm2Encrypt(cek, point);
    const sealed = sm4GcmEncrypt(cek, plaintext, { aad: new TextEncoder().encode(PROTECTED_B64) });
    return new TextEncoder().encode([PROTECTED_B64, base64url(ek), base64url(sealed.iv), base64url(sealed.ciphertext), base64url(sealed.tag)].join("."));
  } finally {
    cek.fill(0);
  }
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Opens a GM container with this node's SM2 private key; any failure is ENVELOPE_DECRYPTION_FAILED. */
export function decryptBodyGm(container: Uint8Array, privateKey: KeyObject | Uint8Array): Uint8Array {
  const fail = (why: string, cause?: unknown): never => {
    throw new TongbanError("ENVELOPE_DECRYPTION_FAILED", `the encrypted body cannot be decrypted by this node (${why})`, cause === undefined ? {} : { cause });
  };
  let d: Uint8Array;
  try {
    d = privateKey instanceof Uint8Array ? privateKey : sm2PrivateKeyOf(privateKey);
  } catch (cause) {
    return fail("the decryption key is not an SM2 private key", cause);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(container);
  } catch (cause) {
    return fail("not text", cause);
  }
  const parts = text.split(".");
  if (parts.length !== 5 || !parts.every((p) => B64URL.test(p))) return fail("not five base64url parts");
  // Canonical base64url only: a last character whose unused low bits are set decodes to the same
  // bytes, and a container must have exactly one spelling (no malleable copies of a body).
  if (!parts.every((p) => Buffer.from(p, "base64url").toString("base64url") === p)) return fail("a part is not canonical base64url");
  const [protB64, ekB64, ivB64, ctB64, tagB64] = parts as [string, string, string, string, string];
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(protB64, "base64url").toString("utf8"));
  } catch (cause) {
    return fail("protected header is not JSON", cause);
  }
  const h = header as Record<string, unknown> | null;
  if (h === null || typeof h !== "object" || h.alg !== BODY_GM_ALG || h.enc !== BODY_GM_ENC || "crit" in h) return fail("unexpected algorithms");
  const ek = new Uint8Array(Buffer.from(ekB64, "base64url"));
  const iv = new Uint8Array(Buffer.from(ivB64, "base64url"));
  const tag = new Uint8Array(Buffer.from(tagB64, "base64url"));
  if (ek.length !== ENCRYPTED_KEY_BYTES || ek[0] !== 0x04 || iv.length !== 12 || tag.length !== 16) return fail("wrong part sizes");
  let cek: Uint8Array | undefined;
  try {
    cek = sm2Decrypt(ek, d);
    if (cek.length !== 16) return fail("the wrapped key is not an SM4 key");
    return sm4GcmDecrypt(cek, { iv, ciphertext: new Uint8Array(Buffer.from(ctB64, "base64url")), tag }, { aad: new TextEncoder().encode(protB64) });
  } catch (cause) {
    if (cause instanceof TongbanError && cause.code === "ENVELOPE_DECRYPTION_FAILED") throw cause;
    return fail("SM2 or SM4-GCM check failed", cause);
  } finally {
    cek?.fill(0);
  }
}
