import { describeCertificate, readCrl } from "../pki/index.js";
import type { UnsignedDirectory } from "./model.js";

const DAY_MS = 86_400_000;

/** Days before a certificate's end that {@link directoryWarnings} starts warning. */
export const DEFAULT_EXPIRY_WARNING_DAYS = 30;

/** Something in a directory that will break soon unless someone acts. */
export type DirectoryWarning =
  | {
      /** Ends within the warning window, or has already ended. */
      readonly kind: "certificate-expiring" | "certificate-expired";
      readonly message: string;
      readonly nodeId: string;
      readonly use: "tls" | "signing";
      readonly kid: string;
      /** The earlier of the certificate's notAfter and the announced retirement. */
      readonly endsAt: string;
      /** True when endsAt is the directory's retirement announcement, not the certificate's own end. */
      readonly announced: boolean;
      /** Whole days left, 0 when ended. */
      readonly daysLeft: number;
    }
  | {
      /** The CRL's nextUpdate falls before the directory expires: trust checks will fail with TRUST_CRL_STALE first. */
      readonly kind: "crl-expires-first";
      readonly message: string;
      readonly nextUpdate: string;
      readonly expiresAt: string;
    };

/** Options for {@link directoryWarnings}. */
export interface DirectoryWarningOptions {
  /** Default {@link DEFAULT_EXPIRY_WARNING_DAYS}. */
  readonly withinDays?: number;
}

/**
 * Warnings an operator should act on before they become failures: node
 * certificates within `withinDays` of their end (the earlier of notAfter and
 * an announced retirement) or past it, and a CRL that goes stale before the
 * directory expires. Pure: call it on every new directory and on a timer.
 *
 * @example
 * ```ts
 * for (const w of directoryWarnings(dir, new Date())) log.warn(w.message);
 * ```
 */
export function directoryWarnings(dir: UnsignedDirectory, now: Date, options: DirectoryWarningOptions = {}): DirectoryWarning[] {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new TypeError("now must be a valid Date");
  const days = options.withinDays ?? DEFAULT_EXPIRY_WARNING_DAYS;
  if (!Number.isFinite(days) || days < 0) throw new TypeError("withinDays must be a non-negative number");
  const t = now.getTime();
  const warnings: DirectoryWarning[] = [];
  for (const node of dir.nodes)
    for (const use of ["tls", "signing"] as const)
      for (const entry of node.certificates[use]) {
        const cert = describeCertificate(entry.pem);
        const own = cert.notAfter.getTime();
        const announcedAt = entry.notAfter === undefined ? Number.POSITIVE_INFINITY : Date.parse(entry.notAfter);
        const end = Math.min(own, announcedAt);
        if (end - t > days * DAY_MS) continue;
        const endsAt = new Date(end).toISOString();
        const expired = end <= t;
        const daysLeft = expired ? 0 : Math.floor((end - t) / DAY_MS);
        warnings.push({
          kind: expired ? "certificate-expired" : "certificate-expiring",
          message: expired
            ? `${node.nodeId} ${use} certificate ${cert.kid} ended at ${endsAt}`
            : `${node.nodeId} ${use} certificate ${cert.kid} ends at ${endsAt} (${daysLeft} days)`,
          nodeId: node.nodeId,
          use,
          kid: cert.kid,
          endsAt,
          announced: announcedAt < own,
          daysLeft,
        });
      }
  const next = readCrl(dir.crl).nextUpdate;
  if (next !== undefined && next.getTime() < Date.parse(dir.expiresAt))
    warnings.push({
      kind: "crl-expires-first",
      message: `the CRL's nextUpdate ${next.toISOString()} is before the directory expires (${dir.expiresAt}); publish a newer CRL with the next directory`,
      nextUpdate: next.toISOString(),
      expiresAt: dir.expiresAt,
    });
  return warnings;
}
