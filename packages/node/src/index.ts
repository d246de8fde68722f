/**
 * @tongban/node — the Tongban reference node. This file is the package's
 * public surface: an explicit list of named exports.
 */
export { NODE_SOFTWARE } from "./software.js";

// store/: the ordered key-value store, its LevelDB and memory implementations, group commit and key layout.
export {
  AbstractStore,
  BACKUP_FORMAT,
  Collection,
  DEFAULT_GROUP_COMMIT_OPTIONS,
  DEFAULT_CACHE_SIZE,
  DEFAULT_WRITE_BUFFER_SIZE,
  GroupCommitter,
  combineHooks,
  LevelStore,
  MemoryStore,
  bytesPart,
  collectionOf,
  compareBytes,
  openLevelStore,
  prefixEnd,
  readBackup,
  restoreBackup,
  storeKeys,
  stringPart,
  u32Part,
  u64Part,
  verifyBackup,
  writeBackup,
  writeBackupInto,
} from "./store/index.js";
export type {
  BackupInfo,
  BatchOp,
  ReadBackupHooks,
  WrittenBackup,
  CollectionName,
  GroupCommitOptions,
  GroupCommitStats,
  IterateOptions,
  KeyPart,
  Leading,
  LevelStoreOptions,
  NormalizedRange,
  PartValues,
  PrefixRange,
  Store,
  StoreCapabilities,
  StoreEntry,
  StoreStatus,
} from "./store/index.js";

// inbox: the intake pipeline
export { Intake, KeyedSerializer, Puller, agreementAuthorizer, receiptSignerFor, verifierFor } from "./inbox/index.js";
export type { PullState, PulledTaker, PullerEvent, PullerOptions } from "./inbox/index.js";
export type { AcceptedMessage, Authorizer, EffectHandler, EnvelopeVerifier, IntakeComponents, IntakeOptions, IntakeResult, NodeIdentity, ReceiptSigner, SignedReceipt } from "./inbox/index.js";

// outbox: the dispatcher and its retry schedule
export { DEFAULT_RETRY_POLICY, Outbox, OutboxLedger, PullQueue, RetrySchedule, grpcSender, nextAttempt, outboxOps, validatePolicy } from "./outbox/index.js";
export type { PullAnswer, PullQueueOptions, PulledEnvelope } from "./outbox/index.js";
export type { GrpcSenderOptions } from "./outbox/index.js";
export type { OutboundMessage, OutboxComponents, OutboxEvent, OutboxRecord, OutboxStatus, ReceiptVerifier, RetryDecision, RetryPolicy, Sender } from "./outbox/index.js";

// server: the gRPC service implementations
export { federationService, type FederationServiceDeps } from "./server/index.js";

// handlers: what messages do to cases
export { checkIndexes } from "./handlers/index.js";
export { buildCaseIndexes, caseByNumber, caseEffects, caseOpen, caseOps, deadlineWatched, openCases, readCase, watchedCases, type CaseRecord, type TimelineStep } from "./handlers/index.js";

// config: the node config file (YAML/JSON), validation and defaults
export { NODE_CONFIG_DEFAULTS, NODE_DIR_LAYOUT, checkNodeConfigFiles, configInvalid, defaultNodeConfig, formatListenAddress, loadNodeConfig, parseListenAddress, parseNodeConfig, readNodeCredentials, renderNodeConfig, verifyNodeConfig } from "./config/index.js";
export type { ConfigIssue, ListenAddress, LogLevel, NodeConfig, ParseNodeConfigOptions, PeerConfig, PlatformAuth, PlatformToken, VerifiedNodeConfig, VerifiedPem } from "./config/index.js";

// server: the node's gRPC servers, health, reflection, metrics and logs
export { NODE_PROTOCOLS, PERSONAL_DATA_LOG_PATHS, addHealthService, addReflectionService, bearerTokenGuard, createNodeLogger, createNodeMetrics, guardService, nodeInfoService, peerNodeId, platformTokenDigest, reflectionPackageDefinition, startFederationServer, startMetricsServer, startPlatformServer, startServiceServer } from "./server/index.js";
export type { CallGuard, FederationServerOptions, HealthReporter, MetricsServerHandle, NodeInfoOptions, NodeLoggerOptions, NodeMetrics, NodeMetricsOptions, PlatformServerOptions, ServiceServerHandle, ServiceServerOptions } from "./server/index.js";

// node: the composition root
export { createNode, openNode } from "./node.js";
export type { CredentialPart, CredentialsReloaded, NodeAddresses, NodeComponents, NodeOptions, NodeService, NodeState, OpenNodeOptions, OpenedNodeParts, TongbanNode } from "./node.js";

// compose: intake, outbox, case desk, events and deadlines on the real components
export { composeNode, type ComposeOptions, type ComposedNode } from "./compose.js";
export { CaseDesk, regionOfNode, type CaseDeskDeps, type SubmitInput } from "./handlers/case-desk.js";
export { EventLog, type NodeEvent, type NodeEventInit } from "./handlers/events.js";
export { MATERIAL_CHUNK_BYTES, MaterialStore, type MaterialChunk, type MaterialInfo, type MaterialLimits } from "./handlers/materials.js";
export { advanceCase, type AdvanceContext, type CaseEffectsOptions, type CaseStep, type CaseTableRef } from "./handlers/case-effects.js";
export { verifyResultDocuments, type DocumentReport, type ResultVerification, type ResultVerifier } from "./handlers/results.js";
export { caseView, platformService, type PlatformServiceDeps } from "./server/platform-service.js";

// local: node directories (`tongban node init`) and a federation on loopback (demo, tests)
export { NODE_REQUEST_FILES, freePort, freePorts, initNodeDirectory, initNodeRequestDirectory, startLocalFederation, submitApplication, until } from "./local/index.js";
export type { InitNodeDirectoryOptions, InitNodeRequestOptions, InitializedNode, RequestedNode, LocalFederation, LocalFederationOptions, LocalNode, LocalNodeSpec } from "./local/index.js";

// evidence: the log in the node, checkpoints and witnessing, audit, bundles, retention
export { EvidenceLog, STORED_NODE_LEVEL, evidenceTree, type StoredEvidence } from "./evidence/evidence-log.js";
export { Checkpoints, type CheckpointsDeps } from "./evidence/checkpoints.js";
export { auditLog, exportCaseBundle, prunePayloads, type AuditLogOptions, type LogAuditReport, type NodeAuditReason } from "./evidence/audit.js";
export { DirectoryState, type DirectoryStateOptions, type DirectoryStatus, type KnownPeer } from "./directory/directory-state.js";
export { TableKeeper, type FollowResult, type HeldTable, type MissingTable, type TableKeeperOptions } from "./mapping/table-keeper.js";
export { PartnerLimiter, type PartnerLimits } from "./server/partner-limiter.js";

// console: the operator console served by the node
export { startConsole, type ConsoleHandle, type ConsoleOptions, type ConsoleUser } from "./console/console-server.js";
