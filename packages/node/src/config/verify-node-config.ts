import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { TongbanError, TrustStore, describeCertificate } from "@tongban/sdk";
import { configInvalid, type ConfigIssue } from "./config-issues.js";
import { checkNodeConfigFiles } from "./load-node-config.js";
import type { NodeConfig } from "./types.js";

/** What {@link verifyNodeConfig} established. */
export interface VerifiedNodeConfig {
  /** The trust store: anchor, CRL, the node's own and its peers' certificates. */
  readonly trust: TrustStore;
  /** The node's TLS and signing certificates (PEM) with their kids and expiry. */
  readonly tls: { readonly kid: string; readonly notAfter: Date };
  readonly signing: { readonly kid: string; readonly notAfter: Date };
}

/**
 * Checks that the files a config names fit together, as of `at`: the anchor
 * is a CA, the CRL is signed by it, the node's TLS and signing certificates
 * chain to it, are valid and unrevoked, name this node id, match their
 * private keys, and the signing key is of the configured algorithm; each
 * peer certificate names its peer. Builds the node's trust store on the way.
 *
 * @throws TongbanError CONFIG_INVALID listing every problem by config path
 *   (trust failures keep their code in the reason, e.g. TRUST_CERT_EXPIRED).
 */
export async function verifyNodeConfig(config: NodeConfig, at: Date = new Date()): Promise<VerifiedNodeConfig> {
  await checkNodeConfigFiles(config);
  const issues: ConfigIssue[] = [];
  const attempt = <T>(path: string, fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      const reason = err instanceof TongbanError ? `${err.code}: ${err.message}` : (err as Error).message;
      issues.push({ path, reason });
      return undefined;
    }
  };
  const text = (path: string): Promise<string> => readFile(path, "utf8");
  const [anchorPem, crlPem, tlsCert, tlsKey, signCert, signKey] = await Promise.all([
    text(config.trust.anchor),
    config.trust.crl === undefined ? undefined : text(config.trust.crl),
    text(config.federation.tlsCert),
    text(config.federation.tlsKey),
    text(config.signing.cert),
    text(config.signing.key),
  ]);
  const trust = attempt("trust.anchor", () => new TrustStore({ anchor: anchorPem, crlGraceMs: config.trust.crlGraceMs }));
  if (trust === undefined) throw configInvalid(config.file, issues);
  if (crlPem !== undefined) attempt("trust.crl", () => trust.setCrl(crlPem));

  const tlsNode = attempt("federation.tlsCert", () => {
    trust.addCertificate(tlsCert);
    return trust.verifyPeerCertificate(tlsCert, at);
  });
  if (tlsNode !== undefined && tlsNode !== config.nodeId)
    issues.push({ path: "federation.tlsCert", reason: `the certificate names node ${tlsNode}, the config says ${config.nodeId}` });
  attempt("federation.tlsKey", () => matchKey(tlsCert, tlsKey));

  const signer = attempt("signing.cert", () => trust.resolveSigner(trust.addCertificate(signCert), at));
  if (signer !== undefined && signer.nodeId !== config.nodeId)
    issues.push({ path: "signing.cert", reason: `the certificate names node ${signer.nodeId}, the config says ${config.nodeId}` });
  if (signer !== undefined && signer.algorithm !== config.signing.algorithm)
    issues.push({ path: "signing.algorithm", reason: `the signing certificate's key is ${signer.algorithm}, the config says ${config.signing.algorithm}` });
  attempt("signing.key", () => matchKey(signCert, signKey));

  for (const [i, peer] of config.peers.entries()) {
    for (const [j, file] of peer.certificates.entries()) {
      const path = `peers[${i}].certificates[${j}]`;
      const pem = await text(file);
      const named = attempt(path, () => {
        trust.addCertificate(pem);
        return describeCertificate(pem).nodeId;
      });
      if (named !== undefined && named !== peer.nodeId) issues.push({ path, reason: `the certificate names node ${named}, the peer is ${peer.nodeId}` });
    }
  }
  if (issues.length > 0) throw configInvalid(config.file, issues);
  const tls = describeCertificate(tlsCert);
  return { trust, tls: { kid: tls.kid, notAfter: tls.notAfter }, signing: { kid: signer?.kid ?? "", notAfter: signer?.notAfter ?? tls.notAfter } };
}

/** Throws unless the private key is the certificate's. */
function matchKey(certPem: string, keyPem: string): void {
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new Error("not a readable private key (PKCS#8 PEM expected)");
  }
  const fromCert = new X509Certificate(certPem).publicKey.export({ format: "der", type: "spki" });
  const fromKey = createPublicKey(key).export({ format: "der", type: "spki" });
  if (!fromCert.equals(fromKey)) throw new Error("the private key does not belong to the certificate");
}
