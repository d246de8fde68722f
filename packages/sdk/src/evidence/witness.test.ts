import { beforeAll, describe, expect, it } from "vitest";
import { TongbanError } from "../errors/index.js";
import { TrustStore } from "../trust/index.js";
import { decodeCheckpoint, signCheckpoint, verifyCheckpoint } from "./checkpoint.js";
import { verifyCosignature } from "./cosignature.js";
import { QINGPU, T0, WUJIANG, makeFederation, signerOf, type Federation } from "./fixtures.test-helper.js";
import { leafHash } from "./hash.js";
import { consistencyProof, merkleRoot } from "./merkle.js";
import { Witness, forkAlertError, verifyForkAlert } from "./witness.js";

let fed: Federation;
const leaves = Array.from({ length: 40 }, (_, i) => leafHash(new TextEncoder().encode(`entry ${i}`)));
const forged = leaves.map((l, i) => (i === 3 ? leafHash(new TextEncoder().encode("rewritten")) : l));
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const trust = () => new TrustStore({ anchor: fed.root.certificatePem });
const checkpointOf = (tree: Uint8Array[], n: number, s = n) => signCheckpoint({ origin: QINGPU, treeSize: n, rootHash: merkleRoot(tree.slice(0, n)), timestamp: at(s) }, signerOf(fed.qingpu));
const proof = (tree: Uint8Array[], m: number, n: number) => consistencyProof(m, n, (i) => tree[i]!);
const witness = () => new Witness({ id: WUJIANG, signer: signerOf(fed.wujiang), trust: trust(), now: () => at(3600) });

beforeAll(async () => {
  fed = await makeFederation();
});

describe("signed checkpoints", () => {
  it("verify offline from the anchor alone (x5c), ES256 and EdDSA", async () => {
    const jws = await checkpointOf(leaves, 10);
    const v = await verifyCheckpoint(jws, { trust: trust() });
    expect(v).toMatchObject({ origin: QINGPU, treeSize: 10, timestamp: at(10) });
    expect(v.signer.nodeId).toBe(QINGPU);
    const ed = await signCheckpoint({ origin: WUJIANG, treeSize: 0, rootHash: merkleRoot([]), timestamp: T0 }, signerOf(fed.wujiang));
    expect((await verifyCheckpoint(ed, { trust: trust() })).origin).toBe(WUJIANG);
  });

  it("fail when altered, signed by another node, or chained to another root", async () => {
    const jws = await checkpointOf(leaves, 10);
    const [h, p, s] = jws.split(".");
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString());
    const altered = `${h}.${Buffer.from(JSON.stringify({ ...payload, treeSize: 11 })).toString("base64url")}.${s}`;
    await expect(verifyCheckpoint(altered, { trust: trust() })).rejects.toMatchObject({ code: "AUDIT_CHECKPOINT_INVALID" });
    const impostor = await signCheckpoint({ origin: QINGPU, treeSize: 1, rootHash: leaves[0]!, timestamp: T0 }, signerOf(fed.jiashan));
    await expect(verifyCheckpoint(impostor, { trust: trust() })).rejects.toMatchObject({ code: "TRUST_SIGNER_MISMATCH" });
    const other = await makeFederation();
    await expect(verifyCheckpoint(jws, { trust: new TrustStore({ anchor: other.root.certificatePem }) })).rejects.toMatchObject({ code: "TRUST_UNTRUSTED_CHAIN" });
    expect(decodeCheckpoint(jws).treeSize).toBe(10);
  });
});

describe("Witness", () => {
  it("cosigns a growing, consistent log and its cosignatures verify", async () => {
    const w = witness();
    const first = await w.observe(await checkpointOf(leaves, 5));
    expect(first.kind).toBe("cosigned");
    const cp = await checkpointOf(leaves, 17);
    const v = await w.observe(cp, await proof(leaves, 5, 17));
    if (v.kind !== "cosigned") throw new Error(v.kind);
    const c = await verifyCosignature(v.cosignature, decodeCheckpoint(cp), { trust: trust() });
    expect(c.witness).toBe(WUJIANG);
    await expect(verifyCosignature(v.cosignature, decodeCheckpoint(await checkpointOf(leaves, 16)), { trust: trust() })).rejects.toMatchObject({ code: "AUDIT_CHECKPOINT_INVALID" });
    expect(w.latest(QINGPU)?.treeSize).toBe(17);
    // an older checkpoint is consistent but not cosigned
    expect((await w.observe(await checkpointOf(leaves, 9), await proof(leaves, 9, 17))).kind).toBe("stale");
    // a restored witness continues from what it held
    const w2 = witness();
    await w2.restore(w.held());
    expect(w2.latest(QINGPU)?.treeSize).toBe(17);
  });

  it("raises a conclusive fork alert with both checkpoints for two roots at one size", async () => {
    const w = witness();
    const honest = await checkpointOf(leaves, 20);
    await w.observe(honest);
    const fork = await checkpointOf(forged, 20, 21);
    const v = await w.observe(fork);
    if (v.kind !== "fork") throw new Error(v.kind);
    expect(v.alert).toMatchObject({ origin: QINGPU, reason: "same-size", held: honest, received: fork });
    expect(await verifyForkAlert(v.alert, { trust: new TrustStore({ anchor: fed.root.certificatePem }) })).toEqual({ conclusive: true });
    expect(forkAlertError(v.alert)).toMatchObject({ code: "AUDIT_CHECKPOINT_CONFLICT" });
    expect(w.latest(QINGPU)?.jws).toBe(honest);
  });

  it("raises an alert when the larger checkpoint is not consistent with the held one", async () => {
    const w = witness();
    await w.observe(await checkpointOf(leaves, 8));
    const rewritten = await checkpointOf(forged, 30);
    const v = await w.observe(rewritten, await proof(forged, 8, 30));
    if (v.kind !== "fork") throw new Error(v.kind);
    expect(v.alert.reason).toBe("inconsistent");
    expect(await verifyForkAlert(v.alert, { trust: trust() })).toEqual({ conclusive: false });
    await expect(w.observe(rewritten)).rejects.toMatchObject({ code: "AUDIT_CHECKPOINT_INVALID" });
  });

  it("refuses checkpoints from the future and alerts that show no conflict", async () => {
    const w = witness();
    await expect(w.observe(await checkpointOf(leaves, 3, 7200))).rejects.toBeInstanceOf(TongbanError);
    const a = await checkpointOf(leaves, 12);
    await expect(verifyForkAlert({ origin: QINGPU, reason: "same-size", held: a, received: a, proof: [] }, { trust: trust() })).rejects.toMatchObject({ code: "AUDIT_CHECKPOINT_INVALID" });
  });
});
