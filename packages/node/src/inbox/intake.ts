import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { TongbanError, allocBytes, isAscii, wireBytesOf, writeAscii, type VerifiedEnvelope } from "@tongban/sdk";
import { BodySchema, EnvelopeSchema, HeaderSchema, type Body, type Envelope, type Header } from "@tongban/sdk/gen";
import type { GroupCommitter } from "../store/group-committer.js";
import { storeKeys } from "../store/keys.js";
import type { BatchOp, Store } from "../store/types.js";
import { KeyedSerializer } from "./keyed-serializer.js";

/** A message that passed verification and is about to take (or has taken) effect. */
export interface AcceptedMessage {
  readonly header: Header;
  readonly body: Body;
  /** The node whose certificate signed it. */
  readonly signer: string;
  readonly receiptDigest: Uint8Array;
  /** The envelope as received (kept in the inbox record as evidence). */
  readonly envelope?: Envelope;
}

/**
 * What a message does to the node, as store operations written in the SAME
 * batch as the inbox record and the receipt, so the effect, its record and
 * its receipt become durable together or not at all. Effects of one case are
 * applied one at a time, in case order, so an effect may read the case's
 * current state from the store.
 */
export type EffectHandler = (message: AcceptedMessage, store: Store) => Promise<readonly BatchOp[]> | readonly BatchOp[];

/** A signed receipt: the envelope and its protobuf bytes (stored, and sent again to duplicates). */
export interface SignedReceipt {
  readonly envelope: Envelope;
  readonly bytes: Uint8Array;
  /** The receipt's own message id, when the signer knows it (spares the evidence log reading it back from the bytes). */
  readonly messageId?: string;
}

/** Signs the technical receipt for a message (a TECHNICAL_RECEIPT envelope to its sender). */
export type ReceiptSigner = (message: AcceptedMessage, receivedAt: Date) => Promise<SignedReceipt>;

/**
 * Verifies an envelope — given as bytes, or as the message a transport already
 * decoded, so it is not encoded and decoded again — : signature, trust,
 * header, digest, decryption (the SDK's verifyEnvelope without a replay guard).
 */
export type EnvelopeVerifier = (envelope: Uint8Array | Envelope) => Promise<VerifiedEnvelope>;

/** Decides whether the sender may send this message (partner agreements); throws AUTH_NOT_ALLOWED. */
export type Authorizer = (message: AcceptedMessage) => void | Promise<void>;

/** The parts the intake is built from; tests swap in their own. */
export interface IntakeComponents {
  readonly store: Store;
  readonly committer: GroupCommitter;
  readonly verify: EnvelopeVerifier;
  readonly signReceipt: ReceiptSigner;
  readonly apply: EffectHandler;
  readonly authorize?: Authorizer;
  readonly now?: () => Date;
  /**
   * The per-case lanes (`case\u0000<case id>`). Give the one the node's case
   * desk uses, so a platform action and a partner's message on the same case
   * never interleave.
   */
  readonly serializer?: KeyedSerializer;
  /** Called after the batch that applied (or held) a message committed, or failed (`ok` false). */
  readonly settled?: (message: AcceptedMessage, ok: boolean) => void;
}

/** Limits of the intake. */
export interface IntakeOptions {
  /** Deliveries being processed at once; beyond it callers get OVERLOADED. */
  readonly maxInFlight?: number;
  /** The retry advice sent with OVERLOADED, in ms. */
  readonly retryAfterMs?: number;
}

/** What a delivery produced. */
export interface IntakeResult {
  /** The signed receipt envelope (protobuf bytes). */
  readonly receipt: Uint8Array;
  /** The same receipt as a message, when it was signed just now (not for duplicates). */
  readonly receiptEnvelope?: Envelope;
  /** True when the same message had been taken before: the stored receipt again, no second effect. */
  readonly duplicate: boolean;
  /** True when the message waits in the holding area for its predecessor in the case. */
  readonly held: boolean;
}

/** The inbox record: what was received, stored so duplicates are recognised after restarts. */
interface InboxRecord {
  digest: string;
  receivedAt: string;
  state: "applied" | "held";
  /** Older records (before the envelope moved to the evidence payload alone): the envelope as received, protobuf, base64. */
  envelope?: string;
}

/** A held message: its header and CLEAR body, kept until its predecessor has been applied. */
interface HeldRecord {
  header: string;
  body: string;
  signer: string;
  digest: string;
  receivedAt: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
/** JSON as UTF-8, in slab memory when short (see allocBytes). */
const json = (v: unknown): Uint8Array => {
  const text = JSON.stringify(v);
  if (!isAscii(text)) return enc.encode(text);
  const out = allocBytes(text.length);
  writeAscii(text, out, 0);
  return out;
};
const parse = <T>(b: Uint8Array): T => JSON.parse(dec.decode(b)) as T;
const u64 = (n: number) => {
  const b = allocBytes(8);
  new DataView(b.buffer, b.byteOffset, 8).setBigUint64(0, BigInt(n));
  return b;
};
const readU64 = (b: Uint8Array | undefined) => (b === undefined ? 0 : Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0)));
/** Per (sender, case): the next sequence number that may take effect. */
const nextSeqKey = (sender: string, caseId: string) => storeKeys.meta.key(`next-seq\u0000${sender}\u0000${caseId}`);

/**
 * The node's intake pipeline (docs/node.md "Intake"), in this order:
 *
 * 1. verify the envelope (signature over the exact bytes, trust chain,
 *    recipient, timestamps, body digest, decryption) — its codes pass through;
 * 2. the TLS peer must be the signer — TRANSPORT_PEER_MISMATCH;
 * 3. dedupe against the durable inbox: the same (sender, message id) with the
 *    same receipt digest returns the stored receipt and applies nothing; with
 *    another digest — ENVELOPE_REPLAYED;
 * 4. authorise — AUTH_NOT_ALLOWED;
 * 5. per-case order: a message whose per-(sender, case) sequence is ahead is
 *    stored in the holding area and receipted (it is durable and will take
 *    effect); one whose sequence was already used by another message is
 *    CASE_SEQUENCE_CONFLICT;
 * 6. one group-committed batch holds the inbox record, the receipt, the
 *    effect's operations and the release of any held successors;
 * 7. the receipt is returned only after that batch is durable.
 */
export class Intake {
  readonly #c: IntakeComponents;
  readonly #maxInFlight: number;
  readonly #retryAfterMs: number;
  readonly #serial: KeyedSerializer;
  #inFlight = 0;

  constructor(components: IntakeComponents, options: IntakeOptions = {}) {
    this.#c = components;
    this.#serial = components.serializer ?? new KeyedSerializer();
    this.#maxInFlight = options.maxInFlight ?? 1024;
    this.#retryAfterMs = options.retryAfterMs ?? 200;
  }

  /** Deliveries being processed now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Takes one envelope. `peer` is the node id the TLS client certificate
   * names (undefined only for in-process callers that have no TLS peer).
   */
  async deliver(envelope: Uint8Array | Envelope, peer?: { readonly nodeId: string }): Promise<IntakeResult> {
    if (this.#inFlight >= this.#maxInFlight) {
      throw new TongbanError("OVERLOADED", "intake queue is full; retry later", { details: { retryAfterMs: this.#retryAfterMs } });
    }
    this.#inFlight++;
    try {
      const v = await this.#c.verify(envelope);
      if (v.body === undefined) throw new TypeError("the intake needs the decrypted body: configure the verifier with the node's decryption key");
      if (peer !== undefined && peer.nodeId !== v.signer.nodeId) {
        throw new TongbanError("TRANSPORT_PEER_MISMATCH", `the TLS peer is ${peer.nodeId} but the envelope is signed by ${v.signer.nodeId}`, {
          details: { peer: peer.nodeId, signer: v.signer.nodeId },
        });
      }
      const message: AcceptedMessage = { header: v.header, body: v.body, signer: v.signer.nodeId, receiptDigest: v.receiptDigest, envelope: v.envelope };
      // One message of a case at a time (and one copy of a message id at a
      // time), so effects read settled state and duplicates racing each
      // other cannot both take effect.
      const lane = v.header.caseId !== "" ? `case\u0000${v.header.caseId}` : `msg\u0000${v.header.sender}\u0000${v.header.messageId}`;
      return await this.#serial.run(lane, () => this.#take(message));
    } finally {
      this.#inFlight--;
    }
  }

  async #take(m: AcceptedMessage): Promise<IntakeResult> {
    const { store } = this.#c;
    const { sender, messageId, caseId } = m.header;
    const digest = Buffer.from(m.receiptDigest).toString("hex");
    const inboxKey = storeKeys.inbox.key(sender, messageId);
    const receiptKey = storeKeys.receipt.key(sender, messageId);
    // Almost every message is new: one read of the inbox key on this thread (no thread-pool round trip), the receipt only for a duplicate.
    const prior = store.getSync !== undefined ? store.getSync(inboxKey) : await store.get(inboxKey);
    if (prior !== undefined) {
      const priorReceipt = await store.get(receiptKey);
      const record = parse<InboxRecord>(prior);
      if (record.digest !== digest || priorReceipt === undefined) {
        throw new TongbanError("ENVELOPE_REPLAYED", `message ${messageId} from ${sender} was already received with different content`, { details: { sender, messageId } });
      }
      return { receipt: priorReceipt, duplicate: true, held: record.state === "held" };
    }

    await this.#c.authorize?.(m);

    const receivedAt = (this.#c.now ?? (() => new Date()))();
    const sequence = Number(m.header.sequence);
    const ordered = caseId !== "" && sequence > 0;
    let held = false;
    const ops: BatchOp[] = [];
    if (ordered) {
      const seqKey = nextSeqKey(sender, caseId);
      const expected = Math.max(1, readU64(store.getSync !== undefined ? store.getSync(seqKey) : await store.get(seqKey)));
      if (sequence < expected || (await this.#heldAt(caseId, sequence, sender)) !== undefined) {
        throw new TongbanError("CASE_SEQUENCE_CONFLICT", `sequence ${sequence} of case ${caseId} from ${sender} was already taken by another message`, {
          details: { sender, caseId, sequence, expected },
        });
      }
      if (sequence > expected) {
        held = true;
        const heldRecord: HeldRecord = {
          header: Buffer.from(toBinary(HeaderSchema, m.header)).toString("base64"),
          body: Buffer.from(toBinary(BodySchema, m.body)).toString("base64"),
          signer: m.signer,
          digest,
          receivedAt: receivedAt.toISOString(),
        };
        ops.push({ type: "put", key: storeKeys.caseHeld.key(caseId, sequence, sender, messageId), value: json(heldRecord) });
      } else {
        ops.push(...(await this.#c.apply(m, store)));
        ops.push({ type: "put", key: seqKey, value: u64(sequence + 1) });
      }
    } else {
      ops.push(...(await this.#c.apply(m, store)));
    }
    let receipt: SignedReceipt;
    try {
      receipt = await this.#c.signReceipt(m, receivedAt);
    } catch (err) {
      this.#c.settled?.(m, false);
      throw err;
    }
    ops.push(
      {
        type: "put",
        key: inboxKey,
        value: json({ digest, receivedAt: receivedAt.toISOString(), state: held ? "held" : "applied" } satisfies InboxRecord),
        // The envelope as received is kept once, as the evidence log's envelope-in payload (docs/node-store.md).
        ...(m.envelope === undefined
          ? {}
          : { note: { evidence: { kind: "envelope-in" as const, caseId, messageId, label: `from ${sender}`, payload: wireBytesOf(m.envelope) ?? toBinary(EnvelopeSchema, m.envelope) } } }),
      },
      {
        type: "put",
        key: receiptKey,
        value: receipt.bytes,
        ...(receipt.messageId === undefined ? {} : { note: { evidence: { kind: "receipt-out" as const, caseId, messageId: receipt.messageId, label: `to ${sender} for ${messageId}`, payload: receipt.bytes } } }),
      },
    );
    // Durable before anyone hears "received": the receipt leaves only after this resolves.
    await this.#commit(m, ops);
    if (ordered && !held) await this.#releaseHeld(caseId, sender);
    return { receipt: receipt.bytes, receiptEnvelope: receipt.envelope, duplicate: false, held };
  }

  /**
   * Applies held messages that became next in line while the node was down
   * (a crash between a message's batch and its successors' release). Call
   * once at start, before serving.
   */
  async recover(): Promise<number> {
    const groups = new Set<string>();
    for await (const e of this.#c.store.iterate(storeKeys.caseHeld.range())) {
      const [caseId, , sender] = storeKeys.caseHeld.decode(e.key);
      groups.add(`${caseId}\u0000${sender}`);
    }
    let released = 0;
    for (const g of groups) {
      const [caseId, sender] = g.split("\u0000") as [string, string];
      released += await this.#serial.run(`case\u0000${caseId}`, () => this.#releaseHeld(caseId, sender));
    }
    return released;
  }

  async #commit(m: AcceptedMessage, ops: BatchOp[]): Promise<void> {
    try {
      await this.#c.committer.commit(ops);
    } catch (err) {
      this.#c.settled?.(m, false);
      throw err;
    }
    this.#c.settled?.(m, true);
  }

  async #heldAt(caseId: string, sequence: number, sender: string): Promise<Uint8Array | undefined> {
    for await (const e of this.#c.store.iterate({ ...storeKeys.caseHeld.range(caseId, sequence, sender), limit: 1 })) return e.value;
    return undefined;
  }

  /**
   * Applies, one durable batch each and in order, the held messages of
   * (case, sender) that have become next in line. Each batch holds the
   * effect, the removal from the holding area, the inbox state and the new
   * expected sequence, so a crash between two releases loses nothing and
   * {@link Intake.recover} resumes.
   */
  async #releaseHeld(caseId: string, sender: string): Promise<number> {
    const { store } = this.#c;
    const seqKey = nextSeqKey(sender, caseId);
    let released = 0;
    for (;;) {
      const next = Math.max(1, readU64(await store.get(seqKey)));
      const value = await this.#heldAt(caseId, next, sender);
      if (value === undefined) return released;
      const h = parse<HeldRecord>(value);
      const header = fromBinary(HeaderSchema, Buffer.from(h.header, "base64"));
      const body = fromBinary(BodySchema, Buffer.from(h.body, "base64"));
      const ops: BatchOp[] = [...(await this.#c.apply({ header, body, signer: h.signer, receiptDigest: Buffer.from(h.digest, "hex") }, store))];
      ops.push(
        { type: "del", key: storeKeys.caseHeld.key(caseId, next, sender, header.messageId) },
        { type: "put", key: storeKeys.inbox.key(sender, header.messageId), value: json({ digest: h.digest, receivedAt: h.receivedAt, state: "applied" } satisfies InboxRecord) },
        { type: "put", key: seqKey, value: u64(next + 1) },
      );
      await this.#commit({ header, body, signer: h.signer, receiptDigest: Buffer.from(h.digest, "hex") }, ops);
      released++;
    }
  }
}
