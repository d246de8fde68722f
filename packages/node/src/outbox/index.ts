// Public surface of outbox/: an explicit list of named exports.
export { DEFAULT_RETRY_POLICY, RetrySchedule, nextAttempt, validatePolicy } from "./retry-schedule.js";
export type { RetryDecision, RetryPolicy } from "./retry-schedule.js";
export { Outbox, outboxOps } from "./outbox.js";
export { OutboxLedger } from "./outbox-ledger.js";
export { grpcSender, type GrpcSenderOptions } from "./grpc-sender.js";
export type { OutboundMessage, OutboxComponents, OutboxEvent, OutboxRecord, OutboxStatus, ReceiptVerifier, Sender } from "./outbox.js";
export { PullQueue, type PullAnswer, type PullQueueOptions, type PulledEnvelope } from "./pull-queue.js";
