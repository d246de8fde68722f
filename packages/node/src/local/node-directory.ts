import { randomBytes } from "node:crypto";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createNodeRequest, issueNodeCertificates, type CertificateAuthority, type NodeCertificates, type NodeRequest } from "@tongban/sdk";
import { NODE_DIR_LAYOUT, defaultNodeConfig } from "../config/default-node-config.js";
import { parseListenAddress } from "../config/listen-address.js";
import { renderNodeConfig } from "../config/render-node-config.js";
import type { ListenAddress, NodeConfig, PeerConfig } from "../config/types.js";
import { platformTokenDigest } from "../server/platform-auth.js";

/** Options of {@link initNodeDirectory}. */
export interface InitNodeDirectoryOptions {
  /** The node directory (absolute); created if missing. */
  readonly dir: string;
  readonly nodeId: string;
  /** The federation CA that issues the node's certificates (its root, or an intermediate). */
  readonly ca: CertificateAuthority;
  /** The federation trust anchor (PEM); the CA's certificate when left out. */
  readonly anchorPem?: string;
  readonly signingAlgorithm?: "ES256" | "EdDSA" | "SM2SM3";
  readonly validityDays?: number;
  /** Start of the certificates' validity (default now). */
  readonly notBefore?: Date;
  readonly federationListen?: string;
  readonly platformListen?: string;
  readonly metricsListen?: string;
  readonly tablesDir?: string;
  readonly calendar?: string;
  readonly peers?: readonly PeerConfig[];
  /** Name of the platform token generated (default "platform"). */
  readonly tokenName?: string;
  /** Extra settings on top of the defaults (tests: short retry schedules). */
  readonly adjust?: (config: NodeConfig) => NodeConfig;
}

/** What {@link initNodeDirectory} wrote. */
export interface InitializedNode {
  readonly config: NodeConfig;
  readonly configFile: string;
  readonly certificates: NodeCertificates;
  /** The platform API token, shown once: only its SHA-256 is in the config. */
  readonly platformToken: string;
}

/**
 * Lays out a node directory (docs/node.md "Data directory"): keys and
 * certificates issued by the federation CA under `pki/` (private keys mode
 * 0600), the trust anchor, `node.yaml` with listen addresses, peers, the
 * mapping tables directory and a fresh platform token, and an empty `data/`.
 * `tongban node init` and the local demo federation use it.
 */
export async function initNodeDirectory(options: InitNodeDirectoryOptions): Promise<InitializedNode> {
  const L = NODE_DIR_LAYOUT;
  const { dir } = options;
  await mkdir(join(dir, "pki"), { recursive: true, mode: 0o700 });
  await mkdir(join(dir, L.dataDir), { recursive: true, mode: 0o700 });
  const certificates = await issueNodeCertificates({
    ca: options.ca,
    nodeId: options.nodeId,
    signingAlgorithm: options.signingAlgorithm ?? "ES256",
    validityDays: options.validityDays ?? 397,
    ...(options.notBefore === undefined ? {} : { notBefore: options.notBefore }),
  });
  await Promise.all([
    writeFile(join(dir, L.tlsCert), certificates.tls.certificatePem),
    writeSecret(join(dir, L.tlsKey), certificates.tls.privateKeyPem),
    writeFile(join(dir, L.signingCert), certificates.signing.certificatePem),
    writeSecret(join(dir, L.signingKey), certificates.signing.privateKeyPem),
    writeFile(join(dir, L.anchor), options.anchorPem ?? options.ca.certificatePem),
  ]);
  const written = await writeNodeConfig(options);
  return { ...written, certificates };
}

/** Options of {@link initNodeRequestDirectory}: as {@link initNodeDirectory}, without a CA, with the anchor and the host names to ask for. */
export interface InitNodeRequestOptions extends Omit<InitNodeDirectoryOptions, "ca" | "anchorPem" | "signingAlgorithm" | "validityDays" | "notBefore"> {
  /** The federation root (PEM), obtained out of band. */
  readonly anchorPem: string;
  readonly signingAlgorithm?: "ES256" | "EdDSA" | "SM2SM3";
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

/** What {@link initNodeRequestDirectory} wrote: everything but the certificates, and the requests for them. */
export interface RequestedNode extends Omit<InitializedNode, "certificates"> {
  readonly request: NodeRequest;
  /** Where the requests are (absolute): they go to the federation operator. */
  readonly requestFiles: { readonly tls: string; readonly signing: string };
}

/** The requests' file names, next to the keys in `pki/`. */
export const NODE_REQUEST_FILES = { tls: "pki/tls.csr", signing: "pki/sign.csr" } as const;

/**
 * Enrolment without moving keys (docs/operations.md "Enrolling a new node"): lays out the node directory like
 * {@link initNodeDirectory}, but the node's keys are generated here and never leave it — `pki/tls.csr` and
 * `pki/sign.csr` (PKCS#10) go to the federation operator, who signs them (`tongban pki sign`); the two certificates
 * it returns go to `pki/tls.crt` and `pki/sign.crt`, where `node.yaml` already looks for them.
 */
export async function initNodeRequestDirectory(options: InitNodeRequestOptions): Promise<RequestedNode> {
  const L = NODE_DIR_LAYOUT;
  const { dir } = options;
  await mkdir(join(dir, "pki"), { recursive: true, mode: 0o700 });
  await mkdir(join(dir, L.dataDir), { recursive: true, mode: 0o700 });
  const request = await createNodeRequest({
    nodeId: options.nodeId,
    signingAlgorithm: options.signingAlgorithm ?? "ES256",
    ...(options.dnsNames === undefined ? {} : { dnsNames: options.dnsNames }),
    ...(options.ipAddresses === undefined ? {} : { ipAddresses: options.ipAddresses }),
  });
  const requestFiles = { tls: join(dir, NODE_REQUEST_FILES.tls), signing: join(dir, NODE_REQUEST_FILES.signing) };
  await Promise.all([
    writeSecret(join(dir, L.tlsKey), request.tls.privateKeyPem),
    writeSecret(join(dir, L.signingKey), request.signing.privateKeyPem),
    writeFile(requestFiles.tls, request.tls.requestPem),
    writeFile(requestFiles.signing, request.signing.requestPem),
    writeFile(join(dir, L.anchor), options.anchorPem),
  ]);
  const written = await writeNodeConfig(options);
  return { ...written, request, requestFiles };
}

async function writeSecret(file: string, pem: string): Promise<void> {
  await writeFile(file, pem, { mode: 0o600 });
  await chmod(file, 0o600);
}

/** node.yaml with a fresh platform token (only its digest in the file). */
async function writeNodeConfig(options: Omit<InitNodeDirectoryOptions, "ca">): Promise<Omit<InitializedNode, "certificates">> {
  const { dir } = options;
  const L = NODE_DIR_LAYOUT;
  const platformToken = `tbp_${randomBytes(24).toString("base64url")}`;
  const base = defaultNodeConfig(options.nodeId, dir);
  const listen = (v: string | undefined, d: ListenAddress): ListenAddress => {
    if (v === undefined) return d;
    const parsed = parseListenAddress(v);
    if (typeof parsed === "string") throw new TypeError(`listen address: ${parsed}`);
    return parsed;
  };
  let config: NodeConfig = {
    ...base,
    signing: { ...base.signing, algorithm: options.signingAlgorithm ?? "ES256" },
    federation: { ...base.federation, listen: listen(options.federationListen, base.federation.listen) },
    platform: { listen: listen(options.platformListen, base.platform.listen), auth: { kind: "tokens", tokens: [{ name: options.tokenName ?? "platform", sha256: platformTokenDigest(platformToken) }] } },
    peers: options.peers ?? [],
    mapping: options.tablesDir === undefined ? {} : { tablesDir: options.tablesDir },
    ...(options.calendar === undefined ? {} : { calendar: options.calendar }),
    metrics: options.metricsListen === undefined ? {} : { listen: listen(options.metricsListen, base.platform.listen) },
  };
  if (options.adjust !== undefined) config = options.adjust(config);
  const configFile = join(dir, L.config);
  await writeFile(configFile, renderNodeConfig(config, dir));
  return { config: { ...config, file: configFile }, configFile, platformToken };
}
