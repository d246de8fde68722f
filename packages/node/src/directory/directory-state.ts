import { X509Certificate, type KeyObject } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { TongbanError, isSm2KeyObject, verifyDirectory, type DeliveryMode, type DirectoryNode, type TrustStore, type VerifiedDirectory } from "@tongban/sdk";

/** A partner as the node knows it: from the directory, or from `peers` in node.yaml. */
export interface KnownPeer {
  readonly nodeId: string;
  /** `host:port` of its FederationService; undefined for a pull peer (never dialled). */
  readonly address: string | undefined;
  /** `pull`: it takes no connections and pulls what this node queues for it. */
  readonly delivery: DeliveryMode;
  /** The key personal-data bodies to it are encrypted to (its TLS key, or its SM2 signing key for gm-v1). */
  readonly encryptionKey: KeyObject | undefined;
  readonly source: "directory" | "config";
}

/** Where the directory stands (docs/directory.md "Degradation"). */
export type DirectoryStatus = "none" | "current" | "expired-within-grace" | "stale";

/** What the directory state is built from. */
export interface DirectoryStateOptions {
  readonly nodeId: string;
  /** The node's trust store: directory certificates and CRL are added to it. */
  readonly trust: TrustStore;
  /** How long past its expiry the last good directory is still used, in ms. */
  readonly graceMs: number;
  /** Where the last good directory is kept (survives restarts). */
  readonly lastGoodFile: string;
  /** Peers from node.yaml (used alongside the directory, or alone without one). */
  readonly configPeers?: readonly KnownPeer[];
  readonly now?: () => Date;
  /** Told about every change of status and every new version (events, metrics, logs). */
  readonly onChange?: (change: { readonly status: DirectoryStatus; readonly version?: number; readonly previous?: number; readonly reason: string }) => void;
}

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

function encryptionKeyOf(node: DirectoryNode, at: number): KeyObject | undefined {
  const live = (list: readonly { pem: string; notAfter?: string }[]) => list.filter((c) => c.notAfter === undefined || Date.parse(c.notAfter) > at);
  if (node.suite === "gm-v1") {
    for (const c of live(node.certificates.signing)) {
      const key = new X509Certificate(c.pem).publicKey;
      if (isSm2KeyObject(key)) return key;
    }
  }
  for (const c of live(node.certificates.tls)) {
    const cert = new X509Certificate(c.pem);
    if (Array.isArray(cert.keyUsage) ? cert.keyUsage.includes(SERVER_AUTH) : true) return cert.publicKey;
  }
  return undefined;
}

/**
 * The federation directory as this node holds it: the last good signed
 * publication, the partners it names, its status. A newer version replaces
 * it; an older one is refused (no rollback); past its expiry it is still
 * used within the grace period with alerts, and after that the node serves
 * only partners it already knew (docs/directory.md "Degradation").
 */
export class DirectoryState {
  readonly #o: DirectoryStateOptions;
  #verified: VerifiedDirectory | undefined;
  #raw: string | undefined;
  #peers = new Map<string, KnownPeer>();
  #status: DirectoryStatus = "none";
  /** Partners this node has exchanged messages with (kept with the last good directory). */
  #contacted = new Set<string>();

  constructor(options: DirectoryStateOptions) {
    this.#o = options;
    for (const p of options.configPeers ?? []) this.#peers.set(p.nodeId, p);
  }

  get status(): DirectoryStatus {
    return this.#status;
  }
  get version(): number | undefined {
    return this.#verified?.directory.version;
  }
  /** The signed document held (served by GetDirectory). */
  get document(): string | undefined {
    return this.#raw;
  }
  get verified(): VerifiedDirectory | undefined {
    return this.#verified;
  }

  peer(nodeId: string): KnownPeer | undefined {
    return this.#peers.get(nodeId);
  }
  get peers(): readonly KnownPeer[] {
    return [...this.#peers.values()];
  }

  /** Loads the last good directory kept from a previous run, if any. */
  async restore(): Promise<void> {
    const contacted = await readFile(`${this.#o.lastGoodFile}.contacted.json`, "utf8").catch(() => undefined);
    if (contacted !== undefined) for (const id of JSON.parse(contacted) as string[]) this.#contacted.add(id);
    const text = await readFile(this.#o.lastGoodFile, "utf8").catch(() => undefined);
    if (text !== undefined) await this.offer(text, "restored").catch(() => undefined);
  }

  /** Records that a partner exchanged a message with this node (it stays admitted when the directory goes stale). */
  async contacted(nodeId: string): Promise<void> {
    if (this.#contacted.has(nodeId)) return;
    this.#contacted.add(nodeId);
    await mkdir(dirname(this.#o.lastGoodFile), { recursive: true });
    await writeFile(`${this.#o.lastGoodFile}.contacted.json`, JSON.stringify([...this.#contacted]));
  }

  /**
   * Offers a signed directory (from the file, a peer or the authority).
   * Returns true when it became the held one; false when it is not newer.
   *
   * @throws TongbanError DIRECTORY_INVALID (bad signature, shape, older than held is DIRECTORY_ROLLBACK), DIRECTORY_STALE (past expiry + grace).
   */
  async offer(document: string, from: string): Promise<boolean> {
    const now = (this.#o.now ?? (() => new Date()))();
    if (this.#raw === document) return false;
    const held = this.version;
    const v = verifyDirectory(document, { trustStore: this.#o.trust, now, graceMs: this.#o.graceMs, ...(held === undefined ? {} : { held }) });
    if (held !== undefined && v.directory.version === held) return false;
    this.#apply(v, now.getTime());
    this.#raw = document;
    await this.#keep(document);
    this.#setStatus(v.status, `version ${v.directory.version} from ${from}`, held);
    return true;
  }

  /** Re-judges expiry now: moves to expired-within-grace, then stale, with a change report each time. */
  check(): DirectoryStatus {
    const v = this.#verified;
    if (v === undefined) return this.#status;
    const now = (this.#o.now ?? (() => new Date()))().getTime();
    const expires = Date.parse(v.directory.expiresAt);
    const next: DirectoryStatus = now < expires ? "current" : now < expires + this.#o.graceMs ? "expired-within-grace" : "stale";
    if (next !== this.#status) this.#setStatus(next, next === "current" ? "current" : `expired at ${v.directory.expiresAt}`);
    return this.#status;
  }

  /**
   * Whether a partner may be served now: always while the directory is
   * current or within grace (or when the node runs without one); once stale,
   * only partners this node already knew — configured peers and partners it
   * has exchanged messages with. A new partner it cannot re-verify is refused
   * with DIRECTORY_STALE.
   */
  admit(nodeId: string): void {
    if (this.check() !== "stale") return;
    if (this.#peers.get(nodeId)?.source === "config" || this.#contacted.has(nodeId)) return;
    throw new TongbanError("DIRECTORY_STALE", `the federation directory expired past its grace period; ${nodeId} is not a partner this node already knew`, { details: { partner: nodeId } });
  }

  #apply(v: VerifiedDirectory, at: number): void {
    const trust = this.#o.trust;
    trust.setCrl(v.directory.crl);
    for (const node of v.directory.nodes) {
      for (const c of [...node.certificates.tls, ...node.certificates.signing]) {
        if (c.notAfter !== undefined && Date.parse(c.notAfter) <= at) continue;
        trust.addCertificate(c.pem);
      }
      if (node.nodeId === this.#o.nodeId) continue;
      const configured = this.#peers.get(node.nodeId);
      this.#peers.set(node.nodeId, { nodeId: node.nodeId, address: node.endpoints.federation, delivery: node.delivery ?? "push", encryptionKey: encryptionKeyOf(node, at) ?? configured?.encryptionKey, source: configured?.source === "config" ? "config" : "directory" });
    }
    this.#verified = v;
  }

  async #keep(document: string): Promise<void> {
    const file = this.#o.lastGoodFile;
    await mkdir(dirname(file), { recursive: true });
    await writeFile(`${file}.tmp`, document);
    await rename(`${file}.tmp`, file);
  }

  #setStatus(status: DirectoryStatus, reason: string, previous?: number): void {
    this.#status = status;
    this.#o.onChange?.({ status, ...(this.version === undefined ? {} : { version: this.version }), ...(previous === undefined ? {} : { previous }), reason });
  }
}
