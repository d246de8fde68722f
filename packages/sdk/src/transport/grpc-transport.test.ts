import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { FederationService } from "../gen/tongban/v1/federation_pb.js";
import { clientCredentials, serverCredentials, type ClientCredentialsOptions } from "./credentials.js";
import { createGrpcClient } from "./grpc-client.js";
import { startGrpcServer, type GrpcServerHandle } from "./grpc-server.js";
import { nodeIdFromCertificate } from "./peer-identity.js";
import { makeTestPki, type TestPki } from "./tls-fixtures.test-helper.js";
import { describeTransportCompliance, waitFor } from "./transport-compliance.test-suite.js";
import type { PeerInfo, ServiceImpl } from "./types.js";

const pki: TestPki = makeTestPki();
const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";

function mtlsServer(impl: Partial<ServiceImpl<typeof FederationService>>, extra: { maxReceiveMessageLength?: number } = {}): Promise<GrpcServerHandle> {
  return startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    credentials: serverCredentials({ ca: pki.ca, cert: pki.qingpuServer.cert, key: pki.qingpuServer.key, requireClientCert: true }),
    services: [[FederationService, impl]],
    ...extra,
  });
}

function client(port: number, creds: ClientCredentialsOptions = { ca: pki.ca, ...pki.wujiangClient, expectedNodeId: QINGPU }) {
  return createGrpcClient(FederationService, `127.0.0.1:${port}`, clientCredentials(creds), {
    maxReceiveMessageLength: 1024 * 1024,
    // SNI must be a name, not an IP (RFC 6066); the certificates also carry DNS:localhost.
    channelOptions: { "grpc.ssl_target_name_override": "localhost" },
  });
}

async function failure(p: Promise<unknown>): Promise<TongbanError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TongbanError);
  return err as TongbanError;
}

describeTransportCompliance("grpc-js over mutual TLS", async (impl) => {
  const server = await mtlsServer(impl);
  const c = client(server.port);
  return {
    client: c,
    expectedPeerNodeId: WUJIANG,
    close: async () => {
      c.close();
      await server.shutdown(1_000);
    },
  };
});

describe("grpc transport over mutual TLS", () => {
  let server: GrpcServerHandle;
  const seen: PeerInfo[] = [];
  let calls = 0;

  beforeAll(async () => {
    server = await mtlsServer({
      async getNodeInfo(_req, ctx) {
        calls++;
        seen.push(ctx.peer);
        return { nodeId: QINGPU };
      },
    });
  });
  afterAll(async () => {
    await server.shutdown(1_000);
  });

  it("lets the handler read the client certificate and its node id", async () => {
    const c = client(server.port);
    try {
      expect((await c.getNodeInfo({})).nodeId).toBe(QINGPU);
    } finally {
      c.close();
    }
    const peer = seen.at(-1);
    expect(peer?.nodeId).toBe(WUJIANG);
    expect(peer?.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(peer?.certificate).toBeInstanceOf(Uint8Array);
    expect(nodeIdFromCertificate(peer?.certificate ?? new Uint8Array())).toBe(WUJIANG);
  });

  it("reads the client certificate once per TLS 1.3 connection, not once per call", async () => {
    const { TLSSocket } = await import("node:tls");
    const { vi } = await import("vitest");
    const spy = vi.spyOn(TLSSocket.prototype, "getPeerCertificate");
    const c = client(server.port);
    try {
      for (let i = 0; i < 5; i++) expect((await c.getNodeInfo({})).nodeId).toBe(QINGPU);
      // the server side read it once (the client checks the server's certificate once too)
      const serverSide = spy.mock.contexts.filter((socket) => (socket as { server?: unknown }).server !== undefined);
      expect(serverSide.length).toBe(1);
    } finally {
      c.close();
      spy.mockRestore();
    }
    const last = seen.slice(-5);
    expect(last.every((p) => p.nodeId === WUJIANG && p.certificate !== undefined)).toBe(true);
    // each call still has its own address view; a new connection reads its own certificate
    const again = client(server.port);
    try {
      await again.getNodeInfo({});
    } finally {
      again.close();
    }
    expect(seen.at(-1)?.address).not.toBe(last[0]?.address);
    expect(seen.at(-1)?.nodeId).toBe(WUJIANG);
  });

  it("refuses a client without a certificate", async () => {
    const before = calls;
    const c = client(server.port, { ca: pki.ca, expectedNodeId: QINGPU });
    try {
      const err = await failure(c.getNodeInfo({}, { timeoutMs: 5_000 }));
      expect(["TRANSPORT_UNAVAILABLE", "TRANSPORT_UNAUTHENTICATED"]).toContain(err.code);
    } finally {
      c.close();
    }
    expect(calls).toBe(before);
  });

  it("refuses a client whose certificate comes from another CA", async () => {
    const before = calls;
    const c = client(server.port, { ca: pki.ca, ...pki.rogueClient, expectedNodeId: QINGPU });
    try {
      const err = await failure(c.getNodeInfo({}, { timeoutMs: 5_000 }));
      expect(["TRANSPORT_UNAVAILABLE", "TRANSPORT_UNAUTHENTICATED"]).toContain(err.code);
    } finally {
      c.close();
    }
    expect(calls).toBe(before);
  });

  it("refuses a server that is not the node the client meant to call", async () => {
    const before = calls;
    const c = client(server.port, { ca: pki.ca, ...pki.wujiangClient, expectedNodeId: "cn.330421.jiashan" });
    try {
      const err = await failure(c.getNodeInfo({}, { timeoutMs: 5_000 }));
      expect(err.code).toBe("TRANSPORT_UNAVAILABLE");
      expect(err.message).toContain("cn.330421.jiashan");
    } finally {
      c.close();
    }
    expect(calls).toBe(before);
  });

  it("refuses a server whose certificate the client's CA did not issue", async () => {
    const c = client(server.port, { ca: pki.rogueCa, ...pki.wujiangClient, expectedNodeId: QINGPU });
    try {
      expect((await failure(c.getNodeInfo({}, { timeoutMs: 5_000 }))).code).toBe("TRANSPORT_UNAVAILABLE");
    } finally {
      c.close();
    }
  });

  it("checks the host name when no node id is expected", async () => {
    const ok = client(server.port, { ca: pki.ca, ...pki.wujiangClient });
    const wrong = client(server.port, { ca: pki.ca, ...pki.wujiangClient, serverNameOverride: "elsewhere.example" });
    try {
      expect((await ok.getNodeInfo({})).nodeId).toBe(QINGPU);
      expect((await failure(wrong.getNodeInfo({}, { timeoutMs: 5_000 }))).code).toBe("TRANSPORT_UNAVAILABLE");
    } finally {
      ok.close();
      wrong.close();
    }
  });

  it("answers UNIMPLEMENTED for a method the implementation leaves out", async () => {
    const c = client(server.port);
    try {
      const err = await failure(c.getDirectory({}));
      expect(err.code).toBe("UNIMPLEMENTED");
    } finally {
      c.close();
    }
  });
});

describe("grpc transport limits and streaming", () => {
  const CHUNK = 256 * 1024;
  const TOTAL = 20 * 1024 * 1024;
  const CHUNKS = TOTAL / CHUNK;

  it("streams 20 MB up in 256 KiB chunks without the producer running ahead", async () => {
    let produced = 0;
    let consumed = 0;
    let maxLead = 0;
    const server = await mtlsServer({
      async putMaterial(reqs) {
        const hash = createHash("sha256");
        let size = 0n;
        for await (const r of reqs) {
          consumed++;
          hash.update(r.data);
          size += BigInt(r.data.length);
          // A slow store: if the client ignored backpressure it would race ahead here.
          if (consumed % 8 === 0) await sleep(5);
        }
        return { digest: hash.digest(), size };
      },
    });
    const c = client(server.port);
    const expected = createHash("sha256");
    async function* chunks() {
      for (let i = 0; i < CHUNKS; i++) {
        const data = new Uint8Array(CHUNK).fill(i & 0xff);
        data[0] = i >> 8;
        expected.update(data);
        produced++;
        maxLead = Math.max(maxLead, produced - consumed);
        yield { caseId: i === 0 ? "case-1" : "", offset: BigInt(i * CHUNK), totalSize: BigInt(TOTAL), data };
      }
    }
    try {
      const res = await c.putMaterial(chunks(), { timeoutMs: 60_000 });
      expect(res.size).toBe(BigInt(TOTAL));
      expect(Buffer.from(res.digest).toString("hex")).toBe(expected.digest("hex"));
      expect(consumed).toBe(CHUNKS);
      // Bounded: the producer runs at most one stream buffer (grpc-js's 16
      // objects, ~4 MiB here) ahead of the handler — never the whole 80 chunks.
      expect(maxLead).toBeLessThanOrEqual(24);
    } finally {
      c.close();
      await server.shutdown(1_000);
    }
  });

  it("streams 20 MB down without the handler running ahead of a slow reader", async () => {
    let produced = 0;
    let read = 0;
    let maxLead = 0;
    const server = await mtlsServer({
      async *fetchMaterial() {
        for (let i = 0; i < CHUNKS; i++) {
          produced++;
          maxLead = Math.max(maxLead, produced - read);
          yield { offset: BigInt(i * CHUNK), data: new Uint8Array(CHUNK).fill(i & 0xff), totalSize: BigInt(TOTAL) };
        }
      },
    });
    const c = client(server.port);
    try {
      let bytes = 0;
      for await (const chunk of c.fetchMaterial({ caseId: "case-1" }, { timeoutMs: 60_000 })) {
        read++;
        bytes += chunk.data.length;
        if (read % 8 === 0) await sleep(5);
      }
      expect(bytes).toBe(TOTAL);
      // The handler's generator is pulled only as the HTTP/2 stream drains.
      expect(maxLead).toBeLessThanOrEqual(24);
    } finally {
      c.close();
      await server.shutdown(1_000);
    }
  });

  it("rejects a message over the server's limit with TRANSPORT_RESOURCE_EXHAUSTED", async () => {
    const server = await mtlsServer({ async deliver() { return {}; } }, { maxReceiveMessageLength: 64 * 1024 });
    const c = client(server.port);
    try {
      const err = await failure(c.deliver({ envelope: { body: new Uint8Array(100 * 1024) } }));
      expect(err.code).toBe("TRANSPORT_RESOURCE_EXHAUSTED");
      expect(await c.deliver({ envelope: { body: new Uint8Array(1024) } })).toBeDefined();
    } finally {
      c.close();
      await server.shutdown(1_000);
    }
  });

  it("lets a call in flight finish within the grace period", async () => {
    let started = false;
    const server = await mtlsServer({
      async getNodeInfo() {
        started = true;
        await sleep(150);
        return { nodeId: QINGPU };
      },
    });
    const c = client(server.port);
    try {
      const pending = c.getNodeInfo({});
      // Shut down only once the call is in the handler (a fixed sleep lost the race on a busy machine: the
      // TLS handshake took longer, the server closed first and the call found no listener).
      await waitFor(() => started);
      await server.shutdown(5_000);
      expect((await pending).nodeId).toBe(QINGPU);
    } finally {
      c.close();
    }
  });

  it("cancels what is left after the grace period", async () => {
    let handlerAborted = false;
    let started = false;
    const server = await mtlsServer({
      async *fetchMaterial(_req, ctx) {
        started = true;
        ctx.signal.addEventListener("abort", () => (handlerAborted = true));
        for (let i = 0; !ctx.signal.aborted; i++) {
          yield { offset: BigInt(i) };
          await sleep(10);
        }
      },
    });
    const c = client(server.port);
    try {
      const streamFailure = failure(
        (async () => {
          for await (const _ of c.fetchMaterial({})) void _;
        })(),
      );
      await waitFor(() => started);
      const t0 = Date.now();
      await server.shutdown(200);
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect(["TRANSPORT_CANCELLED", "TRANSPORT_UNAVAILABLE", "INTERNAL"]).toContain((await streamFailure).code);
      await waitFor(() => handlerAborted);
    } finally {
      c.close();
    }
  });
});
