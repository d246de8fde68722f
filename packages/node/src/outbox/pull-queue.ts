import { randomBytes } from "node:crypto";
import { TongbanError, isErrorCode } from "@tongban/sdk";

/** One envelope waiting for its pull destination, as {@link PullQueue.pull} hands it out. */
export interface PulledEnvelope {
  /** Opaque: names the envelope in an acknowledgement and as a later `after`. */
  readonly cursor: string;
  /** The signed envelope (protobuf), exactly as queued. */
  readonly envelope: Uint8Array;
  /** SHA-256 digests of the materials the destination fetches (FetchMaterial) before taking the envelope. */
  readonly materials: readonly Uint8Array[];
}

/** The destination's answer to one pulled envelope: its signed receipt, or the refusal Deliver would have answered. */
export type PullAnswer =
  | { readonly cursor: string; readonly receipt: Uint8Array }
  | { readonly cursor: string; readonly refusal: { readonly code: string; readonly message: string; readonly retryAfterMs?: number } };

/** What the pull queue is built from. */
export interface PullQueueOptions {
  /** How long a parked envelope waits to be pulled and answered while its destination is connected, in ms (default 30 s). */
  readonly answerWithinMs?: number;
  /**
   * How long after its last PullEvents stream ended a destination still counts as connected, in ms (default 5 s):
   * an envelope for a destination not connected fails at once (TRANSPORT_UNAVAILABLE), as a push partner that refuses
   * the connection does, and the outbox's backoff takes over.
   */
  readonly connectedGraceMs?: number;
  /** The digests (SHA-256) of the materials an envelope to `destination` names; the destination fetches them first. */
  readonly materialsFor?: (destination: string, envelope: Uint8Array) => Promise<readonly Uint8Array[]>;
  /** Called when a destination opens a stream after being away (not connected): the outbox sends what it held back. */
  readonly onConnect?: (destination: string) => void;
  readonly now?: () => number;
}

interface Parked {
  readonly seq: number;
  readonly cursor: string;
  readonly envelope: Uint8Array;
  readonly materials: readonly Uint8Array[];
  readonly resolve: (receipt: Uint8Array) => void;
  readonly reject: (err: TongbanError) => void;
  readonly timer: NodeJS.Timeout;
}

interface Lane {
  /** Parked envelopes by sequence number; a Map iterates in insertion order, which is sequence order. */
  readonly parked: Map<number, Parked>;
  /** Streams waiting for the next envelope. */
  readonly wakers: Set<() => void>;
  streams: number;
  lastStreamEnd: number;
  goneTimer: NodeJS.Timeout | undefined;
  /** Set when the grace after its last stream ran out (what waited was failed): not connected until it pulls again. */
  gone: boolean;
}

/** Cursors are `<boot>.<seq>`: a cursor from before a restart never names an envelope parked after it. */
const CURSOR = /^([A-Za-z0-9_-]{8})\.([1-9][0-9]{0,15})$/;

/**
 * The sending side of pull mode (docs/protocol.md "Pull mode"): for a destination that takes no inbound connections,
 * the outbox's attempt {@link PullQueue.send | parks} the envelope here instead of calling Deliver; the destination
 * collects it with PullEvents ({@link PullQueue.pull}) and answers it with AcknowledgePulled
 * ({@link PullQueue.acknowledge}); the attempt then ends as a Deliver call would have — with the receipt, which the
 * outbox verifies as always, or with the refusal's code. Nothing here is durable: the outbox's record is, and an
 * attempt interrupted by a restart is simply retried (the destination's dedupe answers a second delivery with the
 * same receipt).
 */
export class PullQueue {
  readonly #o: PullQueueOptions;
  readonly #now: () => number;
  readonly #boot = randomBytes(6).toString("base64url");
  readonly #lanes = new Map<string, Lane>();
  /** Materials offered to a destination (hex digest → parked envelopes naming it): FetchMaterial lets it read them. */
  readonly #offered = new Map<string, Map<string, number>>();
  #seq = 0;
  #closed = false;

  constructor(options: PullQueueOptions = {}) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * A {@link Sender} for a pull destination: parks the envelope until the destination pulls and answers it.
   * Resolves with the destination's receipt (protobuf); rejects with the refusal's code, or TRANSPORT_UNAVAILABLE
   * when the destination is not connected or does not answer within `answerWithinMs`.
   */
  async send(destination: string, envelope: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) throw new TongbanError("TRANSPORT_UNAVAILABLE", "the node is stopping", { details: { destination } });
    const lane = this.#lane(destination);
    if (!this.connected(destination)) {
      throw new TongbanError("TRANSPORT_UNAVAILABLE", `${destination} takes deliveries by pulling and is not connected`, { details: { destination } });
    }
    const materials = (await this.#o.materialsFor?.(destination, envelope)) ?? [];
    return new Promise<Uint8Array>((resolve, reject) => {
      const seq = ++this.#seq;
      const hexes = materials.map((d) => Buffer.from(d).toString("hex"));
      const release = () => {
        lane.parked.delete(seq);
        this.#unoffer(destination, hexes);
      };
      const waitMs = this.#o.answerWithinMs ?? 30_000;
      const timer = setTimeout(() => {
        release();
        reject(new TongbanError("TRANSPORT_UNAVAILABLE", `${destination} did not pull and answer the message within ${waitMs} ms`, { details: { destination } }));
      }, waitMs);
      timer.unref();
      lane.parked.set(seq, {
        seq,
        cursor: `${this.#boot}.${seq}`,
        envelope,
        materials,
        timer,
        resolve: (r) => {
          release();
          resolve(r);
        },
        reject: (e) => {
          release();
          reject(e);
        },
      });
      this.#offer(destination, hexes);
      for (const wake of [...lane.wakers]) wake();
    });
  }

  /**
   * The envelopes parked for `destination` after the cursor `after` (empty or unknown: from the oldest), then those
   * parked while the stream stays open — at most `max` in all, for at most `waitMs`, until `signal` aborts.
   */
  async *pull(destination: string, options: { readonly after: string; readonly max: number; readonly waitMs: number; readonly signal: AbortSignal }): AsyncGenerator<PulledEnvelope> {
    const lane = this.#lane(destination);
    const wasAway = !this.connected(destination);
    lane.streams++;
    lane.gone = false;
    try {
      if (wasAway) this.#o.onConnect?.(destination);
      const m = CURSOR.exec(options.after);
      let last = m !== null && m[1] === this.#boot ? Number(m[2]) : 0;
      let sent = 0;
      const until = this.#now() + options.waitMs;
      while (!options.signal.aborted && !this.#closed) {
        for (const p of lane.parked.values()) {
          if (p.seq <= last) continue;
          last = p.seq;
          yield { cursor: p.cursor, envelope: p.envelope, materials: p.materials };
          if (++sent >= options.max || options.signal.aborted) return;
        }
        const left = until - this.#now();
        if (left <= 0) return;
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            lane.wakers.delete(done);
            options.signal.removeEventListener("abort", done);
            resolve();
          };
          const timer = setTimeout(done, left);
          lane.wakers.add(done);
          options.signal.addEventListener("abort", done, { once: true });
        });
      }
    } finally {
      lane.streams--;
      lane.lastStreamEnd = this.#now();
      if (lane.streams === 0) this.#watchGone(destination, lane);
    }
  }

  /**
   * The destination's last stream ended: unless it opens another within `connectedGraceMs` (a puller reopens at
   * once), what waits for it fails now (TRANSPORT_UNAVAILABLE) rather than at the end of its answer wait — the
   * outbox then holds the destination as unreachable until it pulls again.
   */
  #watchGone(destination: string, lane: Lane): void {
    if (lane.goneTimer !== undefined) clearTimeout(lane.goneTimer);
    lane.goneTimer = setTimeout(() => {
      lane.goneTimer = undefined;
      if (lane.streams > 0) return;
      lane.gone = true;
      for (const p of [...lane.parked.values()]) {
        clearTimeout(p.timer);
        p.reject(new TongbanError("TRANSPORT_UNAVAILABLE", `${destination} takes deliveries by pulling and is not connected`, { details: { destination } }));
      }
    }, (this.#o.connectedGraceMs ?? 5_000) + 1);
    lane.goneTimer.unref();
  }

  /**
   * The destination's answers: each ends the attempt waiting on that cursor. Returns how many were taken and the
   * cursors no attempt waits on (answered before, timed out, from before a restart, or never handed out); their
   * envelopes are parked again on the outbox's next attempt.
   */
  acknowledge(destination: string, answers: readonly PullAnswer[]): { readonly accepted: number; readonly unknown: readonly string[] } {
    const lane = this.#lanes.get(destination);
    const unknown: string[] = [];
    let accepted = 0;
    for (const a of answers) {
      const m = CURSOR.exec(a.cursor);
      const p = m !== null && m[1] === this.#boot ? lane?.parked.get(Number(m[2])) : undefined;
      if (p === undefined) {
        unknown.push(a.cursor);
        continue;
      }
      clearTimeout(p.timer);
      accepted++;
      if ("receipt" in a) p.resolve(a.receipt);
      else {
        // A code this node does not know is no reason to give up: it is retried like an unknown gRPC status.
        const code = isErrorCode(a.refusal.code) ? a.refusal.code : "TRANSPORT_UNKNOWN_STATUS";
        const advice = a.refusal.retryAfterMs;
        p.reject(new TongbanError(code, `${destination} refused the pulled message: ${a.refusal.message}`.slice(0, 1_000), {
          details: { destination, ...(code === a.refusal.code ? {} : { code: a.refusal.code.slice(0, 64) }), ...(advice !== undefined && advice > 0 ? { retryAfterMs: advice } : {}) },
        }));
      }
    }
    return { accepted, unknown };
  }

  /** True while `destination` has a PullEvents stream open, or had one within `connectedGraceMs`. */
  connected(destination: string): boolean {
    const lane = this.#lanes.get(destination);
    if (lane === undefined) return false;
    return lane.streams > 0 || (!lane.gone && lane.lastStreamEnd > 0 && this.#now() - lane.lastStreamEnd <= (this.#o.connectedGraceMs ?? 5_000));
  }

  /** Envelopes parked for `destination` (handed out or not) and whether it is connected — for the console and metrics. */
  state(destination: string): { readonly waiting: number; readonly connected: boolean; readonly lastStreamEnd: number | undefined } {
    const lane = this.#lanes.get(destination);
    return { waiting: lane?.parked.size ?? 0, connected: this.connected(destination), lastStreamEnd: lane === undefined || lane.lastStreamEnd === 0 ? undefined : lane.lastStreamEnd };
  }

  /** True when a material (SHA-256 digest) is named by an envelope parked for `destination`: it may fetch it. */
  offered(destination: string, digest: Uint8Array): boolean {
    return (this.#offered.get(destination)?.get(Buffer.from(digest).toString("hex")) ?? 0) > 0;
  }

  /** Fails every parked attempt (the node is stopping) and ends every stream; later sends fail at once. */
  close(): void {
    this.#closed = true;
    for (const [destination, lane] of this.#lanes) {
      if (lane.goneTimer !== undefined) clearTimeout(lane.goneTimer);
      for (const p of [...lane.parked.values()]) {
        clearTimeout(p.timer);
        p.reject(new TongbanError("TRANSPORT_UNAVAILABLE", "the node is stopping", { details: { destination } }));
      }
      for (const wake of [...lane.wakers]) wake();
    }
  }

  #lane(destination: string): Lane {
    let lane = this.#lanes.get(destination);
    if (lane === undefined) {
      lane = { parked: new Map(), wakers: new Set(), streams: 0, lastStreamEnd: 0, goneTimer: undefined, gone: false };
      this.#lanes.set(destination, lane);
    }
    return lane;
  }

  #offer(destination: string, hexes: readonly string[]): void {
    if (hexes.length === 0) return;
    const m = this.#offered.get(destination) ?? new Map<string, number>();
    for (const h of hexes) m.set(h, (m.get(h) ?? 0) + 1);
    this.#offered.set(destination, m);
  }

  #unoffer(destination: string, hexes: readonly string[]): void {
    const m = this.#offered.get(destination);
    if (m === undefined) return;
    for (const h of hexes) {
      const n = (m.get(h) ?? 0) - 1;
      if (n > 0) m.set(h, n);
      else m.delete(h);
    }
  }
}
