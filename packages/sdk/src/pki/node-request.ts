import { createHash, createPrivateKey, createPublicKey, type webcrypto } from "node:crypto";
import { isIP } from "node:net";
import { Pkcs10CertificateRequest, Pkcs10CertificateRequestGenerator, SubjectAlternativeNameExtension, subtleProvider } from "./x509-library.js";
import { TongbanError } from "../errors/index.js";
import { createSm2CertificateRequest, isSm2CertificateRequest, readSm2CertificateRequest } from "../gm/certificate-request.js";
import { issueX509Certificate } from "../gm/issue-certificate.js";
import { sm2PrivateKeyObject } from "../gm/key-object.js";
import { generateSm2KeyPair } from "../gm/sm2-keys.js";
import { keyIdOf } from "./key-id.js";
import { randomSerial } from "./serial.js";
import { KeyUsageFlags } from "./x509-library.js";
import { validateNodeId } from "../identifiers/index.js";
import { certifyPublicKey } from "./issue-certificate.js";
import { exportPrivateKeyPem, generateKeyPair, signingParams, type CertificateKeyAlgorithm } from "./keys.js";
import { DNS_NAME_PATTERN, signingProfile, tlsProfile } from "./node-certificates.js";
import { NODE_ID_URI_PREFIX, nodeIdUri } from "./node-id.js";
import { toDer, toPem } from "./pem.js";
import type { CertificateAuthority, IssuedCertificate } from "./types.js";
import { validityWindow } from "./validity.js";

/** One key of a node with its certificate request (PKCS#10). */
export interface KeyRequest {
  /** The request, PEM `CERTIFICATE REQUEST`: what goes to the federation operator. */
  readonly requestPem: string;
  /** PKCS#8 PEM. Stays with the node; write it with file mode 0600. */
  readonly privateKeyPem: string;
}

/** The signing keys a node may request a certificate for: the jose-v1 suite's, or SM2 for gm-v1. */
export type RequestSigningAlgorithm = CertificateKeyAlgorithm | "SM2SM3";

/** What {@link createNodeRequest} made: a node's two keys and the requests for their certificates. */
export interface NodeRequest {
  readonly nodeId: string;
  readonly signingAlgorithm: RequestSigningAlgorithm;
  readonly tls: KeyRequest;
  readonly signing: KeyRequest;
}

/** Options of {@link createNodeRequest}. */
export interface CreateNodeRequestOptions {
  readonly nodeId: string;
  /**
   * The signing key: ES256 (P-256), EdDSA (Ed25519), or SM2SM3 — an SM2 key, also the node's gm-v1 encryption key,
   * whose request is signed with SM2-with-SM3 (user ID `1234567812345678`).
   */
  readonly signingAlgorithm: RequestSigningAlgorithm;
  /** Host names the TLS certificate should carry besides `localhost` (the operator sees and may refuse them). */
  readonly dnsNames?: readonly string[];
  /** IP addresses the TLS certificate should carry besides `127.0.0.1`. */
  readonly ipAddresses?: readonly string[];
}

/** A certificate signed from a request: no private key (it never left the node). */
export type CertifiedRequest = Omit<IssuedCertificate, "privateKeyPem">;

/** Options of {@link issueNodeCertificatesFromRequest}. */
export interface IssueFromRequestOptions {
  readonly ca: CertificateAuthority;
  /** The node the operator enrols: both requests must name exactly it. */
  readonly nodeId: string;
  readonly tlsRequestPem: string | Uint8Array;
  readonly signingRequestPem: string | Uint8Array;
  readonly validityDays: number;
  readonly notBefore?: Date;
}

/** What {@link issueNodeCertificatesFromRequest} signed. */
export interface CertifiedNode {
  readonly nodeId: string;
  readonly signingAlgorithm: RequestSigningAlgorithm;
  readonly tls: CertifiedRequest & { readonly dnsNames: readonly string[]; readonly ipAddresses: readonly string[] };
  readonly signing: CertifiedRequest;
}

const REQUEST_LABELS = ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"];

/**
 * Enrolment without moving keys, the node's half: generates the node's TLS key (P-256) and signing key, and a
 * PKCS#10 request for each, signed with that key (proof of possession), naming the node as subject CN and as URI SAN
 * `urn:tongban:node:<nodeId>`; the TLS request also carries the host names asked for. The keys stay with the node;
 * the requests go to the federation operator, who signs them with {@link issueNodeCertificatesFromRequest}.
 *
 * @throws TypeError for a malformed node id, DNS name or IP address, or an algorithm other than ES256, EdDSA, SM2SM3.
 *
 * @example
 * ```ts
 * const req = await createNodeRequest({ nodeId: "cn.330402.nanhu", signingAlgorithm: "ES256", dnsNames: ["tongban.nanhu.example"] });
 * // keep req.tls.privateKeyPem and req.signing.privateKeyPem; send req.tls.requestPem and req.signing.requestPem
 * ```
 */
export async function createNodeRequest(options: CreateNodeRequestOptions): Promise<NodeRequest> {
  const nodeId = checkNodeId(options.nodeId);
  if (options.signingAlgorithm !== "ES256" && options.signingAlgorithm !== "EdDSA" && options.signingAlgorithm !== "SM2SM3") {
    throw new TypeError(`signingAlgorithm must be ES256, EdDSA or SM2SM3, not ${String(options.signingAlgorithm)}`);
  }
  const dnsNames = [...new Set(options.dnsNames ?? [])];
  const ipAddresses = [...new Set(options.ipAddresses ?? [])];
  for (const d of dnsNames) if (!DNS_NAME_PATTERN.test(d)) throw new TypeError(`not a valid DNS name: ${d}`);
  for (const ip of ipAddresses) if (isIP(ip) === 0) throw new TypeError(`not a valid IP address: ${ip}`);
  const make = async (alg: CertificateKeyAlgorithm, hosts: boolean): Promise<KeyRequest> => {
    const keys = (await generateKeyPair(alg)) as webcrypto.CryptoKeyPair;
    const request = await Pkcs10CertificateRequestGenerator.create(
      {
        name: [{ CN: [nodeId] }],
        keys,
        signingAlgorithm: signingParams(alg),
        extensions: [
          new SubjectAlternativeNameExtension([
            { type: "url", value: nodeIdUri(nodeId) },
            ...(hosts ? dnsNames.map((value) => ({ type: "dns" as const, value })) : []),
            ...(hosts ? ipAddresses.map((value) => ({ type: "ip" as const, value })) : []),
          ]),
        ],
      },
      subtleProvider,
    );
    return { requestPem: toPem(request.rawData, "CERTIFICATE REQUEST"), privateKeyPem: await exportPrivateKeyPem(keys.privateKey) };
  };
  const signing = options.signingAlgorithm === "SM2SM3" ? sm2Request(nodeId) : await make(options.signingAlgorithm, false);
  return { nodeId, signingAlgorithm: options.signingAlgorithm, tls: await make("ES256", true), signing };
}

/** An SM2 key and its request, signed with SM2-with-SM3 (WebCrypto knows no SM2). */
function sm2Request(nodeId: string): KeyRequest {
  const kp = generateSm2KeyPair();
  const der = createSm2CertificateRequest({ subject: [["CN", nodeId]], privateKey: kp.privateKey, publicKey: kp.publicKey, uris: [nodeIdUri(nodeId)] });
  return { requestPem: toPem(der, "CERTIFICATE REQUEST"), privateKeyPem: sm2PrivateKeyObject(kp.privateKey).export({ type: "pkcs8", format: "pem" }).toString() };
}

/**
 * Enrolment without moving keys, the operator's half: checks a node's two certificate requests and signs them with the
 * node profiles of {@link issueNodeCertificates} — the TLS certificate for the TLS request's key (P-256), with the host
 * names it asks for besides `localhost` and `127.0.0.1`; the signing certificate for the signing request's key
 * (P-256 → ES256, Ed25519 → EdDSA, SM2 → SM2SM3: its request signed with SM2-with-SM3, its certificate the profile
 * of `issueSm2SigningCertificate`).
 *
 * Each request must: parse; verify under its own key (proof that the requester holds the private key); name exactly
 * `nodeId` (URI SAN `urn:tongban:node:<nodeId>` and no other node; CN, if present, the same); carry a key fit for its
 * use; and the two keys must differ.
 *
 * @throws TongbanError TRUST_CERT_INVALID naming the request (`details.request`: tls | signing) and the problem;
 *   IDENTIFIER_INVALID for a malformed node id.
 */
export async function issueNodeCertificatesFromRequest(options: IssueFromRequestOptions): Promise<CertifiedNode> {
  const nodeId = checkNodeId(options.nodeId);
  const tls = await readRequest(options.tlsRequestPem, "tls", nodeId);
  const signing = await readRequest(options.signingRequestPem, "signing", nodeId);
  if (tls.algorithm !== "ES256") throw invalid("tls", "a TLS key is ECDSA P-256 (it is also the node's ECDH-ES key for encrypted bodies)");
  if (Buffer.from(tls.spki).equals(Buffer.from(signing.spki))) throw invalid("signing", "the signing key is the TLS key: a node has two different keys");
  if (signing.dnsNames.length + signing.ipAddresses.length > 0) throw invalid("signing", "a signing request names no hosts (only the TLS certificate carries DNS and IP names)");
  const { notBefore, notAfter } = validityWindow(options.validityDays, options.notBefore);
  const dnsNames = [...new Set(["localhost", ...tls.dnsNames])];
  const ipAddresses = [...new Set(["127.0.0.1", ...tls.ipAddresses])];
  const tlsCert = await certifyPublicKey({ ca: options.ca, commonName: nodeId, notBefore, notAfter, extensions: tlsProfile(nodeId, dnsNames, ipAddresses) }, tls.publicKey!);
  const signingCert =
    signing.sm2Point === undefined
      ? await certifyPublicKey({ ca: options.ca, commonName: nodeId, notBefore, notAfter, extensions: signingProfile(nodeId) }, signing.publicKey!)
      : certifySm2(options.ca, nodeId, signing.sm2Point, notBefore, notAfter);
  return { nodeId, signingAlgorithm: signing.algorithm, tls: { ...tlsCert, dnsNames, ipAddresses }, signing: signingCert };
}

/** An SM2 signing certificate for a requested key: the profile of `issueSm2SigningCertificate`. */
function certifySm2(ca: CertificateAuthority, nodeId: string, point: Uint8Array, notBefore: Date, notAfter: Date): CertifiedRequest {
  const serial = randomSerial();
  const der = issueX509Certificate({
    subject: [["CN", nodeId]],
    subjectPublicKey: point,
    issuer: { certDer: toDer(ca.certificatePem), privateKey: createPrivateKey(ca.privateKeyPem) },
    notBefore,
    notAfter,
    serialNumber: Buffer.from(serial, "hex"),
    isCa: false,
    keyUsage: KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation | KeyUsageFlags.keyEncipherment,
    subjectAltNameUris: [nodeIdUri(nodeId)],
  });
  return { certificatePem: toPem(der, "CERTIFICATE"), serial, kid: keyIdOf(der), notBefore, notAfter };
}

/** What a certificate request asks for, as {@link describeCertificateRequest} reads it. */
export interface CertificateRequestSummary {
  /** The subject, e.g. `CN=cn.330402.nanhu`. */
  readonly subject: string;
  /** Node ids named by `urn:tongban:node:` URI SANs (a node's request names exactly one). */
  readonly nodeIds: readonly string[];
  /** `ES256` (P-256), `EdDSA` (Ed25519), `SM2`, or the key type found. */
  readonly keyAlgorithm: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  /** True when the request's signature verifies under its own key: the requester holds the private key. */
  readonly proofOfPossession: boolean;
  /** SHA-256 of the request (DER), hex: to compare with what the node's operator says they sent. */
  readonly sha256: string;
}

/**
 * Reads a certificate request without judging it for a node — for an operator to look at before signing
 * (`tongban pki show`).
 *
 * @throws TongbanError TRUST_CERT_INVALID when it is not a PKCS#10 request.
 */
export async function describeCertificateRequest(input: string | Uint8Array): Promise<CertificateRequestSummary> {
  let der: Uint8Array;
  try {
    der = toDer(input, REQUEST_LABELS);
  } catch (err) {
    throw new TongbanError("TRUST_CERT_INVALID", `not a PKCS#10 certificate request: ${err instanceof Error ? err.message : String(err)}`);
  }
  const sha256 = createHash("sha256").update(der).digest("hex");
  const nodeIdsOf = (uris: readonly string[]) => uris.filter((u) => u.startsWith(NODE_ID_URI_PREFIX)).map((u) => u.slice(NODE_ID_URI_PREFIX.length));
  try {
    if (isSm2CertificateRequest(der)) {
      const r = readSm2CertificateRequest(der);
      return { subject: r.commonNames.map((cn) => `CN=${cn}`).join(", "), nodeIds: nodeIdsOf(r.uris), keyAlgorithm: "SM2", dnsNames: r.dnsNames, ipAddresses: r.ipAddresses, proofOfPossession: r.verified, sha256 };
    }
    const request = new Pkcs10CertificateRequest(der);
    const key = createPublicKey({ key: Buffer.from(request.publicKey.rawData), format: "der", type: "spki" });
    const keyAlgorithm = key.asymmetricKeyType === "ed25519" ? "EdDSA" : key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1" ? "ES256" : `${key.asymmetricKeyType ?? "unknown"}${key.asymmetricKeyDetails?.namedCurve === undefined ? "" : ` ${key.asymmetricKeyDetails.namedCurve}`}`;
    const sanExtension = request.getExtension("2.5.29.17");
    const names = sanExtension === null ? [] : new SubjectAlternativeNameExtension(sanExtension.rawData).names.toJSON();
    const proofOfPossession = await request.verify(subtleProvider).catch(() => false);
    return {
      subject: request.subject,
      nodeIds: nodeIdsOf(names.filter((n) => n.type === "url").map((n) => n.value)),
      keyAlgorithm,
      dnsNames: names.filter((n) => n.type === "dns").map((n) => n.value),
      ipAddresses: names.filter((n) => n.type === "ip").map((n) => n.value),
      proofOfPossession,
      sha256,
    };
  } catch (err) {
    throw new TongbanError("TRUST_CERT_INVALID", `not a readable certificate request: ${err instanceof Error ? err.message : String(err)}`);
  }
}

interface ReadRequest {
  /** The WebCrypto key (P-256, Ed25519); undefined for SM2, which has `sm2Point`. */
  readonly publicKey: webcrypto.CryptoKey | undefined;
  readonly sm2Point?: Uint8Array;
  readonly spki: Uint8Array;
  readonly algorithm: RequestSigningAlgorithm;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

async function readRequest(input: string | Uint8Array, use: "tls" | "signing", nodeId: string): Promise<ReadRequest> {
  let request: Pkcs10CertificateRequest;
  try {
    const der = toDer(input, REQUEST_LABELS);
    if (isSm2CertificateRequest(der)) return readSm2Request(der, use, nodeId);
    request = new Pkcs10CertificateRequest(der);
  } catch (err) {
    if (err instanceof TongbanError) throw err;
    throw invalid(use, `not a PKCS#10 certificate request: ${err instanceof Error ? err.message : String(err)}`);
  }
  const spki = new Uint8Array(request.publicKey.rawData);
  let algorithm: CertificateKeyAlgorithm;
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    if (key.asymmetricKeyType === "ed25519") algorithm = "EdDSA";
    else if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") algorithm = "ES256";
    else throw new Error(`a ${key.asymmetricKeyType ?? "unknown"} key`);
  } catch (err) {
    throw invalid(use, `the key must be ECDSA P-256 or Ed25519 (${err instanceof Error ? err.message : String(err)})`);
  }
  // Proof of possession: the request is signed by the private key of the public key it carries.
  const verified = await request.verify(subtleProvider).catch(() => false);
  if (!verified) throw invalid(use, "its signature does not verify under its own key (no proof that the requester holds the private key)");
  const cn = request.subjectName.getField("CN");
  if (cn.length > 0 && (cn.length !== 1 || cn[0] !== nodeId)) throw invalid(use, `its subject CN is ${cn.join(", ")}, not ${nodeId}`);
  const sanExtension = request.getExtension("2.5.29.17");
  const names = sanExtension === null ? [] : new SubjectAlternativeNameExtension(sanExtension.rawData).names.toJSON();
  const uris = names.filter((n) => n.type === "url").map((n) => n.value);
  if (uris.length !== 1 || uris[0] !== nodeIdUri(nodeId)) {
    throw invalid(use, `it must name the node as exactly one URI SAN ${nodeIdUri(nodeId)}, found ${uris.length === 0 ? "none" : uris.join(", ")}`);
  }
  const other = names.filter((n) => n.type !== "url" && n.type !== "dns" && n.type !== "ip");
  if (other.length > 0) throw invalid(use, `it asks for names of a kind a node certificate does not carry: ${other.map((n) => n.type).join(", ")}`);
  const dnsNames = names.filter((n) => n.type === "dns").map((n) => n.value);
  const ipAddresses = names.filter((n) => n.type === "ip").map((n) => n.value);
  for (const d of dnsNames) if (!DNS_NAME_PATTERN.test(d)) throw invalid(use, `not a valid DNS name: ${d}`);
  for (const ip of ipAddresses) if (isIP(ip) === 0) throw invalid(use, `not a valid IP address: ${ip}`);
  const params = algorithm === "ES256" ? { name: "ECDSA", namedCurve: "P-256" } : { name: "Ed25519" };
  const publicKey = await subtleProvider.subtle.importKey("spki", spki, params, true, ["verify"]);
  return { publicKey, spki, algorithm, dnsNames, ipAddresses };
}

/** An SM2 request (signed SM2-with-SM3): the same checks, by the GM code. */
function readSm2Request(der: Uint8Array, use: "tls" | "signing", nodeId: string): ReadRequest {
  let r: ReturnType<typeof readSm2CertificateRequest>;
  try {
    r = readSm2CertificateRequest(der);
  } catch (err) {
    throw invalid(use, `not a well-formed SM2 certificate request: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!r.verified) throw invalid(use, "its signature does not verify under its own key (no proof that the requester holds the private key)");
  if (r.commonNames.length > 0 && (r.commonNames.length !== 1 || r.commonNames[0] !== nodeId)) throw invalid(use, `its subject CN is ${r.commonNames.join(", ")}, not ${nodeId}`);
  if (r.uris.length !== 1 || r.uris[0] !== nodeIdUri(nodeId)) throw invalid(use, `it must name the node as exactly one URI SAN ${nodeIdUri(nodeId)}, found ${r.uris.length === 0 ? "none" : r.uris.join(", ")}`);
  if (r.otherNames.length > 0) throw invalid(use, `it asks for names of a kind a node certificate does not carry: ${r.otherNames.join(", ")}`);
  return { publicKey: undefined, sm2Point: r.publicKey, spki: r.publicKey, algorithm: "SM2SM3", dnsNames: r.dnsNames, ipAddresses: r.ipAddresses };
}

function checkNodeId(nodeId: string): string {
  if (typeof nodeId !== "string") throw new TypeError(`not a valid node id: ${String(nodeId)}`);
  const check = validateNodeId(nodeId);
  if (!check.ok) throw new TypeError(`not a valid node id: ${nodeId} (${check.issues.map((i) => i.message).join("; ")})`);
  return nodeId;
}

function invalid(request: "tls" | "signing", reason: string): TongbanError {
  return new TongbanError("TRUST_CERT_INVALID", `the ${request === "tls" ? "TLS" : "signing"} certificate request is refused: ${reason}`, { details: { request, reason } });
}
