import { TongbanError } from "../errors/index.js";
import type { ResolvedSigner, TrustStore } from "../trust/index.js";
import { assertHash, isSize } from "./hash.js";
import { fromB64u, toB64u } from "./bytes.js";
import { signStatement, statementPayload, verifyStatement, type EvidenceSigner } from "./signed-statement.js";

/** The JWS `typ` of a signed checkpoint. */
export const CHECKPOINT_JWS_TYPE = "tongban-checkpoint+jws";

/** What a checkpoint states: the log of `origin` had `treeSize` entries with this Merkle root at `timestamp`. */
export interface Checkpoint {
  /** The node id whose log this is; must be the signer's node id. */
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
  readonly timestamp: Date;
}

/** A checkpoint whose signature and signer were verified, with the JWS it came from. */
export interface VerifiedCheckpoint extends Checkpoint {
  readonly jws: string;
  readonly signer: ResolvedSigner;
}

/** The canonical-JSON payload fields (docs/evidence.md "Checkpoint"). */
export function checkpointPayload(c: Checkpoint): Record<string, unknown> {
  if (typeof c.origin !== "string" || c.origin === "") throw new TypeError("origin must be a node id");
  if (!isSize(c.treeSize)) throw new TypeError("treeSize must be a non-negative integer");
  assertHash(c.rootHash, "rootHash");
  if (!(c.timestamp instanceof Date) || Number.isNaN(c.timestamp.getTime())) throw new TypeError("timestamp must be a valid Date");
  return { origin: c.origin, rootHash: toB64u(c.rootHash), timestamp: c.timestamp.toISOString(), treeSize: c.treeSize };
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Parses a JSON timestamp in the one form toISOString() produces; undefined otherwise. */
export function parseTimestamp(v: unknown): Date | undefined {
  if (typeof v !== "string" || !ISO_MS.test(v)) return undefined;
  const d = new Date(v);
  return !Number.isNaN(d.getTime()) && d.toISOString() === v ? d : undefined;
}

/**
 * Reads a checkpoint's fields WITHOUT verifying the signature: for display,
 * and to pick the time to verify at.
 *
 * @throws TongbanError AUDIT_CHECKPOINT_INVALID when the payload is not a checkpoint.
 */
export function decodeCheckpoint(jws: string): Checkpoint {
  return checkpointFrom(statementPayload(jws));
}

function checkpointFrom(p: Record<string, unknown>): Checkpoint {
  const bad = (field: string): never => {
    throw new TongbanError("AUDIT_CHECKPOINT_INVALID", `the checkpoint's ${field} is missing or malformed`, { details: { field } });
  };
  const keys = Object.keys(p).sort().join(",");
  if (keys !== "origin,rootHash,timestamp,treeSize") bad(`field set (${keys})`);
  const origin = typeof p["origin"] === "string" && p["origin"] !== "" ? p["origin"] : bad("origin");
  const treeSize = isSize(p["treeSize"]) ? p["treeSize"] : bad("treeSize");
  const rootHash = fromB64u(p["rootHash"]);
  if (rootHash?.byteLength !== 32) bad("rootHash");
  const timestamp = parseTimestamp(p["timestamp"]) ?? bad("timestamp");
  return { origin, treeSize, rootHash: rootHash as Uint8Array, timestamp };
}

/**
 * Signs a checkpoint with the node's signing key as a compact JWS
 * (`typ` tongban-checkpoint+jws, `x5c` the signer chain).
 *
 * @example
 * ```ts
 * const jws = await signCheckpoint({ origin: nodeId, treeSize: log.state.size, rootHash: log.root(), timestamp: new Date() },
 *   { privateKey: signingKeyPem, certificateChain: [signingCertPem] });
 * ```
 */
export async function signCheckpoint(checkpoint: Checkpoint, signer: EvidenceSigner): Promise<string> {
  return signStatement(checkpointPayload(checkpoint), CHECKPOINT_JWS_TYPE, signer);
}

/** Options for {@link verifyCheckpoint}. */
export interface VerifyCheckpointOptions {
  readonly trust: TrustStore;
  /**
   * When the signer's certificate must have been valid; defaults to the
   * checkpoint's own timestamp, so old checkpoints verify after their
   * signer's certificate expired (revocation still counts).
   */
  readonly at?: Date;
}

/**
 * Verifies a signed checkpoint offline: signature, signer chain to the
 * anchor, and that the signer is the node named as origin.
 *
 * @throws TongbanError AUDIT_CHECKPOINT_INVALID; TRUST_SIGNER_MISMATCH
 *   when another node signed; TRUST_* from the trust store.
 */
export async function verifyCheckpoint(jws: string, options: VerifyCheckpointOptions): Promise<VerifiedCheckpoint> {
  const { payload, signer } = await verifyStatement(jws, CHECKPOINT_JWS_TYPE, options.trust, (p) => options.at ?? checkpointFrom(p).timestamp);
  const checkpoint = checkpointFrom(payload);
  if (checkpoint.origin !== signer.nodeId)
    throw new TongbanError("TRUST_SIGNER_MISMATCH", "the checkpoint was signed by another node than its origin", {
      details: { origin: checkpoint.origin, signer: signer.nodeId },
    });
  return { ...checkpoint, jws, signer };
}
