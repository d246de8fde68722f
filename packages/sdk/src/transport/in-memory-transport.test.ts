import { describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { FederationService } from "../gen/tongban/v1/federation_pb.js";
import { PlatformService } from "../gen/tongban/v1/platform_pb.js";
import { createInMemoryTransport } from "./in-memory-transport.js";
import { describeTransportCompliance } from "./transport-compliance.test-suite.js";

describeTransportCompliance("in-memory", async (impl) => {
  const transport = createInMemoryTransport({ peer: { nodeId: "cn.320509.wujiang" } });
  transport.register(FederationService, impl);
  return { client: transport.client(FederationService), expectedPeerNodeId: "cn.320509.wujiang", close: async () => undefined };
});

describe("createInMemoryTransport", () => {
  it("answers UNIMPLEMENTED for a service nobody registered", async () => {
    const client = createInMemoryTransport().client(PlatformService);
    const err = await client.getCase({ caseId: "x" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TongbanError);
    expect((err as TongbanError).code).toBe("UNIMPLEMENTED");
  });

  it("answers UNIMPLEMENTED for a method the implementation leaves out", async () => {
    const t = createInMemoryTransport();
    t.register(FederationService, { getNodeInfo: async () => ({ nodeId: "x" }) });
    const client = t.client(FederationService);
    expect((await client.getNodeInfo({})).nodeId).toBe("x");
    await expect(client.deliver({})).rejects.toMatchObject({ code: "UNIMPLEMENTED" });
  });

  it("refuses an implementation entry that is not a function", () => {
    const t = createInMemoryTransport();
    expect(() => t.register(FederationService, { deliver: 42 } as never)).toThrow(TypeError);
  });

  it("lets a client override the fake peer", async () => {
    const t = createInMemoryTransport({ peer: { nodeId: "cn.310118.qingpu" } });
    t.register(PlatformService, {
      getCase: async (_req, ctx) => ({ view: { partner: `${ctx.peer.nodeId ?? "-"}@${ctx.peer.address}` } }),
    });
    expect((await t.client(PlatformService).getCase({})).view?.partner).toBe("cn.310118.qingpu@in-memory");
    const other = t.client(PlatformService, { peer: { nodeId: "cn.330421.jiashan", address: "10.0.0.9:4433" } });
    expect((await other.getCase({})).view?.partner).toBe("cn.330421.jiashan@10.0.0.9:4433");
  });

  it("hands the caller its own error when its request source fails", async () => {
    const t = createInMemoryTransport();
    t.register(PlatformService, {
      uploadMaterial: async (reqs) => {
        for await (const _ of reqs) void _;
        return {};
      },
    });
    const boom = new Error("source broke");
    async function* source() {
      yield { data: new Uint8Array(1) };
      throw boom;
    }
    await expect(t.client(PlatformService).uploadMaterial(source())).rejects.toBe(boom);
  });
});
