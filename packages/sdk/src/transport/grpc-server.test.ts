import { describe, expect, it } from "vitest";
import { ServerCredentials } from "@grpc/grpc-js";
import { FederationService } from "../gen/tongban/v1/federation_pb.js";
import { PlatformService } from "../gen/tongban/v1/platform_pb.js";
import { startGrpcServer } from "./grpc-server.js";

describe("startGrpcServer", () => {
  it("binds 127.0.0.1 on an ephemeral port and shuts down", async () => {
    const srv = await startGrpcServer({
      credentials: ServerCredentials.createInsecure(),
      services: [
        [FederationService, { getNodeInfo: async () => ({ nodeId: "cn.310118.qingpu" }) }],
        [PlatformService, { getCase: async (req) => ({ view: { caseId: req.caseId } }) }],
      ],
    });
    expect(srv.port).toBeGreaterThan(0);
    await srv.shutdown(100);
  });

  it("type-checks each implementation against its own service", () => {
    // Compile-time only: the function is never called.
    const wrong = () =>
      startGrpcServer({
        credentials: ServerCredentials.createInsecure(),
        services: [
          // @ts-expect-error nodeId is a string in GetNodeInfoResponse
          [FederationService, { getNodeInfo: async () => ({ nodeId: 42 }) }],
          // @ts-expect-error GetCaseRequest has no field "nope"
          [PlatformService, { getCase: async (req) => ({ view: { caseId: req.nope } }) }],
        ],
      });
    expect(typeof wrong).toBe("function");
  });

  it("refuses a bad port with TypeError", async () => {
    await expect(startGrpcServer({ port: 70000, credentials: ServerCredentials.createInsecure(), services: [] })).rejects.toThrow(TypeError);
  });
});
