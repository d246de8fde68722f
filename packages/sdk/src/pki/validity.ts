const DAY_MS = 86_400_000;

/**
 * The validity window for a new certificate. X.509 times have one-second
 * resolution, so milliseconds are dropped here rather than silently by the
 * encoder; callers then report exactly what the certificate says.
 *
 * @throws TypeError when validityDays is not a positive number.
 */
export function validityWindow(validityDays: number, notBefore?: Date): { notBefore: Date; notAfter: Date } {
  if (!Number.isFinite(validityDays) || validityDays <= 0) throw new TypeError("validityDays must be a positive number");
  const start = Math.floor((notBefore ?? new Date()).getTime() / 1000) * 1000;
  if (Number.isNaN(start)) throw new TypeError("notBefore must be a valid Date");
  return { notBefore: new Date(start), notAfter: new Date(start + Math.round(validityDays * DAY_MS)) };
}
