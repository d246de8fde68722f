import { describe, expect, it } from "vitest";
import { nodeIdFromCertificate, nodeIdFromUris, sanUris } from "./peer-identity.js";
import { makeTestPki } from "./tls-fixtures.test-helper.js";

describe("peer identity", () => {
  it("reads URI entries from an OpenSSL-style SAN string, quoted or not", () => {
    expect(sanUris('DNS:localhost, URI:urn:tongban:node:cn.310118.qingpu, IP Address:127.0.0.1, URI:"urn:x:a, b"')).toEqual([
      "urn:tongban:node:cn.310118.qingpu",
      "urn:x:a, b",
    ]);
    expect(sanUris(undefined)).toEqual([]);
  });

  it("accepts exactly one node URI", () => {
    expect(nodeIdFromUris(["urn:tongban:node:cn.310118.qingpu", "https://x"])).toBe("cn.310118.qingpu");
    expect(nodeIdFromUris(["urn:tongban:node:a", "urn:tongban:node:b"])).toBeUndefined();
    expect(nodeIdFromUris(["urn:tongban:node:"])).toBeUndefined();
    expect(nodeIdFromUris([])).toBeUndefined();
  });

  it("reads the node id from a PEM or DER certificate", async () => {
    const pki = makeTestPki();
    expect(nodeIdFromCertificate(pki.qingpuServer.cert)).toBe("cn.310118.qingpu");
    const { X509Certificate } = await import("node:crypto");
    expect(nodeIdFromCertificate(new X509Certificate(pki.wujiangClient.cert).raw)).toBe("cn.320509.wujiang");
    expect(nodeIdFromCertificate(pki.ca)).toBeUndefined();
  });
});
