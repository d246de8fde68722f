import { Collection } from "./collection.js";
import { bytesPart, stringPart, u32Part, u64Part } from "./key-encoding.js";

/**
 * The node's key layout: one typed {@link Collection} per kind of record.
 * docs/node-store.md describes each; change a layout only with a migration,
 * since stored keys are forever.
 *
 * @example
 * ```ts
 * const key = storeKeys.inbox.key(senderNodeId, messageId);
 * for await (const e of store.iterate(storeKeys.caseHeld.range(caseId))) { ... } // held messages, in case order
 * ```
 */
export const storeKeys = Object.freeze({
  /** Node metadata by name (layout version, node id, directory version held). */
  meta: new Collection("meta", [stringPart] as const),
  /** Monotonic counters by name (next event sequence, next audit index, …), value a u64. */
  counter: new Collection("counter", [stringPart] as const),
  /** Inbound messages by (sender node id, message id): the dedupe record and the stored envelope. */
  inbox: new Collection("inbox", [stringPart, stringPart] as const),
  /**
   * Receipts by the (sender node id, message id) of the message they
   * acknowledge — issued by us for inbound messages, received for outbound
   * ones. A duplicate inbound message gets this stored receipt again.
   */
  receipt: new Collection("receipt", [stringPart, stringPart] as const),
  /** Cases by case id: the current state and its version. */
  case: new Collection("case", [stringPart] as const),
  /** Cases by case number (办件编号) and case id, empty values: GetCase by number reads one key range. */
  caseNumber: new Collection("case-number", [stringPart, stringPart] as const),
  /** Cases whose deadline the node watches (handling site, clock started, not final), empty values: the minute's check reads these only. */
  deadlineWatch: new Collection("deadline-watch", [stringPart] as const),
  /** Cases not yet ended (any role), empty values: the console's overview reads these only. */
  caseOpen: new Collection("case-open", [stringPart] as const),
  /** Cases by partner node and case id, empty values: ListCases for one partner reads these only. */
  casePartner: new Collection("case-partner", [stringPart, stringPart] as const),
  /** Joint cases still open, empty values: the minute's overdue check reads these only. */
  jointOpen: new Collection("joint-open", [stringPart] as const),
  /** The evidence log (docs/evidence.md): canonical entry bytes by index. */
  evidence: new Collection("evidence", [u64Part] as const),
  /** Evidence payloads by entry index, apart from the entries so retention can delete them. */
  evidencePayload: new Collection("evidence-payload", [u64Part] as const),
  /** This node's signed checkpoints by tree size (compact JWS). */
  evidenceCheckpoint: new Collection("evidence-checkpoint", [u64Part] as const),
  /**
   * Merkle nodes of the evidence log by (level, index): the root of the 2^level
   * entries from index·2^level, kept for level ≥ 4 so a proof reads O(log n)
   * records and at most 15 entries.
   */
  evidenceNode: new Collection("evidence-node", [u32Part, u64Part] as const),
  /** Witness cosignatures of this node's checkpoints, by (tree size, witness node id). */
  evidenceCosignature: new Collection("evidence-cosignature", [u64Part, stringPart] as const),
  /** Joint cases (多地联办) by joint case id: the plan, every sub-task's state, the overall outcome. */
  joint: new Collection("joint", [stringPart] as const),
  /**
   * The holding area of messages that arrived before their predecessor in a
   * case: (case id, case sequence, sender node id, message id), so a scan of
   * one case yields them in the order they can be applied.
   */
  caseHeld: new Collection("case-held", [stringPart, u64Part, stringPart, stringPart] as const),
  /** Outbound messages by message id: envelope, destination, delivery state and attempts. */
  outbox: new Collection("outbox", [stringPart] as const),
  /** Outbound messages not yet acknowledged, empty values: a start reads these records, not every one ever sent. */
  outboxOpen: new Collection("outbox-open", [stringPart] as const),
  /** The outbox schedule index: (next attempt epoch ms, message id) → empty; a scan up to now finds what is due. */
  outboxDue: new Collection("outbox-due", [u64Part, stringPart] as const),
  /** Events for platforms by sequence number. */
  event: new Collection("event", [u64Part] as const),
  /** The append-only, hash-chained audit log by entry index. */
  audit: new Collection("audit", [u64Part] as const),
  /** Material content in chunks by (32-byte content digest of the whole material, chunk index). */
  material: new Collection("material", [bytesPart(32), u32Part] as const),
  /** Uploads under way by material digest (their start time): what a crash cuts short, the next start removes. */
  materialPartial: new Collection("material-partial", [bytesPart(32)] as const),
});

/** The names of the node's collections. */
export type CollectionName = keyof typeof storeKeys;

/** The collection a stored key belongs to, or `undefined` for a key outside the layout. */
export function collectionOf(key: Uint8Array): CollectionName | undefined {
  for (const [name, c] of Object.entries(storeKeys) as [CollectionName, Collection<never>][]) {
    if (c.has(key)) return name;
  }
  return undefined;
}
