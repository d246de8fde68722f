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
  /** The texts checked, as read: what a node (re)loads its credentials from, so a file changed since is not used unchecked. */
  readonly pem: VerifiedPem;
}

/** The PEM texts {@link verifyNodeConfig} read and checked. */
export interface VerifiedPem {
  readonly anchor: string;
  readonly crl: string | undefined;
  readonly tlsCert: string;
  readonly tlsKey: string;
  readonly signingCert: string;
  readonly signingKey: string;
  /** Every peer certificate of `peers[]`, in config order. */
  readonly peerCertificates: readonly string[];
  /** `federation.retiredKeys` and `signing.retiredKeys`: replaced keys kept only to open bodies encrypted to them. */
  readonly retiredTlsKeys: readonly string[];
  readonly retiredSigningKeys: readonly string[];
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
  const pem = await readNodeCredentials(config);
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
  const { anchor: anchorPem, crl: crlPem, tlsCert, tlsKey, signingCert: signCert, signingKey: signKey } = pem;
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

  let next = 0;
  for (const [i, peer] of config.peers.entries()) {
    for (const j of peer.certificates.keys()) {
      const path = `peers[${i}].certificates[${j}]`;
      const cert = pem.peerCertificates[next++]!;
      const named = attempt(path, () => {
        trust.addCertificate(cert);
        return describeCertificate(cert).nodeId;
      });
      if (named !== undefined && named !== peer.nodeId) issues.push({ path, reason: `the certificate names node ${named}, the peer is ${peer.nodeId}` });
    }
  }
  // A retired key opens what was encrypted to an earlier key of the same kind as the current one.
  for (const [section, keys, current] of [["federation", pem.retiredTlsKeys, tlsKey], ["signing", pem.retiredSigningKeys, signKey]] as const) {
    let kind: string | undefined; // an unreadable current key is reported above
    try {
      kind = readPrivateKey(current).asymmetricKeyType;
    } catch {
      kind = undefined;
    }
    keys.forEach((text, i) =>
      attempt(`${section}.retiredKeys[${i}]`, () => {
        const key = readPrivateKey(text);
        if (kind !== undefined && key.asymmetricKeyType !== kind) throw new Error(`a ${String(key.asymmetricKeyType)} key; the node's current one is ${String(kind)}, so nothing is encrypted to this one`);
      }),
    );
  }
  if (issues.length > 0) throw configInvalid(config.file, issues);
  const tls = describeCertificate(tlsCert);
  return {
    trust,
    tls: { kid: tls.kid, notAfter: tls.notAfter },
    signing: { kid: signer?.kid ?? "", notAfter: signer?.notAfter ?? tls.notAfter },
    pem,
  };
}

/**
 * Reads every certificate, key and CRL file the config names, unchecked ({@link verifyNodeConfig}
 * checks them); a file that cannot be read is CONFIG_INVALID by its config path.
 */
export async function readNodeCredentials(config: NodeConfig): Promise<VerifiedPem> {
  await checkNodeConfigFiles(config);
  const text = (path: string): Promise<string> => readFile(path, "utf8");
  const [anchor, crl, tlsCert, tlsKey, signingCert, signingKey, peerCertificates, retiredTlsKeys, retiredSigningKeys] = await Promise.all([
    text(config.trust.anchor),
    config.trust.crl === undefined ? undefined : text(config.trust.crl),
    text(config.federation.tlsCert),
    text(config.federation.tlsKey),
    text(config.signing.cert),
    text(config.signing.key),
    Promise.all(config.peers.flatMap((p) => p.certificates).map(text)),
    Promise.all(config.federation.retiredKeys.map(text)),
    Promise.all(config.signing.retiredKeys.map(text)),
  ]);
  return { anchor, crl, tlsCert, tlsKey, signingCert, signingKey, peerCertificates, retiredTlsKeys, retiredSigningKeys };
}

function readPrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new Error("not a readable private key (PKCS#8 PEM expected)");
  }
}

/** The DER SubjectPublicKeyInfo of a key (of a private key: its public half), for comparing keys. */
export function spkiOf(key: KeyObject): Buffer {
  return (key.type === "public" ? key : createPublicKey(key)).export({ format: "der", type: "spki" });
}

/** True when the private key is the one the certificate names. */
export function keyBelongsTo(certPem: string, key: KeyObject): boolean {
  return spkiOf(new X509Certificate(certPem).publicKey).equals(spkiOf(key));
}

/** Throws unless the private key is the certificate's. */
function matchKey(certPem: string, keyPem: string): void {
  if (!keyBelongsTo(certPem, readPrivateKey(keyPem))) throw new Error("the private key does not belong to the certificate");
}
