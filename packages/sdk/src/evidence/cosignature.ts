import { TongbanError } from "../errors/index.js";
import type { ResolvedSigner, TrustStore } from "../trust/index.js";
import { fromB64u } from "./bytes.js";
import { checkpointPayload, parseTimestamp, type Checkpoint } from "./checkpoint.js";
import { hashEquals, isSize } from "./hash.js";
import { signStatement, verifyStatement, type EvidenceSigner } from "./signed-statement.js";

/** The JWS `typ` of a witness cosignature. */
export const COSIGNATURE_JWS_TYPE = "tongban-cosignature+jws";

/** A verified cosignature: `witness` saw the checkpoint at `timestamp` and found it consistent with what it saw before. */
export interface VerifiedCosignature {
  readonly witness: string;
  readonly timestamp: Date;
  readonly signer: ResolvedSigner;
  readonly jws: string;
}

/**
 * Countersigns a checkpoint: the payload repeats origin, treeSize and
 * rootHash and adds the witness node id and the time it cosigned. Use
 * {@link Witness} rather than calling this directly: it checks consistency
 * first.
 */
export async function signCosignature(checkpoint: Checkpoint, witness: string, at: Date, signer: EvidenceSigner): Promise<string> {
  if (typeof witness !== "string" || witness === "") throw new TypeError("witness must be a node id");
  const { origin, rootHash, treeSize } = checkpointPayload(checkpoint);
  return signStatement({ origin, rootHash, treeSize, witness, timestamp: checkpointPayload({ ...checkpoint, timestamp: at }).timestamp }, COSIGNATURE_JWS_TYPE, signer);
}

/**
 * Verifies a cosignature of `checkpoint`: signature and chain (at the
 * cosignature's time, by default), the signer is the node named as witness,
 * and origin, treeSize and rootHash are the checkpoint's.
 *
 * @throws TongbanError AUDIT_CHECKPOINT_INVALID; TRUST_SIGNER_MISMATCH; TRUST_*.
 */
export async function verifyCosignature(jws: string, checkpoint: Checkpoint, options: { readonly trust: TrustStore; readonly at?: Date }): Promise<VerifiedCosignature> {
  const bad = (field: string): never => {
    throw new TongbanError("AUDIT_CHECKPOINT_INVALID", `the cosignature's ${field} is missing, malformed or not the checkpoint's`, { details: { field } });
  };
  const { payload: p, signer } = await verifyStatement(jws, COSIGNATURE_JWS_TYPE, options.trust, (p) => options.at ?? parseTimestamp(p["timestamp"]) ?? bad("timestamp"));
  const keys = Object.keys(p).sort().join(",");
  if (keys !== "origin,rootHash,timestamp,treeSize,witness") bad(`field set (${keys})`);
  if (p["origin"] !== checkpoint.origin) bad("origin");
  if (!isSize(p["treeSize"]) || p["treeSize"] !== checkpoint.treeSize) bad("treeSize");
  const root = fromB64u(p["rootHash"]);
  if (root === undefined || !hashEquals(root, checkpoint.rootHash)) bad("rootHash");
  const timestamp = parseTimestamp(p["timestamp"]) ?? bad("timestamp");
  const witness = typeof p["witness"] === "string" ? p["witness"] : bad("witness");
  if (witness !== signer.nodeId)
    throw new TongbanError("TRUST_SIGNER_MISMATCH", "the cosignature was signed by another node than the witness it names", { details: { witness, signer: signer.nodeId } });
  return { witness, timestamp, signer, jws };
}
