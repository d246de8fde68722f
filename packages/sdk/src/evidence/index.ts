// Public surface of evidence/: an explicit list of named exports.
export { EMPTY_ROOT, HASH_SIZE, hashEquals, leafHash, nodeHash, sha256 } from "./hash.js";
export { allocBytes, isAscii, writeAscii } from "./alloc-bytes.js";
export {
  consistencyProof,
  inclusionProof,
  merkleRoot,
  rootFromInclusion,
  treeReaderFromLeaves,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
  type LeafHashAt,
  type MaybePromise,
  type TreeReader,
} from "./merkle.js";
export { MerkleAccumulator, type CompletedNode, type MerkleAccumulatorOptions } from "./merkle-accumulator.js";
export {
  ENTRY_VERSION,
  EVIDENCE_KINDS,
  GENESIS_PREV_HASH,
  MAX_ENTRY_STRING_BYTES,
  decodeEntry,
  encodeEntry,
  type EvidenceEntry,
  type EvidenceKind,
} from "./entry.js";
export { EMPTY_LOG_STATE, type LogState } from "./log-state.js";
export { EvidenceAppender, type AppendInput, type AppendedEntry, type EvidenceAppenderOptions } from "./log-appender.js";
export { LogVerifier, verifyLog, type ExpectedRoot, type LogFailureReason, type StoredEntry } from "./verify-log.js";
export type { EvidenceSigner } from "./signed-statement.js";
export {
  CHECKPOINT_JWS_TYPE,
  decodeCheckpoint,
  signCheckpoint,
  verifyCheckpoint,
  type Checkpoint,
  type VerifiedCheckpoint,
  type VerifyCheckpointOptions,
} from "./checkpoint.js";
export { COSIGNATURE_JWS_TYPE, signCosignature, verifyCosignature, type VerifiedCosignature } from "./cosignature.js";
export { Witness, forkAlertError, verifyForkAlert, type ForkAlert, type WitnessOptions, type WitnessVerdict } from "./witness.js";
export {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  buildCaseBundle,
  parseCaseBundle,
  serializeCaseBundle,
  type BuildCaseBundleInput,
  type BundleEntry,
  type CaseBundle,
} from "./bundle-format.js";
export { verifyCaseBundle, type BundleReason, type BundleReport, type BundleStep, type VerifyCaseBundleOptions } from "./verify-bundle.js";
