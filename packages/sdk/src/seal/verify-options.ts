/** Inputs of seal and signature verification; all optional. */
export interface SealVerifyOptions {
  /** The original document; without it the document-hash step is not checked. */
  readonly document?: Uint8Array;
  /**
   * Certificates (DER) trusted as seal makers: the maker's own certificate
   * or the CA that issued it (one level). Without them the seal-maker-chain
   * step is not checked.
   */
  readonly trustedSealMakers?: readonly Uint8Array[];
  /** CRLs (DER), already authenticated by the caller (see docs/seals.md). */
  readonly crls?: readonly Uint8Array[];
  /** The time "now" steps are checked at; defaults to the current time. */
  readonly now?: Date;
  /** SM2 user ID for the seal and document signatures (GM formats); default `1234567812345678`. */
  readonly userId?: string;
}
