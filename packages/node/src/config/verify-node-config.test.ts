import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCrl, createFederationRoot, issueNodeCertificates, type FederationRoot, type NodeCertificates } from "@tongban/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultNodeConfig } from "./default-node-config.js";
import type { NodeConfig } from "./types.js";
import { verifyNodeConfig } from "./verify-node-config.js";

let dir: string;
let root: FederationRoot;
let own: NodeCertificates;
let other: NodeCertificates;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-verify-"));
  root = await createFederationRoot({ name: "Test Root", validityDays: 30 });
  [own, other] = await Promise.all([
    issueNodeCertificates({ ca: root, nodeId: "cn.330802.kecheng", signingAlgorithm: "EdDSA", validityDays: 30 }),
    issueNodeCertificates({ ca: root, nodeId: "cn.361129.wannian", signingAlgorithm: "ES256", validityDays: 30 }),
  ]);
  mkdirSync(join(dir, "pki"));
  const now = new Date();
  const files: Record<string, string> = {
    "pki/root.crt": root.certificatePem,
    "pki/crl.pem": await createCrl({ ca: root, revoked: [{ serial: own.tls.serial, date: now }], thisUpdate: now, nextUpdate: new Date(now.getTime() + 86_400_000) }),
    "pki/tls.crt": own.tls.certificatePem,
    "pki/tls.key": own.tls.privateKeyPem,
    "pki/sign.crt": own.signing.certificatePem,
    "pki/sign.key": own.signing.privateKeyPem,
    "pki/other.tls.crt": other.tls.certificatePem,
    "pki/other.sign.key": other.signing.privateKeyPem,
    "pki/other.tls.key": other.tls.privateKeyPem,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = (): NodeConfig => ({ ...defaultNodeConfig("cn.330802.kecheng", dir), signing: { cert: join(dir, "pki/sign.crt"), key: join(dir, "pki/sign.key"), algorithm: "EdDSA", retiredKeys: [] } });

describe("verifyNodeConfig", () => {
  it("builds the trust store when the files fit together", async () => {
    const v = await verifyNodeConfig(base());
    expect(v.tls.kid).toBe(own.tls.kid);
    expect(v.signing.kid).toBe(own.signing.kid);
    expect(v.trust.hasCertificate(own.signing.kid)).toBe(true);
  });

  it("names every mismatch by config path", async () => {
    const c = base();
    const bad: NodeConfig = {
      ...c,
      nodeId: "cn.330802.kecheng",
      federation: { ...c.federation, tlsCert: join(dir, "pki/other.tls.crt") },
      signing: { cert: join(dir, "pki/sign.crt"), key: join(dir, "pki/other.sign.key"), algorithm: "ES256", retiredKeys: [] },
      peers: [{ nodeId: "cn.320509.wujiang", address: "127.0.0.1:7443", certificates: [join(dir, "pki/other.tls.crt")] }],
    };
    const err = await verifyNodeConfig(bad).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CONFIG_INVALID" });
    const issues = (err as { details: { issues: { path: string; reason: string }[] } }).details.issues;
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: "federation.tlsCert", reason: expect.stringMatching(/names node cn\.361129\.wannian/) },
        { path: "federation.tlsKey", reason: expect.stringMatching(/does not belong/) },
        { path: "signing.algorithm", reason: expect.stringMatching(/EdDSA/) },
        { path: "signing.key", reason: expect.stringMatching(/does not belong/) },
        { path: "peers[0].certificates[0]", reason: expect.stringMatching(/peer is cn\.320509\.wujiang/) },
      ]),
    );
  });

  it("reads federation.retiredKeys and refuses one that is no private key, or of another kind than the current key", async () => {
    const ok = await verifyNodeConfig({ ...base(), federation: { ...base().federation, retiredKeys: [join(dir, "pki/other.tls.key")] } });
    expect(ok.pem.retiredTlsKeys).toEqual([other.tls.privateKeyPem]);
    const err = await verifyNodeConfig({ ...base(), federation: { ...base().federation, retiredKeys: [join(dir, "pki/other.tls.key"), join(dir, "pki/tls.crt"), join(dir, "pki/sign.key")] } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CONFIG_INVALID" });
    expect((err as { details: { issues: unknown[] } }).details.issues).toEqual([
      { path: "federation.retiredKeys[1]", reason: expect.stringMatching(/not a readable private key/) },
      { path: "federation.retiredKeys[2]", reason: expect.stringMatching(/ed25519 key; the node's current one is ec/) },
    ]);
  });

  it("refuses a node whose own TLS certificate the CRL revokes", async () => {
    const err = await verifyNodeConfig({ ...base(), trust: { ...base().trust, crl: join(dir, "pki/crl.pem") } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CONFIG_INVALID", details: { path: "federation.tlsCert", reason: expect.stringMatching(/^TRUST_CERT_REVOKED/) } });
  });
});
