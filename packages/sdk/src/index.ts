/**
 * @tongban/sdk — everything a platform vendor needs to speak the Tongban
 * protocol without running a node. This file is the package's public
 * surface: an explicit list of named exports, grouped by feature folder.
 */

// errors
export { ERROR_CODES, GrpcStatus, TongbanError, isErrorCode, isTongbanError } from "./errors/index.js";
export type { ErrorCode, ErrorCodeInfo, GrpcStatusName } from "./errors/index.js";

// feature folders (each index.ts is an explicit list of named exports)
export * from "./identifiers/index.js";
export * from "./trust/index.js";
export * from "./pki/index.js";
export * from "./envelope/index.js";
export * from "./transport/index.js";
export * from "./mapping/index.js";
export * from "./gm/index.js";
export * from "./seal/index.js";
export * from "./cases/index.js";
export * from "./deadlines/index.js";
export * from "./clients/index.js";
export * from "./directory/index.js";
export * from "./evidence/index.js";
