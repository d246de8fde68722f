import type { RequestHeaders } from "./types.js";

/**
 * Builds the handler's header view from (name, value) pairs. HTTP/2 may join
 * repeated headers into one comma-separated value, so every value is split
 * at commas: both transports then give handlers the same `getAll` result.
 * Header values that must keep a comma belong in a message field instead.
 */
export function requestHeaders(pairs: Iterable<readonly [string, string]>): RequestHeaders {
  const map = new Map<string, string[]>();
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    const list = map.get(key) ?? [];
    for (const part of value.split(",")) list.push(part.trim());
    map.set(key, list);
  }
  return { get: (name) => map.get(name.toLowerCase())?.[0], getAll: (name) => map.get(name.toLowerCase()) ?? [] };
}
