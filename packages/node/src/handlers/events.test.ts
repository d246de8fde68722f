import { describe, expect, it } from "vitest";
import { MemoryStore } from "../store/memory-store.js";
import { EventLog, type NodeEvent } from "./events.js";

async function logWith(count: number, alertsAt: ReadonlySet<number>): Promise<EventLog> {
  const store = new MemoryStore();
  await store.open();
  const log = new EventLog(store);
  await log.open();
  for (let at = 0; at < count; at += 5_000) {
    const made = [];
    for (let i = at; i < Math.min(count, at + 5_000); i++) made.push(log.ops(alertsAt.has(i) ? { type: "deadline.red", alert: true, caseId: `case-${i}` } : { type: "case.state", caseId: `case-${i}` }));
    await store.batch(made.map((m) => m.op));
    log.settle(made.map((m) => m.event));
  }
  return log;
}

describe("EventLog.latest", () => {
  it("gives the newest alerts first even when the log is longer than one read (the console's latest alerts)", async () => {
    const log = await logWith(120_000, new Set([5, 60_000, 119_990]));
    const alerts = await log.latest({ limit: 2, match: (e: NodeEvent) => e.alert === true });
    expect(alerts.map((e) => e.seq)).toEqual([119_990, 60_000]);
    // Reading from the start, as the console did, ends at the 100,000th event and misses the newest.
    const fromStart: NodeEvent[] = [];
    for await (const e of log.read(-1, 100_000)) if (e.alert === true) fromStart.push(e);
    expect(fromStart.map((e) => e.seq)).toEqual([5, 60_000]);
  });

  it("looks back only `scan` events, and never shows an event whose batch is not settled", async () => {
    const log = await logWith(1_000, new Set([100, 995]));
    expect((await log.latest({ limit: 5, match: (e) => e.alert === true, scan: 10 })).map((e) => e.seq)).toEqual([995]);
    log.ops({ type: "outbox.failed", alert: true }); // handed out, its batch not yet written
    expect((await log.latest({ limit: 1 })).map((e) => e.seq)).toEqual([999]);
  });
});
