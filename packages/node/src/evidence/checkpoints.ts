import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  Witness,
  consistencyProof,
  decodeCheckpoint,
  signCheckpoint,
  signCosignature,
  MerkleAccumulator,
  verifyCosignature,
  verifyCheckpoint,
  type EnvelopeSigner,
  type EvidenceSigner,
  type TrustStore,
} from "@tongban/sdk";
import { BodySchema } from "@tongban/sdk/gen";
import type { EventLog, NodeEvent } from "../handlers/events.js";
import type { EffectHandler } from "../inbox/intake.js";
import { outboundMessage } from "../handlers/outbound.js";
import type { Outbox } from "../outbox/outbox.js";
import type { GroupCommitter } from "../store/group-committer.js";
import { storeKeys } from "../store/keys.js";
import type { BatchOp, Store } from "../store/types.js";
import type { EvidenceLog } from "./evidence-log.js";

/** What checkpoints and witnessing are built from. */
export interface CheckpointsDeps {
  readonly nodeId: string;
  readonly store: Store;
  readonly committer: GroupCommitter;
  readonly log: EvidenceLog;
  readonly outbox: Outbox;
  readonly trust: TrustStore;
  /** The envelope signer (messages to witnesses). */
  readonly signer: EnvelopeSigner;
  /** The checkpoint signer: the same key with its certificate chain; undefined for a GM node (checkpoints are ES256/EdDSA). */
  readonly evidenceSigner: () => EvidenceSigner | undefined;
  /** Partners asked to witness this node's checkpoints. */
  readonly witnesses: () => readonly string[];
  readonly events: EventLog;
  readonly now?: () => Date;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const latestKey = storeKeys.meta.key("evidence-checkpoint-latest");
const witnessedKey = (peer: string) => storeKeys.meta.key(`evidence-witnessed\u0000${peer}`);
const pendingKey = (peer: string) => storeKeys.meta.key(`evidence-pending\u0000${peer}`);
const heldKey = (origin: string) => storeKeys.meta.key(`witness-held\u0000${origin}`);
/** A witness request unanswered this long is sent again. */
const PENDING_MS = 10 * 60_000;

/**
 * Signed checkpoints of the node's evidence log and witnessing between
 * partners (docs/evidence.md "Checkpoints and witnesses"): the node signs a
 * checkpoint when its log grew; each partner is sent the checkpoint with a
 * consistency proof from the last one it cosigned, checks it with an SDK
 * Witness, and answers with its cosignature — or raises `evidence.fork`
 * with both checkpoints as proof. Requests and answers travel as
 * CHECKPOINT_COSIGNATURE envelopes through the outbox, receipted like all.
 */
export class Checkpoints {
  readonly #d: CheckpointsDeps;
  readonly #now: () => Date;
  #witness: Witness | undefined;
  readonly #unsettled = new Map<string, NodeEvent[]>();
  readonly #lanes = new Map<string, Promise<unknown>>();
  /** The checkpoint being signed, if any: the next waits for it. */
  #checkpointing: Promise<unknown> = Promise.resolve();

  constructor(deps: CheckpointsDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Restores the witness state (the last checkpoint cosigned per origin). */
  async open(): Promise<void> {
    const signer = this.#d.evidenceSigner();
    if (signer === undefined) return;
    this.#witness = new Witness({ id: this.#d.nodeId, signer, trust: this.#d.trust, now: this.#now });
    const held: string[] = [];
    for await (const e of this.#d.store.iterate(storeKeys.meta.range())) {
      const name = dec.decode(e.key);
      if (name.includes("witness-held\u0000")) held.push(dec.decode(e.value));
    }
    await this.#witness.restore(held).catch(() => undefined);
  }

  /** The latest signed checkpoint, if any. */
  async latest(): Promise<{ size: number; jws: string } | undefined> {
    const v = await this.#d.store.get(latestKey);
    return v === undefined ? undefined : (JSON.parse(dec.decode(v)) as { size: number; jws: string });
  }

  /**
   * Signs a checkpoint over the whole log when it grew since the last one —
   * unless all it grew by is witnessing traffic (entries without a case: the
   * checkpoint requests and answers themselves), which would otherwise keep
   * an idle federation checkpointing every minute forever; `force` signs
   * anyway (on stop, before an export). Returns it (or the latest).
   */
  checkpoint(options: { readonly force?: boolean } = {}): Promise<{ size: number; jws: string } | undefined> {
    // One at a time: two calls at once (the timer and a forced one, before an export or at stop) would sign two
    // different checkpoints of one size — the second overwriting the first after a witness was asked to cosign it.
    const run = this.#checkpointing.then(() => this.#checkpoint(options));
    this.#checkpointing = run.catch(() => undefined);
    return run;
  }

  async #checkpoint(options: { readonly force?: boolean }): Promise<{ size: number; jws: string } | undefined> {
    const signer = this.#d.evidenceSigner();
    const latest = await this.latest();
    // Over what is durable: a batch in flight may still fail.
    const state = this.#d.log.committed;
    const size = state.size;
    if (signer === undefined || size === 0 || latest?.size === size) return latest;
    if (options.force !== true && latest !== undefined && this.#d.log.caseEntriesUpTo <= latest.size) return latest;
    const root = MerkleAccumulator.from(size, state.peaks).root();
    const jws = await signCheckpoint({ origin: this.#d.nodeId, treeSize: size, rootHash: root, timestamp: this.#now() }, signer);
    const record = { size, jws };
    await this.#d.committer.commit([
      { type: "put", key: storeKeys.evidenceCheckpoint.key(size), value: enc.encode(jws) },
      { type: "put", key: latestKey, value: enc.encode(JSON.stringify(record)) },
    ]);
    return record;
  }

  /** Asks every witness without a pending request to cosign the latest checkpoint. */
  async requestWitnesses(): Promise<number> {
    const latest = await this.latest();
    if (latest === undefined) return 0;
    let sent = 0;
    for (const peer of this.#d.witnesses()) {
      const pending = await this.#d.store.get(pendingKey(peer));
      if (pending !== undefined && Date.now() - (JSON.parse(dec.decode(pending)) as { at: number }).at < PENDING_MS) continue;
      const prev = await this.#d.store.get(witnessedKey(peer));
      const previous = prev === undefined ? 0 : Number(dec.decode(prev));
      if (previous >= latest.size) continue;
      const proof = previous === 0 ? [] : await consistencyProof(previous, latest.size, this.#d.log.tree);
      const body = create(BodySchema, { kind: { case: "checkpointCosignature", value: { checkpoint: enc.encode(latest.jws), consistencyProof: proof, previousTreeSize: BigInt(previous) } } });
      const ops = await this.#message(peer, body);
      ops.push({ type: "put", key: pendingKey(peer), value: enc.encode(JSON.stringify({ at: Date.now(), size: latest.size })) });
      await this.#d.committer.commit(ops);
      sent++;
    }
    if (sent > 0) this.#d.outbox.poke();
    return sent;
  }

  /** The intake's effect handler for CHECKPOINT_COSIGNATURE bodies (both directions). */
  readonly effects: EffectHandler = async (m) => {
    const { header, body } = m;
    if (body.kind.case !== "checkpointCosignature") return [];
    const c = body.kind.value;
    const now = this.#now();
    const checkpoint = dec.decode(c.checkpoint);
    const ops: BatchOp[] = [];
    const emitted: NodeEvent[] = [];
    const event = (init: Parameters<EventLog["ops"]>[0]) => {
      const { event: e, op } = this.#d.events.ops(init, now);
      ops.push(op);
      emitted.push(e);
    };
    if (c.cosignature.length > 0) {
      // An answer: a witness cosigned one of our checkpoints (the one asked for, or the one it holds: see below).
      const cp = decodeCheckpoint(checkpoint);
      if (cp.origin !== this.#d.nodeId) return [];
      await verifyCosignature(dec.decode(c.cosignature), cp, { trust: this.#d.trust });
      const ours = await this.#d.store.get(storeKeys.evidenceCheckpoint.key(cp.treeSize));
      if (ours === undefined || dec.decode(ours) !== checkpoint) {
        // Signed with our key, yet not a checkpoint we stored: our key signed another history, or our store lost one.
        event({ type: "evidence.checkpoint-unknown", alert: true, partner: header.sender, detail: { treeSize: cp.treeSize, received: checkpoint, stored: ours === undefined ? null : dec.decode(ours) } });
      } else {
        ops.push(
          { type: "put", key: storeKeys.evidenceCosignature.key(cp.treeSize, header.sender), value: c.cosignature },
          // What the witness holds now: our next request's consistency proof starts there.
          { type: "put", key: witnessedKey(header.sender), value: enc.encode(String(cp.treeSize)) },
          { type: "del", key: pendingKey(header.sender) },
        );
        event({ type: "evidence.cosigned", partner: header.sender, detail: { treeSize: cp.treeSize } });
      }
    } else {
      // A request: witness the sender's checkpoint.
      const witness = this.#witness;
      const signer = this.#d.evidenceSigner();
      if (witness === undefined || signer === undefined) return [];
      const verified = await verifyCheckpoint(checkpoint, { trust: this.#d.trust });
      if (verified.origin !== header.sender) return [];
      // One request per origin at a time: what we hold must not change between the check and the verdict.
      const { verdict, held } = await this.#one(header.sender, async () => {
        const held = witness.latest(header.sender);
        // The proof starts at the size the origin believes we hold. When we hold
        // another (an answer still on its way, a request resent after a long
        // silence, our state restored from a backup) it proves nothing about our
        // checkpoint — no verdict, no false alarm: we answer with a cosignature
        // of the checkpoint we hold, and the origin's next request starts there.
        const applies = held === undefined || verified.treeSize === held.treeSize || (verified.treeSize > held.treeSize && Number(c.previousTreeSize) === held.treeSize);
        return { held, verdict: applies ? await witness.observe(checkpoint, c.consistencyProof) : undefined };
      });
      if (verdict?.kind === "fork") {
        event({ type: "evidence.fork", alert: true, partner: header.sender, detail: { ...verdict.alert } });
      } else if (verdict?.kind === "cosigned") {
        ops.push({ type: "put", key: heldKey(header.sender), value: enc.encode(checkpoint) });
        ops.push(...(await this.#answer(header.sender, c.checkpoint, verdict.cosignature, now)));
      } else if (held !== undefined) {
        // Not applicable, or stale (older than what we hold): tell the origin what we hold.
        ops.push(...(await this.#answer(header.sender, enc.encode(held.jws), await signCosignature(held, this.#d.nodeId, now, signer), now)));
      }
    }
    if (emitted.length > 0) this.#unsettled.set(`${header.sender} ${header.messageId}`, emitted);
    return ops;
  };

  /** Call after the intake's batch for `${sender} ${messageId}` committed or failed. */
  settle(messageKey: string): void {
    const events = this.#unsettled.get(messageKey);
    if (events === undefined) return;
    this.#unsettled.delete(messageKey);
    this.#d.events.settle(events);
    this.#d.outbox.poke();
  }

  #one<T>(origin: string, f: () => Promise<T>): Promise<T> {
    const run = (this.#lanes.get(origin) ?? Promise.resolve()).then(f);
    const tail = run.catch(() => undefined);
    this.#lanes.set(origin, tail);
    void tail.then(() => {
      if (this.#lanes.get(origin) === tail) this.#lanes.delete(origin);
    });
    return run;
  }

  async #answer(origin: string, checkpoint: Uint8Array, cosignature: string, now: Date): Promise<BatchOp[]> {
    const answer = create(BodySchema, { kind: { case: "checkpointCosignature", value: { checkpoint, cosignature: enc.encode(cosignature), witness: this.#d.nodeId, witnessedAt: timestampFromDate(now) } } });
    return this.#message(origin, answer);
  }

  async #message(peer: string, body: ReturnType<typeof create<typeof BodySchema>>): Promise<BatchOp[]> {
    return (await outboundMessage(this.#d, { destination: peer, body, now: this.#now(), caseId: "" })).ops;
  }
}

