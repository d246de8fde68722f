// Public surface of directory/: an explicit list of named exports.
export {
  DIRECTORY_JWS_TYPE,
  DIRECTORY_PROTOCOLS,
  type DirectoryAuthority,
  type DirectoryCertificate,
  type DeliveryMode,
  type DirectoryContact,
  type DirectoryEndpoints,
  type DirectoryFederation,
  type DirectoryIssue,
  type DirectoryMappingTable,
  type DirectoryNode,
  type FederationDirectory,
  type UnsignedDirectory,
} from "./model.js";
export {
  buildDirectory,
  type BuildDirectoryOptions,
  type DirectoryCertificateInput,
  type DirectoryInput,
  type DirectoryNodeInput,
} from "./build.js";
export {
  DIRECTORY_SIGNER_URI_PREFIX,
  issueDirectorySigningCertificate,
  type IssueDirectorySigningCertificateOptions,
} from "./signer-certificate.js";
export { signDirectory, type DirectorySigner } from "./sign.js";
export { verifyDirectory, type DirectoryAlert, type VerifiedDirectory, type VerifyDirectoryOptions } from "./verify.js";
export {
  diffDirectories,
  type CertificateChange,
  type CertificateRef,
  type CrlDiff,
  type DirectoryDiff,
  type MappingTablesDiff,
  type NodeChange,
  type NodeDiff,
  type SetChange,
  type ValueChange,
} from "./diff.js";
export { DEFAULT_EXPIRY_WARNING_DAYS, directoryWarnings, type DirectoryWarning, type DirectoryWarningOptions } from "./warnings.js";
export { findNodeForRegion, nodeById } from "./lookup.js";
export { trustStoreFromDirectory, type TrustStoreFromDirectoryOptions } from "./trust-store-from-directory.js";
