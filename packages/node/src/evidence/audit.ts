import {
  LogVerifier,
  MerkleAccumulator,
  TrustStore,
  buildCaseBundle,
  decodeCheckpoint,
  decodeEntry,
  hashEquals,
  leafHash,
  serializeCaseBundle,
  verifyCheckpoint,
  type CaseBundle,
  type CompletedNode,
} from "@tongban/sdk";
import { storeKeys } from "../store/keys.js";
import type { Store } from "../store/types.js";
import { STORED_NODE_LEVEL, evidenceTree } from "./evidence-log.js";

const dec = new TextDecoder();

/** Why an audit failed where the SDK's log verifier has no word for it. */
export type NodeAuditReason =
  /** A stored checkpoint's signature does not verify against the trust anchor, or its origin is another node. */
  | "checkpoint-invalid"
  /** The log's stored state (size, last entry hash) disagrees with the entries: entries at the end were removed or altered. */
  | "state-mismatch"
  /** A stored Merkle node is not the hash of its entries: proofs from it would fail. */
  | "node-mismatch";

/** What `tongban audit verify` found in a node's store. */
export interface LogAuditReport {
  readonly ok: boolean;
  readonly entries: number;
  readonly payloadsDeleted: number;
  readonly checkpoints: number;
  /** True when the checkpoints' signatures were checked against a trust anchor. */
  readonly signaturesChecked: boolean;
  /** The largest checkpointed tree size, 0 when none. */
  readonly checkpointedSize: number;
  /** The first problem: where and why (a TongbanError code, a reason, a message). */
  readonly problem?: { readonly index?: number; readonly code: string; readonly reason: string; readonly message: string };
}

/** Options for {@link auditLog}. */
export interface AuditLogOptions {
  /**
   * The federation root (PEM or DER): every stored checkpoint's signature is
   * verified against it, so the roots compared are the ones the node
   * signed (and partners witnessed), not ones written into the store later.
   */
  readonly trust?: string | Uint8Array;
  /** The node's id: every checkpoint must be its own. */
  readonly nodeId?: string;
}

class AuditProblem extends Error {
  constructor(
    readonly reason: NodeAuditReason,
    message: string,
    readonly index?: number,
  ) {
    super(message);
  }
}

/**
 * Verifies a node's evidence log in its store, offline: every entry's index,
 * hash-chain link and payload digest (where the payload is still held),
 * every stored checkpoint's tree root over the entries up to its size (and
 * its signature, given a trust anchor), the stored log state against the
 * last entry (so removing or altering entries after the last checkpoint
 * shows too), and the stored Merkle nodes. Editing, deleting, inserting or
 * reordering an entry, or editing a payload, is caught; the report names
 * the first problem.
 */
export async function auditLog(store: Store, options: AuditLogOptions = {}): Promise<LogAuditReport> {
  const v = new LogVerifier();
  const trust = options.trust === undefined ? undefined : new TrustStore({ anchor: options.trust });
  let checkpoints = 0;
  let checkpointedSize = 0;
  let entries = 0;
  let payloadsDeleted = 0;
  let lastIndex = -1;
  const report = (problem?: LogAuditReport["problem"]): LogAuditReport => ({
    ok: problem === undefined,
    entries,
    payloadsDeleted,
    checkpoints,
    signaturesChecked: trust !== undefined,
    checkpointedSize,
    ...(problem === undefined ? {} : { problem }),
  });
  try {
    for await (const e of store.iterate(storeKeys.evidenceCheckpoint.range())) {
      const [size] = storeKeys.evidenceCheckpoint.decode(e.key);
      const jws = dec.decode(e.value);
      let cp;
      try {
        cp = trust === undefined ? decodeCheckpoint(jws) : await verifyCheckpoint(jws, { trust });
      } catch (err) {
        throw new AuditProblem("checkpoint-invalid", `the checkpoint stored for size ${size} does not verify: ${(err as Error).message}`);
      }
      if (cp.treeSize !== size) throw new AuditProblem("checkpoint-invalid", `the checkpoint stored for size ${size} is for size ${cp.treeSize}`);
      if (options.nodeId !== undefined && cp.origin !== options.nodeId)
        throw new AuditProblem("checkpoint-invalid", `the checkpoint stored for size ${size} is ${cp.origin}'s, not ${options.nodeId}'s`);
      v.expectRoot({ treeSize: cp.treeSize, rootHash: cp.rootHash });
      checkpoints++;
      checkpointedSize = Math.max(checkpointedSize, size);
    }
    // The stored Merkle nodes, recomputed alongside and compared as they complete.
    const completed: CompletedNode[] = [];
    const tree = new MerkleAccumulator({ onNode: (n) => void (n.level >= STORED_NODE_LEVEL && completed.push(n)) });
    for await (const e of store.iterate(storeKeys.evidence.range())) {
      const [index] = storeKeys.evidence.decode(e.key);
      lastIndex = index;
      const payload = await store.get(storeKeys.evidencePayload.key(index));
      if (payload === undefined) payloadsDeleted++;
      v.push(e.value, payload);
      entries++;
      tree.append(leafHash(e.value));
      for (const n of completed.splice(0)) {
        const stored = await store.get(storeKeys.evidenceNode.key(n.level, n.index));
        if (stored !== undefined && !hashEquals(stored, n.hash))
          throw new AuditProblem("node-mismatch", `the stored Merkle node (level ${n.level}, index ${n.index}) is not the hash of its entries`, index);
      }
    }
    const end = v.finish();
    const raw = await store.get(storeKeys.meta.key("evidence-state"));
    if (raw !== undefined) {
      const s = JSON.parse(dec.decode(raw)) as { size: number; lastHash: string };
      if (s.size !== end.size)
        throw new AuditProblem("state-mismatch", `the log's state says ${s.size} entries, the store holds ${end.size}: entries at the end were removed or added`, Math.min(s.size, end.size));
      if (!hashEquals(new Uint8Array(Buffer.from(s.lastHash, "base64")), end.lastHash))
        throw new AuditProblem("state-mismatch", `the last entry (${end.size - 1}) is not the one the log's state recorded: it was altered`, end.size - 1);
    } else if (end.size > 0) {
      throw new AuditProblem("state-mismatch", `the store holds ${end.size} entries but no log state`);
    }
  } catch (err) {
    if (err instanceof AuditProblem) return report({ ...(err.index === undefined ? {} : { index: err.index }), code: "AUDIT_CHAIN_BROKEN", reason: err.reason, message: err.message });
    const e = err as { code?: string; message: string; details?: { reason?: string; index?: number; treeSize?: number } };
    const index = e.details?.index ?? (e.details?.reason === "root-mismatch" && e.details.treeSize !== undefined ? e.details.treeSize - 1 : lastIndex);
    return report({ index, code: e.code ?? "INTERNAL", reason: e.details?.reason ?? "", message: e.message });
  }
  return report();
}

/**
 * A case's evidence as one self-contained bundle: its entries (with
 * payloads still held), a signed checkpoint covering them — the largest one
 * witnesses cosigned, else the latest — the witnesses' cosignatures of it
 * and inclusion proofs (from the stored Merkle nodes). `certificates` lets
 * an offline verifier check the envelopes inside (the partners' signing
 * certificates).
 */
export async function exportCaseBundle(store: Store, caseId: string, options: { readonly certificates?: readonly string[] } = {}): Promise<CaseBundle> {
  const latestRaw = await store.get(storeKeys.meta.key("evidence-checkpoint-latest"));
  if (latestRaw === undefined) throw new RangeError("no checkpoint yet: sign one before exporting (the node does every minute, and when it stops)");
  const latest = JSON.parse(dec.decode(latestRaw)) as { size: number; jws: string };
  const found: { index: number; entry: Uint8Array }[] = [];
  for await (const e of store.iterate({ ...storeKeys.evidence.range(), lt: storeKeys.evidence.key(latest.size) })) {
    const entry = decodeEntry(e.value);
    if (entry.caseId === caseId) found.push({ index: entry.index, entry: e.value });
  }
  if (found.length === 0) throw new RangeError(`no evidence of case ${caseId} up to the latest checkpoint`);
  const needed = (found.at(-1) as { index: number }).index + 1;
  // The largest witnessed checkpoint, when it covers the case.
  let size = latest.size;
  let checkpoint = latest.jws;
  for await (const e of store.iterate({ ...storeKeys.evidenceCosignature.range(), reverse: true, limit: 1 })) {
    const [witnessed] = storeKeys.evidenceCosignature.decode(e.key);
    const jws = await store.get(storeKeys.evidenceCheckpoint.key(witnessed));
    if (witnessed >= needed && jws !== undefined) {
      size = witnessed;
      checkpoint = dec.decode(jws);
    }
  }
  const cosignatures: string[] = [];
  for await (const e of store.iterate(storeKeys.evidenceCosignature.range(size))) cosignatures.push(dec.decode(e.value));
  const entries = [];
  for (const f of found) entries.push({ entry: f.entry, payload: await store.get(storeKeys.evidencePayload.key(f.index)) });
  return buildCaseBundle({ caseId, checkpoint, cosignatures, entries, tree: evidenceTree(store), ...(options.certificates === undefined ? {} : { certificates: options.certificates }) });
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
  let deleted = 0;
  for await (const e of store.iterate(storeKeys.evidencePayload.range())) {
    const [index] = storeKeys.evidencePayload.decode(e.key);
    const raw = await store.get(storeKeys.evidence.key(index));
    if (raw === undefined) continue;
    // Entries are in time order: the first one young enough ends the scan.
    if (decodeEntry(raw).timestamp >= cutoff) break;
    ops.push({ type: "del" as const, key: e.key });
    if (ops.length === 1_000) {
      await store.batch(ops.splice(0));
      deleted += 1_000;
    }
  }
  if (ops.length > 0) await store.batch(ops);
  return deleted + ops.length;
}
