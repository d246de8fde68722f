// Internal: typed reading of asn1js blocks. Every mismatch is SEAL_MALFORMED
// naming the field, so a bad file says where it went wrong.
import * as asn1js from "asn1js";
import { TongbanError } from "../errors/index.js";
import { decodeStrictDer } from "../gm/der.js";

/** Throws SEAL_MALFORMED for `field`. @internal */
export function malformed(field: string, why: string, cause?: unknown): never {
  throw new TongbanError("SEAL_MALFORMED", `${field}: ${why}`, {
    details: { field },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Decodes exactly one DER element filling `bytes`. @internal */
export function decodeDer(bytes: Uint8Array, field: string): asn1js.AsnType {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${field} must be a Uint8Array`);
  if (bytes.length === 0) malformed(field, "empty input");
  const d = decodeStrictDer(bytes);
  if (!d.ok) return malformed(field, d.why, d.cause);
  return d.block;
}

/** The exact encoded bytes of a decoded block (what a signature covers). @internal */
export function rawBytes(block: asn1js.AsnType): Uint8Array {
  return Uint8Array.from(block.valueBeforeDecodeView);
}

/** The items of a SEQUENCE, with a bound on their count. @internal */
export function sequence(block: asn1js.AsnType | undefined, field: string, min: number, max: number): asn1js.AsnType[] {
  if (!(block instanceof asn1js.Sequence)) malformed(field, "expected SEQUENCE");
  const items = block.valueBlock.value;
  if (items.length < min || items.length > max) malformed(field, `expected ${min}..${max} items, got ${items.length}`);
  return items;
}

/** A small non-negative INTEGER. @internal */
export function integer(block: asn1js.AsnType | undefined, field: string): number {
  if (!(block instanceof asn1js.Integer)) malformed(field, "expected INTEGER");
  const v = block.toBigInt();
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) malformed(field, "INTEGER out of range");
  return Number(v);
}

/** An IA5String. @internal */
export function ia5(block: asn1js.AsnType | undefined, field: string): string {
  if (!(block instanceof asn1js.IA5String)) malformed(field, "expected IA5String");
  return block.valueBlock.value;
}

/** A UTF8String (the seal name). @internal */
export function utf8(block: asn1js.AsnType | undefined, field: string): string {
  if (!(block instanceof asn1js.Utf8String)) malformed(field, "expected UTF8String");
  return block.valueBlock.value;
}

/** A PrintableString. @internal */
export function printable(block: asn1js.AsnType | undefined, field: string): string {
  if (!(block instanceof asn1js.PrintableString)) malformed(field, "expected PrintableString");
  return block.valueBlock.value;
}

/** The contents of an OCTET STRING. @internal */
export function octets(block: asn1js.AsnType | undefined, field: string): Uint8Array {
  if (!(block instanceof asn1js.OctetString) || block.idBlock.isConstructed) malformed(field, "expected primitive OCTET STRING");
  return Uint8Array.from(block.valueBlock.valueHexView);
}

/** The contents of a BIT STRING with no unused bits. @internal */
export function bits(block: asn1js.AsnType | undefined, field: string): Uint8Array {
  if (!(block instanceof asn1js.BitString) || block.idBlock.isConstructed) malformed(field, "expected primitive BIT STRING");
  if (block.valueBlock.unusedBits !== 0) malformed(field, "BIT STRING with unused bits");
  return Uint8Array.from(block.valueBlock.valueHexView);
}

/** An OBJECT IDENTIFIER in dotted form. @internal */
export function oid(block: asn1js.AsnType | undefined, field: string): string {
  if (!(block instanceof asn1js.ObjectIdentifier)) malformed(field, "expected OBJECT IDENTIFIER");
  return block.getValue();
}

/** A GeneralizedTime (v4) or UTCTime (v1) as a Date. @internal */
export function time(block: asn1js.AsnType | undefined, field: string): Date {
  // GeneralizedTime extends UTCTime in asn1js, so test it first.
  if (block instanceof asn1js.GeneralizedTime || block instanceof asn1js.UTCTime) {
    const d = block.toDate();
    if (Number.isNaN(d.getTime())) malformed(field, "invalid time");
    return d;
  }
  return malformed(field, "expected GeneralizedTime or UTCTime");
}
