import { createHash } from "node:crypto";
import { TongbanError } from "../errors/index.js";
import { toDer } from "../pki/pem.js";
import { parseCertificate, type CertificateRecord } from "./certificate-record.js";
import { checkChain, isSignedBy, type CertificatePurpose } from "./chain-check.js";
import { verifyRevocationList, type RevocationData } from "./revocation-list.js";
import { signatureAlgorithmOf } from "./signer-algorithm.js";
import type { ResolvedSigner, SignerResolver } from "./signer-resolver.js";

/** Reported once per full chain check (cache misses only). */
export interface ChainCheckEvent {
  readonly kid: string;
  readonly purpose: CertificatePurpose;
  readonly ok: boolean;
}

/** Options for {@link TrustStore}. */
export interface TrustStoreOptions {
  /** The federation root CA certificate (PEM or DER): the one out-of-band trust anchor. */
  readonly anchor: string | Uint8Array;
  /**
   * How long past its nextUpdate a CRL is still used before checks fail with
   * TRUST_CRL_STALE. Default 0: a late CRL is stale at once.
   */
  readonly crlGraceMs?: number;
  /** When true, checks fail with TRUST_CRL_STALE until a CRL has been set. Default false. */
  readonly requireCrl?: boolean;
  /** Observes full chain checks, e.g. for metrics or to test the cache. */
  readonly onChainCheck?: (event: ChainCheckEvent) => void;
}

type Outcome =
  | { readonly ok: true; readonly notBefore: number; readonly notAfter: number; readonly signer: ResolvedSigner | undefined }
  | { readonly ok: false; readonly error: TongbanError };

interface CacheEntry {
  /** Value of `revocationGeneration` when checked; any change invalidates. */
  readonly revocationGeneration: number;
  /** Value of `caGeneration` when checked; only failures depend on it. */
  readonly caGeneration: number;
  readonly outcome: Outcome;
}

// Peer certificates seen over TLS but not registered; bounded so a stream of
// distinct peers cannot grow memory without limit.
const MAX_PEER_RECORDS = 1024;

/**
 * The node's view of federation trust: one anchor, the node and intermediate
 * certificates from the directory, and the anchor's revocation list.
 *
 * A certificate's chain (signatures to the anchor, CA constraints, key usage,
 * revocation) is checked once and cached by fingerprint (the kid); each call
 * then costs two map look-ups and a few comparisons: the validity window
 * against the given time, the revocation generation and CRL freshness.
 * Setting a CRL invalidates the cache.
 *
 * @example
 * ```ts
 * const store = new TrustStore({ anchor: rootPem, crlGraceMs: 3_600_000 });
 * store.addCertificate(peerSigningPem);
 * store.setCrl(crlPem);
 * const signer = store.resolveSigner(kid, new Date()); // then one signature check
 * ```
 */
export class TrustStore implements SignerResolver {
  readonly #anchor: CertificateRecord;
  readonly #crlGraceMs: number;
  readonly #requireCrl: boolean;
  readonly #onChainCheck: ((event: ChainCheckEvent) => void) | undefined;
  readonly #byKid = new Map<string, CertificateRecord>();
  readonly #casBySubject = new Map<string, CertificateRecord[]>();
  readonly #peers = new Map<string, CertificateRecord>();
  readonly #kidOfPeerBytes = new WeakMap<Uint8Array, { readonly kid: string; readonly der: Buffer }>();
  // One map per purpose, keyed by kid: no key string is built per call.
  readonly #cache: Record<CertificatePurpose, Map<string, CacheEntry>> = { signing: new Map(), tls: new Map() };
  #revocation: RevocationData | undefined;
  #revocationGeneration = 0;
  #caGeneration = 0;

  /**
   * @throws TongbanError TRUST_CERT_INVALID when the anchor is not a
   *   self-signed CA certificate.
   */
  constructor(options: TrustStoreOptions) {
    const grace = options.crlGraceMs ?? 0;
    if (!Number.isFinite(grace) || grace < 0) throw new TypeError("crlGraceMs must be a non-negative number");
    const anchor = parseCertificate(options.anchor);
    let selfSigned = false;
    try {
      selfSigned = anchor.x509.checkIssued(anchor.x509) && isSignedBy(anchor, anchor);
    } catch {
      selfSigned = false;
    }
    if (!anchor.isCa || !selfSigned)
      throw new TongbanError("TRUST_CERT_INVALID", "the trust anchor must be a self-signed CA certificate", { details: { kid: anchor.kid } });
    this.#anchor = anchor;
    this.#crlGraceMs = grace;
    this.#requireCrl = options.requireCrl === true;
    this.#onChainCheck = options.onChainCheck;
  }

  /** The anchor's kid (base64url SHA-256 of its DER). */
  get anchorKid(): string {
    return this.#anchor.kid;
  }

  /**
   * The revocation list in use: its times and number of entries; undefined
   * before the first {@link setCrl}.
   */
  get crl(): { thisUpdate: Date; nextUpdate: Date; crlNumber: bigint | undefined; revoked: number } | undefined {
    const r = this.#revocation;
    return r === undefined
      ? undefined
      : { thisUpdate: new Date(r.thisUpdate), nextUpdate: new Date(r.nextUpdate), crlNumber: r.crlNumber, revoked: r.serials.size };
  }

  /**
   * Registers a node or intermediate CA certificate (PEM or DER) and returns
   * its kid. Nothing is verified yet: the chain is checked on first use, so
   * certificates may be added in any order.
   *
   * @throws TongbanError TRUST_CERT_INVALID when it cannot be parsed.
   */
  addCertificate(certificate: string | Uint8Array): string {
    const record = parseCertificate(certificate);
    if (this.#byKid.has(record.kid)) return record.kid;
    this.#byKid.set(record.kid, record);
    if (record.isCa) {
      const list = this.#casBySubject.get(record.subject);
      if (list === undefined) this.#casBySubject.set(record.subject, [record]);
      else list.push(record);
      // A new CA can complete a chain that failed before.
      this.#caGeneration++;
    }
    return record.kid;
  }

  /** True when a certificate with this kid is registered. */
  hasCertificate(kid: string): boolean {
    return this.#byKid.has(kid);
  }

  /** Forgets a certificate (e.g. dropped from the directory). Returns whether it was known. */
  removeCertificate(kid: string): boolean {
    const record = this.#byKid.get(kid);
    if (record === undefined) return false;
    this.#byKid.delete(kid);
    this.#cache.signing.delete(kid);
    this.#cache.tls.delete(kid);
    if (record.isCa) {
      const list = this.#casBySubject.get(record.subject)?.filter((r) => r !== record) ?? [];
      if (list.length === 0) this.#casBySubject.delete(record.subject);
      else this.#casBySubject.set(record.subject, list);
      // Chains through it must be re-checked.
      this.#revocationGeneration++;
      this.#caGeneration++;
    }
    return true;
  }

  /**
   * Replaces the revocation data with a CRL (PEM or DER) issued by the anchor.
   * Refuses a list older than the one in use (by cRLNumber, else thisUpdate),
   * so a replayed old CRL cannot un-revoke a certificate.
   *
   * @throws TongbanError TRUST_UNTRUSTED_CHAIN when the CRL is not signed by
   *   the anchor; TRUST_CERT_INVALID when it is malformed, lacks nextUpdate or
   *   is older than the current one.
   */
  setCrl(crl: string | Uint8Array): void {
    const next = verifyRevocationList(crl, this.#anchor);
    const current = this.#revocation;
    if (current !== undefined) {
      const older =
        next.crlNumber !== undefined && current.crlNumber !== undefined
          ? next.crlNumber < current.crlNumber
          : next.thisUpdate < current.thisUpdate;
      if (older)
        throw new TongbanError("TRUST_CERT_INVALID", "the CRL is older than the one in use", {
          details: { crlNumber: next.crlNumber, current: current.crlNumber },
        });
    }
    this.#revocation = next;
    this.#revocationGeneration++;
  }

  /**
   * Resolves the kid of an envelope signature to a verified signer at `at`.
   *
   * @throws TongbanError TRUST_UNKNOWN_SIGNER, TRUST_CRL_STALE,
   *   TRUST_UNTRUSTED_CHAIN, TRUST_CERT_INVALID, TRUST_CERT_REVOKED or
   *   TRUST_CERT_EXPIRED.
   */
  resolveSigner(kid: string, at: Date): ResolvedSigner {
    const time = timeOf(at);
    const record = this.#byKid.get(kid);
    if (record === undefined) throw new TongbanError("TRUST_UNKNOWN_SIGNER", "no certificate is known for this key id", { details: { kid } });
    const outcome = this.#checked(record, "signing", time);
    // #checked builds a signer for every successful signing check.
    return outcome.signer as ResolvedSigner;
  }

  /**
   * Checks a TLS peer's certificate (PEM or DER) at `at` and returns the node
   * id it was issued to, for comparison with the envelope signer's node id.
   * The certificate need not be registered; it must chain to the anchor and
   * carry serverAuth or clientAuth.
   *
   * @throws TongbanError as {@link resolveSigner}, except TRUST_UNKNOWN_SIGNER.
   */
  verifyPeerCertificate(certificate: string | Uint8Array, at: Date): string {
    const time = timeOf(at);
    let der: Uint8Array;
    try {
      der = toDer(certificate, "CERTIFICATE");
    } catch (err) {
      // What a peer sends is data, not a programming mistake.
      throw new TongbanError("TRUST_CERT_INVALID", "the peer certificate cannot be parsed", { cause: err });
    }
    // A connection's certificate arrives as the same array on every call (the transport reads it
    // once per connection): hash it once; a byte comparison guards against an array reused for other bytes.
    const known = certificate instanceof Uint8Array ? this.#kidOfPeerBytes.get(certificate) : undefined;
    let kid = known !== undefined && Buffer.compare(known.der, der) === 0 ? known.kid : undefined;
    if (kid === undefined) {
      kid = createHash("sha256").update(der).digest("base64url");
      if (certificate instanceof Uint8Array) this.#kidOfPeerBytes.set(certificate, { kid, der: Buffer.from(der) });
    }
    let record = this.#byKid.get(kid) ?? this.#peers.get(kid);
    if (record === undefined) {
      record = parseCertificate(der);
      if (this.#peers.size >= MAX_PEER_RECORDS) {
        for (const k of this.#peers.keys()) this.#cache.tls.delete(k);
        this.#peers.clear();
      }
      this.#peers.set(kid, record);
    }
    this.#checked(record, "tls", time);
    // checkChain refuses leaves without a node id.
    return record.nodeId as string;
  }

  #checked(record: CertificateRecord, purpose: CertificatePurpose, time: number): Extract<Outcome, { ok: true }> {
    this.#checkFreshness(time);
    const cache = this.#cache[purpose];
    let entry = cache.get(record.kid);
    if (
      entry === undefined ||
      entry.revocationGeneration !== this.#revocationGeneration ||
      (!entry.outcome.ok && entry.caGeneration !== this.#caGeneration)
    ) {
      entry = {
        revocationGeneration: this.#revocationGeneration,
        caGeneration: this.#caGeneration,
        outcome: this.#fullCheck(record, purpose),
      };
      cache.set(record.kid, entry);
    }
    const outcome = entry.outcome;
    if (!outcome.ok) throw outcome.error;
    if (time < outcome.notBefore || time > outcome.notAfter)
      throw new TongbanError("TRUST_CERT_EXPIRED", "the certificate chain is not valid at this time", {
        details: { kid: record.kid, at: new Date(time).toISOString(), notBefore: new Date(outcome.notBefore).toISOString(), notAfter: new Date(outcome.notAfter).toISOString() },
      });
    return outcome;
  }

  #checkFreshness(time: number): void {
    const r = this.#revocation;
    if (r === undefined) {
      if (this.#requireCrl) throw new TongbanError("TRUST_CRL_STALE", "no revocation list has been loaded");
      return;
    }
    if (time > r.nextUpdate + this.#crlGraceMs)
      throw new TongbanError("TRUST_CRL_STALE", "the revocation list is past its next update", {
        details: { nextUpdate: new Date(r.nextUpdate).toISOString(), at: new Date(time).toISOString() },
      });
  }

  #fullCheck(record: CertificateRecord, purpose: CertificatePurpose): Outcome {
    let outcome: Outcome;
    try {
      const window = checkChain(record, purpose, {
        anchor: this.#anchor,
        casWithSubject: (subject) => this.#casBySubject.get(subject) ?? [],
        revocation: this.#revocation,
      });
      const signer: ResolvedSigner | undefined =
        purpose === "signing"
          ? Object.freeze({
              nodeId: record.nodeId as string,
              kid: record.kid,
              publicKey: record.publicKey,
              algorithm: signatureAlgorithmOf(record.publicKey),
              notBefore: new Date(record.notBefore),
              notAfter: new Date(record.notAfter),
              ...(record.sm2PublicKey === undefined ? {} : { sm2PublicKey: record.sm2PublicKey }),
            })
          : undefined;
      outcome = { ok: true, notBefore: window.notBefore, notAfter: window.notAfter, signer };
    } catch (err) {
      if (!(err instanceof TongbanError)) throw err;
      outcome = { ok: false, error: err };
    }
    this.#onChainCheck?.({ kid: record.kid, purpose, ok: outcome.ok });
    return outcome;
  }
}

function timeOf(at: Date): number {
  const t = at instanceof Date ? at.getTime() : Number.NaN;
  if (Number.isNaN(t)) throw new TypeError("at must be a valid Date");
  return t;
}
