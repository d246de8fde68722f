/**
 * Object identifiers of the GM suite (GM/T 0006-2012) and the X.509 pieces
 * SM2 certificates use.
 */
export const GM_OIDS = {
  /** id-ecPublicKey, the SubjectPublicKeyInfo algorithm of SM2 keys. */
  ecPublicKey: "1.2.840.10045.2.1",
  /** sm2p256v1, the SM2 recommended curve (algorithm parameter). */
  sm2p256v1: "1.2.156.10197.1.301",
  /** SM3 hash. */
  sm3: "1.2.156.10197.1.401",
  /** SM2 signature with SM3 (certificates, seals). */
  sm2WithSm3: "1.2.156.10197.1.501",
} as const;

/** The SM2 user ID every Tongban GM signature uses unless told otherwise (GM/T 0009). */
export const DEFAULT_SM2_USER_ID = "1234567812345678";
