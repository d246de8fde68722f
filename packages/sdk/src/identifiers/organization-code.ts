/**
 * GB 11714 组织机构代码: eight body characters and one check character.
 * Body characters take the values 0–9 and A=10 … Z=35 (the full Latin
 * alphabet, unlike the 31-character USCC set); weights 3,7,9,10,5,8,4,2;
 * check = 11 − (Σ mod 11), where 10 is written 'X' and 11 is written '0'.
 */
const WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2] as const;
const VALUES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/**
 * The GB 11714 check character for an eight-character body, or undefined
 * when the body is not eight characters of 0-9/A-Z.
 *
 * @example
 * ```ts
 * organizationCodeCheck("M000100Y"); // "4" (from USCC 91350100M000100Y43)
 * ```
 */
export function organizationCodeCheck(body: string): string | undefined {
  if (body.length !== 8) return undefined;
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const v = VALUES.indexOf(body.charAt(i));
    if (v < 0) return undefined;
    sum += v * (WEIGHTS[i] ?? 0);
  }
  const c = 11 - (sum % 11);
  return c === 10 ? "X" : c === 11 ? "0" : String(c);
}
