import {
  LogVerifier,
  buildCaseBundle,
  decodeCheckpoint,
  decodeEntry,
  leafHash,
  serializeCaseBundle,
  type CaseBundle,
} from "@tongban/sdk";
import { storeKeys } from "../store/keys.js";
import type { Store } from "../store/types.js";

const dec = new TextDecoder();

/** What `tongban audit verify` found in a node's store. */
export interface LogAuditReport {
  readonly ok: boolean;
  readonly entries: number;
  readonly payloadsDeleted: number;
  readonly checkpoints: number;
  /** The first problem: where and why (a TongbanError code and message). */
  readonly problem?: { readonly index?: number; readonly code: string; readonly reason: string; readonly message: string };
}

/**
 * Verifies a node's evidence log in its store, offline: every entry's hash
 * chain link, index order, payload digest (where the payload is still held)
 * and every signed checkpoint's tree root over the entries up to its size.
 * Editing, deleting or reordering an entry, or a payload, is caught.
 */
export async function auditLog(store: Store): Promise<LogAuditReport> {
  const v = new LogVerifier();
  let checkpoints = 0;
  for await (const e of store.iterate(storeKeys.evidenceCheckpoint.range())) {
    const cp = decodeCheckpoint(dec.decode(e.value));
    v.expectRoot({ treeSize: cp.treeSize, rootHash: cp.rootHash });
    checkpoints++;
  }
  let entries = 0;
  let payloadsDeleted = 0;
  let lastIndex = -1;
  try {
    for await (const e of store.iterate(storeKeys.evidence.range())) {
      const [index] = storeKeys.evidence.decode(e.key);
      lastIndex = index;
      const payload = await store.get(storeKeys.evidencePayload.key(index));
      if (payload === undefined) payloadsDeleted++;
      v.push(e.value, payload);
      entries++;
    }
    v.finish();
  } catch (err) {
    const e = err as { code?: string; message: string; details?: { reason?: string; index?: number } };
    return { ok: false, entries, payloadsDeleted, checkpoints, problem: { index: e.details?.index ?? lastIndex, code: e.code ?? "INTERNAL", reason: e.details?.reason ?? "", message: e.message } };
  }
  return { ok: true, entries, payloadsDeleted, checkpoints };
}

/**
 * A case's evidence as one self-contained bundle: its entries (with
 * payloads still held), the latest checkpoint covering them, the witnesses'
 * cosignatures of it and inclusion proofs. `certificates` lets an offline
 * verifier check the envelopes inside (the partners' signing certificates).
 */
export async function exportCaseBundle(store: Store, caseId: string, options: { readonly certificates?: readonly string[] } = {}): Promise<CaseBundle> {
  const latestRaw = await store.get(storeKeys.meta.key("evidence-checkpoint-latest"));
  if (latestRaw === undefined) throw new RangeError("no checkpoint yet: sign one before exporting (the node does every minute)");
  const latest = JSON.parse(dec.decode(latestRaw)) as { size: number; jws: string };
  const entries: { entry: Uint8Array; payload?: Uint8Array | undefined }[] = [];
  for await (const e of store.iterate({ ...storeKeys.evidence.range(), lt: storeKeys.evidence.key(latest.size) })) {
    const entry = decodeEntry(e.value);
    if (entry.caseId !== caseId) continue;
    entries.push({ entry: e.value, payload: await store.get(storeKeys.evidencePayload.key(entry.index)) });
  }
  if (entries.length === 0) throw new RangeError(`no evidence of case ${caseId} up to the latest checkpoint`);
  const cosignatures: string[] = [];
  for await (const e of store.iterate(storeKeys.evidenceCosignature.range(latest.size))) cosignatures.push(dec.decode(e.value));
  const leaf = async (i: number) => {
    const v = await store.get(storeKeys.evidence.key(i));
    if (v === undefined) throw new RangeError(`evidence entry ${i} is missing`);
    return leafHash(v);
  };
  return buildCaseBundle({ caseId, checkpoint: latest.jws, cosignatures, entries, tree: leaf, ...(options.certificates === undefined ? {} : { certificates: options.certificates }) });
}

/** Serialises a bundle to its file form. */
export { serializeCaseBundle };

/**
 * Retention: deletes the payloads of entries older than `before` (the
 * entries and their hashes stay, so the log and bundles exported earlier
 * still verify). Returns how many payloads were deleted.
 */
export async function prunePayloads(store: Store, before: Date): Promise<number> {
  const cutoff = before.getTime();
  const ops = [];
  for await (const e of store.iterate(storeKeys.evidencePayload.range())) {
    const [index] = storeKeys.evidencePayload.decode(e.key);
    const raw = await store.get(storeKeys.evidence.key(index));
    if (raw === undefined) continue;
    if (decodeEntry(raw).timestamp < cutoff) ops.push({ type: "del" as const, key: e.key });
  }
  for (let i = 0; i < ops.length; i += 1_000) await store.batch(ops.slice(i, i + 1_000));
  return ops.length;
}
