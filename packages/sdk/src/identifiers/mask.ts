/**
 * Masks a personal identifier for messages and logs: keeps the first six
 * characters (the address code, which names a county, not a person) and the
 * last one, and replaces the rest with '*'. Values of seven characters or
 * fewer are masked whole.
 *
 * @example
 * ```ts
 * maskPersonalId("11010519491231002X"); // "110105***********X"
 * ```
 */
export function maskPersonalId(value: string): string {
  if (typeof value !== "string") throw new TypeError("maskPersonalId: expected a string");
  const chars = Array.from(value);
  if (chars.length <= 7) return "*".repeat(chars.length);
  return `${chars.slice(0, 6).join("")}${"*".repeat(chars.length - 7)}${chars[chars.length - 1] ?? ""}`;
}
