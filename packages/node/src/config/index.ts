// Public surface of config/: an explicit list of named exports.
export { configInvalid, type ConfigIssue } from "./config-issues.js";
export { NODE_DIR_LAYOUT, defaultNodeConfig } from "./default-node-config.js";
export { formatListenAddress, parseListenAddress } from "./listen-address.js";
export { checkNodeConfigFiles, loadNodeConfig } from "./load-node-config.js";
export { NODE_CONFIG_DEFAULTS, parseNodeConfig, type ParseNodeConfigOptions } from "./parse-node-config.js";
export { renderNodeConfig } from "./render-node-config.js";
export { readNodeCredentials, verifyNodeConfig, type VerifiedNodeConfig, type VerifiedPem } from "./verify-node-config.js";
export type { ListenAddress, LogLevel, NodeConfig, PeerConfig, PlatformAuth, PlatformToken } from "./types.js";
