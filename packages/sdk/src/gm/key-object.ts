import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import * as asn1js from "asn1js";
import { TongbanError } from "../errors/index.js";
import { exportSm2PrivateKeyPkcs8, importSm2PrivateKey } from "./sm2-key-encoding.js";
import { GM_OIDS } from "./oids.js";
import { publicKeyHex } from "./sm2-keys.js";

// Node's crypto (OpenSSL 3) parses SM2 keys and certificates but reports
// their KeyObjects with asymmetricKeyType undefined and cannot make or check
// SM2 signatures with the GM/T 0009 user ID. These helpers move SM2 keys
// between KeyObjects (what PEM files, certificates and the envelope API
// carry) and the raw bytes the gm/ functions take.

const rawPublic = new WeakMap<KeyObject, Uint8Array | null>();
const rawPrivate = new WeakMap<KeyObject, Uint8Array>();

function spkiCurve(spki: Uint8Array): { curve: string | undefined; point: Uint8Array } | undefined {
  const parsed = asn1js.fromBER(spki);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) return undefined;
  const [alg, bits] = parsed.result.valueBlock.value;
  if (!(alg instanceof asn1js.Sequence) || !(bits instanceof asn1js.BitString)) return undefined;
  const [oid, param] = alg.valueBlock.value;
  if (!(oid instanceof asn1js.ObjectIdentifier) || oid.getValue() !== GM_OIDS.ecPublicKey) return undefined;
  return { curve: param instanceof asn1js.ObjectIdentifier ? param.getValue() : undefined, point: new Uint8Array(bits.valueBlock.valueHexView) };
}

/**
 * The raw SM2 public key (0x04 || x || y) of a KeyObject (public or
 * private), or undefined when the key is not an SM2 (sm2p256v1) key.
 * Cached per KeyObject.
 */
export function sm2PublicKeyOf(key: KeyObject): Uint8Array | undefined {
  const hit = rawPublic.get(key);
  if (hit !== undefined) return hit ?? undefined;
  let out: Uint8Array | null = null;
  // P-256 and Ed25519 keys are reported with their type; SM2 keys are not.
  if (key.asymmetricKeyType === undefined || (key.asymmetricKeyType as string) === "sm2" || key.asymmetricKeyDetails?.namedCurve === "SM2") {
    try {
      const pub = key.type === "public" ? key : createPublicKey(key);
      const spki = new Uint8Array(pub.export({ type: "spki", format: "der" }));
      const info = spkiCurve(spki);
      if (info?.curve === GM_OIDS.sm2p256v1) out = info.point;
    } catch {
      out = null;
    }
  }
  rawPublic.set(key, out);
  return out ?? undefined;
}

/** True when the KeyObject holds an SM2 key. */
export function isSm2KeyObject(key: KeyObject): boolean {
  return sm2PublicKeyOf(key) !== undefined;
}

/**
 * The 32-byte private scalar of an SM2 private KeyObject.
 *
 * @throws TypeError when the key is not an SM2 private key.
 */
export function sm2PrivateKeyOf(key: KeyObject): Uint8Array {
  const hit = rawPrivate.get(key);
  if (hit !== undefined) return hit;
  if (key.type !== "private" || !isSm2KeyObject(key)) throw new TypeError("expected an SM2 private key");
  const { privateKey } = importSm2PrivateKey(new Uint8Array(key.export({ type: "pkcs8", format: "der" })));
  rawPrivate.set(key, privateKey);
  return privateKey;
}

/** A private KeyObject for a raw 32-byte SM2 private key (PKCS#8 inside). */
export function sm2PrivateKeyObject(privateKey: Uint8Array): KeyObject {
  const key = createPrivateKey({ key: Buffer.from(exportSm2PrivateKeyPkcs8(privateKey)), format: "der", type: "pkcs8" });
  rawPrivate.set(key, Uint8Array.from(privateKey));
  return key;
}

/**
 * A public KeyObject for a raw SM2 public key (0x04 || x || y).
 *
 * @throws TongbanError GM_CRYPTO_FAILED when the point is not on the curve.
 */
export function sm2PublicKeyObject(publicKey: Uint8Array): KeyObject {
  publicKeyHex(publicKey);
  const spki = new asn1js.Sequence({
    value: [
      new asn1js.Sequence({
        value: [new asn1js.ObjectIdentifier({ value: GM_OIDS.ecPublicKey }), new asn1js.ObjectIdentifier({ value: GM_OIDS.sm2p256v1 })],
      }),
      new asn1js.BitString({ valueHex: Uint8Array.from(publicKey) }),
    ],
  });
  try {
    const key = createPublicKey({ key: Buffer.from(spki.toBER(false)), format: "der", type: "spki" });
    rawPublic.set(key, Uint8Array.from(publicKey));
    return key;
  } catch (cause) {
    throw new TongbanError("GM_CRYPTO_FAILED", "the SM2 public key cannot be loaded", { cause });
  }
}
