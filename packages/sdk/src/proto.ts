/**
 * The generated protocol v1 messages and service descriptors
 * (`@tongban/sdk/gen`). Regenerate with `npm run generate`.
 */
export * from "./gen/tongban/v1/common_pb.js";
export * from "./gen/tongban/v1/envelope_pb.js";
export * from "./gen/tongban/v1/federation_pb.js";
export * from "./gen/tongban/v1/joint_pb.js";
export * from "./gen/tongban/v1/messages_pb.js";
export * from "./gen/tongban/v1/platform_pb.js";
