/**
 * The transport compliance suite: every transport (grpc-js over mutual TLS,
 * in-memory) runs these same cases, so layers above can test against the
 * in-memory one and trust the result over the wire. Test-only: not part of
 * the public index.
 */
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TongbanError, isTongbanError } from "../errors/index.js";
import { FederationService } from "../gen/tongban/v1/federation_pb.js";
import type { ServiceClient, ServiceImpl } from "./types.js";

/** What a transport under test must provide. */
export interface ComplianceSubject {
  readonly client: ServiceClient<typeof FederationService>;
  /** The node id the handler should see as `ctx.peer.nodeId`. */
  readonly expectedPeerNodeId: string | undefined;
  close(): Promise<void>;
}

/** Observations the handlers record for the assertions. */
export interface ComplianceProbe {
  /** Resolves with the abort reason each time a handler's signal fires, keyed by test tag. */
  readonly aborted: Map<string, Promise<unknown>>;
  /** Deadlines seen by handlers, keyed by tag. */
  readonly deadlines: Map<string, Date | undefined>;
  /** How many server-stream chunks the handler produced, keyed by tag. */
  readonly produced: Map<string, number>;
}

function watchAbort(probe: ComplianceProbe, tag: string, signal: AbortSignal): void {
  probe.aborted.set(
    tag,
    new Promise((resolve) => {
      if (signal.aborted) resolve(signal.reason);
      else signal.addEventListener("abort", () => resolve(signal.reason), { once: true });
    }),
  );
}

/** The reference implementation the suite serves. */
export function complianceImpl(probe: ComplianceProbe): ServiceImpl<typeof FederationService> {
  return {
    async deliver(req) {
      // Echo the envelope back as the receipt: proves bytes and nested messages survive the trip.
      return { receipt: { header: req.envelope?.header ?? new Uint8Array(), body: req.envelope?.body ?? new Uint8Array(), signature: { protected: new TextEncoder().encode("echo"), value: new Uint8Array([1, 2, 3]) } } };
    },
    async putMaterial(reqs, ctx) {
      const hash = createHash("sha256");
      let size = 0n;
      let caseId = "";
      for await (const chunk of reqs) {
        if (chunk.caseId !== "") caseId = chunk.caseId;
        if (chunk.offset !== size) throw new TongbanError("CASE_MATERIAL_DIGEST_MISMATCH", "chunk out of order", { details: { expected: size.toString(), got: chunk.offset.toString() } });
        hash.update(chunk.data);
        size += BigInt(chunk.data.length);
      }
      if (caseId === "fail") throw new TongbanError("CASE_NOT_FOUND", "no such case", { details: { caseId } });
      watchAbort(probe, "put", ctx.signal);
      return { digest: hash.digest(), size, alreadyPresent: caseId === "dup" };
    },
    async *fetchMaterial(req, ctx) {
      const tag = req.caseId;
      watchAbort(probe, tag, ctx.signal);
      probe.produced.set(tag, 0);
      const limit = req.offset === 0n ? Number.POSITIVE_INFINITY : Number(req.offset);
      for (let i = 0; i < limit; i++) {
        if (ctx.signal.aborted) return;
        probe.produced.set(tag, i + 1);
        yield { offset: BigInt(i), data: new Uint8Array([i & 0xff]), totalSize: 0n };
        if (limit === Number.POSITIVE_INFINITY) await sleep(5);
      }
    },
    async *pullEvents(req) {
      for (let i = 0; i < 2; i++) yield { cursor: `${req.after}-${i}` };
      throw new TongbanError("DIRECTORY_STALE", "directory too old mid-stream", { details: { after: req.after } });
    },
    async getNodeInfo(_req, ctx) {
      return {
        nodeId: ctx.peer.nodeId ?? "",
        regions: [ctx.metadata.get("X-Echo") ?? ""],
        suites: [...ctx.metadata.getAll("x-multi")],
        software: ctx.peer.certificate === undefined ? "no-cert" : "cert",
      };
    },
    async getDirectory(req, ctx) {
      switch (req.ifNewerThan) {
        case "tongban-error":
          throw new TongbanError("ENVELOPE_REPLAYED", "seen before", { details: { messageId: "0190-x", attempts: 2 } });
        case "plain-error":
          throw new Error("secret path /var/lib/node/keys at line 42");
        default: {
          if (!req.ifNewerThan.startsWith("wait:")) break;
          // Blocks until the call is cancelled or its deadline passes.
          const tag = req.ifNewerThan;
          probe.deadlines.set(tag, ctx.deadline);
          watchAbort(probe, tag, ctx.signal);
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
          throw ctx.signal.reason;
        }
      }
      return { version: "v7", document: new TextEncoder().encode(req.ifNewerThan) };
    },
    getMappingTable(): never {
      // Thrown synchronously, outside any promise: must still map, not crash the server.
      throw new TongbanError("GAP_ITEM_UNKNOWN", "unknown item");
    },
    async acknowledgePulled(req) {
      return { accepted: req.acknowledgements.length, unknown: [] };
    },
  };
}

async function expectCode(p: Promise<unknown>, code: string): Promise<TongbanError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a TongbanError ${code}`).toBeInstanceOf(TongbanError);
  expect((err as TongbanError).code).toBe(code);
  return err as TongbanError;
}

/** Polls until `cond` holds; timing-free waits keep the suite stable on a loaded machine. */
export async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error("waitFor: condition not met in time");
    await sleep(5);
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

/**
 * Registers the compliance cases with vitest. `start` receives the reference
 * implementation and returns a client wired to it.
 */
export function describeTransportCompliance(
  name: string,
  start: (impl: ServiceImpl<typeof FederationService>) => Promise<ComplianceSubject>,
): void {
  describe(`transport compliance: ${name}`, () => {
    const probe: ComplianceProbe = { aborted: new Map(), deadlines: new Map(), produced: new Map() };
    let subject: ComplianceSubject;
    beforeAll(async () => {
      subject = await start(complianceImpl(probe));
    });
    afterAll(async () => {
      await subject.close();
    });

    it("unary/round-trip: init objects in, messages out, nested bytes intact", async () => {
      const header = new Uint8Array([0, 1, 2, 250]);
      const res = await subject.client.deliver({ envelope: { header, body: new Uint8Array(1000).fill(7) } });
      expect(res.$typeName).toBe("tongban.v1.DeliverResponse");
      expect(res.receipt?.header).toEqual(header);
      expect(res.receipt?.body.length).toBe(1000);
      expect(new TextDecoder().decode(res.receipt?.signature?.protected)).toBe("echo");
    });

    it("unary/context: headers and peer identity reach the handler", async () => {
      const res = await subject.client.getNodeInfo({}, { metadata: { "X-Echo": "ok", "x-multi": ["a", "b"] } });
      expect(res.regions).toEqual(["ok"]);
      expect(res.suites).toEqual(["a", "b"]);
      expect(res.nodeId).toBe(subject.expectedPeerNodeId ?? "");
    });

    it("server-stream/order: every chunk in order, then the end", async () => {
      const chunks = await collect(subject.client.fetchMaterial({ caseId: "five", offset: 5n }));
      expect(chunks.map((c) => c.offset)).toEqual([0n, 1n, 2n, 3n, 4n]);
      expect(chunks.every((c) => c.$typeName === "tongban.v1.FetchMaterialResponse")).toBe(true);
    });

    it("client-stream/sum: chunks arrive in order and the reply reflects all of them", async () => {
      const data = Array.from({ length: 20 }, (_, i) => new Uint8Array(1000).fill(i));
      async function* chunks() {
        let offset = 0n;
        for (const d of data) {
          yield { caseId: offset === 0n ? "dup" : "", offset, data: d };
          offset += BigInt(d.length);
        }
      }
      const res = await subject.client.putMaterial(chunks());
      const expected = createHash("sha256");
      for (const d of data) expected.update(d);
      expect(Buffer.from(res.digest).toString("hex")).toBe(expected.digest("hex"));
      expect(res.size).toBe(20_000n);
      expect(res.alreadyPresent).toBe(true);
    });

    it("client-stream/empty: zero requests is a valid stream", async () => {
      const res = await subject.client.putMaterial((async function* () {})());
      expect(res.size).toBe(0n);
    });

    it("error/tongban: code, message and details round-trip", async () => {
      const err = await expectCode(subject.client.getDirectory({ ifNewerThan: "tongban-error" }), "ENVELOPE_REPLAYED");
      expect(err.message).toBe("seen before");
      expect(err.details).toEqual({ messageId: "0190-x", attempts: 2 });
      expect(err.grpcStatus).toBe(6);
    });

    it("error/client-stream: a handler's TongbanError after reading the stream", async () => {
      const err = await expectCode(subject.client.putMaterial((async function* () { yield { caseId: "fail", data: new Uint8Array(3) }; })()), "CASE_NOT_FOUND");
      expect(err.details).toEqual({ caseId: "fail" });
    });

    it("error/sync-throw: a handler that throws synchronously still maps", async () => {
      await expectCode(subject.client.getMappingTable({}), "GAP_ITEM_UNKNOWN");
    });

    it("error/internal: any other error is INTERNAL and leaks nothing", async () => {
      const err = await expectCode(subject.client.getDirectory({ ifNewerThan: "plain-error" }), "INTERNAL");
      expect(err.message).not.toMatch(/secret|var|42/);
      expect(JSON.stringify(err.details)).not.toMatch(/secret/);
    });

    it("error/mid-stream: items before the error arrive, then the code", async () => {
      const got: string[] = [];
      const err = await expectCode(
        (async () => {
          for await (const ev of subject.client.pullEvents({ after: "c" })) got.push(ev.cursor);
        })(),
        "DIRECTORY_STALE",
      );
      expect(got).toEqual(["c-0", "c-1"]);
      expect(err.details).toEqual({ after: "c" });
    });

    it("cancel/server-stream: aborting rejects with TRANSPORT_CANCELLED and aborts the handler", async () => {
      const controller = new AbortController();
      const got: bigint[] = [];
      await expectCode(
        (async () => {
          for await (const c of subject.client.fetchMaterial({ caseId: "cancel" }, { signal: controller.signal })) {
            got.push(c.offset);
            if (got.length === 3) controller.abort();
          }
        })(),
        "TRANSPORT_CANCELLED",
      );
      expect(got.length).toBe(3);
      const reason = await probe.aborted.get("cancel");
      expect(isTongbanError(reason, "TRANSPORT_CANCELLED")).toBe(true);
      // The producer stops: no unbounded run-on after the cancel.
      const after = probe.produced.get("cancel") ?? 0;
      await sleep(60);
      expect(probe.produced.get("cancel")).toBe(after);
    });

    it("cancel/early-break: leaving a stream early cancels the handler", async () => {
      for await (const c of subject.client.fetchMaterial({ caseId: "break" })) {
        if (c.offset === 1n) break;
      }
      const reason = await probe.aborted.get("break");
      expect(isTongbanError(reason, "TRANSPORT_CANCELLED")).toBe(true);
    });

    it("cancel/unary: aborting a pending unary call rejects at once", async () => {
      const controller = new AbortController();
      const p = subject.client.getDirectory({ ifNewerThan: "wait:cancel" }, { signal: controller.signal });
      await waitFor(() => probe.aborted.has("wait:cancel"));
      controller.abort();
      await expectCode(p, "TRANSPORT_CANCELLED");
      expect(isTongbanError(await probe.aborted.get("wait:cancel"), "TRANSPORT_CANCELLED")).toBe(true);
    });

    it("cancel/pre-aborted: a signal aborted before the call never reaches the handler's result", async () => {
      await expectCode(subject.client.getNodeInfo({}, { signal: AbortSignal.abort() }), "TRANSPORT_CANCELLED");
    });

    it("deadline/unary: expiry rejects with TRANSPORT_DEADLINE_EXCEEDED; the handler sees deadline and abort", async () => {
      const started = Date.now();
      await expectCode(subject.client.getDirectory({ ifNewerThan: "wait:deadline" }, { timeoutMs: 400 }), "TRANSPORT_DEADLINE_EXCEEDED");
      expect(Date.now() - started).toBeLessThan(5_000);
      const deadline = probe.deadlines.get("wait:deadline");
      expect(deadline).toBeInstanceOf(Date);
      expect(Math.abs((deadline?.getTime() ?? 0) - (started + 400))).toBeLessThan(1_000);
      await probe.aborted.get("wait:deadline");
    });

    it("deadline/server-stream: an endless stream stops at the deadline", async () => {
      await expectCode(collect(subject.client.fetchMaterial({ caseId: "deadline" }, { timeoutMs: 400 })), "TRANSPORT_DEADLINE_EXCEEDED");
      await probe.aborted.get("deadline");
    });
  });
}
