import * as asn1js from "asn1js";
import { bits, decodeDer, ia5, integer, malformed, octets, oid, rawBytes, sequence, time } from "./asn1-read.js";
import { readExtDatas, readSeal } from "./decode-seal.js";
import type { SesSignature, SesTbsSign } from "./types.js";

function readTbsSign(block: asn1js.AsnType | undefined): SesTbsSign {
  const items = sequence(block, "toSign", 5, 6);
  const version = integer(items[0], "toSign.version");
  if (version !== 4) malformed("toSign.version", `only v4 SES_Signature is supported, got ${version}`);
  const tbs: SesTbsSign = {
    version,
    seal: readSeal(items[1] as asn1js.AsnType),
    timeInfo: time(items[2], "toSign.timeInfo"),
    dataHash: bits(items[3], "toSign.dataHash"),
    propertyInfo: ia5(items[4], "toSign.propertyInfo"),
  };
  return items[5] === undefined ? tbs : { ...tbs, extDatas: readExtDatas(items[5], "toSign.extDatas") };
}

/** timeStamp [0] BIT STRING: accepted explicitly or implicitly tagged. */
function readTimeStamp(block: asn1js.AsnType): Uint8Array {
  if (block.idBlock.tagClass !== 3 || block.idBlock.tagNumber !== 0) malformed("timeStamp", "expected [0]");
  if (block instanceof asn1js.Constructed) return bits(block.valueBlock.value[0], "timeStamp");
  return Uint8Array.from((block as asn1js.Primitive).valueBlock.valueHexView).subarray(1);
}

/**
 * Decodes a DER SES_Signature (GB/T 38540-2020, v4). Throws SEAL_MALFORMED
 * naming the field when the bytes are not one. Nothing is verified here.
 */
export function decodeSealSignature(der: Uint8Array): SesSignature {
  const top = decodeDer(der, "SES_Signature");
  const items = sequence(top, "SES_Signature", 4, 5);
  const sig: SesSignature = {
    toSign: readTbsSign(items[0]),
    toSignDer: rawBytes(items[0] as asn1js.AsnType),
    signerCert: octets(items[1], "SES_Signature.cert"),
    signatureAlgorithm: oid(items[2], "SES_Signature.signatureAlgID"),
    signature: bits(items[3], "SES_Signature.signature"),
    der: rawBytes(top),
  };
  return items[4] === undefined ? sig : { ...sig, timeStamp: readTimeStamp(items[4]) };
}
