// Public surface of clients/: typed clients of a node's two services.
export { createFederationClient, createPlatformClient, type FederationClient, type FederationClientOptions, type PlatformClient, type PlatformClientOptions } from "./clients.js";
