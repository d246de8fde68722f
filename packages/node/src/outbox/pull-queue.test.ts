import { TongbanError } from "@tongban/sdk";
import { describe, expect, it } from "vitest";
import { PullQueue, type PulledEnvelope } from "./pull-queue.js";

const A = "cn.320509.wujiang";
const B = "cn.330421.jiashan";
const bytes = (...b: number[]) => new Uint8Array(b);

/** Opens a stream for `destination` and collects what it hands out until it ends. */
function open(q: PullQueue, destination: string, options: { after?: string; max?: number; waitMs?: number } = {}) {
  const controller = new AbortController();
  const got: PulledEnvelope[] = [];
  const done = (async () => {
    for await (const p of q.pull(destination, { after: options.after ?? "", max: options.max ?? 100, waitMs: options.waitMs ?? 1_000, signal: controller.signal })) got.push(p);
  })();
  return { got, done, abort: () => controller.abort() };
}
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const codeOf = (p: Promise<unknown>) => p.then(() => "resolved", (e: unknown) => (e instanceof TongbanError ? e.code : String(e)));

describe("PullQueue", () => {
  it("fails at once for a destination that is not connected (the outbox's backoff takes over)", async () => {
    const q = new PullQueue();
    const err = await q.send(A, bytes(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TongbanError);
    expect(err).toMatchObject({ code: "TRANSPORT_UNAVAILABLE", details: { destination: A } });
  });

  it("parks an envelope for a connected destination, hands it out with its materials, and ends the attempt with the receipt", async () => {
    const q = new PullQueue({ materialsFor: async () => [bytes(9, 9)] });
    const s = open(q, A);
    await tick();
    const sent = q.send(A, bytes(1, 2, 3));
    await tick();
    expect(s.got).toHaveLength(1);
    expect(s.got[0]).toMatchObject({ envelope: bytes(1, 2, 3), materials: [bytes(9, 9)] });
    expect(q.offered(A, bytes(9, 9))).toBe(true);
    expect(q.offered(B, bytes(9, 9))).toBe(false);
    expect(q.acknowledge(A, [{ cursor: s.got[0]!.cursor, receipt: bytes(7) }])).toEqual({ accepted: 1, unknown: [] });
    expect(await sent).toEqual(bytes(7));
    // Answered once: a second answer, and the materials, are no longer open.
    expect(q.acknowledge(A, [{ cursor: s.got[0]!.cursor, receipt: bytes(7) }])).toEqual({ accepted: 0, unknown: [s.got[0]!.cursor] });
    expect(q.offered(A, bytes(9, 9))).toBe(false);
    expect(q.state(A).waiting).toBe(0);
    s.abort();
    await s.done;
  });

  it("hands a destination only its own envelopes, and takes answers only from it", async () => {
    const q = new PullQueue();
    const a = open(q, A);
    const b = open(q, B);
    await tick();
    const toA = q.send(A, bytes(1));
    const toB = q.send(B, bytes(2));
    await tick();
    expect(a.got.map((p) => p.envelope)).toEqual([bytes(1)]);
    expect(b.got.map((p) => p.envelope)).toEqual([bytes(2)]);
    // B answering A's cursor changes nothing.
    expect(q.acknowledge(B, [{ cursor: a.got[0]!.cursor, receipt: bytes(0) }])).toEqual({ accepted: 0, unknown: [a.got[0]!.cursor] });
    q.acknowledge(A, [{ cursor: a.got[0]!.cursor, receipt: bytes(10) }]);
    q.acknowledge(B, [{ cursor: b.got[0]!.cursor, receipt: bytes(20) }]);
    expect([await toA, await toB]).toEqual([bytes(10), bytes(20)]);
    a.abort();
    b.abort();
    await Promise.all([a.done, b.done]);
  });

  it("ends the attempt with the refusal's code and advice; a code it does not know is retried as an unknown status", async () => {
    const q = new PullQueue();
    const s = open(q, A);
    await tick();
    const refused = q.send(A, bytes(1)).catch((e: unknown) => e);
    const strange = q.send(A, bytes(2)).catch((e: unknown) => e);
    await tick();
    q.acknowledge(A, [
      { cursor: s.got[0]!.cursor, refusal: { code: "OVERLOADED", message: "busy", retryAfterMs: 1_500 } },
      { cursor: s.got[1]!.cursor, refusal: { code: "NOT_A_CODE", message: "?" } },
    ]);
    expect(await refused).toMatchObject({ code: "OVERLOADED", details: { retryAfterMs: 1_500 } });
    expect(((await refused) as Error).message).toContain("busy");
    expect(await strange).toMatchObject({ code: "TRANSPORT_UNKNOWN_STATUS", details: { code: "NOT_A_CODE" } });
    s.abort();
    await s.done;
  });

  it("fails an attempt nobody answers within answerWithinMs", async () => {
    const q = new PullQueue({ answerWithinMs: 40 });
    const s = open(q, A);
    await tick();
    const t0 = Date.now();
    expect(await codeOf(q.send(A, bytes(1)))).toBe("TRANSPORT_UNAVAILABLE");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(35);
    expect(s.got).toHaveLength(1); // it was handed out, but not answered
    expect(q.acknowledge(A, [{ cursor: s.got[0]!.cursor, receipt: bytes(1) }]).unknown).toEqual([s.got[0]!.cursor]);
    s.abort();
    await s.done;
  });

  it("resumes after a cursor; a cursor from another run of the node counts as empty", async () => {
    const q = new PullQueue();
    const first = open(q, A, { max: 1 });
    await tick();
    const sends = [q.send(A, bytes(1)), q.send(A, bytes(2)), q.send(A, bytes(3))];
    await first.done; // max 1: the stream ends after one
    expect(first.got.map((p) => p.envelope)).toEqual([bytes(1)]);
    const next = open(q, A, { after: first.got[0]!.cursor, waitMs: 0 });
    await next.done;
    expect(next.got.map((p) => p.envelope)).toEqual([bytes(2), bytes(3)]);
    const other = new PullQueue();
    const foreign = open(other, A, { waitMs: 0 });
    await foreign.done;
    const all = open(q, A, { after: "AAAAAAAA.2", waitMs: 0 });
    await all.done;
    expect(all.got.map((p) => p.envelope)).toEqual([bytes(1), bytes(2), bytes(3)]);
    q.acknowledge(A, all.got.map((p) => ({ cursor: p.cursor, receipt: p.envelope })));
    expect(await Promise.all(sends)).toEqual([bytes(1), bytes(2), bytes(3)]);
  });

  it("fails what waits when the destination's last stream ends and it does not come back within the grace", async () => {
    const q = new PullQueue({ connectedGraceMs: 200, answerWithinMs: 5_000 });
    const s = open(q, A);
    await tick();
    const waiting = codeOf(q.send(A, bytes(1)));
    await tick();
    s.abort();
    await s.done;
    expect(q.connected(A)).toBe(true); // within the grace
    const t0 = Date.now();
    expect(await waiting).toBe("TRANSPORT_UNAVAILABLE");
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(q.connected(A)).toBe(false);
    // Back within the grace: nothing fails.
    const again = open(q, A);
    await tick();
    const kept = q.send(A, bytes(2));
    again.abort();
    await again.done;
    const back = open(q, A);
    for (let i = 0; i < 200 && back.got.length === 0; i++) await tick();
    expect(back.got.map((p) => p.envelope)).toEqual([bytes(2)]);
    q.acknowledge(A, [{ cursor: back.got[0]!.cursor, receipt: bytes(22) }]);
    expect(await kept).toEqual(bytes(22));
    back.abort();
    await back.done;
  });

  it("tells when a destination connects after being away, not on every stream", async () => {
    const connects: string[] = [];
    const q = new PullQueue({ onConnect: (d) => connects.push(d) });
    const one = open(q, A, { waitMs: 0 });
    await one.done;
    const two = open(q, A, { waitMs: 0 });
    await two.done;
    expect(connects).toEqual([A]);
  });

  it("close() fails every waiting attempt, ends every stream and refuses new ones", async () => {
    const q = new PullQueue();
    const s = open(q, A, { waitMs: 60_000 });
    await tick();
    const waiting = codeOf(q.send(A, bytes(1)));
    await tick();
    q.close();
    expect(await waiting).toBe("TRANSPORT_UNAVAILABLE");
    await s.done; // ended, not left waiting a minute
    expect(await codeOf(q.send(A, bytes(2)))).toBe("TRANSPORT_UNAVAILABLE");
  });
});
