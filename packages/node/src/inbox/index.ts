// Public surface of inbox/: an explicit list of named exports.
export { Intake } from "./intake.js";
export type { AcceptedMessage, Authorizer, EffectHandler, EnvelopeVerifier, IntakeComponents, IntakeOptions, IntakeResult, ReceiptSigner, SignedReceipt } from "./intake.js";
export { KeyedSerializer } from "./keyed-serializer.js";
export { receiptSignerFor, verifierFor, type NodeIdentity } from "./sdk-adapters.js";
export { agreementAuthorizer } from "./agreement-authorizer.js";
export { Puller, type PullState, type PulledTaker, type PullerEvent, type PullerOptions } from "./puller.js";
