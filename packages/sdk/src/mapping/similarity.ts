/**
 * Name similarity for Chinese item names: Dice coefficient over character
 * bigrams (single characters for one-character names). Chinese has no word
 * boundaries, and regions name the same item with small variations
 * (老年人优待证办理 / 老年优待证申领), which bigrams tolerate and exact match does not.
 */
export function bigrams(name: string): string[] {
  const chars = [...name.replace(/[\s()（）·、，,.-]/g, "")];
  if (chars.length < 2) return chars;
  const out: string[] = [];
  for (let i = 0; i < chars.length - 1; i++) out.push(chars[i]! + chars[i + 1]!);
  return out;
}

/** Dice coefficient of two names' bigram multisets, 0..1. */
export function nameSimilarity(a: string, b: string): number {
  const x = bigrams(a);
  const y = bigrams(b);
  if (x.length === 0 || y.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const g of x) counts.set(g, (counts.get(g) ?? 0) + 1);
  let common = 0;
  for (const g of y) {
    const c = counts.get(g) ?? 0;
    if (c > 0) {
      common++;
      counts.set(g, c - 1);
    }
  }
  return (2 * common) / (x.length + y.length);
}

/** A candidate found by name. */
export interface NameCandidate<T> {
  readonly value: T;
  readonly name: string;
  readonly score: number;
}

/**
 * An inverted bigram index, so nearest-name lookups touch only entries that
 * share a bigram with the query instead of scanning every item.
 */
export class NameIndex<T> {
  readonly #entries: { value: T; name: string }[] = [];
  readonly #postings = new Map<string, number[]>();

  add(name: string, value: T): void {
    const id = this.#entries.length;
    this.#entries.push({ value, name });
    for (const g of new Set(bigrams(name))) {
      let list = this.#postings.get(g);
      if (list === undefined) this.#postings.set(g, (list = []));
      list.push(id);
    }
  }

  /** The `limit` best entries with score ≥ `minScore`, best first; `filter` narrows (e.g. to one region). */
  nearest(name: string, options: { limit?: number; minScore?: number; filter?: (value: T) => boolean } = {}): NameCandidate<T>[] {
    const limit = options.limit ?? 5;
    const minScore = options.minScore ?? 0.2;
    const seen = new Set<number>();
    for (const g of new Set(bigrams(name))) for (const id of this.#postings.get(g) ?? []) seen.add(id);
    const out: NameCandidate<T>[] = [];
    for (const id of seen) {
      const e = this.#entries[id]!;
      if (options.filter && !options.filter(e.value)) continue;
      const score = nameSimilarity(name, e.name);
      if (score >= minScore) out.push({ value: e.value, name: e.name, score: Math.round(score * 1000) / 1000 });
    }
    return out.sort((a, b) => b.score - a.score || a.name.localeCompare(b.name)).slice(0, limit);
  }
}
