export { ERROR_CODES, isErrorCode, type ErrorCode, type ErrorCodeInfo } from "./codes.js";
export { GrpcStatus, type GrpcStatusName } from "./grpc-status.js";
export { TongbanError, isTongbanError } from "./tongban-error.js";
