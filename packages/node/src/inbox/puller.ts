import { create } from "@bufbuild/protobuf";
import { TongbanError, decodeEnvelope, decodeHeader, type GrpcClient } from "@tongban/sdk";
import { PullAcknowledgementSchema, type Envelope, type FederationService, type PullAcknowledgement, type PullEventsResponse } from "@tongban/sdk/gen";
import type { MaterialStore } from "../handlers/materials.js";

/** What the puller does with a pulled envelope: the intake's `deliver`, answering its receipt (protobuf). */
export type PulledTaker = (peer: string, envelope: Envelope) => Promise<Uint8Array>;

/** An event of the puller, for logs and metrics. */
export interface PullerEvent {
  /**
   * `pull.connected` / `pull.disconnected`: a partner's PullEvents answered / failed (with `error`); `pull.taken` /
   * `pull.refused`: a pulled envelope was receipted / refused (with `error`), and the answer sent back.
   */
  readonly type: "pull.connected" | "pull.disconnected" | "pull.taken" | "pull.refused";
  readonly peer: string;
  readonly error?: { readonly code: string; readonly message: string };
}

/** What the puller is built from. */
export interface PullerOptions {
  /** The push partners to pull from (read again every `reconcileMs`: the directory may change). */
  readonly peers: () => readonly string[];
  /** The mutual-TLS channel to a partner (it must present the certificate of that node id). */
  readonly client: (nodeId: string) => GrpcClient<typeof FederationService>;
  readonly take: PulledTaker;
  /** Where fetched materials go (verified by digest). */
  readonly materials: MaterialStore;
  /** How long each PullEvents stream stays open waiting, in ms. */
  readonly waitMs: number;
  /** Pulled envelopes processed at once per partner (default 16). */
  readonly concurrency?: number;
  readonly onEvent?: (event: PullerEvent) => void;
  /** How often the partner list is read again, in ms (default 5 s). */
  readonly reconcileMs?: number;
  /** Backoff after a failed stream: first and largest wait, in ms (default 500 ms and 30 s). */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

/** How a partner's pulling stands (console, tests). */
export interface PullState {
  readonly connected: boolean;
  readonly taken: number;
  readonly refused: number;
  readonly failures: number;
  readonly lastError?: { readonly code: string; readonly message: string };
}

interface Loop {
  readonly abort: AbortController;
  readonly done: Promise<void>;
  state: { connected: boolean; taken: number; refused: number; failures: number; lastError?: { code: string; message: string } };
}

/** A material named by a pulled envelope could not be fetched: no answer is sent, so the partner queues it again. */
class MaterialFetchFailed extends Error {
  constructor(override readonly cause: TongbanError, message: string) {
    super(message);
  }
}

const errorOf = (err: unknown): TongbanError => (err instanceof TongbanError ? err : new TongbanError("INTERNAL", err instanceof Error ? err.message : String(err)));

/**
 * The receiving side of pull mode (docs/protocol.md "Pull mode"), for a node that takes no inbound connections: one
 * loop per push partner keeps a PullEvents stream open (`waitMs` at a time, then at once again), fetches the
 * materials each envelope names (FetchMaterial, verified by digest), hands the envelope to the intake exactly as a
 * Deliver call would — with the partner's TLS identity, checked by the channel, as the peer — and answers with
 * AcknowledgePulled: the signed receipt, or the refusal's code. A failed stream is retried with backoff; an answer
 * that does not reach the partner is harmless, because the partner queues the envelope again and the intake's dedupe
 * answers it with the same receipt.
 */
export class Puller {
  readonly #o: PullerOptions;
  readonly #loops = new Map<string, Loop>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(options: PullerOptions) {
    this.#o = options;
  }

  /** Starts pulling from every partner listed, and follows the list. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const reconcile = () => {
      if (this.#stopped) return;
      const want = new Set(this.#o.peers());
      for (const peer of want) if (!this.#loops.has(peer)) this.#loops.set(peer, this.#run(peer));
      for (const [peer, loop] of this.#loops) {
        if (want.has(peer)) continue;
        loop.abort.abort();
        this.#loops.delete(peer);
      }
      this.#timer = setTimeout(reconcile, this.#o.reconcileMs ?? 5_000);
      this.#timer.unref();
    };
    reconcile();
  }

  /** Stops every loop: streams are cancelled, envelopes being taken finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const loops = [...this.#loops.values()];
    this.#loops.clear();
    for (const l of loops) l.abort.abort();
    await Promise.all(loops.map((l) => l.done));
  }

  /** Each partner pulled from, and how it stands. */
  states(): ReadonlyMap<string, PullState> {
    return new Map([...this.#loops].map(([peer, l]) => [peer, { ...l.state }]));
  }

  #run(peer: string): Loop {
    const abort = new AbortController();
    const state: Loop["state"] = { connected: false, taken: 0, refused: 0, failures: 0 };
    const { initialMs, maxMs } = this.#o.backoff ?? { initialMs: 500, maxMs: 30_000 };
    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(done, ms);
        function done() {
          clearTimeout(t);
          abort.signal.removeEventListener("abort", done);
          resolve();
        }
        abort.signal.addEventListener("abort", done, { once: true });
      });
    const done = (async () => {
      let cursor = "";
      while (!abort.signal.aborted) {
        const inflight = new Set<Promise<void>>();
        const opened = Date.now();
        let got = 0;
        try {
          const stream = this.#o.client(peer).pullEvents({ after: cursor, max: 256, waitMs: this.#o.waitMs }, { timeoutMs: this.#o.waitMs + 15_000, signal: abort.signal });
          let first = true;
          for await (const ev of stream) {
            if (first && !state.connected) this.#connected(peer, state);
            first = false;
            got++;
            cursor = ev.cursor;
            const p: Promise<void> = this.#handle(peer, ev, state).finally(() => inflight.delete(p));
            inflight.add(p);
            if (inflight.size >= (this.#o.concurrency ?? 16)) await Promise.race(inflight);
          }
          await Promise.all(inflight);
          // A stream that ended without error, even an empty one, shows the partner answers.
          if (!state.connected) this.#connected(peer, state);
          state.failures = 0;
          // A partner that ends empty streams at once (ignoring the wait asked for) is not called in a tight loop.
          if (got === 0 && Date.now() - opened < Math.min(1_000, this.#o.waitMs)) await pause(1_000);
        } catch (err) {
          await Promise.all(inflight);
          if (abort.signal.aborted) break;
          const e = errorOf(err);
          state.failures++;
          state.lastError = { code: e.code, message: e.message };
          if (state.connected || state.failures === 1) this.#o.onEvent?.({ type: "pull.disconnected", peer, error: state.lastError });
          state.connected = false;
          await pause(Math.min(maxMs, initialMs * 2 ** Math.min(state.failures - 1, 16)) * (0.5 + Math.random() / 2));
        }
      }
    })();
    return { abort, done, state };
  }

  #connected(peer: string, state: Loop["state"]): void {
    state.connected = true;
    delete state.lastError;
    this.#o.onEvent?.({ type: "pull.connected", peer });
  }

  async #handle(peer: string, ev: PullEventsResponse, state: Loop["state"]): Promise<void> {
    let ack: PullAcknowledgement;
    try {
      if (ev.envelope === undefined) throw new TongbanError("ENVELOPE_MALFORMED", "the pulled event carries no envelope");
      if (ev.materials.length > 0) await this.#fetchMaterials(peer, ev.envelope, ev.materials);
      const receipt = await this.#o.take(peer, ev.envelope);
      ack = create(PullAcknowledgementSchema, { cursor: ev.cursor, outcome: { case: "receipt", value: decodeEnvelope(receipt) } });
      state.taken++;
      this.#o.onEvent?.({ type: "pull.taken", peer });
    } catch (err) {
      if (err instanceof MaterialFetchFailed) {
        // Not an answer about the message: the partner queues it again when its wait ends, and the fetch is retried.
        state.lastError = { code: err.cause.code, message: err.message };
        return;
      }
      const e = errorOf(err);
      const advice = Number(e.details["retryAfterMs"]);
      ack = create(PullAcknowledgementSchema, {
        cursor: ev.cursor,
        outcome: { case: "refusal", value: { code: e.code, message: e.message, retryAfterMs: Number.isFinite(advice) && advice > 0 ? Math.min(advice, 2 ** 32 - 1) : 0 } },
      });
      state.refused++;
      this.#o.onEvent?.({ type: "pull.refused", peer, error: { code: e.code, message: e.message } });
    }
    try {
      await this.#o.client(peer).acknowledgePulled({ acknowledgements: [ack] }, { timeoutMs: 10_000 });
    } catch (err) {
      // The partner parks the envelope again after its wait; the dedupe answers it with the same receipt.
      const e = errorOf(err);
      state.lastError = { code: e.code, message: e.message };
    }
  }

  /** Fetches the materials a pulled envelope names that are not stored here yet (FetchMaterial, checked by digest). */
  async #fetchMaterials(peer: string, envelope: Envelope, digests: readonly Uint8Array[]): Promise<void> {
    const caseId = decodeHeader(envelope.header).caseId;
    for (const digest of digests) {
      if (await this.#o.materials.has(digest)) continue;
      try {
        const stream = this.#o.client(peer).fetchMaterial({ caseId, digest, offset: 0n }, { timeoutMs: 120_000 });
        await this.#o.materials.put(
          (async function* () {
            let any = false;
            for await (const c of stream) {
              any = true;
              yield { digest, digestAlgorithm: "sha256", totalSize: c.totalSize, offset: c.offset, data: c.data };
            }
            // An empty material comes as no chunk at all; the store takes it as one empty chunk (and checks the digest).
            if (!any) yield { digest, digestAlgorithm: "sha256", totalSize: 0n, offset: 0n, data: new Uint8Array() };
          })(),
        );
      } catch (err) {
        const e = errorOf(err);
        throw new MaterialFetchFailed(e, `material ${Buffer.from(digest).toString("hex")} could not be fetched from ${peer}: ${e.code}: ${e.message}`);
      }
    }
  }
}
