import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from "node:crypto";
import type { SignatureAlgorithm } from "../trust/signer-resolver.js";
import { base64url } from "./base64url.js";

/** The `typ` every Tongban envelope signature carries. */
export const ENVELOPE_JWS_TYPE = "tongban-header+jws";

/** Algorithms the JOSE suite ("jose-v1") allows in an envelope. */
export const JOSE_SUITE_ALGORITHMS: ReadonlySet<SignatureAlgorithm> = new Set(["ES256", "EdDSA"]);

/** The fields of the JWS protected header of an envelope signature. */
export interface EnvelopeProtectedHeader {
  readonly alg: SignatureAlgorithm;
  readonly kid: string;
  readonly typ: string;
}

/**
 * Encodes the protected header. Key order is fixed (alg, kid, typ) so two
 * implementations produce the same bytes, though receivers never rely on
 * that: they verify over the bytes as received.
 */
export function encodeProtectedHeader(alg: SignatureAlgorithm, kid: string): Uint8Array {
  return protectedFor(alg, kid).bytes;
}

/** A protected header with its base64url form, made once per (alg, kid). */
export interface EncodedProtectedHeader {
  readonly bytes: Uint8Array;
  readonly b64: string;
}

const protectedByKey = new Map<string, EncodedProtectedHeader>();

/** The cached protected header for a signing key: a node signs with few keys. */
export function protectedFor(alg: SignatureAlgorithm, kid: string): EncodedProtectedHeader {
  const key = `${alg} ${kid}`;
  let hit = protectedByKey.get(key);
  if (hit === undefined) {
    const bytes = new TextEncoder().encode(JSON.stringify({ alg, kid, typ: ENVELOPE_JWS_TYPE }));
    hit = { bytes, b64: base64url(bytes) };
    if (protectedByKey.size > 1_000) protectedByKey.clear();
    protectedByKey.set(key, hit);
  }
  return hit;
}

/**
 * The JWS signing input (RFC 7515 §5.1): ASCII(BASE64URL(protected) "."
 * BASE64URL(payload)), where the payload is the header bytes (detached).
 * `protectedBytes` may be given already base64url-encoded (cached).
 */
export function signingInput(protectedBytes: Uint8Array | string, headerBytes: Uint8Array): Buffer {
  const b64 = typeof protectedBytes === "string" ? protectedBytes : base64url(protectedBytes);
  return Buffer.from(`${b64}.${base64url(headerBytes)}`, "latin1");
}

/** Signs with the raw JWS signature form (ES256: 64-byte R‖S; EdDSA: Ed25519). */
export function jwsSign(algorithm: SignatureAlgorithm, key: KeyObject, input: Uint8Array): Uint8Array {
  switch (algorithm) {
    case "ES256":
      return cryptoSign("sha256", input, { key, dsaEncoding: "ieee-p1363" });
    case "EdDSA":
      return cryptoSign(null, input, key);
    default:
      throw new TypeError(`the JOSE suite cannot sign with ${algorithm}`);
  }
}

/** Verifies a raw JWS signature value; false for any mismatch, never throws on bad bytes. */
export function jwsVerify(algorithm: SignatureAlgorithm, key: KeyObject, input: Uint8Array, value: Uint8Array): boolean {
  try {
    switch (algorithm) {
      case "ES256":
        return value.length === 64 && cryptoVerify("sha256", input, { key, dsaEncoding: "ieee-p1363" }, value);
      case "EdDSA":
        return value.length === 64 && cryptoVerify(null, input, key, value);
      default:
        return false;
    }
  } catch {
    return false;
  }
}
