/**
 * Test fixture (not exported): the batches the crash-safety test writes,
 * derived from the batch id alone so the parent can check every byte after
 * recovery without having seen the writer's memory.
 */
import { storeKeys } from "./keys.js";
import type { BatchOp } from "./types.js";

/** Records each crash-test batch puts (besides its tombstone move). */
export const RECORDS_PER_BATCH = 4;

const enc = new TextEncoder();

/** The key of record `j` of batch `id` (a scratch case in the case holding area, ordered by batch id). */
export function recordKey(id: number, j: number): Uint8Array {
  return storeKeys.caseHeld.key("crash-test", id, "writer", `record-${j}`);
}

/** The key of the single "latest batch" marker batch `id` moves forward. */
export function markerKey(id: number): Uint8Array {
  return storeKeys.event.key(id);
}

/** The exact value of record `j` of batch `id`: a header and 0–48 KiB of filler seeded by both. */
export function recordValue(id: number, j: number): Uint8Array {
  let s = (id * RECORDS_PER_BATCH + j + 1) >>> 0;
  const next = () => {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
    return s >>> 16;
  };
  // Mostly small, sometimes large, so runs cross memtable flushes and log file switches.
  const size = next() % 8 === 0 ? next() % (48 * 1024) : next() % 512;
  const out = new Uint8Array(16 + size);
  out.set(enc.encode(`${String(id).padStart(10, "0")}:${j}`.padEnd(16, ".")));
  for (let i = 16; i < out.length; i++) out[i] = next() & 0xff;
  return out;
}

/**
 * Batch `id`: its records, plus moving the marker from `id − 1` to `id`. After
 * any crash exactly one marker must exist, naming the last applied batch.
 */
export function crashBatch(id: number): BatchOp[] {
  const ops: BatchOp[] = [];
  for (let j = 0; j < RECORDS_PER_BATCH; j++) ops.push({ type: "put", key: recordKey(id, j), value: recordValue(id, j) });
  if (id > 0) ops.push({ type: "del", key: markerKey(id - 1) });
  ops.push({ type: "put", key: markerKey(id), value: enc.encode(String(id)) });
  return ops;
}
