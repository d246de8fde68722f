import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { FederationService, PutMaterialRequestSchema } from "../gen/tongban/v1/federation_pb.js";
import { PlatformService } from "../gen/tongban/v1/platform_pb.js";
import { grpcPath, toGrpcServiceDefinition } from "./grpc-definition.js";

describe("toGrpcServiceDefinition", () => {
  it("keys FederationService by localName with the wire path and stream flags of each kind", () => {
    const def = toGrpcServiceDefinition(FederationService);
    const summary = Object.fromEntries(Object.entries(def).map(([k, m]) => [k, [m.path, m.requestStream, m.responseStream, m.originalName]]));
    expect(summary).toEqual({
      deliver: ["/tongban.v1.FederationService/Deliver", false, false, "Deliver"],
      putMaterial: ["/tongban.v1.FederationService/PutMaterial", true, false, "PutMaterial"],
      fetchMaterial: ["/tongban.v1.FederationService/FetchMaterial", false, true, "FetchMaterial"],
      pullEvents: ["/tongban.v1.FederationService/PullEvents", false, true, "PullEvents"],
      getNodeInfo: ["/tongban.v1.FederationService/GetNodeInfo", false, false, "GetNodeInfo"],
      getDirectory: ["/tongban.v1.FederationService/GetDirectory", false, false, "GetDirectory"],
      getMappingTable: ["/tongban.v1.FederationService/GetMappingTable", false, false, "GetMappingTable"],
    });
  });

  it("covers every PlatformService method", () => {
    const def = toGrpcServiceDefinition(PlatformService);
    expect(Object.keys(def)).toEqual(PlatformService.methods.map((m) => m.localName));
    expect(def["watchEvents"]?.responseStream).toBe(true);
    expect(def["uploadMaterial"]?.requestStream).toBe(true);
    expect(grpcPath(PlatformService.method.submitApplication)).toBe("/tongban.v1.PlatformService/SubmitApplication");
  });

  it("serialises with toBinary and deserialises with fromBinary, bytes as Uint8Array", () => {
    const m = toGrpcServiceDefinition(FederationService)["putMaterial"];
    const msg = create(PutMaterialRequestSchema, { caseId: "c-1", offset: 5n, data: new Uint8Array([9, 8, 7]) });
    const wire = m!.requestSerialize(msg);
    expect(Buffer.isBuffer(wire)).toBe(true);
    expect(new Uint8Array(wire)).toEqual(toBinary(PutMaterialRequestSchema, msg));
    const back = m!.requestDeserialize(wire);
    expect(back).toEqual(msg);
    expect(Buffer.isBuffer(back.data)).toBe(false);
  });
});
