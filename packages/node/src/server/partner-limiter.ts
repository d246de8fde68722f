import { TongbanError } from "@tongban/sdk";

/** Limits of one partner's deliveries. */
export interface PartnerLimits {
  /** Sustained deliveries per second. */
  readonly rate: number;
  /** Deliveries that may come at once above the rate (the bucket size). */
  readonly burst: number;
  /** Deliveries of one partner being processed at once. */
  readonly inFlight: number;
}

interface Bucket {
  tokens: number;
  at: number;
  inFlight: number;
}

/**
 * Per-partner admission for the federation service (docs/directory.md
 * "Limits"): a token bucket per partner node id and a cap on its deliveries
 * in flight, so one partner's flood is refused with RATE_LIMITED or
 * OVERLOADED — with `retryAfterMs` advice the sender's outbox honours —
 * while every other partner keeps its own budget.
 */
export class PartnerLimiter {
  readonly #limits: PartnerLimits;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limits: PartnerLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  /** Takes a slot for one delivery of `partner`; call the returned function when it is done. */
  admit(partner: string): () => void {
    const now = this.#now();
    const { rate, burst, inFlight } = this.#limits;
    let b = this.#buckets.get(partner);
    if (b === undefined) {
      b = { tokens: burst, at: now, inFlight: 0 };
      this.#buckets.set(partner, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    if (b.tokens < 1) {
      const retryAfterMs = Math.ceil(((1 - b.tokens) / rate) * 1000);
      throw new TongbanError("RATE_LIMITED", `${partner} exceeded ${rate} deliveries per second`, { details: { partner, retryAfterMs } });
    }
    if (b.inFlight >= inFlight) {
      throw new TongbanError("OVERLOADED", `${partner} has ${b.inFlight} deliveries in flight (limit ${inFlight})`, { details: { partner, retryAfterMs: 100 } });
    }
    b.tokens -= 1;
    b.inFlight++;
    const bucket = b;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      bucket.inFlight--;
    };
  }
}
