import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { DEFAULT_SM2_USER_ID } from "../gm/oids.js";
import { sm2PrivateKeyOf, sm2PublicKeyOf } from "../gm/key-object.js";
import { sm2Sign, sm2Verify } from "../gm/sm2-signature.js";
import type { SignatureAlgorithm } from "../trust/signer-resolver.js";
import { base64url } from "./base64url.js";

/** The `typ` every Tongban envelope signature carries. */
export const ENVELOPE_JWS_TYPE = "tongban-header+jws";

/** Algorithms the JOSE suite ("jose-v1") allows in an envelope. */
export const JOSE_SUITE_ALGORITHMS: ReadonlySet<SignatureAlgorithm> = new Set(["ES256", "EdDSA"]);
/** Algorithms the GM suite ("gm-v1") allows in an envelope. */
export const GM_SUITE_ALGORITHMS: ReadonlySet<SignatureAlgorithm> = new Set(["SM2SM3"]);
/** Every algorithm an envelope may be signed with: what verifyEnvelope accepts by default. */
export const ENVELOPE_ALGORITHMS: ReadonlySet<SignatureAlgorithm> = new Set(["ES256", "EdDSA", "SM2SM3"]);

/** SM2 parameters of a signature: the user ID both sides must agree on. */
export interface Sm2UserIdOption {
  /** Default `1234567812345678`; the empty string is refused. */
  readonly sm2UserId?: string | undefined;
}

/** The SM2 user ID to use, refusing the empty one (TypeError): GM/T 0009 needs an identifier. */
export function sm2UserIdOf(option: string | undefined): string {
  if (option === undefined) return DEFAULT_SM2_USER_ID;
  if (typeof option !== "string" || option === "") throw new TypeError("the SM2 user ID must be a non-empty string");
  if (new TextEncoder().encode(option).length > 8191) throw new TypeError("the SM2 user ID must be shorter than 8192 bytes (ENTL is 16 bits)");
  return option;
}

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

/** The header last asked for: one signing key in turn is the common case. */
let lastProtected: { alg: SignatureAlgorithm; kid: string; hit: EncodedProtectedHeader } | undefined;

/** The cached protected header for a signing key: a node signs with few keys. */
export function protectedFor(alg: SignatureAlgorithm, kid: string): EncodedProtectedHeader {
  if (lastProtected !== undefined && lastProtected.alg === alg && lastProtected.kid === kid) return lastProtected.hit;
  const key = `${alg} ${kid}`;
  let hit = protectedByKey.get(key);
  if (hit === undefined) {
    const bytes = new TextEncoder().encode(JSON.stringify({ alg, kid, typ: ENVELOPE_JWS_TYPE }));
    hit = { bytes, b64: base64url(bytes) };
    if (protectedByKey.size > 1_000) protectedByKey.clear();
    protectedByKey.set(key, hit);
  }
  lastProtected = { alg, kid, hit };
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

/**
 * Signs with the signature form of the algorithm: ES256 64-byte R‖S (JWS);
 * EdDSA 64-byte Ed25519 (JWS); SM2SM3 the DER `SEQUENCE { r, s }` of an SM2
 * signature (GB/T 32918.2, e = SM3(Z_A ‖ input), Z_A with the user ID).
 */
export function jwsSign(algorithm: SignatureAlgorithm, key: KeyObject, input: Uint8Array, options: Sm2UserIdOption = {}): Uint8Array {
  switch (algorithm) {
    case "ES256":
      return cryptoSign("sha256", input, { key, dsaEncoding: "ieee-p1363" });
    case "EdDSA":
      return cryptoSign(null, input, key);
    case "SM2SM3":
      return sm2Sign(input, sm2PrivateKeyOf(key), { userId: sm2UserIdOf(options.sm2UserId) });
    default:
      throw new TypeError(`envelopes cannot be signed with ${String(algorithm)}`);
  }
}

/**
 * Verifies a signature value made by {@link jwsSign}; false for any
 * mismatch, never throws on bad bytes. For SM2SM3 the value must be the one
 * minimal DER encoding, and `sm2PublicKey` (0x04 ‖ x ‖ y) is used when given
 * instead of reading the point out of `key`.
 */
export function jwsVerify(
  algorithm: SignatureAlgorithm,
  key: KeyObject,
  input: Uint8Array,
  value: Uint8Array,
  options: Sm2UserIdOption & { readonly sm2PublicKey?: Uint8Array | undefined } = {},
): boolean {
  const userId = algorithm === "SM2SM3" ? sm2UserIdOf(options.sm2UserId) : undefined;
  try {
    switch (algorithm) {
      case "ES256":
        return value.length === 64 && cryptoVerify("sha256", input, { key, dsaEncoding: "ieee-p1363" }, value);
      case "EdDSA":
        return value.length === 64 && cryptoVerify(null, input, key, value);
      case "SM2SM3": {
        const point = options.sm2PublicKey ?? sm2PublicKeyOf(key);
        return point !== undefined && value.length <= 72 && sm2Verify(input, value, point, { userId: userId as string });
      }
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/**
 * Where ES256 and EdDSA signatures are made and checked off the event loop
 * (a server signing and verifying many at once): {@link threadPoolSignatures}
 * (libuv's thread pool, one job per signature) or a
 * {@link startSignatureWorker} (a worker thread, batched: far less work on
 * the event loop per signature). SM2SM3 is always done in line.
 */
export interface SignatureOffload {
  sign(algorithm: "ES256" | "EdDSA", key: KeyObject, input: Uint8Array): Promise<Uint8Array>;
  /** False for any mismatch; never rejects for bad bytes. */
  verify(algorithm: "ES256" | "EdDSA", key: KeyObject, input: Uint8Array, value: Uint8Array): Promise<boolean>;
}

/** Signatures on libuv's thread pool (node:crypto's callback form). */
export const threadPoolSignatures: SignatureOffload = {
  sign: (algorithm, key, input) =>
    new Promise((resolve, reject) => {
      const done = (err: Error | null, sig: Buffer) => (err === null ? resolve(sig) : reject(err));
      if (algorithm === "ES256") cryptoSign("sha256", input, { key, dsaEncoding: "ieee-p1363" }, done);
      else cryptoSign(null, input, key, done);
    }),
  verify: (algorithm, key, input, value) =>
    new Promise((resolve) => {
      const done = (err: Error | null, ok: boolean) => resolve(err === null && ok);
      try {
        if (algorithm === "ES256") cryptoVerify("sha256", input, { key, dsaEncoding: "ieee-p1363" }, value, done);
        else cryptoVerify(null, input, key, value, done);
      } catch {
        resolve(false);
      }
    }),
};

/** {@link jwsSign} through `offload` for ES256 and EdDSA; SM2SM3 in line. */
export async function jwsSignWith(offload: SignatureOffload, algorithm: SignatureAlgorithm, key: KeyObject, input: Uint8Array, options: Sm2UserIdOption = {}): Promise<Uint8Array> {
  if (algorithm !== "ES256" && algorithm !== "EdDSA") return jwsSign(algorithm, key, input, options);
  return offload.sign(algorithm, key, input);
}

/** {@link jwsVerify} through `offload` for ES256 and EdDSA; SM2SM3 in line. False for any mismatch. */
export async function jwsVerifyWith(
  offload: SignatureOffload,
  algorithm: SignatureAlgorithm,
  key: KeyObject,
  input: Uint8Array,
  value: Uint8Array,
  options: Sm2UserIdOption & { readonly sm2PublicKey?: Uint8Array | undefined } = {},
): Promise<boolean> {
  if ((algorithm !== "ES256" && algorithm !== "EdDSA") || value.length !== 64) return jwsVerify(algorithm, key, input, value, options);
  return offload.verify(algorithm, key, input, value).catch(() => false);
}
