import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TrustStore } from "../trust/index.js";
import { createFederationRoot } from "./federation-root.js";
import { issueNodeCertificates } from "./node-certificates.js";
import { toDer } from "./pem.js";

describe("toDer", () => {
  it("accepts a PEM string, PEM bytes (as readFile gives them) and DER alike", async () => {
    const root = await createFederationRoot({ name: "pem test root", validityDays: 1 });
    const der = new Uint8Array(new X509Certificate(root.certificatePem).raw);
    expect(toDer(root.certificatePem)).toEqual(der);
    expect(toDer(new Uint8Array(Buffer.from(root.certificatePem)))).toEqual(der);
    expect(toDer(new Uint8Array(Buffer.from(`\ufeff\n${root.certificatePem}`)))).toEqual(der);
    expect(toDer(der)).toBe(der);
  });

  it("lets the trust store take certificates as PEM bytes", async () => {
    const root = await createFederationRoot({ name: "pem test root", validityDays: 1 });
    const node = await issueNodeCertificates({ ca: root, nodeId: "cn.310118.qingpu", signingAlgorithm: "ES256", validityDays: 1 });
    const trust = new TrustStore({ anchor: Buffer.from(root.certificatePem) });
    trust.addCertificate(Buffer.from(node.signing.certificatePem));
    expect(trust.resolveSigner(node.signing.kid, new Date()).nodeId).toBe("cn.310118.qingpu");
  });
});
