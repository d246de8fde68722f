// serverCredentials(…).update(): a running gRPC server over mutual TLS takes a new certificate
// and key for the connections made from then on; a set TLS cannot use is refused and changes nothing.
import { X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { FederationService } from "../gen/tongban/v1/federation_pb.js";
import { createFederationRoot, issueNodeCertificates, type FederationRoot, type NodeCertificates } from "../pki/index.js";
import { clientCredentials, serverCredentials, type TlsServerCredentials } from "./credentials.js";
import { createGrpcClient } from "./grpc-client.js";
import { startGrpcServer, type GrpcServerHandle } from "./grpc-server.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";

describe("server credentials replaced while the server runs", () => {
  let root: FederationRoot;
  let first: NodeCertificates;
  let second: NodeCertificates;
  let client: NodeCertificates;
  let creds: TlsServerCredentials;
  let server: GrpcServerHandle;

  beforeAll(async () => {
    root = await createFederationRoot({ name: "Test Root", validityDays: 2 });
    const issue = (nodeId: string) => issueNodeCertificates({ ca: root, nodeId, signingAlgorithm: "ES256", validityDays: 2 });
    [first, second, client] = await Promise.all([issue(QINGPU), issue(QINGPU), issue(WUJIANG)]);
    creds = serverCredentials({ ca: root.certificatePem, cert: first.tls.certificatePem, key: first.tls.privateKeyPem });
    server = await startGrpcServer({ credentials: creds, services: [[FederationService, { getNodeInfo: async () => ({ nodeId: QINGPU }) }]] });
  });
  afterAll(async () => {
    await server?.shutdown(100);
  });

  /** The serial of the certificate a new connection is shown. */
  async function served(): Promise<string> {
    let seen = "";
    const c = createGrpcClient(
      FederationService,
      `127.0.0.1:${server.port}`,
      clientCredentials({
        ca: root.certificatePem,
        cert: client.tls.certificatePem,
        key: client.tls.privateKeyPem,
        expectedNodeId: QINGPU,
        checkServerIdentity: (_host, cert) => {
          seen = cert.serialNumber;
          return undefined;
        },
      }),
      { defaultTimeoutMs: 5_000, channelOptions: { "grpc.use_local_subchannel_pool": 1 } },
    );
    try {
      expect((await c.getNodeInfo({})).nodeId).toBe(QINGPU);
    } finally {
      c.close();
    }
    return seen;
  }
  const serial = (pem: string) => new X509Certificate(pem).serialNumber;

  it("serves new connections the new certificate", async () => {
    expect(await served()).toBe(serial(first.tls.certificatePem));
    creds.update({ ca: root.certificatePem, cert: second.tls.certificatePem, key: second.tls.privateKeyPem });
    expect(await served()).toBe(serial(second.tls.certificatePem));
  });

  it("refuses a key that is not the certificate's, and a certificate that is not PEM, keeping the one it serves", async () => {
    const before = await served();
    for (const bad of [
      { ca: root.certificatePem, cert: first.tls.certificatePem, key: second.tls.privateKeyPem },
      { ca: root.certificatePem, cert: "not a certificate", key: first.tls.privateKeyPem },
    ]) {
      expect(() => creds.check(bad)).toThrow(TongbanError);
      const err = (() => {
        try {
          creds.update(bad);
          return undefined;
        } catch (e) {
          return e;
        }
      })();
      expect((err as TongbanError).code).toBe("TRUST_CERT_INVALID");
      expect(await served()).toBe(before);
    }
  });

  it("still requires a client certificate from the federation after an update", async () => {
    const other = await createFederationRoot({ name: "Other Root", validityDays: 2 });
    const stranger = await issueNodeCertificates({ ca: other, nodeId: WUJIANG, signingAlgorithm: "ES256", validityDays: 2 });
    for (const certs of [undefined, stranger]) {
      const c = createGrpcClient(
        FederationService,
        `127.0.0.1:${server.port}`,
        clientCredentials({ ca: root.certificatePem, ...(certs === undefined ? {} : { cert: certs.tls.certificatePem, key: certs.tls.privateKeyPem }), expectedNodeId: QINGPU }),
        { defaultTimeoutMs: 3_000, channelOptions: { "grpc.use_local_subchannel_pool": 1 } },
      );
      try {
        await expect(c.getNodeInfo({})).rejects.toBeInstanceOf(TongbanError);
      } finally {
        c.close();
      }
    }
  });
});
