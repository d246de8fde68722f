import {
  AuthorityKeyIdentifierExtension,
  Extension,
  PeculiarCertificate,
  PeculiarCrl,
  SubjectKeyIdentifierExtension,
  X509CrlGenerator,
  X509CrlReason,
  subtleProvider,
} from "./x509-library.js";
import { decodeDerInteger, encodeDerInteger, normalizeSerial } from "./der-integer.js";
import { importSigningKey, signingParams } from "./keys.js";
import { toDer, toPem } from "./pem.js";
import type { CertificateAuthority } from "./types.js";

const CRL_NUMBER_OID = "2.5.29.20";

/** RFC 5280 CRLReason values (5.3.1), by name. */
export type RevocationReason = Exclude<keyof typeof X509CrlReason, number>;

const REASONS: readonly RevocationReason[] = [
  "unspecified",
  "keyCompromise",
  "cACompromise",
  "affiliationChanged",
  "superseded",
  "cessationOfOperation",
  "certificateHold",
  "removeFromCRL",
  "privilegeWithdrawn",
  "aACompromise",
];

/** True when `value` names an RFC 5280 revocation reason. */
export function isRevocationReason(value: unknown): value is RevocationReason {
  return typeof value === "string" && (REASONS as readonly string[]).includes(value);
}

/** One revoked certificate. */
export interface RevokedCertificate {
  /** Serial number, hex. */
  readonly serial: string;
  /** When it was revoked. */
  readonly date: Date;
  readonly reason?: RevocationReason;
}

/** Options for {@link createCrl}. */
export interface CreateCrlOptions {
  /** The CA whose certificates the list covers; it signs the list. */
  readonly ca: CertificateAuthority;
  readonly revoked: readonly RevokedCertificate[];
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /**
   * The monotonically increasing cRLNumber. Defaults to thisUpdate in whole
   * seconds, which increases as long as lists are not issued twice a second.
   */
  readonly crlNumber?: bigint;
}

/**
 * Creates a CRL (v2, with authorityKeyIdentifier and cRLNumber) signed by the
 * CA, as PEM. An empty `revoked` list gives the CRL a freshly created CA
 * publishes so that relying parties can tell "nothing revoked" from "no data".
 *
 * @example
 * ```ts
 * const crl = await createCrl({ ca: root, revoked: [{ serial: node.signing.serial, date: new Date(), reason: "keyCompromise" }],
 *   thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 7 * 86_400_000) });
 * store.setCrl(crl);
 * ```
 */
export async function createCrl(options: CreateCrlOptions): Promise<string> {
  const { thisUpdate, nextUpdate } = options;
  if (!(thisUpdate instanceof Date) || !(nextUpdate instanceof Date) || !(nextUpdate.getTime() > thisUpdate.getTime()))
    throw new TypeError("nextUpdate must be a Date after thisUpdate");
  const caCert = new PeculiarCertificate(toDer(options.ca.certificatePem));
  const { key, algorithm } = await importSigningKey(options.ca.privateKeyPem);
  const ski = caCert.getExtension(SubjectKeyIdentifierExtension);
  const aki =
    ski === null
      ? await AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, subtleProvider)
      : new AuthorityKeyIdentifierExtension(ski.keyId);
  const crlNumber = options.crlNumber ?? BigInt(Math.floor(thisUpdate.getTime() / 1000));
  const crl = await X509CrlGenerator.create(
    {
      issuer: caCert.subjectName,
      thisUpdate,
      nextUpdate,
      signingKey: key,
      signingAlgorithm: signingParams(algorithm),
      extensions: [aki, new Extension(CRL_NUMBER_OID, false, encodeDerInteger(crlNumber))],
      entries: options.revoked.map((r) => {
        if (r.reason !== undefined && !isRevocationReason(r.reason)) throw new TypeError(`unknown revocation reason: ${String(r.reason)}`);
        return {
          serialNumber: normalizeSerial(r.serial),
          revocationDate: r.date,
          ...(r.reason === undefined ? {} : { reason: X509CrlReason[r.reason] }),
        };
      }),
    },
    subtleProvider,
  );
  // "X509 CRL" is the label OpenSSL reads; the library writes "CRL".
  return toPem(crl.rawData, "X509 CRL");
}

/** The contents of a CRL, without checking its signature. */
export interface CrlInfo {
  /** Issuer distinguished name as text. */
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly crlNumber: bigint | undefined;
  /** Revoked certificates; serials in canonical hex (lowercase, whole bytes, no leading zero bytes). */
  readonly revoked: readonly RevokedCertificate[];
}

/**
 * Parses a CRL (PEM or DER). Does not verify it: the trust store does that
 * against its anchor before using any of it.
 *
 * @throws TypeError when the input is not a CRL.
 */
export function readCrl(crl: string | Uint8Array): CrlInfo {
  let parsed: InstanceType<typeof PeculiarCrl>;
  try {
    parsed = new PeculiarCrl(toDer(crl, ["X509 CRL", "CRL"]));
  } catch (err) {
    throw new TypeError("not a CRL", { cause: err });
  }
  const numberExt = parsed.extensions.find((e) => e.type === CRL_NUMBER_OID);
  return {
    issuer: parsed.issuer,
    thisUpdate: parsed.thisUpdate,
    nextUpdate: parsed.nextUpdate,
    crlNumber: numberExt === undefined ? undefined : decodeDerInteger(new Uint8Array(numberExt.value)),
    revoked: parsed.entries.map((e): RevokedCertificate => {
      const reason = e.reason === undefined ? undefined : X509CrlReason[e.reason];
      return {
        serial: normalizeSerial(e.serialNumber),
        date: e.revocationDate,
        ...(isRevocationReason(reason) ? { reason } : {}),
      };
    }),
  };
}

/** Options for {@link revokeCertificate}. */
export interface RevokeCertificateOptions {
  readonly ca: CertificateAuthority;
  /** The CA's current CRL (PEM), if any; its entries are kept. */
  readonly crl?: string;
  /** Serial number (hex) of the certificate to revoke. */
  readonly serial: string;
  readonly reason?: RevocationReason;
  /** Revocation time and the new list's thisUpdate; defaults to now. */
  readonly date?: Date;
  readonly nextUpdate: Date;
}

/**
 * Adds one certificate to the CA's revocation list and returns the new list
 * (PEM). Revoking an already revoked serial keeps the original entry.
 * The new cRLNumber is one more than the current one (or the
 * {@link createCrl} default, if larger).
 */
export async function revokeCertificate(options: RevokeCertificateOptions): Promise<string> {
  const date = options.date ?? new Date();
  const serial = normalizeSerial(options.serial);
  const current = options.crl === undefined ? undefined : readCrl(options.crl);
  const revoked = [...(current?.revoked ?? [])];
  if (!revoked.some((r) => r.serial === serial))
    revoked.push({ serial, date, ...(options.reason === undefined ? {} : { reason: options.reason }) });
  const byTime = BigInt(Math.floor(date.getTime() / 1000));
  const next = current?.crlNumber === undefined ? byTime : current.crlNumber + 1n;
  return createCrl({
    ca: options.ca,
    revoked,
    thisUpdate: date,
    nextUpdate: options.nextUpdate,
    crlNumber: next > byTime ? next : byTime,
  });
}
