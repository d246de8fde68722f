// Internal: DER builders for the v4 structures. Field order and types follow
// GB/T 38540-2020 and match what ofdrw (BouncyCastle) writes.
import * as asn1js from "asn1js";
import { derSequence } from "./der-sequence.js";
import type { SesExtData, SesSealInfo } from "./types.js";

/** GeneralizedTime to the second: DER forbids trailing fraction zeros, so none at all. @internal */
export function generalizedTime(date: Date): asn1js.GeneralizedTime {
  return new asn1js.GeneralizedTime({ valueDate: new Date(Math.floor(date.getTime() / 1000) * 1000) });
}

function extDatas(exts: readonly SesExtData[]): asn1js.Sequence {
  return new asn1js.Sequence({
    value: exts.map(
      (e) =>
        new asn1js.Sequence({
          value: [
            new asn1js.ObjectIdentifier({ value: e.extnId }),
            // DEFAULT FALSE is omitted in DER
            ...(e.critical ? [new asn1js.Boolean({ value: true })] : []),
            new asn1js.OctetString({ valueHex: Uint8Array.from(e.extnValue) }),
          ],
        }),
    ),
  });
}

/** DER of a v4 SES_SealInfo. @internal */
export function encodeSealInfo(info: SesSealInfo): Uint8Array {
  const p = info.property;
  const certList =
    p.certList.kind === "certs"
      ? new asn1js.Sequence({ value: p.certList.certs.map((c) => new asn1js.OctetString({ valueHex: Uint8Array.from(c) })) })
      : new asn1js.Sequence({
          value: p.certList.digests.map(
            (d) =>
              new asn1js.Sequence({
                value: [new asn1js.PrintableString({ value: d.type }), new asn1js.OctetString({ valueHex: Uint8Array.from(d.value) })],
              }),
          ),
        });
  const seq = new asn1js.Sequence({
    value: [
      new asn1js.Sequence({
        value: [
          new asn1js.IA5String({ value: info.header.id }),
          new asn1js.Integer({ value: info.header.version }),
          new asn1js.IA5String({ value: info.header.vid }),
        ],
      }),
      new asn1js.IA5String({ value: info.esId }),
      new asn1js.Sequence({
        value: [
          new asn1js.Integer({ value: p.type }),
          new asn1js.Utf8String({ value: p.name }),
          new asn1js.Integer({ value: p.certList.kind === "certs" ? 1 : 2 }),
          certList,
          generalizedTime(p.createDate),
          generalizedTime(p.validStart),
          generalizedTime(p.validEnd),
        ],
      }),
      new asn1js.Sequence({
        value: [
          new asn1js.IA5String({ value: info.picture.type }),
          new asn1js.OctetString({ valueHex: Uint8Array.from(info.picture.data) }),
          new asn1js.Integer({ value: info.picture.width }),
          new asn1js.Integer({ value: info.picture.height }),
        ],
      }),
      ...(info.extDatas === undefined ? [] : [extDatas(info.extDatas)]),
    ],
  });
  return new Uint8Array(seq.toBER(false));
}

const enc = (block: asn1js.BaseBlock): Uint8Array => new Uint8Array(block.toBER(false));

/**
 * DER of `SEQUENCE { <encoded>, OCTET STRING cert, OID alg, BIT STRING sig }`,
 * the shape of both SESeal v4 and SES_Signature v4. `encoded` is nested byte
 * for byte, never re-encoded, so a signature over it stays valid.
 * @internal
 */
export function encodeSigned(encoded: Uint8Array, cert: Uint8Array, algorithm: string, signature: Uint8Array): Uint8Array {
  return derSequence([
    encoded,
    enc(new asn1js.OctetString({ valueHex: Uint8Array.from(cert) })),
    enc(new asn1js.ObjectIdentifier({ value: algorithm })),
    enc(new asn1js.BitString({ valueHex: Uint8Array.from(signature), unusedBits: 0 })),
  ]);
}

/** DER of a v4 TBS_Sign around an SESeal kept byte for byte. @internal */
export function encodeTbsSign(fields: {
  sealDer: Uint8Array;
  time: Date;
  dataHash: Uint8Array;
  propertyInfo: string;
  extDatas?: readonly SesExtData[];
}): Uint8Array {
  return derSequence([
    enc(new asn1js.Integer({ value: 4 })),
    fields.sealDer,
    enc(generalizedTime(fields.time)),
    enc(new asn1js.BitString({ valueHex: Uint8Array.from(fields.dataHash), unusedBits: 0 })),
    enc(new asn1js.IA5String({ value: fields.propertyInfo })),
    ...(fields.extDatas === undefined ? [] : [enc(extDatas(fields.extDatas))]),
  ]);
}
