import { OutboxLedger } from "../outbox/outbox-ledger.js";
import type { OutboxRecord } from "../outbox/outbox.js";
import { storeKeys } from "../store/keys.js";
import type { Store } from "../store/types.js";
import { caseOpen, deadlineWatched, type CaseRecord } from "./case-effects.js";

const dec = new TextDecoder();

async function keysOf(store: Store, c: { range(): { gte: Uint8Array; lt: Uint8Array }; decode(k: Uint8Array): readonly unknown[] }): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const e of store.iterate(c.range())) out.add(c.decode(e.key).map(String).join("\u0000"));
  return out;
}

function compare(problems: string[], what: string, index: Set<string>, records: Set<string>): void {
  for (const k of records) if (!index.has(k)) problems.push(`${what}: ${k.replaceAll("\u0000", " ")} is missing from the index`);
  for (const k of index) if (!records.has(k)) problems.push(`${what}: ${k.replaceAll("\u0000", " ")} is in the index but no record says so`);
}

/**
 * Checks every index the node keeps beside its records against the records
 * themselves — case numbers, partners, open cases, watched deadlines, open joint cases,
 * the outbox ledger (open messages and the stored tally) and uploads left
 * marked as under way — and returns the differences (none when all agree).
 * Reads the whole store: for a stopped node (the reliability harness, an
 * operator's check after a restore), not a running one's routine. (On a
 * store from before the outbox ledger it builds the ledger, as a start would.)
 */
export async function checkIndexes(store: Store): Promise<string[]> {
  const problems: string[] = [];
  const numbers = new Set<string>();
  const partners = new Set<string>();
  const open = new Set<string>();
  const watched = new Set<string>();
  for await (const e of store.iterate(storeKeys.case.range())) {
    const r = JSON.parse(dec.decode(e.value)) as CaseRecord;
    const id = r.snapshot.caseId;
    if (r.caseNumber !== undefined && r.caseNumber !== "") numbers.add(`${r.caseNumber}\u0000${id}`);
    if (r.partner !== "") partners.add(`${r.partner}\u0000${id}`);
    if (caseOpen(r)) open.add(id);
    if (deadlineWatched(r)) watched.add(id);
  }
  compare(problems, "case-number", await keysOf(store, storeKeys.caseNumber), numbers);
  compare(problems, "case-partner", await keysOf(store, storeKeys.casePartner), partners);
  compare(problems, "case-open", await keysOf(store, storeKeys.caseOpen), open);
  compare(problems, "deadline-watch", await keysOf(store, storeKeys.deadlineWatch), watched);
  const joints = new Set<string>();
  for await (const e of store.iterate(storeKeys.joint.range())) {
    const j = JSON.parse(dec.decode(e.value)) as { jointCaseId: string; overall: string };
    if (j.overall === "open") joints.add(j.jointCaseId);
  }
  compare(problems, "joint-open", await keysOf(store, storeKeys.jointOpen), joints);

  const unacknowledged = new Set<string>();
  const counts: Record<string, number> = { QUEUED: 0, SENDING: 0, RETRY_WAIT: 0, ACKNOWLEDGED: 0, FAILED: 0, REJECTED: 0 };
  for await (const e of store.iterate(storeKeys.outbox.range())) {
    const r = JSON.parse(dec.decode(e.value)) as OutboxRecord;
    counts[r.status] = (counts[r.status] ?? 0) + 1;
    if (r.status !== "ACKNOWLEDGED") unacknowledged.add(r.messageId);
  }
  compare(problems, "outbox-open", await keysOf(store, storeKeys.outboxOpen), unacknowledged);
  const ledger = new OutboxLedger();
  await ledger.load(store);
  for (const [status, n] of Object.entries(ledger.counts())) if (counts[status] !== n) problems.push(`outbox-ledger: ${n} ${status}, the records say ${counts[status]}`);
  for (const hex of await keysOf(store, { range: () => storeKeys.materialPartial.range(), decode: (k) => [Buffer.from(storeKeys.materialPartial.decode(k)[0]).toString("hex")] })) {
    problems.push(`material-partial: an upload of ${hex} is still marked as under way`);
  }
  return problems;
}
