// Public surface of local/: node directories and a federation on loopback.
export { initNodeDirectory, type InitNodeDirectoryOptions, type InitializedNode } from "./node-directory.js";
export { freePort, freePorts, startLocalFederation, type LocalFederation, type LocalFederationOptions, type LocalNode, type LocalNodeSpec } from "./local-federation.js";
