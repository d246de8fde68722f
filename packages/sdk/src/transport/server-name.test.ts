// Which TLS server name (SNI) a client sends. A plain TLS server with ALPN h2 records the
// name from the ClientHello and hangs up; the call then fails, which is not what is tested.
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatformClient } from "../clients/clients.js";
import { FederationService } from "../gen/tongban/v1/federation_pb.js";
import { clientCredentials } from "./credentials.js";
import { createGrpcClient } from "./grpc-client.js";
import { makeTestPki, type TestPki } from "./tls-fixtures.test-helper.js";

const QINGPU = "cn.310118.qingpu";

describe("the TLS server name a client sends", () => {
  let pki: TestPki;
  let server: Server;
  let port: number;
  const names: string[] = [];

  beforeAll(async () => {
    pki = makeTestPki();
    server = createServer({
      ...pki.qingpuServer,
      ALPNProtocols: ["h2"],
      SNICallback: (name, cb) => {
        names.push(name);
        cb(null, undefined);
      },
    });
    server.on("secureConnection", (socket) => socket.destroy());
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.close();
  });

  /** The names the server saw while `call` ran (it fails: the server speaks no HTTP/2). */
  async function namesSeenDuring(call: () => Promise<unknown>): Promise<string[]> {
    names.length = 0;
    await expect(call()).rejects.toBeInstanceOf(Error);
    return [...new Set(names)];
  }

  it("is the node id when a node-identity client dials an IP address (RFC 6066 allows no IP there)", async () => {
    const c = createGrpcClient(FederationService, `127.0.0.1:${port}`, clientCredentials({ ca: pki.ca, ...pki.wujiangClient, expectedNodeId: QINGPU }));
    try {
      expect(await namesSeenDuring(() => c.getNodeInfo({}, { timeoutMs: 2_000 }))).toEqual([QINGPU]);
    } finally {
      c.close();
    }
  });

  it("is the DNS host as dialled otherwise", async () => {
    const c = createGrpcClient(FederationService, `localhost:${port}`, clientCredentials({ ca: pki.ca, ...pki.wujiangClient, expectedNodeId: QINGPU }));
    try {
      expect(await namesSeenDuring(() => c.getNodeInfo({}, { timeoutMs: 2_000 }))).toEqual(["localhost"]);
    } finally {
      c.close();
    }
  });

  it("is the node id for a platform client with a bearer token (credentials combined with call credentials)", async () => {
    const c = createPlatformClient({ address: `127.0.0.1:${port}`, nodeId: QINGPU, ca: pki.ca, token: "t", timeoutMs: 2_000 });
    try {
      expect(await namesSeenDuring(() => c.getCase({ caseId: "x" }))).toEqual([QINGPU]);
    } finally {
      c.close();
    }
  });

  it("is what the caller's channel options say, when they say", async () => {
    const c = createGrpcClient(FederationService, `127.0.0.1:${port}`, clientCredentials({ ca: pki.ca, ...pki.wujiangClient, expectedNodeId: QINGPU }), {
      channelOptions: { "grpc.ssl_target_name_override": "node.example" },
    });
    try {
      expect(await namesSeenDuring(() => c.getNodeInfo({}, { timeoutMs: 2_000 }))).toEqual(["node.example"]);
    } finally {
      c.close();
    }
  });
});
