// Internal: strict DER decoding on top of asn1js. asn1js is a BER reader
// that lets a child run past its parent's declared length and accepts
// indefinite lengths; signed structures must be DER, so both are refused.
import * as asn1js from "asn1js";

/** Decodes exactly one DER element filling `bytes`, or says why not. @internal */
export function decodeStrictDer(bytes: Uint8Array): { ok: true; block: asn1js.AsnType } | { ok: false; why: string; cause?: unknown } {
  let parsed: ReturnType<typeof asn1js.fromBER>;
  try {
    parsed = asn1js.fromBER(bytes);
  } catch (cause) {
    // asn1js throws (rather than reporting) on some bad contents, e.g. times
    return { ok: false, why: "not DER", cause };
  }
  if (parsed.offset === -1) return { ok: false, why: `not DER (${parsed.result.error || "decode error"})` };
  if (parsed.offset !== bytes.length) return { ok: false, why: `${bytes.length - parsed.offset} trailing bytes` };
  return lengthsConsistent(parsed.result) ? { ok: true, block: parsed.result } : { ok: false, why: "element lengths are inconsistent or indefinite" };
}

function lengthsConsistent(block: asn1js.AsnType): boolean {
  if (block.lenBlock.isIndefiniteForm) return false;
  if (block.blockLength !== block.idBlock.blockLength + block.lenBlock.blockLength + block.lenBlock.length) return false;
  if (block.idBlock.isConstructed && block instanceof asn1js.Constructed) return block.valueBlock.value.every(lengthsConsistent);
  return true;
}
