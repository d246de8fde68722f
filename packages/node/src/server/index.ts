// Public surface of server/: an explicit list of named exports.
export { federationService, type FederationServiceDeps } from "./federation-service.js";
