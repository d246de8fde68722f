// Public surface of envelope/: an explicit list of named exports.
export { createEnvelope, DEFAULT_TTL_SECONDS, PROTOCOL_V1, SUITE_GM_V1, SUITE_JOSE_V1, suiteOfAlgorithm } from "./create-envelope.js";
export type { CreateEnvelopeOptions, CreatedEnvelope, EnvelopeSigner } from "./create-envelope.js";
export { verifyEnvelope, DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_AGE_MS } from "./verify-envelope.js";
export type { VerifiedEnvelope, VerifyEnvelopeOptions } from "./verify-envelope.js";
export { inspectEnvelope, type InspectedEnvelope } from "./inspect-envelope.js";
export { decodeEnvelope, decodeHeader } from "./wire-decode.js";
export { receiptDigestOf, type EnvelopeParts } from "./receipt-digest.js";
export { MemoryReplayGuard, type ReplayGuard, type ReplayVerdict } from "./replay-guard.js";
export { DEFAULT_ENVELOPE_LIMITS, type EnvelopeLimits } from "./limits.js";
export { ENCRYPTED_MESSAGE_TYPES, MESSAGE_BODY_CASES, bodyCaseForMessageType, messageTypeForBodyCase, type BodyCase } from "./message-types.js";
export { ENVELOPE_ALGORITHMS, ENVELOPE_JWS_TYPE, GM_SUITE_ALGORITHMS, JOSE_SUITE_ALGORITHMS, signingInput, threadPoolSignatures, type SignatureOffload } from "./jws.js";
export { startSignatureWorker, type SignatureWorker } from "./signature-worker.js";
export { BODY_JWE_ALG, BODY_JWE_ENC, decryptBody, encryptBody } from "./body-encryption.js";
export { BODY_GM_ALG, BODY_GM_ENC, decryptBodyGm, encryptBodyGm } from "./gm-body-encryption.js";
