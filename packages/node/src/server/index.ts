// Public surface of server/: an explicit list of named exports.
export { federationService, type FederationServiceDeps } from "./federation-service.js";
// Servers, health, reflection, metrics and logs of the node (operations).
export { startFederationServer, type FederationServerOptions } from "./federation-server.js";
export { startPlatformServer, type PlatformServerOptions } from "./platform-server.js";
export { startServiceServer, type ServiceServerHandle, type ServiceServerOptions } from "./service-server.js";
export { guardService, type CallGuard } from "./guard-service.js";
export { peerNodeId } from "./peer-node-id.js";
export { bearerTokenGuard, platformTokenDigest } from "./platform-auth.js";
export { addHealthService, type HealthReporter } from "./health.js";
export { addReflectionService, reflectionPackageDefinition } from "./reflection.js";
export { NODE_PROTOCOLS, nodeInfoService, type NodeInfoOptions } from "./node-info.js";
export { createNodeMetrics, type NodeMetrics, type NodeMetricsOptions } from "./node-metrics.js";
export { startMetricsServer, type MetricsServerHandle } from "./metrics-server.js";
export { PERSONAL_DATA_LOG_PATHS, createNodeLogger, type NodeLoggerOptions } from "./node-logger.js";
