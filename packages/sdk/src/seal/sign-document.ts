import { GM_OIDS } from "../gm/oids.js";
import { sm2Sign } from "../gm/sm2-signature.js";
import { sm3 } from "../gm/sm3.js";
import { checkCredential, type Sm2Credential } from "./create-seal.js";
import { decodeSeal } from "./decode-seal.js";
import { encodeSigned, encodeTbsSign } from "./encode.js";
import type { SesExtData } from "./types.js";

/** What `signDocument` needs. */
export interface SignDocumentOptions {
  /** A v4 SESeal (DER), embedded byte for byte. */
  readonly seal: Uint8Array;
  /** The signer; its certificate should be in the seal's certList. */
  readonly signer: Sm2Credential;
  /** The document bytes; the signature carries SM3(document) as dataHash. */
  readonly document: Uint8Array;
  /** Where the signature sits in the document (e.g. an OFD path). */
  readonly propertyInfo: string;
  /** Signing time (timeInfo), to the second; defaults to now. */
  readonly time?: Date;
  readonly extDatas?: readonly SesExtData[];
  /** SM2 user ID of the signature; default `1234567812345678`. */
  readonly userId?: string;
}

/**
 * Signs a document with an electronic seal: builds the GB/T 38540-2020
 * TBS_Sign (version 4, the seal, timeInfo, dataHash = SM3(document),
 * propertyInfo), signs DER(TBS_Sign) with SM2-with-SM3 and returns the
 * DER SES_Signature.
 *
 * It does not refuse a signer missing from the seal's list or an expired
 * seal: the verifier reports those, and tests need to make such files.
 */
export function signDocument(options: SignDocumentOptions): Uint8Array {
  checkCredential(options.signer, "signer");
  if (!(options.document instanceof Uint8Array)) throw new TypeError("document must be a Uint8Array");
  if (decodeSeal(options.seal).layout !== "v4") throw new TypeError("signDocument needs a GB/T 38540 (v4) seal");
  const tbs = encodeTbsSign({
    sealDer: options.seal,
    time: options.time ?? new Date(),
    dataHash: sm3(options.document),
    propertyInfo: options.propertyInfo,
    ...(options.extDatas === undefined ? {} : { extDatas: options.extDatas }),
  });
  const signature = sm2Sign(tbs, options.signer.privateKey, options.userId === undefined ? {} : { userId: options.userId });
  return encodeSigned(tbs, options.signer.certDer, GM_OIDS.sm2WithSm3, signature);
}
