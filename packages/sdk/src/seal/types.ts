/** SES_Header: `ES`, the format version (4 for GB/T 38540, 1 for GM/T 0031) and the vendor id. */
export interface SesHeader {
  readonly id: string;
  readonly version: number;
  readonly vid: string;
}

/**
 * SES_CertList: the certificates allowed to sign with the seal, either as
 * whole DER certificates (certListType 1) or as digests (certListType 2).
 */
export type SesCertList =
  | { readonly kind: "certs"; readonly certs: readonly Uint8Array[] }
  | { readonly kind: "digests"; readonly digests: readonly { readonly type: string; readonly value: Uint8Array }[] };

/** SES_ESPropertyInfo: what the seal is and when it may be used. */
export interface SesPropertyInfo {
  /** Seal type: 1 official seal (公章), 2 special seal, 3 legal-person seal… (deployment-defined). */
  readonly type: number;
  readonly name: string;
  readonly certList: SesCertList;
  readonly createDate: Date;
  readonly validStart: Date;
  readonly validEnd: Date;
}

/** SES_ESPictrueInfo (the standard's spelling): the seal image and its size in millimetres. */
export interface SesPictureInfo {
  readonly type: string;
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** ExtData: an extension with its OID, criticality and value. */
export interface SesExtData {
  readonly extnId: string;
  readonly critical: boolean;
  readonly extnValue: Uint8Array;
}

/** SES_SealInfo: everything the seal maker signs. */
export interface SesSealInfo {
  readonly header: SesHeader;
  readonly esId: string;
  readonly property: SesPropertyInfo;
  readonly picture: SesPictureInfo;
  readonly extDatas?: readonly SesExtData[];
}

/**
 * A decoded SESeal. v4 (GB/T 38540) carries the maker's cert, algorithm
 * and signature directly; v1 (GM/T 0031) carries them in SES_SignInfo — the
 * decoded shape is the same.
 */
export interface SesSeal {
  readonly layout: "v4" | "v1";
  readonly sealInfo: SesSealInfo;
  /** The exact DER of eSealInfo as found in the file. */
  readonly sealInfoDer: Uint8Array;
  /**
   * The bytes the maker's signature covers: DER(eSealInfo) for v4; for v1
   * DER(SEQUENCE { esealInfo, cert, signatureAlgorithm }) built from the
   * file's own encodings (checked against ofdrw's UserV1.esl).
   */
  readonly makerSignedBytes: Uint8Array;
  /** The seal maker's certificate, DER. */
  readonly makerCert: Uint8Array;
  readonly signatureAlgorithm: string;
  /** The maker's signature (DER SM2 signature for SM2-with-SM3). */
  readonly signedValue: Uint8Array;
  /** The whole SESeal, DER. */
  readonly der: Uint8Array;
}

/** TBS_Sign (v4): what the document signer signs. */
export interface SesTbsSign {
  readonly version: number;
  readonly seal: SesSeal;
  readonly timeInfo: Date;
  /** SM3 of the signed document. */
  readonly dataHash: Uint8Array;
  /** Where the signature sits in the document, e.g. `/Doc_0/Signs/Sign_0/Signature.xml`. */
  readonly propertyInfo: string;
  readonly extDatas?: readonly SesExtData[];
}

/** A decoded SES_Signature (v4). */
export interface SesSignature {
  readonly toSign: SesTbsSign;
  /** The exact DER of toSign as found in the file (what the signer signed). */
  readonly toSignDer: Uint8Array;
  /** The document signer's certificate, DER. */
  readonly signerCert: Uint8Array;
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
  /** The optional RFC 3161 time-stamp token bytes (not verified). */
  readonly timeStamp?: Uint8Array;
  readonly der: Uint8Array;
}
