import { createHash, createPrivateKey } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { TongbanError, createEnvelope, createFederationRoot, issueNodeCertificates, type GrpcClient } from "@tongban/sdk";
import { CaseState, EnvelopeSchema, FederationService, PullEventsResponseSchema, type AcknowledgePulledRequest, type Envelope, type PullEventsResponse } from "@tongban/sdk/gen";
import { beforeAll, describe, expect, it } from "vitest";
import { MaterialStore } from "../handlers/materials.js";
import { MemoryStore } from "../store/memory-store.js";
import { Puller, type PullerEvent } from "./puller.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
let signer: Parameters<typeof createEnvelope>[0]["signer"];

beforeAll(async () => {
  const root = await createFederationRoot({ name: "puller test root", validityDays: 1 });
  const c = await issueNodeCertificates({ ca: root, nodeId: QINGPU, signingAlgorithm: "ES256", validityDays: 1 });
  signer = { kid: c.signing.kid, privateKey: createPrivateKey(c.signing.privateKeyPem), algorithm: "ES256" };
});

const envelope = async (caseId = "") =>
  (await createEnvelope({ body: { kind: { case: "statusUpdate", value: { state: CaseState.ACCEPTED } } }, sender: QINGPU, recipient: WUJIANG, caseId, signer })).envelope;

/** A partner that hands out `batches` (one per PullEvents call, then nothing) and records the answers. */
function partner(batches: PullEventsResponse[][], materials: Map<string, Uint8Array> = new Map(), failFirst = 0) {
  const acks: AcknowledgePulledRequest["acknowledgements"][number][] = [];
  const requests: { after: string; waitMs: number }[] = [];
  let calls = 0;
  const client = {
    pullEvents(req: { after: string; waitMs: number }, opts: { signal?: AbortSignal }) {
      requests.push({ after: req.after, waitMs: req.waitMs });
      const n = calls++;
      return (async function* () {
        if (n < failFirst) throw new TongbanError("TRANSPORT_UNAVAILABLE", "connection refused");
        for (const ev of batches[n - failFirst] ?? []) yield ev;
        // An open stream with nothing queued: wait until cancelled (or a short while).
        await new Promise((r) => {
          const t = setTimeout(r, 50);
          opts.signal?.addEventListener("abort", () => (clearTimeout(t), r(undefined)), { once: true });
        });
      })();
    },
    async acknowledgePulled(req: AcknowledgePulledRequest) {
      acks.push(...req.acknowledgements);
      return { accepted: req.acknowledgements.length, unknown: [] };
    },
    fetchMaterial(req: { digest: Uint8Array }) {
      const data = materials.get(Buffer.from(req.digest).toString("hex"));
      return (async function* () {
        if (data === undefined) throw new TongbanError("AUTH_NOT_ALLOWED", "not yours");
        yield { offset: 0n, data, totalSize: BigInt(data.length) };
      })();
    },
  };
  return { client: client as unknown as GrpcClient<typeof FederationService>, acks, requests };
}

const until = async (what: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("Puller", () => {
  it("takes each pulled envelope through `take` and answers with the receipt or the refusal's code and advice; resumes after the last cursor", async () => {
    const [a, b] = [await envelope(), await envelope()];
    const p = partner([[create(PullEventsResponseSchema, { cursor: "c1", envelope: a }), create(PullEventsResponseSchema, { cursor: "c2", envelope: b })]]);
    const receipt = await envelope();
    const events: PullerEvent[] = [];
    const puller = new Puller({
      peers: () => [QINGPU],
      client: () => p.client,
      materials: new MaterialStore(new MemoryStore()),
      waitMs: 1_000,
      take: async (peer, env: Envelope) => {
        expect(peer).toBe(QINGPU);
        if (env === b) throw new TongbanError("OVERLOADED", "busy", { details: { retryAfterMs: 700 } });
        return toBinary(EnvelopeSchema, receipt);
      },
      onEvent: (e) => events.push(e),
    });
    puller.start();
    try {
      await until(() => p.acks.length === 2 && p.requests.length >= 2);
      const byCursor = new Map(p.acks.map((x) => [x.cursor, x.outcome]));
      expect(byCursor.get("c1")).toMatchObject({ case: "receipt", value: { header: receipt.header } });
      expect(byCursor.get("c2")).toMatchObject({ case: "refusal", value: { code: "OVERLOADED", message: "busy", retryAfterMs: 700 } });
      expect(p.requests[1]!.after).toBe("c2"); // the next stream resumes after the last envelope it saw
      expect(p.requests[0]!.waitMs).toBe(1_000);
      expect(puller.states().get(QINGPU)).toMatchObject({ connected: true, taken: 1, refused: 1 });
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["pull.connected", "pull.taken", "pull.refused"]));
    } finally {
      await puller.stop();
    }
  });

  it("fetches the materials an envelope lists before taking it, verified by digest; one it cannot fetch leaves the envelope unanswered", async () => {
    const data = new TextEncoder().encode("户口簿 scan");
    const digest = createHash("sha256").update(data).digest();
    const missing = createHash("sha256").update("nowhere").digest();
    const good = await envelope("case-1");
    const bad = await envelope("case-2");
    const p = partner(
      [[create(PullEventsResponseSchema, { cursor: "g", envelope: good, materials: [digest] }), create(PullEventsResponseSchema, { cursor: "b", envelope: bad, materials: [missing] })]],
      new Map([[digest.toString("hex"), data]]),
    );
    const store = new MemoryStore();
    await store.open();
    const materials = new MaterialStore(store);
    const taken: Envelope[] = [];
    const puller = new Puller({
      peers: () => [QINGPU],
      client: () => p.client,
      materials,
      waitMs: 1_000,
      take: async (_peer, env) => {
        expect(await materials.has(digest)).toBe(true); // fetched before
        taken.push(env);
        return toBinary(EnvelopeSchema, env);
      },
    });
    puller.start();
    try {
      await until(() => p.acks.length === 1 && puller.states().get(QINGPU)?.lastError !== undefined);
      expect(taken).toEqual([good]);
      expect(p.acks.map((x) => x.cursor)).toEqual(["g"]);
      expect(puller.states().get(QINGPU)?.lastError).toMatchObject({ code: "AUTH_NOT_ALLOWED" });
      expect(await materials.has(missing)).toBe(false);
    } finally {
      await puller.stop();
    }
  });

  it("does not call in a tight loop a partner that ends empty streams at once", async () => {
    const p = partner([]);
    const instant = {
      ...(p.client as unknown as Record<string, unknown>),
      pullEvents(req: { after: string; waitMs: number }) {
        p.requests.push({ after: req.after, waitMs: req.waitMs });
        return (async function* () {})();
      },
    } as unknown as GrpcClient<typeof FederationService>;
    const puller = new Puller({ peers: () => [QINGPU], client: () => instant, materials: new MaterialStore(new MemoryStore()), waitMs: 20_000, take: async () => new Uint8Array() });
    puller.start();
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect(p.requests.length).toBeGreaterThanOrEqual(1);
      expect(p.requests.length).toBeLessThanOrEqual(2);
    } finally {
      await puller.stop();
    }
  });

  it("retries a failing partner with backoff, reports it disconnected then connected, and follows the partner list", async () => {
    const p = partner([[]], new Map(), 2);
    const events: PullerEvent[] = [];
    let peers = [QINGPU];
    const puller = new Puller({
      peers: () => peers,
      client: () => p.client,
      materials: new MaterialStore(new MemoryStore()),
      waitMs: 1_000,
      take: async () => new Uint8Array(),
      onEvent: (e) => events.push(e),
      backoff: { initialMs: 20, maxMs: 40 },
      reconcileMs: 20,
    });
    puller.start();
    try {
      await until(() => events.some((e) => e.type === "pull.connected"));
      expect(events.map((e) => e.type).slice(0, 2)).toEqual(["pull.disconnected", "pull.connected"]); // one report for two failures
      expect(events[0]!.error).toMatchObject({ code: "TRANSPORT_UNAVAILABLE" });
      peers = [];
      await until(() => puller.states().size === 0);
    } finally {
      await puller.stop();
    }
  });
});
