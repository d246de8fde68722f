import { fromBinary } from "@bufbuild/protobuf";
import { TongbanError } from "../errors/index.js";
import { BodyEncoding, BodySchema, EnvelopeSchema, HeaderSchema, type Body, type Envelope, type Header } from "../gen/tongban/v1/envelope_pb.js";
import { receiptDigestOf } from "./receipt-digest.js";

/** An envelope decoded without any verification, for tools. */
export interface InspectedEnvelope {
  readonly envelope: Envelope;
  readonly header: Header;
  /** The protected header as parsed JSON (or the raw text when it is not JSON). */
  readonly protectedHeader: unknown;
  /** The clear body, or undefined when it is encrypted. */
  readonly body: Body | undefined;
  readonly encrypted: boolean;
  readonly receiptDigest: Uint8Array;
}

/**
 * Decodes an envelope WITHOUT verifying anything. Only for display; never
 * act on what it returns.
 */
export function inspectEnvelope(bytes: Uint8Array): InspectedEnvelope {
  let envelope: Envelope;
  let header: Header;
  try {
    envelope = fromBinary(EnvelopeSchema, bytes);
    header = fromBinary(HeaderSchema, envelope.header);
  } catch (err) {
    throw new TongbanError("ENVELOPE_MALFORMED", "not a tongban.v1.Envelope", { cause: err });
  }
  const text = new TextDecoder().decode(envelope.signature?.protected ?? new Uint8Array());
  let protectedHeader: unknown = text;
  try {
    protectedHeader = JSON.parse(text);
  } catch {
    // left as text: inspection shows what is there
  }
  const encrypted = header.bodyEncoding === BodyEncoding.JWE || header.bodyEncoding === BodyEncoding.GM_SM4;
  let body: Body | undefined;
  if (!encrypted) {
    try {
      body = fromBinary(BodySchema, envelope.body);
    } catch {
      body = undefined;
    }
  }
  return { envelope, header, protectedHeader, body, encrypted, receiptDigest: receiptDigestOf({ header: envelope.header, body: envelope.body, signature: envelope.signature }) };
}
