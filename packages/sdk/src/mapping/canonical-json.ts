/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no insignificant
 * whitespace, UTF-8. Two publishers serialising the same table get the same
 * bytes, so digests and signatures do not depend on key order.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  if (typeof value === "number" && !Number.isFinite(value)) throw new TypeError("canonical JSON has no representation for non-finite numbers");
  return value;
}

/** The canonical bytes of a value. */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}
