// Real GB/T 2260 county codes for the synthetic mapping benchmark, taken from
// the SDK's vendored table so the tables pass region validation.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const table = JSON.parse(readFileSync(fileURLToPath(new URL("../packages/sdk/src/identifiers/data/gbt2260.json", import.meta.url)), "utf8"));

/** The first `n` county-level codes (not ending in 00). */
export function regionCodes(n) {
  const codes = Object.keys(table.regions ?? table).filter((c) => /^\d{6}$/.test(c) && !c.endsWith("00"));
  return codes.slice(0, n);
}
