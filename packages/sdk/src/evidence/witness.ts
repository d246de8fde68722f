import { TongbanError } from "../errors/index.js";
import type { TrustStore } from "../trust/index.js";
import { fromB64u, toB64u } from "./bytes.js";
import { verifyCheckpoint, type VerifiedCheckpoint } from "./checkpoint.js";
import { signCosignature } from "./cosignature.js";
import { hashEquals } from "./hash.js";
import { verifyConsistency } from "./merkle.js";
import type { EvidenceSigner } from "./signed-statement.js";

/**
 * Proof that an origin's log forked. `same-size` is conclusive on its own:
 * two checkpoints signed by the origin for one tree size with different
 * roots. `inconsistent` holds two signed checkpoints and the consistency
 * proof the origin offered, which failed: a bad proof is not a fork by
 * itself, so ask the origin for a proof between the two sizes; if it has
 * none, its history was rewritten.
 */
export interface ForkAlert {
  readonly origin: string;
  readonly reason: "same-size" | "inconsistent";
  /** The checkpoint the witness held (compact JWS). */
  readonly held: string;
  /** The checkpoint that conflicts with it (compact JWS). */
  readonly received: string;
  /** base64url hashes of the consistency proof that failed; empty for same-size. */
  readonly proof: readonly string[];
}

/** What {@link Witness.observe} concluded. */
export type WitnessVerdict =
  | { readonly kind: "cosigned"; readonly checkpoint: VerifiedCheckpoint; readonly cosignature: string }
  /** Older than the held checkpoint but consistent with it: not cosigned (a witness only moves forward). */
  | { readonly kind: "stale"; readonly checkpoint: VerifiedCheckpoint }
  | { readonly kind: "fork"; readonly alert: ForkAlert };

/** Options for {@link Witness}. */
export interface WitnessOptions {
  /** This witness node's id: must be the node id of `signer`'s certificate. */
  readonly id: string;
  readonly signer: EvidenceSigner;
  readonly trust: TrustStore;
  readonly now?: () => Date;
  /** How far ahead of our clock a checkpoint timestamp may be. Default 5 minutes. */
  readonly maxFutureMs?: number;
}

/**
 * A node witnessing its partners' logs. It keeps the latest checkpoint per
 * origin and countersigns a new one only when it is consistent with that:
 * same size and root, or larger with a valid consistency proof. Two
 * checkpoints that cannot both be true come back as a {@link ForkAlert}
 * holding both signed checkpoints, so anyone with the trust anchor can check
 * the claim.
 *
 * Calls are serialised, so concurrent observations of one origin cannot race.
 *
 * @example
 * ```ts
 * const verdict = await witness.observe(jws, proofFromHeldSize);
 * if (verdict.kind === "fork") alerts.raise(forkAlertError(verdict.alert));
 * ```
 */
export class Witness {
  readonly #options: WitnessOptions;
  readonly #held = new Map<string, VerifiedCheckpoint>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: WitnessOptions) {
    if (typeof options?.id !== "string" || options.id === "") throw new TypeError("a witness needs its node id");
    this.#options = options;
  }

  /** Reloads held checkpoints (from {@link held}), verifying each. */
  async restore(checkpoints: Iterable<string>): Promise<void> {
    for (const jws of checkpoints) {
      const c = await verifyCheckpoint(jws, { trust: this.#options.trust });
      const cur = this.#held.get(c.origin);
      if (cur === undefined || c.treeSize > cur.treeSize) this.#held.set(c.origin, c);
    }
  }

  /** The checkpoint held for `origin`, if any. */
  latest(origin: string): VerifiedCheckpoint | undefined {
    return this.#held.get(origin);
  }

  /** Every held checkpoint (compact JWS), to persist and {@link restore}. */
  held(): string[] {
    return [...this.#held.values()].map((c) => c.jws);
  }

  /**
   * Verifies `checkpoint` and compares it with the held one from the same
   * origin. `proof` is the consistency proof between the smaller and the
   * larger of the two tree sizes (base64url strings or bytes); it is needed
   * whenever the sizes differ.
   *
   * @throws TongbanError AUDIT_CHECKPOINT_INVALID for a bad checkpoint, a
   *   timestamp too far ahead, or a missing proof; TRUST_* from the trust store.
   */
  observe(checkpoint: string, proof: readonly (string | Uint8Array)[] = []): Promise<WitnessVerdict> {
    const run = this.#queue.then(() => this.#observe(checkpoint, proof));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #observe(jws: string, rawProof: readonly (string | Uint8Array)[]): Promise<WitnessVerdict> {
    const { trust, signer, id } = this.#options;
    const now = (this.#options.now ?? (() => new Date()))();
    const c = await verifyCheckpoint(jws, { trust });
    if (c.timestamp.getTime() > now.getTime() + (this.#options.maxFutureMs ?? 300_000))
      throw new TongbanError("AUDIT_CHECKPOINT_INVALID", "the checkpoint is dated in the future", { details: { origin: c.origin, timestamp: c.timestamp.toISOString() } });
    const proof = rawProof.map((p) => {
      const b = typeof p === "string" ? fromB64u(p) : p;
      if (b?.byteLength !== 32) throw new TongbanError("AUDIT_CHECKPOINT_INVALID", "a consistency proof hash is malformed");
      return b;
    });
    const held = this.#held.get(c.origin);
    const fork = (reason: ForkAlert["reason"]): WitnessVerdict => ({
      kind: "fork",
      alert: { origin: c.origin, reason, held: (held as VerifiedCheckpoint).jws, received: jws, proof: proof.map(toB64u) },
    });
    if (held !== undefined) {
      if (c.treeSize === held.treeSize) {
        if (!hashEquals(c.rootHash, held.rootHash)) return fork("same-size");
      } else {
        if (proof.length === 0 && Math.min(c.treeSize, held.treeSize) > 0)
          throw new TongbanError("AUDIT_CHECKPOINT_INVALID", `a consistency proof between sizes ${held.treeSize} and ${c.treeSize} is required`, {
            details: { origin: c.origin, held: held.treeSize, received: c.treeSize },
          });
        const [small, large] = c.treeSize < held.treeSize ? [c, held] : [held, c];
        if (!verifyConsistency(small.treeSize, large.treeSize, small.rootHash, large.rootHash, proof)) return fork("inconsistent");
        if (c.treeSize < held.treeSize) return { kind: "stale", checkpoint: c };
      }
    }
    this.#held.set(c.origin, c);
    return { kind: "cosigned", checkpoint: c, cosignature: await signCosignature(c, id, now, signer) };
  }
}

/**
 * Checks a fork alert offline: both checkpoints verify and come from the
 * named origin, and they do conflict. `conclusive` is true for two
 * different roots at one size; for `inconsistent` it is false (see
 * {@link ForkAlert}).
 *
 * @throws TongbanError AUDIT_CHECKPOINT_INVALID when the alert does not
 *   show a conflict; TRUST_* when a checkpoint's signer is not trusted.
 */
export async function verifyForkAlert(alert: ForkAlert, options: { readonly trust: TrustStore }): Promise<{ conclusive: boolean }> {
  const a = await verifyCheckpoint(alert.held, options);
  const b = await verifyCheckpoint(alert.received, options);
  const notAFork = (why: string): never => {
    throw new TongbanError("AUDIT_CHECKPOINT_INVALID", `the alert shows no fork: ${why}`, { details: { origin: alert.origin } });
  };
  if (a.origin !== alert.origin || b.origin !== alert.origin) notAFork("the checkpoints come from different origins");
  if (a.treeSize === b.treeSize) {
    if (hashEquals(a.rootHash, b.rootHash)) notAFork("same size, same root");
    return { conclusive: true };
  }
  const proof = alert.proof.map((p) => fromB64u(p) ?? notAFork("malformed proof"));
  const [small, large] = a.treeSize < b.treeSize ? [a, b] : [b, a];
  if (proof.some((p) => p.byteLength !== 32)) notAFork("malformed proof");
  if (verifyConsistency(small.treeSize, large.treeSize, small.rootHash, large.rootHash, proof)) notAFork("the proof is valid");
  return { conclusive: false };
}

/** The alert as a TongbanError AUDIT_CHECKPOINT_CONFLICT, for logs and APIs. */
export function forkAlertError(alert: ForkAlert): TongbanError {
  return new TongbanError("AUDIT_CHECKPOINT_CONFLICT", `conflicting checkpoints from ${alert.origin} (${alert.reason})`, {
    details: { origin: alert.origin, reason: alert.reason, held: alert.held, received: alert.received, proof: [...alert.proof] },
  });
}
