import * as asn1js from "asn1js";
import { TongbanError } from "../errors/index.js";
import { GM_OIDS } from "./oids.js";
import { sm2PublicKeyFromPrivateKey, type Sm2KeyPair } from "./sm2-keys.js";

/**
 * Encodes an SM2 private key as PKCS#8 PrivateKeyInfo (RFC 5208) with
 * id-ecPublicKey / sm2p256v1 and an RFC 5915 ECPrivateKey inside — the
 * layout GmSSL, OpenSSL 3 and BouncyCastle read and write.
 */
export function exportSm2PrivateKeyPkcs8(privateKey: Uint8Array): Uint8Array {
  const publicKey = sm2PublicKeyFromPrivateKey(privateKey);
  const ecPrivateKey = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 1 }),
      new asn1js.OctetString({ valueHex: Uint8Array.from(privateKey) }),
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 1 },
        value: [new asn1js.BitString({ valueHex: Uint8Array.from(publicKey) })],
      }),
    ],
  });
  const info = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 0 }),
      new asn1js.Sequence({
        value: [new asn1js.ObjectIdentifier({ value: GM_OIDS.ecPublicKey }), new asn1js.ObjectIdentifier({ value: GM_OIDS.sm2p256v1 })],
      }),
      new asn1js.OctetString({ valueHex: ecPrivateKey.toBER(false) }),
    ],
  });
  return new Uint8Array(info.toBER(false));
}

function bad(why: string): never {
  throw new TongbanError("GM_CRYPTO_FAILED", `not an SM2 private key: ${why}`);
}

function scalarFromEcPrivateKey(block: asn1js.AsnType): Uint8Array {
  if (!(block instanceof asn1js.Sequence)) bad("ECPrivateKey is not a SEQUENCE");
  const d = block.valueBlock.value[1];
  if (!(d instanceof asn1js.OctetString)) bad("ECPrivateKey has no privateKey OCTET STRING");
  const bytes = d.valueBlock.valueHexView;
  if (bytes.length > 32 || bytes.length === 0) bad("private scalar is not 1..32 bytes");
  const out = new Uint8Array(32);
  out.set(bytes, 32 - bytes.length);
  return out;
}

/**
 * Reads an SM2 private key from DER: PKCS#8 PrivateKeyInfo (with the EC or
 * SM2 algorithm and the sm2p256v1 curve) or a bare RFC 5915 ECPrivateKey.
 * Returns the key pair (the public key is recomputed, never trusted).
 */
export function importSm2PrivateKey(der: Uint8Array): Sm2KeyPair {
  if (!(der instanceof Uint8Array)) throw new TypeError("importSm2PrivateKey: key must be a Uint8Array");
  let parsed: ReturnType<typeof asn1js.fromBER>;
  try {
    parsed = asn1js.fromBER(der);
  } catch {
    return bad("bad DER");
  }
  if (parsed.offset === -1) bad("bad DER");
  const top = parsed.result;
  if (!(top instanceof asn1js.Sequence)) bad("not a SEQUENCE");
  const [version, second, third] = top.valueBlock.value;
  if (!(version instanceof asn1js.Integer)) bad("no version");
  let privateKey: Uint8Array;
  if (version.valueBlock.valueDec === 0 && second instanceof asn1js.Sequence && third instanceof asn1js.OctetString) {
    const [alg, curve] = second.valueBlock.value;
    if (!(alg instanceof asn1js.ObjectIdentifier) || !(curve instanceof asn1js.ObjectIdentifier)) bad("bad algorithm identifier");
    if (curve.getValue() !== GM_OIDS.sm2p256v1) bad(`curve ${curve.getValue()} is not sm2p256v1`);
    let inner: ReturnType<typeof asn1js.fromBER>;
    try {
      inner = asn1js.fromBER(third.valueBlock.valueHexView);
    } catch {
      return bad("bad inner ECPrivateKey");
    }
    if (inner.offset === -1) bad("bad inner ECPrivateKey");
    privateKey = scalarFromEcPrivateKey(inner.result);
  } else if (version.valueBlock.valueDec === 1) {
    privateKey = scalarFromEcPrivateKey(top);
  } else {
    bad("neither PKCS#8 nor ECPrivateKey");
  }
  return { privateKey, publicKey: sm2PublicKeyFromPrivateKey(privateKey) };
}
