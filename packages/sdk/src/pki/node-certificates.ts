import { isIP } from "node:net";
import {
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  type Extension,
  type JsonGeneralName,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
} from "./x509-library.js";
import { issueCertificate } from "./issue-certificate.js";
import { issueSm2SigningCertificate } from "./gm-certificates.js";
import { validateNodeId } from "../identifiers/index.js";
import { nodeIdUri } from "./node-id.js";
import type { CertificateAuthority, NodeCertificates } from "./types.js";
import { validityWindow } from "./validity.js";

const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Options for {@link issueNodeCertificates}. */
export interface IssueNodeCertificatesOptions {
  readonly ca: CertificateAuthority;
  /** The node id, e.g. `cn.110000.bj-gov`; becomes the subject CN and the `urn:tongban:node:` URI SAN. */
  readonly nodeId: string;
  /**
   * The signing certificate's algorithm, fixed by the node's suite in the
   * directory: ES256 or EdDSA (jose-v1), SM2SM3 (gm-v1, an SM2 key).
   */
  readonly signingAlgorithm: "ES256" | "EdDSA" | "SM2SM3";
  readonly validityDays: number;
  /** Extra DNS SANs for the TLS certificate (`localhost` is always present). */
  readonly dnsNames?: readonly string[];
  /** Extra IP SANs for the TLS certificate (`127.0.0.1` is always present). */
  readonly ipAddresses?: readonly string[];
  /** Start of validity; defaults to now. */
  readonly notBefore?: Date;
}

/**
 * Issues the two certificates of one node:
 *
 * - **TLS**: P-256 key, EKU serverAuth+clientAuth, keyUsage
 *   digitalSignature+keyAgreement, SANs `localhost`, `127.0.0.1` plus the
 *   given ones. The same key is the node's ECDH-ES key for JWE bodies, hence
 *   keyAgreement.
 * - **Signing**: P-256 (ES256) or Ed25519 (EdDSA) key, keyUsage
 *   digitalSignature+nonRepudiation and no EKU, so it cannot serve TLS; or
 *   for SM2SM3 an SM2 key that is also the node's gm-v1 encryption key
 *   (see {@link issueSm2SigningCertificate}).
 *
 * Both carry the node id as subject CN and as URI SAN
 * `urn:tongban:node:<nodeId>`; the SAN is the identity binding.
 *
 * @throws TypeError for a malformed node id, DNS name or IP address.
 *
 * @example
 * ```ts
 * const certs = await issueNodeCertificates({ ca: root, nodeId: "cn.110000.bj-gov", signingAlgorithm: "EdDSA", validityDays: 397 });
 * certs.signing.kid // the JWS kid of this node's envelopes
 * ```
 */
export async function issueNodeCertificates(options: IssueNodeCertificatesOptions): Promise<NodeCertificates> {
  const { nodeId } = options;
  if (typeof nodeId !== "string") throw new TypeError(`not a valid node id: ${String(nodeId)}`);
  const check = validateNodeId(nodeId);
  if (!check.ok) throw new TypeError(`not a valid node id: ${nodeId} (${check.issues.map((i) => i.message).join("; ")})`);
  if (options.signingAlgorithm !== "ES256" && options.signingAlgorithm !== "EdDSA" && options.signingAlgorithm !== "SM2SM3")
    throw new TypeError('signingAlgorithm must be "ES256", "EdDSA" or "SM2SM3"');
  const dnsNames = unique(["localhost", ...(options.dnsNames ?? [])]);
  const ipAddresses = unique(["127.0.0.1", ...(options.ipAddresses ?? [])]);
  for (const d of dnsNames) if (!DNS_NAME.test(d)) throw new TypeError(`not a valid DNS name: ${d}`);
  for (const ip of ipAddresses) if (isIP(ip) === 0) throw new TypeError(`not a valid IP address: ${ip}`);
  const { notBefore, notAfter } = validityWindow(options.validityDays, options.notBefore);
  const tls = await issueCertificate({ ca: options.ca, commonName: nodeId, keyAlgorithm: "ES256", notBefore, notAfter, extensions: tlsProfile(nodeId, dnsNames, ipAddresses) });
  if (options.signingAlgorithm === "SM2SM3") {
    const signing = await issueSm2SigningCertificate({ ca: options.ca, nodeId, validityDays: options.validityDays, notBefore });
    return { nodeId, tls, signing };
  }
  const signing = await issueCertificate({ ca: options.ca, commonName: nodeId, keyAlgorithm: options.signingAlgorithm, notBefore, notAfter, extensions: signingProfile(nodeId) });
  return { nodeId, tls, signing };
}

/** The TLS certificate's extensions: leaf, digitalSignature+keyAgreement, serverAuth+clientAuth, the node URI and host SANs. */
export function tlsProfile(nodeId: string, dnsNames: readonly string[], ipAddresses: readonly string[]): Extension[] {
  return [
    new BasicConstraintsExtension(false, undefined, true),
    new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyAgreement, true),
    new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth]),
    new SubjectAlternativeNameExtension([
      { type: "url", value: nodeIdUri(nodeId) },
      ...dnsNames.map((value): JsonGeneralName => ({ type: "dns", value })),
      ...ipAddresses.map((value): JsonGeneralName => ({ type: "ip", value })),
    ]),
  ];
}

/** The signing certificate's extensions: leaf, digitalSignature+nonRepudiation, no EKU, the node URI SAN. */
export function signingProfile(nodeId: string): Extension[] {
  return [
    new BasicConstraintsExtension(false, undefined, true),
    new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation, true),
    new SubjectAlternativeNameExtension([{ type: "url", value: nodeIdUri(nodeId) }]),
  ];
}

/** DNS names the TLS certificate may carry. */
export const DNS_NAME_PATTERN = DNS_NAME;

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
