// Public surface of trust/: an explicit list of named exports.
export type { ResolvedSigner, SignatureAlgorithm, SignerResolver, Suite } from "./signer-resolver.js";
export { TrustStore, type ChainCheckEvent, type TrustStoreOptions } from "./trust-store.js";
export type { CertificatePurpose } from "./chain-check.js";
export { signatureAlgorithmOf } from "./signer-algorithm.js";
