/**
 * ISO/IEC 7064 (GB/T 17710) check character systems, written generically so
 * each identifier names its system instead of hard-coding weights.
 */

/** The 36 characters of the alphanumeric systems, in value order. */
export const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** The digits of the numeric systems, in value order. */
export const NUMERIC = "0123456789";

/**
 * A pure system with one check character, MOD M-r (e.g. MOD 11-2).
 * `checkAlphabet` has M characters: the check for value v is its v-th.
 */
export interface PureSystem {
  readonly modulus: number;
  readonly radix: number;
  readonly inputAlphabet: string;
  readonly checkAlphabet: string;
}

/** ISO 7064 MOD 11-2 (公民身份号码): digits in, a digit or 'X' out. */
export const MOD_11_2: PureSystem = { modulus: 11, radix: 2, inputAlphabet: NUMERIC, checkAlphabet: "0123456789X" };

/**
 * The check character of `value` in a pure system, or undefined when `value`
 * holds a character outside the input alphabet.
 */
export function pureCheckCharacter(value: string, system: PureSystem): string | undefined {
  const { modulus, radix, inputAlphabet, checkAlphabet } = system;
  // The recursive form of ISO 7064 §7: same result as the weighted sum,
  // without precomputing weights for every length.
  let p = 0;
  for (const ch of value) {
    const v = inputAlphabet.indexOf(ch);
    if (v < 0) return undefined;
    p = ((p + v) * radix) % modulus;
  }
  return checkAlphabet[(modulus + 1 - p) % modulus];
}

/**
 * The check character of `value` in the hybrid system MOD (M+1),M whose M
 * characters are `alphabet` (MOD 11,10 for NUMERIC, MOD 37,36 for
 * ALPHANUMERIC), or undefined when `value` holds a character outside it.
 */
export function hybridCheckCharacter(value: string, alphabet: string): string | undefined {
  const m = alphabet.length;
  let p = m;
  for (const ch of value) {
    const v = alphabet.indexOf(ch);
    if (v < 0) return undefined;
    const s = (p + v) % m || m;
    p = (s * 2) % (m + 1);
  }
  return alphabet[(m + 1 - p) % m];
}
