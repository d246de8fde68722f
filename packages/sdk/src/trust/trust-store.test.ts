import { createPrivateKey, sign, verify } from "node:crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { createCrl, revokeCertificate } from "../pki/crl.js";
import { createFederationRoot } from "../pki/federation-root.js";
import { createIntermediateCa } from "../pki/intermediate-ca.js";
import { issueNodeCertificates } from "../pki/node-certificates.js";
import type { FederationRoot, IssuedCertificate, NodeCertificates } from "../pki/types.js";
import { TrustStore, type ChainCheckEvent } from "./trust-store.js";

const DAY = 86_400_000;
const T0 = new Date("2026-03-01T00:00:00Z");
const at = (days: number): Date => new Date(T0.getTime() + days * DAY);

let root: FederationRoot;
let otherRoot: FederationRoot;
let bj: NodeCertificates;
let sh: NodeCertificates;
let stranger: NodeCertificates;
let future: NodeCertificates;
let mid: IssuedCertificate;
let gd: NodeCertificates;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof TongbanError) return err.code;
    throw err;
  }
  return "OK";
}

function storeWith(events: ChainCheckEvent[] = [], extra: Partial<ConstructorParameters<typeof TrustStore>[0]> = {}): TrustStore {
  const store = new TrustStore({ anchor: root.certificatePem, onChainCheck: (e) => events.push(e), ...extra });
  for (const c of [bj.signing, bj.tls, sh.signing, stranger.signing, future.signing]) store.addCertificate(c.certificatePem);
  return store;
}

beforeAll(async () => {
  // Roots valid 100 days from T0; node certificates 30 days.
  root = await createFederationRoot({ name: "Tongban Root", validityDays: 100, notBefore: T0 });
  // Same subject name as the real root: only the signature tells them apart.
  otherRoot = await createFederationRoot({ name: "Tongban Root", validityDays: 100, notBefore: T0 });
  bj = await issueNodeCertificates({ ca: root, nodeId: "cn.110000.bj-gov", signingAlgorithm: "ES256", validityDays: 30, notBefore: T0 });
  sh = await issueNodeCertificates({ ca: root, nodeId: "cn.310000.sh-gov", signingAlgorithm: "EdDSA", validityDays: 30, notBefore: T0 });
  stranger = await issueNodeCertificates({ ca: otherRoot, nodeId: "cn.110101.evil", signingAlgorithm: "EdDSA", validityDays: 30, notBefore: T0 });
  future = await issueNodeCertificates({ ca: root, nodeId: "cn.120000.tj", signingAlgorithm: "EdDSA", validityDays: 30, notBefore: at(50) });
  mid = await createIntermediateCa({ ca: root, name: "South Region CA", validityDays: 60, notBefore: T0 });
  gd = await issueNodeCertificates({ ca: mid, nodeId: "cn.440000.gd-gov", signingAlgorithm: "EdDSA", validityDays: 30, notBefore: T0 });
});

describe("TrustStore.resolveSigner", () => {
  it("resolves ES256 and EdDSA signers whose keys verify their signatures", () => {
    const store = storeWith();
    for (const [certs, alg] of [[bj, "ES256"], [sh, "EdDSA"]] as const) {
      const signer = store.resolveSigner(certs.signing.kid, at(1));
      expect(signer).toMatchObject({ nodeId: certs.nodeId, kid: certs.signing.kid, algorithm: alg });
      expect(signer.notBefore).toEqual(certs.signing.notBefore);
      expect(signer.notAfter).toEqual(certs.signing.notAfter);
      const data = Buffer.from("envelope bytes");
      const hash = alg === "ES256" ? "sha256" : null;
      const sig = sign(hash, data, createPrivateKey(certs.signing.privateKeyPem));
      expect(verify(hash, data, signer.publicKey, sig)).toBe(true);
    }
  });

  it("refuses unknown key ids", () => {
    expect(codeOf(() => storeWith().resolveSigner("no-such-kid", at(1)))).toBe("TRUST_UNKNOWN_SIGNER");
  });

  it("refuses a certificate from another CA with the same name", () => {
    expect(codeOf(() => storeWith().resolveSigner(stranger.signing.kid, at(1)))).toBe("TRUST_UNTRUSTED_CHAIN");
  });

  it("does not trust another root that is merely registered as a CA certificate", () => {
    const store = storeWith();
    store.addCertificate(otherRoot.certificatePem);
    expect(codeOf(() => store.resolveSigner(stranger.signing.kid, at(1)))).toBe("TRUST_UNTRUSTED_CHAIN");
    expect(codeOf(() => store.resolveSigner(bj.signing.kid, at(1)))).toBe("OK");
  });

  it("refuses expired and not-yet-valid certificates", () => {
    const store = storeWith();
    expect(codeOf(() => store.resolveSigner(bj.signing.kid, at(31)))).toBe("TRUST_CERT_EXPIRED");
    expect(codeOf(() => store.resolveSigner(bj.signing.kid, at(-1)))).toBe("TRUST_CERT_EXPIRED");
    expect(codeOf(() => store.resolveSigner(future.signing.kid, at(10)))).toBe("TRUST_CERT_EXPIRED");
    expect(codeOf(() => store.resolveSigner(future.signing.kid, at(60)))).toBe("OK");
    expect(codeOf(() => store.resolveSigner(future.signing.kid, at(81)))).toBe("TRUST_CERT_EXPIRED");
  });

  it("limits a leaf to the validity of its issuers", async () => {
    // The leaf runs to day 200; the root only to day 100.
    const long = await issueNodeCertificates({ ca: root, nodeId: "cn.500000.cq", signingAlgorithm: "EdDSA", validityDays: 200, notBefore: T0 });
    const store = storeWith();
    const kid = store.addCertificate(long.signing.certificatePem);
    expect(codeOf(() => store.resolveSigner(kid, at(99)))).toBe("OK");
    expect(codeOf(() => store.resolveSigner(kid, at(150)))).toBe("TRUST_CERT_EXPIRED");
  });

  it("accepts exactly the times inside the validity window", () => {
    const store = storeWith();
    const nb = bj.signing.notBefore.getTime();
    const na = bj.signing.notAfter.getTime();
    fc.assert(
      fc.property(fc.integer({ min: nb - 5 * DAY, max: na + 5 * DAY }), (t) => {
        const code = codeOf(() => store.resolveSigner(bj.signing.kid, new Date(t)));
        expect(code).toBe(t >= nb && t <= na ? "OK" : "TRUST_CERT_EXPIRED");
      }),
    );
  });

  it("refuses CA certificates and TLS-only use is not required for signing", () => {
    const store = storeWith();
    const midKid = store.addCertificate(mid.certificatePem);
    expect(codeOf(() => store.resolveSigner(midKid, at(1)))).toBe("TRUST_CERT_INVALID");
    // The TLS certificate has digitalSignature too, so it can resolve; the
    // envelope layer restricts kids to directory signing certificates.
    expect(codeOf(() => store.resolveSigner(bj.tls.kid, at(1)))).toBe("OK");
  });

  it("rejects a time that is not a Date", () => {
    expect(() => storeWith().resolveSigner(bj.signing.kid, new Date(Number.NaN))).toThrow(TypeError);
  });
});

describe("TrustStore cache", () => {
  it("checks a chain once per certificate and again after a CRL change", async () => {
    const events: ChainCheckEvent[] = [];
    const store = storeWith(events);
    for (let i = 0; i < 100; i++) store.resolveSigner(bj.signing.kid, at(1 + (i % 20)));
    expect(events).toEqual([{ kid: bj.signing.kid, purpose: "signing", ok: true }]);
    store.resolveSigner(sh.signing.kid, at(1));
    expect(events).toHaveLength(2);
    store.setCrl(await createCrl({ ca: root, revoked: [], thisUpdate: at(0), nextUpdate: at(7) }));
    store.resolveSigner(bj.signing.kid, at(1));
    store.resolveSigner(bj.signing.kid, at(2));
    expect(events).toHaveLength(3);
  });

  it("caches failures too, until a CA certificate is added", () => {
    const events: ChainCheckEvent[] = [];
    const store = storeWith(events);
    const kid = store.addCertificate(gd.signing.certificatePem);
    expect(codeOf(() => store.resolveSigner(kid, at(1)))).toBe("TRUST_UNTRUSTED_CHAIN");
    expect(codeOf(() => store.resolveSigner(kid, at(1)))).toBe("TRUST_UNTRUSTED_CHAIN");
    expect(events.filter((e) => e.kid === kid)).toHaveLength(1);
    store.addCertificate(mid.certificatePem);
    expect(store.resolveSigner(kid, at(1)).nodeId).toBe("cn.440000.gd-gov");
    expect(events.filter((e) => e.kid === kid)).toEqual([
      { kid, purpose: "signing", ok: false },
      { kid, purpose: "signing", ok: true },
    ]);
  });

  it("re-checks chains through a removed intermediate", () => {
    const store = storeWith();
    const midKid = store.addCertificate(mid.certificatePem);
    const kid = store.addCertificate(gd.signing.certificatePem);
    expect(codeOf(() => store.resolveSigner(kid, at(1)))).toBe("OK");
    expect(store.removeCertificate(midKid)).toBe(true);
    expect(store.removeCertificate(midKid)).toBe(false);
    expect(codeOf(() => store.resolveSigner(kid, at(1)))).toBe("TRUST_UNTRUSTED_CHAIN");
    expect(store.removeCertificate(kid)).toBe(true);
    expect(codeOf(() => store.resolveSigner(kid, at(1)))).toBe("TRUST_UNKNOWN_SIGNER");
  });
});

describe("TrustStore revocation", () => {
  it("refuses a revoked certificate and keeps the others", async () => {
    const store = storeWith();
    expect(codeOf(() => store.resolveSigner(bj.signing.kid, at(1)))).toBe("OK");
    store.setCrl(await createCrl({ ca: root, revoked: [{ serial: bj.signing.serial, date: at(1), reason: "keyCompromise" }], thisUpdate: at(1), nextUpdate: at(8) }));
    expect(codeOf(() => store.resolveSigner(bj.signing.kid, at(2)))).toBe("TRUST_CERT_REVOKED");
    expect(codeOf(() => store.resolveSigner(sh.signing.kid, at(2)))).toBe("OK");
    expect(store.crl).toMatchObject({ revoked: 1, nextUpdate: at(8) });
  });

  it("revoking an intermediate revokes what it issued", async () => {
    const store = storeWith();
    store.addCertificate(mid.certificatePem);
    const kid = store.addCertificate(gd.signing.certificatePem);
    expect(codeOf(() => store.resolveSigner(kid, at(1)))).toBe("OK");
    store.setCrl(await revokeCertificate({ ca: root, serial: mid.serial, date: at(1), nextUpdate: at(8) }));
    expect(codeOf(() => store.resolveSigner(kid, at(2)))).toBe("TRUST_CERT_REVOKED");
  });

  it("refuses a CRL signed by another CA, and keeps the current one", async () => {
    const store = storeWith();
    const good = await createCrl({ ca: root, revoked: [], thisUpdate: at(0), nextUpdate: at(7) });
    store.setCrl(good);
    const forged = await createCrl({ ca: otherRoot, revoked: [{ serial: sh.signing.serial, date: at(1) }], thisUpdate: at(1), nextUpdate: at(8) });
    expect(codeOf(() => store.setCrl(forged))).toBe("TRUST_UNTRUSTED_CHAIN");
    expect(codeOf(() => store.resolveSigner(sh.signing.kid, at(2)))).toBe("OK");
    expect(store.crl?.revoked).toBe(0);
    expect(codeOf(() => store.setCrl("-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n"))).toBe("TRUST_CERT_INVALID");
  });

  it("refuses a CRL older than the one in use", async () => {
    const store = storeWith();
    const older = await createCrl({ ca: root, revoked: [{ serial: bj.signing.serial, date: at(0) }], thisUpdate: at(0), nextUpdate: at(7) });
    const newer = await createCrl({ ca: root, revoked: [], thisUpdate: at(1), nextUpdate: at(8) });
    store.setCrl(newer);
    expect(codeOf(() => store.setCrl(older))).toBe("TRUST_CERT_INVALID");
  });

  it("is stale past nextUpdate plus the grace period", async () => {
    const crl = await createCrl({ ca: root, revoked: [], thisUpdate: at(0), nextUpdate: at(7) });
    const strict = storeWith();
    strict.setCrl(crl);
    expect(codeOf(() => strict.resolveSigner(bj.signing.kid, at(7)))).toBe("OK");
    expect(codeOf(() => strict.resolveSigner(bj.signing.kid, at(7.01)))).toBe("TRUST_CRL_STALE");
    const lenient = storeWith([], { crlGraceMs: DAY });
    lenient.setCrl(crl);
    expect(codeOf(() => lenient.resolveSigner(bj.signing.kid, at(7.5)))).toBe("OK");
    expect(codeOf(() => lenient.resolveSigner(bj.signing.kid, at(8.5)))).toBe("TRUST_CRL_STALE");
  });

  it("with requireCrl, refuses everything until a CRL is set", async () => {
    const store = storeWith([], { requireCrl: true });
    expect(codeOf(() => store.resolveSigner(bj.signing.kid, at(1)))).toBe("TRUST_CRL_STALE");
    store.setCrl(await createCrl({ ca: root, revoked: [], thisUpdate: at(0), nextUpdate: at(7) }));
    expect(codeOf(() => store.resolveSigner(bj.signing.kid, at(1)))).toBe("OK");
  });
});

describe("TrustStore.verifyPeerCertificate", () => {
  it("returns the node id of a valid TLS certificate, registered or not", () => {
    const events: ChainCheckEvent[] = [];
    const store = new TrustStore({ anchor: root.certificatePem, onChainCheck: (e) => events.push(e) });
    expect(store.verifyPeerCertificate(sh.tls.certificatePem, at(1))).toBe("cn.310000.sh-gov");
    expect(store.verifyPeerCertificate(sh.tls.certificatePem, at(2))).toBe("cn.310000.sh-gov");
    expect(events).toEqual([{ kid: sh.tls.kid, purpose: "tls", ok: true }]);
  });

  it("refuses signing certificates, strangers, expired and revoked peers", async () => {
    const store = storeWith();
    expect(codeOf(() => store.verifyPeerCertificate(bj.signing.certificatePem, at(1)))).toBe("TRUST_CERT_INVALID");
    expect(codeOf(() => store.verifyPeerCertificate(stranger.tls.certificatePem, at(1)))).toBe("TRUST_UNTRUSTED_CHAIN");
    expect(codeOf(() => store.verifyPeerCertificate(bj.tls.certificatePem, at(40)))).toBe("TRUST_CERT_EXPIRED");
    store.setCrl(await createCrl({ ca: root, revoked: [{ serial: bj.tls.serial, date: at(1) }], thisUpdate: at(1), nextUpdate: at(8) }));
    expect(codeOf(() => store.verifyPeerCertificate(bj.tls.certificatePem, at(2)))).toBe("TRUST_CERT_REVOKED");
    expect(codeOf(() => store.verifyPeerCertificate("not a certificate", at(2)))).toBe("TRUST_CERT_INVALID");
  });

  it("gives the same array the same answer each call, and never the cached one once its bytes changed", () => {
    const store = new TrustStore({ anchor: root.certificatePem });
    const cert = new Uint8Array(Buffer.from(sh.tls.certificatePem.replace(/-----[^-]+-----|\s/g, ""), "base64"));
    expect(store.verifyPeerCertificate(cert, at(1))).toBe("cn.310000.sh-gov");
    expect(store.verifyPeerCertificate(cert, at(1))).toBe("cn.310000.sh-gov");
    // the same array object, reused for other bytes (here: a forged copy, its signature spoiled)
    cert[cert.length - 3] = cert[cert.length - 3]! ^ 0x01;
    expect(codeOf(() => store.verifyPeerCertificate(cert, at(1)))).toMatch(/^TRUST_/);
  });
});

describe("TrustStore anchor", () => {
  it("must be a self-signed CA", () => {
    expect(codeOf(() => new TrustStore({ anchor: bj.signing.certificatePem }))).toBe("TRUST_CERT_INVALID");
    expect(codeOf(() => new TrustStore({ anchor: mid.certificatePem }))).toBe("TRUST_CERT_INVALID");
    expect(() => new TrustStore({ anchor: root.certificatePem, crlGraceMs: -1 })).toThrow(TypeError);
  });
});

describe("TrustStore with hostile input", () => {
  it("answers arbitrary bytes as a peer certificate or CRL with TRUST_CERT_INVALID", () => {
    const store = new TrustStore({ anchor: root.certificatePem });
    const realDer = new Uint8Array(Buffer.from(bj.tls.certificatePem.replace(/-----[^-]+-----|\s/g, ""), "base64"));
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      // Truncated or bit-flipped versions of a real certificate.
      fc.integer({ min: 0, max: realDer.length - 1 }).map((n) => realDer.slice(0, n)),
      fc.tuple(fc.integer({ min: 0, max: realDer.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
        const copy = realDer.slice();
        copy[i] = (copy[i] ?? 0) ^ x;
        return copy;
      }),
    );
    fc.assert(
      fc.property(bytes, (der) => {
        const peer = codeOf(() => store.verifyPeerCertificate(der, at(1)));
        // A flip inside the signature or an unchecked field may still parse;
        // then only a chain failure is acceptable, never success or a crash.
        expect(["TRUST_CERT_INVALID", "TRUST_UNTRUSTED_CHAIN"]).toContain(peer);
        expect(codeOf(() => store.setCrl(der))).toBe("TRUST_CERT_INVALID");
      }),
      { numRuns: 300 },
    );
  });
});
