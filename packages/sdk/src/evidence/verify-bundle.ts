import { timestampMs } from "@bufbuild/protobuf/wkt";
import { isTongbanError } from "../errors/index.js";
import { inspectEnvelope, verifyEnvelope } from "../envelope/index.js";
import { TrustStore } from "../trust/index.js";
import { fromB64u, toHex } from "./bytes.js";
import { parseCaseBundle, type CaseBundle } from "./bundle-format.js";
import { verifyCheckpoint, type VerifiedCheckpoint } from "./checkpoint.js";
import { verifyCosignature } from "./cosignature.js";
import { decodeEntry, type EvidenceEntry } from "./entry.js";
import { hashEquals, leafHash, sha256 } from "./hash.js";
import { verifyInclusion } from "./merkle.js";

/** Why a step ended as it did (docs/evidence.md "Verification report"). */
export type BundleReason =
  | "ok"
  | "deleted-by-retention"
  | "malformed"
  | "checkpoint-invalid"
  | "origin-mismatch"
  | "cosignature-invalid"
  | "entry-malformed"
  | "entry-order"
  | "inclusion-failed"
  | "case-mismatch"
  | "payload-length-mismatch"
  | "payload-digest-mismatch"
  | "chain-link-broken"
  | "envelope-invalid"
  | "envelope-mismatch"
  | "envelope-signer-unknown";

/** One check and its outcome. `ok` is false only for a failure; skipped and deleted steps are ok. */
export interface BundleStep {
  readonly step: "format" | "checkpoint" | "cosignature" | "entry" | "order" | "inclusion" | "case" | "payload" | "chain-link" | "envelope";
  readonly ok: boolean;
  readonly reason: BundleReason;
  /** The TongbanError code behind a failure, when there was one. */
  readonly code?: string;
  /** The entry's log index, for per-entry steps. */
  readonly index?: number;
  readonly message: string;
}

/** What verifying a bundle found. */
export interface BundleReport {
  /** True when no step failed. */
  readonly ok: boolean;
  readonly steps: readonly BundleStep[];
  readonly origin?: string;
  readonly caseId?: string;
  readonly checkpoint?: { readonly treeSize: number; readonly rootHash: string; readonly timestamp: string };
  /** Witnesses whose cosignature verified. */
  readonly witnesses: readonly string[];
  readonly entries: readonly { readonly index: number; readonly kind: string; readonly timestamp: string; readonly messageId: string; readonly label: string; readonly payload: "present" | "deleted" }[];
}

/** Options for {@link verifyCaseBundle}. */
export interface VerifyCaseBundleOptions {
  /** The federation root (PEM or DER), or a trust store built on it. A given store gains the bundle's certificates. */
  readonly trust: TrustStore | string | Uint8Array;
  /** Verify envelopes and receipts in payloads (signature, header, body digest). Default true. */
  readonly envelopes?: boolean;
}

const ENVELOPE_KINDS = new Set(["envelope-in", "envelope-out", "receipt-in", "receipt-out"]);

/**
 * Verifies a case bundle offline, step by step, without stopping at the
 * first failure: the checkpoint's signature and chain; each cosignature;
 * each entry's encoding, order, inclusion proof, case id, payload digest
 * (a missing payload is "deleted-by-retention", not a failure); the hash
 * chain link between entries adjacent in the log; and each envelope payload's
 * own signature. Never throws for a bad bundle: the report says why.
 *
 * @example
 * ```ts
 * const report = await verifyCaseBundle(await readFile(path), { trust: anchorPem });
 * for (const s of report.steps.filter((s) => !s.ok)) console.error(s.step, s.index, s.reason, s.message);
 * ```
 */
export async function verifyCaseBundle(input: CaseBundle | string | Uint8Array, options: VerifyCaseBundleOptions): Promise<BundleReport> {
  const steps: BundleStep[] = [];
  const add = (s: BundleStep) => steps.push(s);
  const failed = (step: BundleStep["step"], reason: BundleReason, err: unknown, index?: number): BundleStep => ({
    step,
    ok: false,
    reason,
    ...(isTongbanError(err) ? { code: err.code } : {}),
    ...(index === undefined ? {} : { index }),
    message: err instanceof Error ? err.message : String(err),
  });
  const trust = options.trust instanceof TrustStore ? options.trust : new TrustStore({ anchor: options.trust });
  let bundle: CaseBundle;
  try {
    bundle = parseCaseBundle(input);
  } catch (err) {
    return { ok: false, steps: [failed("format", "malformed", err)], witnesses: [], entries: [] };
  }
  add({ step: "format", ok: true, reason: "ok", message: `bundle format ${bundle.version}` });
  for (const c of bundle.certificates) {
    try {
      trust.addCertificate(new Uint8Array(Buffer.from(c, "base64")));
    } catch (err) {
      add(failed("format", "malformed", err));
    }
  }

  let cp: VerifiedCheckpoint | undefined;
  try {
    cp = await verifyCheckpoint(bundle.checkpoint, { trust });
    if (cp.origin !== bundle.origin) {
      add({ step: "checkpoint", ok: false, reason: "origin-mismatch", message: `the checkpoint is from ${cp.origin}, the bundle says ${bundle.origin}` });
      cp = undefined;
    } else {
      add({ step: "checkpoint", ok: true, reason: "ok", message: `signed by ${cp.signer.nodeId}: ${cp.treeSize} entries at ${cp.timestamp.toISOString()}` });
    }
  } catch (err) {
    add(failed("checkpoint", "checkpoint-invalid", err));
  }

  const witnesses: string[] = [];
  if (cp !== undefined) {
    for (const jws of bundle.cosignatures) {
      try {
        const v = await verifyCosignature(jws, cp, { trust });
        if (!witnesses.includes(v.witness)) witnesses.push(v.witness);
        add({ step: "cosignature", ok: true, reason: "ok", message: `cosigned by ${v.witness} at ${v.timestamp.toISOString()}` });
      } catch (err) {
        add(failed("cosignature", "cosignature-invalid", err));
      }
    }
  }

  const entries: BundleReport["entries"][number][] = [];
  let prev: { entry: EvidenceEntry; hash: Uint8Array } | undefined;
  for (const item of bundle.entries) {
    const bytes = fromB64u(item.entry) as Uint8Array;
    let e: EvidenceEntry;
    try {
      e = decodeEntry(bytes);
    } catch (err) {
      add(failed("entry", "entry-malformed", err));
      prev = undefined;
      continue;
    }
    const index = e.index;
    const hash = leafHash(bytes);
    if (prev !== undefined && index <= prev.entry.index)
      add({ step: "order", ok: false, reason: "entry-order", index, message: `entry ${index} follows entry ${prev.entry.index}: entries are repeated or out of order` });
    if (cp !== undefined) {
      const proof = item.proof.map((p) => fromB64u(p) as Uint8Array);
      if (index < cp.treeSize && verifyInclusion(hash, index, cp.treeSize, proof, cp.rootHash))
        add({ step: "inclusion", ok: true, reason: "ok", index, message: `entry ${index} is in the checkpointed log` });
      else add({ step: "inclusion", ok: false, reason: "inclusion-failed", index, message: `entry ${index} is not proven to be in the checkpointed log: it was altered or does not belong` });
    }
    if (e.caseId !== bundle.caseId)
      add({ step: "case", ok: false, reason: "case-mismatch", index, message: `entry ${index} belongs to case ${JSON.stringify(e.caseId)}` });
    const payload = item.payload === undefined ? undefined : (fromB64u(item.payload) as Uint8Array);
    if (payload === undefined) {
      add({ step: "payload", ok: true, reason: "deleted-by-retention", index, message: `the payload of entry ${index} (${e.payloadLength} bytes) was deleted; its digest stays in the entry` });
    } else if (payload.byteLength !== e.payloadLength) {
      add({ step: "payload", ok: false, reason: "payload-length-mismatch", index, message: `the payload of entry ${index} has ${payload.byteLength} bytes, the entry says ${e.payloadLength}` });
    } else if (!hashEquals(sha256(payload), e.payloadDigest)) {
      add({ step: "payload", ok: false, reason: "payload-digest-mismatch", index, message: `the payload of entry ${index} does not match its digest: it was altered` });
    } else {
      add({ step: "payload", ok: true, reason: "ok", index, message: `payload of entry ${index} matches its digest` });
      if (options.envelopes !== false && ENVELOPE_KINDS.has(e.kind)) add(await envelopeStep(payload, e, trust));
    }
    if (prev !== undefined && index === prev.entry.index + 1) {
      if (hashEquals(e.prevHash, prev.hash)) add({ step: "chain-link", ok: true, reason: "ok", index, message: `entry ${index} links to entry ${index - 1}` });
      else add({ step: "chain-link", ok: false, reason: "chain-link-broken", index, message: `entry ${index} does not link to entry ${index - 1} (${toHex(e.prevHash).slice(0, 16)}…)` });
    }
    entries.push({ index, kind: e.kind, timestamp: new Date(e.timestamp).toISOString(), messageId: e.messageId, label: e.label, payload: payload === undefined ? "deleted" : "present" });
    prev = { entry: e, hash };
  }

  return {
    ok: steps.every((s) => s.ok),
    steps,
    origin: bundle.origin,
    caseId: bundle.caseId,
    ...(cp === undefined ? {} : { checkpoint: { treeSize: cp.treeSize, rootHash: toHex(cp.rootHash), timestamp: cp.timestamp.toISOString() } }),
    witnesses,
    entries,
  };
}

async function envelopeStep(payload: Uint8Array, e: EvidenceEntry, trust: TrustStore): Promise<BundleStep> {
  const index = e.index;
  try {
    const { header } = inspectEnvelope(payload);
    if (header.createdAt === undefined) throw new TypeError("the envelope header has no created_at");
    // Judged at its own creation time: the envelope was valid when it travelled.
    const v = await verifyEnvelope(payload, { self: header.recipient, resolver: trust, now: new Date(timestampMs(header.createdAt)), skipBody: true });
    if (v.header.messageId !== e.messageId)
      return { step: "envelope", ok: false, reason: "envelope-mismatch", index, message: `the envelope's message id ${v.header.messageId} is not the entry's ${e.messageId}` };
    return { step: "envelope", ok: true, reason: "ok", index, message: `envelope signed by ${v.signer.nodeId} for ${v.header.recipient}` };
  } catch (err) {
    if (isTongbanError(err, "TRUST_UNKNOWN_SIGNER"))
      return { step: "envelope", ok: true, reason: "envelope-signer-unknown", code: err.code, index, message: `the envelope signer's certificate is not in the bundle: signature not checked` };
    return { step: "envelope", ok: false, reason: "envelope-invalid", ...(isTongbanError(err) ? { code: err.code } : {}), index, message: err instanceof Error ? err.message : String(err) };
  }
}
