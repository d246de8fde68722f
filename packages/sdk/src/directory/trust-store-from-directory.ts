import { TrustStore, type TrustStoreOptions } from "../trust/index.js";
import type { UnsignedDirectory } from "./model.js";

/** Options for {@link trustStoreFromDirectory}: the TrustStore's, without the anchor. */
export interface TrustStoreFromDirectoryOptions extends Omit<TrustStoreOptions, "anchor"> {
  /**
   * When set, certificates whose announced retirement (`notAfter` in the
   * directory entry) is at or before this time are left out.
   */
  readonly at?: Date;
}

/**
 * A TrustStore on the anchor holding every node certificate the directory
 * lists (TLS and signing) and its CRL. Call it on a directory that
 * {@link verifyDirectory} returned; chains are checked by the store on first use.
 *
 * @throws TongbanError TRUST_CERT_INVALID or TRUST_UNTRUSTED_CHAIN when the
 *   anchor or the CRL is not acceptable (see TrustStore).
 *
 * @example
 * ```ts
 * const store = trustStoreFromDirectory(verified.directory, anchorPem);
 * store.resolveSigner(kid, new Date());
 * ```
 */
export function trustStoreFromDirectory(
  dir: UnsignedDirectory,
  anchorPem: string | Uint8Array,
  options: TrustStoreFromDirectoryOptions = {},
): TrustStore {
  const { at, ...storeOptions } = options;
  const store = new TrustStore({ ...storeOptions, anchor: anchorPem });
  store.setCrl(dir.crl);
  const cutoff = at?.getTime();
  for (const node of dir.nodes)
    for (const entry of [...node.certificates.tls, ...node.certificates.signing]) {
      if (cutoff !== undefined && entry.notAfter !== undefined && Date.parse(entry.notAfter) <= cutoff) continue;
      store.addCertificate(entry.pem);
    }
  return store;
}
