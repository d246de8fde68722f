// Public surface of seal/: an explicit list of named exports.
export { decodeSeal } from "./decode-seal.js";
export { decodeSealSignature } from "./decode-signature.js";
export type {
  SesHeader,
  SesCertList,
  SesPropertyInfo,
  SesPictureInfo,
  SesExtData,
  SesSealInfo,
  SesSeal,
  SesTbsSign,
  SesSignature,
} from "./types.js";
export { createSeal } from "./create-seal.js";
export type { CreateSealOptions, Sm2Credential } from "./create-seal.js";
export { signDocument } from "./sign-document.js";
export type { SignDocumentOptions } from "./sign-document.js";
export { createJoseSeal, signDocumentJose, JOSE_SEAL_TYP, JOSE_SEAL_SIGNATURE_TYP } from "./jose-profile.js";
export type {
  CreateJoseSealOptions,
  SignDocumentJoseOptions,
  JoseCredential,
  JoseSealAlgorithm,
  JoseSealPayload,
  JoseSealSignaturePayload,
} from "./jose-profile.js";
export { verifySealSignature, verifySeal } from "./verify.js";
export type { SealVerifyOptions } from "./verify-options.js";
export { SEAL_STEP_IDS, sealVerdict } from "./report.js";
export type {
  SealStepId,
  SealStepStatus,
  SealVerificationStep,
  SealVerdict,
  SealFormat,
  SealVerificationReport,
} from "./report.js";
