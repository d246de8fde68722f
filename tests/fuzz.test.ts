import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

// The short version of scripts/fuzz-intake.mjs (100,000 inputs): malformed
// requests to a real node's Deliver over mTLS while valid traffic continues.
const script = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), "..", "scripts", "fuzz-intake.mjs")).href;

interface FuzzResult {
  malformed: number;
  accepted: number;
  refusedBy: Record<string, number>;
  valid: { sent: number; receipted: number };
  nodeStillServing: boolean;
}

describe("intake fuzzing (short)", () => {
  it("refuses 3,000 malformed inputs with codes, receipts every valid envelope, and keeps serving", async () => {
    const { runFuzz } = (await import(script)) as { runFuzz: (o: object) => Promise<FuzzResult> };
    const r = await runFuzz({ count: 3_000, concurrency: 16, log: () => undefined });
    expect(r.accepted).toBe(0);
    expect(r.valid.sent).toBeGreaterThan(0);
    expect(r.valid.receipted).toBe(r.valid.sent);
    expect(r.nodeStillServing).toBe(true);
    // Past the gRPC size limit, every refusal names its Tongban error code.
    const withoutCode = Object.entries(r.refusedBy).filter(([k]) => !k.includes(" ") && k !== "RESOURCE_EXHAUSTED");
    expect(withoutCode).toEqual([]);
    expect(Object.values(r.refusedBy).reduce((a, b) => a + b, 0)).toBe(3_000);
  }, 120_000);
});
