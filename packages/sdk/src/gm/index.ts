// Public surface of gm/: an explicit list of named exports.
export { GM_OIDS, DEFAULT_SM2_USER_ID } from "./oids.js";
export { sm3, sm3Hmac } from "./sm3.js";
export { generateSm2KeyPair, sm2PublicKeyFromPrivateKey } from "./sm2-keys.js";
export type { Sm2KeyPair } from "./sm2-keys.js";
export { exportSm2PrivateKeyPkcs8, importSm2PrivateKey } from "./sm2-key-encoding.js";
export {
  sm2Sign,
  sm2Verify,
  sm2SignatureDigest,
  sm2SignatureToRaw,
  sm2SignatureFromRaw,
} from "./sm2-signature.js";
export type { Sm2SignatureOptions } from "./sm2-signature.js";
export { sm2Encrypt, sm2Decrypt } from "./sm2-encryption.js";
export { sm4GcmEncrypt, sm4GcmDecrypt } from "./sm4.js";
export type { Sm4GcmSealed, Sm4GcmOptions } from "./sm4.js";
export { parseCertificate, sm2PublicKeyFromCertificate, verifySm2CertificateSignature } from "./certificate.js";
export type { ParsedCertificate } from "./certificate.js";
export { issueSm2Certificate } from "./issue-certificate.js";
export { createSm2CertificateRequest, isSm2CertificateRequest, readSm2CertificateRequest } from "./certificate-request.js";
export type { CreateSm2CertificateRequestOptions, Sm2CertificateRequest } from "./certificate-request.js";
export type { IssueSm2CertificateOptions, NameAttribute } from "./issue-certificate.js";
export { issueX509Certificate } from "./issue-certificate.js";
export type { CertificateSigningKey, CertificateSubjectKey, IssueX509CertificateOptions } from "./issue-certificate.js";
export { isSm2KeyObject, sm2PrivateKeyObject, sm2PrivateKeyOf, sm2PublicKeyObject, sm2PublicKeyOf } from "./key-object.js";
