import { X509Certificate } from "node:crypto";
import { PeculiarCertificate, SubjectAlternativeNameExtension } from "./x509-library.js";
import { toDer } from "./pem.js";

/**
 * The URI SAN prefix that binds a certificate to a node. The SAN, not the
 * subject CN, is the identity other code trusts: CNs are free text.
 */
export const NODE_ID_URI_PREFIX = "urn:tongban:node:";

/** The URI SAN value for a node id, e.g. `urn:tongban:node:cn.110000.bj-gov`. */
export function nodeIdUri(nodeId: string): string {
  return `${NODE_ID_URI_PREFIX}${nodeId}`;
}

/** A certificate as PEM, DER bytes or a node:crypto X509Certificate. */
export type CertificateInput = string | Uint8Array | X509Certificate;

/** DER bytes of any CertificateInput. */
export function certificateDer(cert: CertificateInput): Uint8Array {
  if (cert instanceof X509Certificate) return new Uint8Array(cert.raw);
  return toDer(cert, "CERTIFICATE");
}

/**
 * Reads the node id a certificate was issued to from its
 * `urn:tongban:node:<nodeId>` URI SAN. Returns `undefined` when there is none
 * (a CA certificate, for instance).
 *
 * @throws Error when there is more than one such SAN: a certificate naming
 *   two nodes is ambiguous and must not be guessed at.
 *
 * @example
 * ```ts
 * nodeIdOf(issued.signing.certificatePem) // "cn.110000.bj-gov"
 * ```
 */
export function nodeIdOf(cert: CertificateInput): string | undefined {
  const parsed = new PeculiarCertificate(certificateDer(cert));
  const san = parsed.getExtension(SubjectAlternativeNameExtension);
  if (san === null) return undefined;
  const ids = san.names.items
    .filter((n) => n.type === "url" && n.value.startsWith(NODE_ID_URI_PREFIX))
    .map((n) => n.value.slice(NODE_ID_URI_PREFIX.length));
  if (ids.length > 1) throw new Error("certificate names more than one Tongban node");
  return ids[0];
}
