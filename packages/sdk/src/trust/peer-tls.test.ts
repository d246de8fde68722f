import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { connect, createServer, type TLSSocket } from "node:tls";
import { describe, expect, it } from "vitest";
import { createFederationRoot } from "../pki/federation-root.js";
import { issueNodeCertificates } from "../pki/node-certificates.js";
import { TrustStore } from "./trust-store.js";

// The TLS certificates must work in a real mutual-TLS handshake, and the
// certificate a peer presents must map back to its node id.
describe("TLS certificates in a mutual-TLS handshake", () => {
  it("connect both ways and identify each peer by node id", async () => {
    const root = await createFederationRoot({ name: "Tongban TLS Root", validityDays: 10 });
    const server = await issueNodeCertificates({ ca: root, nodeId: "cn.110000.bj-gov", signingAlgorithm: "EdDSA", validityDays: 5 });
    const client = await issueNodeCertificates({ ca: root, nodeId: "cn.310000.sh-gov", signingAlgorithm: "ES256", validityDays: 5 });
    const store = new TrustStore({ anchor: root.certificatePem });

    const seenByServer: string[] = [];
    const srv = createServer(
      { key: server.tls.privateKeyPem, cert: server.tls.certificatePem, ca: root.certificatePem, requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.3" },
      (socket: TLSSocket) => {
        seenByServer.push(store.verifyPeerCertificate(new Uint8Array(socket.getPeerCertificate().raw), new Date()));
        socket.end("ok");
      },
    );
    srv.listen(0, "127.0.0.1");
    await once(srv, "listening");
    try {
      const { port } = srv.address() as AddressInfo;
      const socket = connect({ host: "127.0.0.1", port, key: client.tls.privateKeyPem, cert: client.tls.certificatePem, ca: root.certificatePem });
      await once(socket, "secureConnect");
      // Hostname check against the 127.0.0.1 IP SAN passed, or connect would have failed.
      expect(socket.authorized).toBe(true);
      const serverId = store.verifyPeerCertificate(new Uint8Array(socket.getPeerCertificate().raw), new Date());
      const chunks: Buffer[] = [];
      for await (const chunk of socket) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe("ok");
      expect(serverId).toBe("cn.110000.bj-gov");
      expect(seenByServer).toEqual(["cn.310000.sh-gov"]);
    } finally {
      srv.close();
    }
  });
});
