import { X509Certificate, createPrivateKey, createPublicKey } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { TrustStore } from "../trust/index.js";
import { describeCertificate } from "./describe-certificate.js";
import { createFederationRoot } from "./federation-root.js";
import { sm2PublicKeyFromCertificate } from "../gm/certificate.js";
import { sm2PublicKeyOf } from "../gm/key-object.js";
import { createNodeRequest, describeCertificateRequest, issueNodeCertificatesFromRequest, type NodeRequest } from "./node-request.js";
import { toDer, toPem } from "./pem.js";
import type { FederationRoot } from "./types.js";

const NODE = "cn.330402.nanhu";
let root: FederationRoot;
let es: NodeRequest;
let ed: NodeRequest;
const dir = mkdtempSync(join(tmpdir(), "tongban-csr-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  root = await createFederationRoot({ name: "request test root", validityDays: 30 });
  es = await createNodeRequest({ nodeId: NODE, signingAlgorithm: "ES256", dnsNames: ["tongban.nanhu.example"], ipAddresses: ["10.1.2.3"] });
  ed = await createNodeRequest({ nodeId: NODE, signingAlgorithm: "EdDSA" });
});

const refusal = async (p: Promise<unknown>): Promise<TongbanError> => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TongbanError);
  return err as TongbanError;
};

describe("certificate requests (enrolment without moving keys)", () => {
  it("makes PKCS#10 requests OpenSSL reads and verifies, naming the node, with keys that stay with the node", () => {
    for (const [name, pem] of [["tls", es.tls.requestPem], ["sign", es.signing.requestPem]] as const) {
      const file = join(dir, `${name}.csr`);
      writeFileSync(file, pem);
      const r = spawnSync("openssl", ["req", "-in", file, "-noout", "-verify", "-text"], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toMatch(/verify OK|Certificate request self-signature verify OK/);
      expect(r.stdout).toContain(`CN = ${NODE}`);
      expect(r.stdout).toContain(`URI:urn:tongban:node:${NODE}`);
      if (name === "tls") expect(r.stdout).toMatch(/DNS:tongban\.nanhu\.example/);
    }
    expect(createPrivateKey(es.tls.privateKeyPem).asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(createPrivateKey(ed.signing.privateKeyPem).asymmetricKeyType).toBe("ed25519");
    expect(es.tls.requestPem).not.toContain("PRIVATE");
  });

  it("the operator signs them into node certificates that fit the keys the node kept and pass the trust store", async () => {
    for (const req of [es, ed]) {
      const c = await issueNodeCertificatesFromRequest({ ca: root, nodeId: NODE, tlsRequestPem: req.tls.requestPem, signingRequestPem: req.signing.requestPem, validityDays: 90 });
      expect(c.signingAlgorithm).toBe(req.signingAlgorithm);
      const spki = (pem: string) => createPublicKey(pem).export({ format: "der", type: "spki" });
      expect(spki(c.tls.certificatePem)).toEqual(spki(req.tls.privateKeyPem));
      expect(spki(c.signing.certificatePem)).toEqual(spki(req.signing.privateKeyPem));
      const store = new TrustStore({ anchor: root.certificatePem });
      expect(store.verifyPeerCertificate(c.tls.certificatePem, new Date())).toBe(NODE);
      expect(store.resolveSigner(store.addCertificate(c.signing.certificatePem), new Date()).nodeId).toBe(NODE);
      const tls = describeCertificate(c.tls.certificatePem);
      expect(tls.extendedKeyUsage).toEqual(expect.arrayContaining(["serverAuth", "clientAuth"]));
      const sign = describeCertificate(c.signing.certificatePem);
      expect(sign.extendedKeyUsage ?? []).toEqual([]);
      expect(new X509Certificate(c.tls.certificatePem).checkIssued(new X509Certificate(root.certificatePem))).toBe(true);
    }
    const c = await issueNodeCertificatesFromRequest({ ca: root, nodeId: NODE, tlsRequestPem: es.tls.requestPem, signingRequestPem: es.signing.requestPem, validityDays: 90 });
    expect(c.tls.dnsNames).toEqual(["localhost", "tongban.nanhu.example"]);
    expect(c.tls.ipAddresses).toEqual(["127.0.0.1", "10.1.2.3"]);
    expect(new X509Certificate(c.tls.certificatePem).subjectAltName).toContain("DNS:tongban.nanhu.example");
    // OpenSSL, strict, accepts both under the root, for their purposes.
    writeFileSync(join(dir, "root.crt"), root.certificatePem);
    writeFileSync(join(dir, "tls.crt"), c.tls.certificatePem);
    writeFileSync(join(dir, "sign.crt"), c.signing.certificatePem);
    for (const [file, purpose] of [["tls.crt", "sslserver"], ["tls.crt", "sslclient"], ["sign.crt", undefined]] as const) {
      const r = spawnSync("openssl", ["verify", "-x509_strict", ...(purpose === undefined ? [] : ["-purpose", purpose]), "-CAfile", join(dir, "root.crt"), join(dir, file)], { encoding: "utf8" });
      expect(r.status, `${file} ${purpose ?? ""}: ${r.stdout}${r.stderr}`).toBe(0);
    }
  });

  it("refuses a request for another node, a forged or damaged one, keys unfit for their use, and one key for both", async () => {
    const other = await createNodeRequest({ nodeId: "cn.330481.haining", signingAlgorithm: "ES256" });
    const sign = (tls: string, signing: string, nodeId = NODE) => issueNodeCertificatesFromRequest({ ca: root, nodeId, tlsRequestPem: tls, signingRequestPem: signing, validityDays: 30 });

    const foreign = await refusal(sign(other.tls.requestPem, es.signing.requestPem));
    expect(foreign.code).toBe("TRUST_CERT_INVALID");
    expect(foreign.details).toMatchObject({ request: "tls" });
    expect(foreign.message).toMatch(/CN is cn\.330481\.haining|URI SAN/);

    // One bit of the signature changed (the last byte of s): the request still parses but no longer verifies under its key.
    const der = Buffer.from(es.signing.requestPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    der[der.length - 1] = der[der.length - 1]! ^ 0x01;
    const damaged = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(await describeCertificateRequest(damaged)).toMatchObject({ proofOfPossession: false, nodeIds: [NODE] });
    expect(await describeCertificateRequest(es.signing.requestPem)).toMatchObject({ proofOfPossession: true, nodeIds: [NODE], keyAlgorithm: "ES256", subject: `CN=${NODE}` });
    expect(await describeCertificateRequest(ed.signing.requestPem)).toMatchObject({ proofOfPossession: true, keyAlgorithm: "EdDSA" });
    const forged = await refusal(sign(es.tls.requestPem, damaged));
    expect(forged.details).toMatchObject({ request: "signing" });
    expect(forged.message).toMatch(/does not verify under its own key/);

    expect((await refusal(sign(ed.signing.requestPem, es.signing.requestPem))).message).toMatch(/TLS key is ECDSA P-256/);
    expect((await refusal(sign(es.tls.requestPem, es.tls.requestPem))).message).toMatch(/signing key is the TLS key/);
    expect((await refusal(sign("not a request", es.signing.requestPem))).message).toMatch(/not a PKCS#10/);
    await expect(sign(es.tls.requestPem, es.signing.requestPem, "not-a-node")).rejects.toThrow(/not a valid node id/);
  });

  it("SM2SM3 (gm-v1): the signing request is signed with SM2-with-SM3, OpenSSL verifies it, and the certificate works in the trust store", async () => {
    const gm = await createNodeRequest({ nodeId: NODE, signingAlgorithm: "SM2SM3" });
    writeFileSync(join(dir, "sm2.csr"), gm.signing.requestPem);
    const r = spawnSync("openssl", ["req", "-in", join(dir, "sm2.csr"), "-noout", "-verify", "-vfyopt", "distid:1234567812345678", "-text"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("SM2-with-SM3");
    expect(r.stdout).toContain(`URI:urn:tongban:node:${NODE}`);
    const c = await issueNodeCertificatesFromRequest({ ca: root, nodeId: NODE, tlsRequestPem: gm.tls.requestPem, signingRequestPem: gm.signing.requestPem, validityDays: 90 });
    expect(c.signingAlgorithm).toBe("SM2SM3");
    const store = new TrustStore({ anchor: root.certificatePem });
    const signer = store.resolveSigner(store.addCertificate(c.signing.certificatePem), new Date());
    expect(signer.nodeId).toBe(NODE);
    // The certificate is for the key the node kept.
    const kept = sm2PublicKeyOf(createPrivateKey(gm.signing.privateKeyPem));
    expect(Buffer.from(sm2PublicKeyFromCertificate(toDer(c.signing.certificatePem))).equals(Buffer.from(kept!))).toBe(true);
    // A damaged SM2 request is refused like any other.
    const der = Buffer.from(gm.signing.requestPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    der[der.length - 1] = der[der.length - 1]! ^ 0x01;
    const bad = await refusal(issueNodeCertificatesFromRequest({ ca: root, nodeId: NODE, tlsRequestPem: gm.tls.requestPem, signingRequestPem: toPem(der, "CERTIFICATE REQUEST"), validityDays: 90 }));
    expect(bad.message).toMatch(/does not verify under its own key/);
    // An SM2 key is no TLS key.
    expect((await refusal(issueNodeCertificatesFromRequest({ ca: root, nodeId: NODE, tlsRequestPem: gm.signing.requestPem, signingRequestPem: es.signing.requestPem, validityDays: 90 }))).message).toMatch(/TLS key is ECDSA P-256/);
  });

  it("refuses to make requests for another algorithm or bad host names", async () => {
    await expect(createNodeRequest({ nodeId: NODE, signingAlgorithm: "RS256" as never })).rejects.toThrow(/ES256, EdDSA or SM2SM3/);
    await expect(createNodeRequest({ nodeId: NODE, signingAlgorithm: "ES256", dnsNames: ["bad host"] })).rejects.toThrow(/DNS name/);
    await expect(createNodeRequest({ nodeId: NODE, signingAlgorithm: "ES256", ipAddresses: ["300.1.1.1"] })).rejects.toThrow(/IP address/);
  });
});
