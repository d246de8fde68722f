// Public surface of pki/: an explicit list of named exports.
export { createFederationRoot, type CreateFederationRootOptions } from "./federation-root.js";
export { createIntermediateCa, type CreateIntermediateCaOptions } from "./intermediate-ca.js";
export { issueNodeCertificates, type IssueNodeCertificatesOptions } from "./node-certificates.js";
export {
  createNodeRequest,
  describeCertificateRequest,
  issueNodeCertificatesFromRequest,
  type CertificateRequestSummary,
  type CertifiedNode,
  type CertifiedRequest,
  type CreateNodeRequestOptions,
  type IssueFromRequestOptions,
  type KeyRequest,
  type NodeRequest,
  type RequestSigningAlgorithm,
} from "./node-request.js";
export {
  createCrl,
  isRevocationReason,
  readCrl,
  revokeCertificate,
  type CreateCrlOptions,
  type CrlInfo,
  type RevocationReason,
  type RevokeCertificateOptions,
  type RevokedCertificate,
} from "./crl.js";
export { NODE_ID_URI_PREFIX, certificateDer, nodeIdOf, nodeIdUri, type CertificateInput } from "./node-id.js";
export { keyIdOf } from "./key-id.js";
export { describeCertificate, type CertificateSummary } from "./describe-certificate.js";
export type { CertificateAuthority, FederationRoot, IssuedCertificate, NodeCertificates } from "./types.js";
export {
  certificateKeyTypeOf,
  createSealCa,
  createSm2Ca,
  issueSealCertificate,
  issueSm2SigningCertificate,
  type CertificateKeyType,
  type CreateSealCaOptions,
  type CreateSm2CaOptions,
  type GmCapableCertificateAuthority,
  type IssueSealCertificateOptions,
  type IssueSm2SigningCertificateOptions,
  type SealCertificateRole,
  type TypedIssuedCertificate,
} from "./gm-certificates.js";
