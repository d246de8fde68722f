import { describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { GENESIS_PREV_HASH, decodeEntry, encodeEntry, type EvidenceEntry } from "./entry.js";
import { leafHash, sha256 } from "./hash.js";
import { EvidenceAppender, type AppendedEntry } from "./log-appender.js";
import { merkleRoot } from "./merkle.js";
import { verifyLog, LogVerifier, type StoredEntry } from "./verify-log.js";

const CASE = "CASE-2026-0001";
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function makeLog(n: number): { appended: AppendedEntry[]; log: EvidenceAppender } {
  let t = Date.parse("2026-03-02T02:00:00Z");
  const log = new EvidenceAppender({ now: () => (t += 1000) });
  const kinds = ["envelope-in", "receipt-out", "state-change", "envelope-out", "receipt-in"] as const;
  const appended = Array.from({ length: n }, (_, i) =>
    log.append({ kind: kinds[i % kinds.length]!, caseId: i % 3 === 0 ? "CASE-OTHER" : CASE, messageId: `0195f0c1-0000-7000-8000-${String(i).padStart(12, "0")}`, label: "STATUS_UPDATE", payload: new TextEncoder().encode(`payload ${i} 受理`) }),
  );
  return { appended, log };
}
const stored = (a: AppendedEntry[]): StoredEntry[] => a.map((x) => ({ entry: x.bytes, payload: x.payload }));

async function reasonOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TongbanError && err.code === "AUDIT_CHAIN_BROKEN") return String(err.details["reason"]);
    throw err;
  }
  return "verified";
}

describe("entry encoding", () => {
  const e: EvidenceEntry = {
    index: 7, kind: "state-change", timestamp: 1772416800123, prevHash: new Uint8Array(32).fill(0xab), payloadDigest: sha256(new Uint8Array()), payloadLength: 0, caseId: "C1", messageId: "", label: "ACCEPTED→DONE",
  };

  it("has a fixed byte layout (known answer) and round-trips", () => {
    const bytes = encodeEntry(e);
    expect(hex(bytes.subarray(0, 18))).toBe("0105" + "0000000000000007" + "0000019cac46157b");
    expect(hex(bytes.subarray(82, 96))).toBe("0000000000000000" + "0002" + hex(new TextEncoder().encode("C1")) + "0000");
    expect(bytes.byteLength).toBe(90 + 4 + 2 + 2 + new TextEncoder().encode("ACCEPTED→DONE").byteLength);
    expect(decodeEntry(bytes)).toEqual(e);
    expect(hex(encodeEntry(decodeEntry(bytes)))).toBe(hex(bytes));
  });

  it("refuses trailing bytes, unknown kinds and versions, bad UTF-8", () => {
    const bytes = encodeEntry(e);
    const bad = (mut: (b: Uint8Array) => Uint8Array) => expect(() => decodeEntry(mut(new Uint8Array(bytes)))).toThrow(TongbanError);
    bad((b) => Uint8Array.from([...b, 0]));
    bad((b) => ((b[0] = 2), b));
    bad((b) => ((b[1] = 99), b));
    bad((b) => b.subarray(0, b.length - 1));
    bad((b) => ((b[b.length - 1] = 0xff), b));
    expect(() => encodeEntry({ ...e, caseId: "x".repeat(1025) })).toThrow(TypeError);
  });
});

describe("EvidenceAppender and verifyLog", () => {
  it("chains entries, keeps the Merkle root, and verifies end to end", async () => {
    const { appended, log } = makeLog(25);
    expect(hex(appended[0]!.entry.prevHash)).toBe(hex(GENESIS_PREV_HASH));
    for (let i = 1; i < 25; i++) expect(hex(appended[i]!.entry.prevHash)).toBe(hex(appended[i - 1]!.hash));
    expect(hex(log.root())).toBe(hex(merkleRoot(appended.map((a) => leafHash(a.bytes)))));
    const r = await verifyLog(stored(appended), { expect: [{ treeSize: 25, rootHash: log.root() }] });
    expect(r.size).toBe(25);
    expect(r.payloads).toEqual({ checked: 25, missing: 0 });
    // resuming from the state gives the same root as one long run
    const resumed = new EvidenceAppender({ state: new EvidenceAppender({ state: log.state }).state });
    expect(hex(resumed.root())).toBe(hex(log.root()));
  });

  it("detects an edited, deleted, inserted or reordered entry", async () => {
    const { appended, log } = makeLog(12);
    const ok = stored(appended);
    const expectRoot = { expect: [{ treeSize: 12, rootHash: log.root() }] };
    // edit: change the label of entry 4, re-encoded (a careful forger)
    const edited = [...ok];
    edited[4] = { entry: encodeEntry({ ...appended[4]!.entry, label: "REJECTED" }), payload: appended[4]!.payload };
    expect(await reasonOf(verifyLog(edited))).toBe("prev-hash-mismatch");
    // edit of the last entry shows only against the checkpoint
    const lastEdited = [...ok];
    lastEdited[11] = { entry: encodeEntry({ ...appended[11]!.entry, label: "X" }) };
    expect(await reasonOf(verifyLog(lastEdited))).toBe("verified");
    expect(await reasonOf(verifyLog(lastEdited, expectRoot))).toBe("root-mismatch");
    // deletion in the middle, at the end, and a reorder
    expect(await reasonOf(verifyLog(ok.filter((_, i) => i !== 5)))).toBe("index-mismatch");
    expect(await reasonOf(verifyLog(ok.slice(0, 10), expectRoot))).toBe("log-truncated");
    const swapped = [...ok];
    [swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!];
    expect(await reasonOf(verifyLog(swapped))).toBe("index-mismatch");
    // a renumbered reorder still breaks the chain
    const renumbered = swapped.map((s, i) => ({ entry: encodeEntry({ ...decodeEntry(s.entry), index: i }) }));
    expect(await reasonOf(verifyLog(renumbered))).toBe("prev-hash-mismatch");
    // a flipped bit in a payload, and a malformed entry
    const payloadEdited = [...ok];
    payloadEdited[6] = { entry: ok[6]!.entry, payload: Uint8Array.from(ok[6]!.payload!, (b, i) => (i === 0 ? b ^ 1 : b)) };
    expect(await reasonOf(verifyLog(payloadEdited))).toBe("payload-digest-mismatch");
    expect(await reasonOf(verifyLog([ok[0]!, { entry: ok[1]!.entry.subarray(1) }]))).toBe("entry-malformed");
  });

  it("stays verifiable when payloads are deleted by retention", async () => {
    const { appended, log } = makeLog(9);
    const pruned = stored(appended).map((s, i) => (i % 2 === 0 ? { entry: s.entry } : s));
    const r = await verifyLog(pruned, { expect: [{ treeSize: 9, rootHash: log.root() }] });
    expect(r.payloads).toEqual({ checked: 4, missing: 5 });
  });

  it("checks intermediate checkpoints as the log streams past them", () => {
    const { appended } = makeLog(10);
    const v = new LogVerifier();
    v.expectRoot({ treeSize: 4, rootHash: merkleRoot(appended.slice(0, 4).map((a) => a.hash)) });
    v.expectRoot({ treeSize: 7, rootHash: merkleRoot(appended.slice(0, 6).map((a) => a.hash)) });
    for (let i = 0; i < 6; i++) v.push(appended[i]!.bytes);
    expect(() => v.push(appended[6]!.bytes)).toThrow(/rewritten/);
  });
});
