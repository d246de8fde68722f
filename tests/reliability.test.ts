import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

// The short version of the reliability harness (scripts/reliability.mjs runs
// 20 cycles): two real node processes, kill -9 at random moments under load.
const harness = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), "..", "scripts", "reliability.mjs")).href;

describe("reliability harness (short)", () => {
  it("keeps every invariant through 3 kill -9/restart cycles under a load of remote-receipt and joint cases", async () => {
    const { runReliability } = (await import(harness)) as { runReliability: (o: object) => Promise<{ cases: number; jointCases: number; messagesChecked: number; invariants: Record<string, boolean>; kills: Record<string, number> }> };
    const r = await runReliability({ cycles: 3, cases: 6, concurrency: 4, log: () => undefined });
    expect(r.cases + r.jointCases).toBeGreaterThanOrEqual(6);
    expect(r.jointCases).toBeGreaterThanOrEqual(1);
    expect(Object.values(r.kills).reduce((a, b) => a + b, 0)).toBe(3);
    expect(r.messagesChecked).toBeGreaterThanOrEqual(r.cases * 5);
    expect(r.invariants).toEqual({ everyCaseFinalAtBothNodes: true, noReceiptedMessageLost: true, noEffectTwice: true, indexesMatchRecords: true });
  }, 180_000);

  it("keeps them with 吴江 in pull mode (no inbound connections: it pulls from 青浦)", async () => {
    const { runReliability } = (await import(harness)) as { runReliability: (o: object) => Promise<{ mode: string; cases: number; jointCases: number; messagesChecked: number; invariants: Record<string, boolean>; kills: Record<string, number> }> };
    const r = await runReliability({ cycles: 3, cases: 6, concurrency: 4, pull: true, log: () => undefined });
    expect(r.mode).toBe("pull");
    expect(Object.values(r.kills).reduce((a, b) => a + b, 0)).toBe(3);
    expect(r.messagesChecked).toBeGreaterThanOrEqual(r.cases * 5);
    expect(r.invariants).toEqual({ everyCaseFinalAtBothNodes: true, noReceiptedMessageLost: true, noEffectTwice: true, indexesMatchRecords: true });
  }, 180_000);
});
