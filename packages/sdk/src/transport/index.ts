// Public surface of transport/: an explicit list of named exports.
export { adaptService } from "./adapt-service.js";
export {
  clientCredentials,
  requireNodeIdentity,
  serverCredentials,
  withNodeIdentity,
  type ClientCredentialsOptions,
  type ServerCredentialsOptions,
  type TlsServerCredentials,
  type ServerIdentityCheck,
} from "./credentials.js";
export { ERROR_CODE_TRAILER, ERROR_DETAILS_TRAILER, STATUS_FALLBACK_CODES, fromWireError, toWireError, type WireError } from "./error-wire.js";
export { createGrpcClient, type GrpcClient, type GrpcClientOptions } from "./grpc-client.js";
export { encodeSingleMessageField, grpcPath, rememberWireBytes, singleFieldOf, toGrpcServiceDefinition, wireBytesOf } from "./grpc-definition.js";
export { startGrpcServer, type GrpcServerHandle, type GrpcServerOptions } from "./grpc-server.js";
export { createInMemoryTransport, type FakePeer, type InMemoryTransport } from "./in-memory-transport.js";
export { NODE_URI_PREFIX, nodeIdFromCertificate } from "./peer-identity.js";
export type {
  BidiStreamingImpl,
  CallOptions,
  ClientStreamingImpl,
  HandlerContext,
  HandlerResult,
  MethodClient,
  MethodImpl,
  PeerInfo,
  RequestHeaders,
  ServerStreamingImpl,
  ServiceClient,
  ServiceImpl,
  UnaryImpl,
} from "./types.js";
