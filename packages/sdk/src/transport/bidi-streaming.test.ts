import { create, createFileRegistry } from "@bufbuild/protobuf";
import type { GenService } from "@bufbuild/protobuf/codegenv2";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { PullEventsRequestSchema, PullEventsResponseSchema, file_tongban_v1_federation } from "../gen/tongban/v1/federation_pb.js";
import { clientCredentials, serverCredentials } from "./credentials.js";
import { createGrpcClient } from "./grpc-client.js";
import { toGrpcServiceDefinition } from "./grpc-definition.js";
import { startGrpcServer } from "./grpc-server.js";
import { createInMemoryTransport } from "./in-memory-transport.js";
import { makeTestPki } from "./tls-fixtures.test-helper.js";
import type { ServiceClient, ServiceImpl } from "./types.js";

// The v1 protocol has no bidi RPC; build one at run time from a descriptor so
// the bidi path of the adapter and both clients is still exercised.
const registry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "tongban/testing/v1/chat.proto",
    package: "tongban.testing.v1",
    syntax: "proto3",
    dependency: ["tongban/v1/federation.proto"],
    service: [
      {
        name: "ChatService",
        method: [{ name: "Chat", inputType: ".tongban.v1.PullEventsRequest", outputType: ".tongban.v1.PullEventsResponse", clientStreaming: true, serverStreaming: true }],
      },
    ],
  }),
  (name) => (name === "tongban/v1/federation.proto" ? file_tongban_v1_federation : undefined),
);
const ChatService = registry.getService("tongban.testing.v1.ChatService") as unknown as GenService<{
  chat: { methodKind: "bidi_streaming"; input: typeof PullEventsRequestSchema; output: typeof PullEventsResponseSchema };
}>;

const impl: ServiceImpl<typeof ChatService> = {
  async *chat(reqs) {
    for await (const r of reqs) {
      if (r.after === "boom") throw new TongbanError("RATE_LIMITED", "slow down", { details: { retryAfterMs: 250 } });
      yield { cursor: `echo:${r.after}` };
    }
  },
};

/** Sends one request only after the answer to the previous one arrived: proves true interleaving. */
async function pingPong(client: ServiceClient<typeof ChatService>, words: string[]): Promise<string[]> {
  const answers: string[] = [];
  let release: () => void = () => undefined;
  async function* requests() {
    for (const w of words) {
      const answered = new Promise<void>((r) => (release = r));
      yield { after: w };
      await answered;
    }
  }
  for await (const res of client.chat(requests())) {
    answers.push(res.cursor);
    release();
  }
  return answers;
}

describe("bidi streaming", () => {
  it("maps the kind to requestStream and responseStream", () => {
    const def = toGrpcServiceDefinition(ChatService);
    expect(def["chat"]).toMatchObject({ path: "/tongban.testing.v1.ChatService/Chat", requestStream: true, responseStream: true });
  });

  it("interleaves requests and responses in memory", async () => {
    const t = createInMemoryTransport();
    t.register(ChatService, impl);
    expect(await pingPong(t.client(ChatService), ["a", "b", "c"])).toEqual(["echo:a", "echo:b", "echo:c"]);
    await expect(pingPong(t.client(ChatService), ["a", "boom"])).rejects.toMatchObject({ code: "RATE_LIMITED", details: { retryAfterMs: 250 } });
  });

  it("interleaves requests and responses over mutual TLS", async () => {
    const pki = makeTestPki();
    const server = await startGrpcServer({
      credentials: serverCredentials({ ca: pki.ca, ...pki.qingpuServer }),
      services: [[ChatService, impl]],
    });
    const client = createGrpcClient(ChatService, `127.0.0.1:${server.port}`, clientCredentials({ ca: pki.ca, ...pki.wujiangClient, expectedNodeId: "cn.310118.qingpu" }), {
      channelOptions: { "grpc.ssl_target_name_override": "localhost" },
    });
    try {
      expect(await pingPong(client, ["a", "b", "c"])).toEqual(["echo:a", "echo:b", "echo:c"]);
      await expect(pingPong(client, ["a", "boom"])).rejects.toMatchObject({ code: "RATE_LIMITED", details: { retryAfterMs: 250 } });
    } finally {
      client.close();
      await server.shutdown(1_000);
    }
  });
});
