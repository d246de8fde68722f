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
      acknowledgePulled: ["/tongban.v1.FederationService/AcknowledgePulled", false, false, "AcknowledgePulled"],
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

describe("wire bytes kept with messages", () => {
  it("a one-field message's encoding is built from the field's bytes, and its field found again", async () => {
    const { DeliverRequestSchema, DeliverResponseSchema } = await import("../gen/tongban/v1/federation_pb.js");
    const { EnvelopeSchema } = await import("../gen/tongban/v1/envelope_pb.js");
    const { encodeSingleMessageField, singleFieldOf } = await import("./grpc-definition.js");
    for (const size of [0, 1, 127, 128, 300, 16_383, 16_384, 70_000]) {
      const envelope = create(EnvelopeSchema, { header: new Uint8Array(size).fill(7) });
      const bytes = toBinary(EnvelopeSchema, envelope);
      const encoded = encodeSingleMessageField(1, bytes);
      expect(encoded).toEqual(toBinary(DeliverResponseSchema, create(DeliverResponseSchema, { receipt: envelope })));
      expect(singleFieldOf(1, toBinary(DeliverRequestSchema, create(DeliverRequestSchema, { envelope })))).toEqual(bytes);
    }
    // anything but exactly that one field: no answer
    const one = encodeSingleMessageField(1, new Uint8Array([1, 2, 3]));
    expect(singleFieldOf(2, one)).toBeUndefined();
    expect(singleFieldOf(1, new Uint8Array([...one, 0x10, 0x01]))).toBeUndefined();
    expect(singleFieldOf(1, one.subarray(0, one.length - 1))).toBeUndefined();
    expect(singleFieldOf(1, new Uint8Array())).toBeUndefined();
  });

  it("the server keeps a decoded request's bytes, and sends remembered bytes instead of encoding again", async () => {
    const { rememberWireBytes, wireBytesOf } = await import("./grpc-definition.js");
    const def = toGrpcServiceDefinition(FederationService);
    const request = create(PutMaterialRequestSchema, { offset: 5n, data: new Uint8Array([9, 9]) });
    const bytes = Buffer.from(toBinary(PutMaterialRequestSchema, request));
    const decoded = def.putMaterial!.requestDeserialize(bytes) as object;
    expect(wireBytesOf(decoded)).toEqual(new Uint8Array(bytes));
    const answer = create(PutMaterialRequestSchema, {});
    rememberWireBytes(answer, new Uint8Array([0x18, 0x05]));
    expect([...def.putMaterial!.requestSerialize(answer as never)]).toEqual([0x18, 0x05]);
  });
});
