import * as asn1js from "asn1js";
import { bits, decodeDer, ia5, integer, malformed, octets, oid, printable, rawBytes, sequence, time, utf8 } from "./asn1-read.js";
import { derSequence } from "./der-sequence.js";
import type { SesCertList, SesExtData, SesPropertyInfo, SesSeal, SesSealInfo } from "./types.js";

/** ExtensionDatas ::= SEQUENCE OF ExtData. @internal */
export function readExtDatas(block: asn1js.AsnType | undefined, field: string): SesExtData[] {
  return sequence(block, field, 0, Number.MAX_SAFE_INTEGER).map((ext, i) => {
    const f = `${field}[${i}]`;
    const items = sequence(ext, f, 2, 3);
    const hasCritical = items.length === 3;
    const critical = items[1];
    if (hasCritical && !(critical instanceof asn1js.Boolean)) malformed(`${f}.critical`, "expected BOOLEAN");
    return {
      extnId: oid(items[0], `${f}.extnID`),
      critical: hasCritical && critical instanceof asn1js.Boolean ? critical.getValue() : false,
      extnValue: octets(items[hasCritical ? 2 : 1], `${f}.extnValue`),
    };
  });
}

function readCertList(block: asn1js.AsnType | undefined, certListType: number): SesCertList {
  const items = sequence(block, "property.certList", 0, Number.MAX_SAFE_INTEGER);
  if (certListType === 1) return { kind: "certs", certs: items.map((c, i) => octets(c, `property.certList[${i}]`)) };
  if (certListType === 2) {
    return {
      kind: "digests",
      digests: items.map((d, i) => {
        const [type, value] = sequence(d, `property.certList[${i}]`, 2, 2);
        return { type: printable(type, `property.certList[${i}].type`), value: octets(value, `property.certList[${i}].value`) };
      }),
    };
  }
  return malformed("property.certListType", `unknown certListType ${certListType}`);
}

function readProperty(block: asn1js.AsnType | undefined, layout: "v4" | "v1"): SesPropertyInfo {
  if (layout === "v4") {
    // type, name, certListType, certList, createDate, validStart, validEnd
    const p = sequence(block, "property", 7, 7);
    return {
      type: integer(p[0], "property.type"),
      name: utf8(p[1], "property.name"),
      certList: readCertList(p[3], integer(p[2], "property.certListType")),
      createDate: time(p[4], "property.createDate"),
      validStart: time(p[5], "property.validStart"),
      validEnd: time(p[6], "property.validEnd"),
    };
  }
  // GM/T 0031 v1: type, name, certList (SEQUENCE OF OCTET STRING), createDate, validStart, validEnd (UTCTime)
  const p = sequence(block, "property", 6, 6);
  return {
    type: integer(p[0], "property.type"),
    name: utf8(p[1], "property.name"),
    certList: readCertList(p[2], 1),
    createDate: time(p[3], "property.createDate"),
    validStart: time(p[4], "property.validStart"),
    validEnd: time(p[5], "property.validEnd"),
  };
}

function readSealInfo(block: asn1js.AsnType | undefined): SesSealInfo {
  const items = sequence(block, "eSealInfo", 4, 5);
  const [h0, h1, h2] = sequence(items[0], "header", 3, 3);
  const header = { id: ia5(h0, "header.id"), version: integer(h1, "header.version"), vid: ia5(h2, "header.vid") };
  if (header.version !== 4 && header.version !== 1) malformed("header.version", `unsupported seal version ${header.version}`);
  const layout = header.version === 4 ? "v4" : "v1";
  const pic = sequence(items[3], "picture", 4, 4);
  const info: SesSealInfo = {
    header,
    esId: ia5(items[1], "esID"),
    property: readProperty(items[2], layout),
    picture: {
      type: ia5(pic[0], "picture.type"),
      data: octets(pic[1], "picture.data"),
      width: integer(pic[2], "picture.width"),
      height: integer(pic[3], "picture.height"),
    },
  };
  return items[4] === undefined ? info : { ...info, extDatas: readExtDatas(items[4], "eSealInfo.extDatas") };
}

/** Decodes an SESeal block in either layout. @internal */
export function readSeal(block: asn1js.AsnType): SesSeal {
  const items = sequence(block, "SESeal", 2, 4);
  const sealInfo = readSealInfo(items[0]);
  const sealInfoDer = rawBytes(items[0] as asn1js.AsnType);
  if (sealInfo.header.version === 4) {
    if (items.length !== 4) malformed("SESeal", "v4 seal needs eSealInfo, cert, signAlgID, signedValue");
    return {
      layout: "v4",
      sealInfo,
      sealInfoDer,
      makerSignedBytes: sealInfoDer,
      makerCert: octets(items[1], "SESeal.cert"),
      signatureAlgorithm: oid(items[2], "SESeal.signAlgID"),
      signedValue: bits(items[3], "SESeal.signedValue"),
      der: rawBytes(block),
    };
  }
  if (items.length !== 2) malformed("SESeal", "v1 seal needs esealInfo and signInfo");
  const [cert, alg, sig] = sequence(items[1], "signInfo", 3, 3);
  return {
    layout: "v1",
    sealInfo,
    sealInfoDer,
    makerSignedBytes: derSequence([sealInfoDer, rawBytes(cert as asn1js.AsnType), rawBytes(alg as asn1js.AsnType)]),
    makerCert: octets(cert, "signInfo.cert"),
    signatureAlgorithm: oid(alg, "signInfo.signatureAlgorithm"),
    signedValue: bits(sig, "signInfo.signData"),
    der: rawBytes(block),
  };
}

/**
 * Decodes a DER SESeal: GB/T 38540-2020 (v4) or GM/T 0031-2014 (v1),
 * chosen by the header version. Throws SEAL_MALFORMED naming the field
 * for anything else. Nothing is verified here.
 */
export function decodeSeal(der: Uint8Array): SesSeal {
  return readSeal(decodeDer(der, "SESeal"));
}
