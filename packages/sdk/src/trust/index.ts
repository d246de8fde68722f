// Public surface of trust/: an explicit list of named exports.
export type { ResolvedSigner, SignatureAlgorithm, SignerResolver, Suite } from "./signer-resolver.js";
