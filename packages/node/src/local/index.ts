// Public surface of local/: node directories and a federation on loopback.
export {
  NODE_REQUEST_FILES,
  initNodeDirectory,
  initNodeRequestDirectory,
  type InitNodeDirectoryOptions,
  type InitNodeRequestOptions,
  type InitializedNode,
  type RequestedNode,
} from "./node-directory.js";
export { freePort, freePorts, startLocalFederation, type LocalFederation, type LocalFederationOptions, type LocalNode, type LocalNodeSpec } from "./local-federation.js";
// Polling for a state to come about, and the standard test application (end-to-end tests here and in tests/, the demo).
export { submitApplication, until } from "./e2e-helpers.js";
