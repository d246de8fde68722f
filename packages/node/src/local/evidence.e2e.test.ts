/**
 * The evidence log in real nodes (LevelDB, mTLS): every change logged in
 * its own batch, checkpoints cosigned by the partner, a case bundle that
 * verifies offline, tampering with the stored log caught, retention that
 * keeps the log verifiable, and a forked history caught by a witness.
 */
import { createPrivateKey } from "node:crypto";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  consistencyProof,
  createEnvelope,
  createFederationClient,
  decodeCheckpoint,
  inclusionProof,
  signCheckpoint,
  treeRoot,
  verifyCaseBundle,
  type CaseBundle,
  type PlatformClient,
} from "@tongban/sdk";
import { CaseState, DecisionOutcome, DeliveryMethod, EnvelopeSchema, HeaderSchema, MessageType } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, exportCaseBundle, prunePayloads } from "../evidence/audit.js";
import { decodeEntry, evidenceTree } from "../evidence/evidence-log.js";
import { fromBinary } from "@bufbuild/protobuf";
import { storeKeys } from "../store/keys.js";
import { openLevelStore } from "../store/level-store.js";
import { until, uploadMaterials } from "./e2e-helpers.js";
import { startLocalFederation, type LocalFederation } from "./local-federation.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const TABLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "examples", "mapping");
let dir: string;
let fed: LocalFederation;
let caseId = "";
let bundle: CaseBundle;
const platform = (id: string): PlatformClient => fed.node(id).platform!;


beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-evidence-"));
  fed = await startLocalFederation({ dir, tablesDir: TABLES, nodes: [{ nodeId: QINGPU }, { nodeId: WUJIANG }], compose: { outboxIntervalMs: 50, checkpointIntervalMs: 200 } });
  const materials = await uploadMaterials(platform(QINGPU), "evidence");
  const { view } = await platform(QINGPU).submitApplication({
    requestId: "evidence-1",
    handlingNode: WUJIANG,
    application: {
      item: { receivingCode: "11310118310118012U000TB00000101" },
      applicant: { name: "张三", idNumber: "11010519491231002X" },
      form: [{ name: "申请人姓名", value: "张三" }, { name: "出生日期", value: "19491231" }, { name: "性别", value: "男" }, { name: "联系地址", value: "江苏省|苏州市|吴江区" }],
      materials,
    },
  });
  caseId = view!.caseId;
  await until("delivered", async () => ((await platform(WUJIANG).getCase({ caseId })).view?.state === CaseState.DELIVERED ? true : undefined));
  await platform(WUJIANG).actOnCase({ caseId, requestId: "e-a", action: { kind: { case: "acceptance", value: {} } } });
  await platform(WUJIANG).actOnCase({ caseId, requestId: "e-d", action: { kind: { case: "decision", value: { outcome: DecisionOutcome.APPROVED } } } });
  await platform(WUJIANG).actOnCase({ caseId, requestId: "e-r", action: { kind: { case: "result", value: { deliveryMethod: DeliveryMethod.POST } } } });
  await until("result at 青浦", async () => ((await platform(QINGPU).getCase({ caseId })).view?.state === CaseState.RESULT_SENT ? true : undefined));
}, 60_000);
afterAll(async () => {
  await fed?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the evidence log in the node", () => {
  it("checkpoints the log and gets the partner's cosignature", async () => {
    const q = fed.node(QINGPU).composed!;
    const cosigned = await until("a cosigned checkpoint", async () => {
      const latest = await q.evidence.checkpoints.latest();
      if (latest === undefined) return undefined;
      for await (const e of fed.node(QINGPU).node!.components.store.iterate(storeKeys.evidenceCosignature.range())) return { latest, witness: storeKeys.evidenceCosignature.decode(e.key)[1] };
      return undefined;
    });
    expect(cosigned.witness).toBe(WUJIANG);
    expect(decodeCheckpoint(cosigned.latest.jws).origin).toBe(QINGPU);
  });

  it("exports a case bundle that verifies offline from the anchor alone, and fails with the reason when tampered", async () => {
    const store = fed.node(QINGPU).node!.components.store;
    await fed.node(QINGPU).composed!.evidence.checkpoints.checkpoint({ force: true });
    bundle = await exportCaseBundle(store, caseId, { certificates: [...fed.nodes.values()].map((n) => n.certificates.signing.certificatePem) });
    const kinds = bundle.entries.length;
    expect(kinds).toBeGreaterThanOrEqual(6); // envelopes out and in, receipts, state changes
    const report = await verifyCaseBundle(JSON.stringify(bundle), { trust: fed.root.certificatePem });
    expect(report.ok, JSON.stringify(report.steps.filter((s) => !s.ok))).toBe(true);
    const tampered = { ...bundle, entries: bundle.entries.map((e, i) => (i === 1 && e.payload !== undefined ? { ...e, payload: Buffer.from("forged").toString("base64url") } : e)) };
    const bad = await verifyCaseBundle(JSON.stringify(tampered), { trust: fed.root.certificatePem });
    expect(bad.ok).toBe(false);
    expect(bad.steps.some((s) => !s.ok && s.step === "payload")).toBe(true);
  });

  it("logs each receipt the node gives with the receipt's own ids, the message it answers and its exact bytes", () => {
    const receipts = bundle.entries.map((e) => ({ entry: decodeEntry(Buffer.from(e.entry, "base64url")), payload: e.payload })).filter((e) => e.entry.kind === "receipt-out");
    expect(receipts.length).toBeGreaterThanOrEqual(2); // the decision and the result from 吴江
    for (const { entry, payload } of receipts) {
      const bytes = Buffer.from(payload!, "base64url");
      const header = fromBinary(HeaderSchema, fromBinary(EnvelopeSchema, bytes).header);
      expect(header.type).toBe(MessageType.TECHNICAL_RECEIPT);
      expect({ caseId: entry.caseId, messageId: entry.messageId }).toEqual({ caseId: header.caseId, messageId: header.messageId });
      expect(entry.label).toBe(`to ${WUJIANG} for ${header.correlationId}`);
    }
  });

  it("an idle log is not checkpointed again and again for its own witnessing traffic", async () => {
    const c = fed.node(QINGPU).composed!.evidence.checkpoints;
    await c.checkpoint({ force: true });
    await new Promise((r) => setTimeout(r, 300));
    const before = (await c.latest())!.size;
    await new Promise((r) => setTimeout(r, 1_000)); // five checkpoint intervals
    expect((await c.latest())!.size).toBe(before);
  });

  it("two checkpoints asked for at once (the timer and a forced one) are one checkpoint, signed once", async () => {
    const c = fed.node(QINGPU).composed!.evidence.checkpoints;
    const log = fed.node(QINGPU).composed!.evidence.log;
    // The log grows past the latest checkpoint (witnessing traffic is enough).
    await until("青浦's log grew", async () => ((await c.latest())!.size < log.committed.size ? true : undefined));
    const [a, b] = await Promise.all([c.checkpoint({ force: true }), c.checkpoint({ force: true })]);
    expect(b).toEqual(a);
    const stored = await fed.node(QINGPU).node!.components.store.get(storeKeys.evidenceCheckpoint.key(a!.size));
    expect(new TextDecoder().decode(stored)).toBe(a!.jws);
  });

  it("a request whose proof starts where the witness does not stand gets no false alarm: the witness answers with what it holds", async () => {
    const q = fed.node(QINGPU);
    const w = fed.node(WUJIANG);
    const qStore = q.node!.components.store;
    const heldSize = async () => {
      const v = await w.node!.components.store.get(storeKeys.meta.key(`witness-held\u0000${QINGPU}`));
      return v === undefined ? undefined : decodeCheckpoint(new TextDecoder().decode(v)).treeSize;
    };
    // Settled: 吴江 holds 青浦's latest checkpoint, and 青浦 has its cosignature (an idle log asks for no more).
    const held = await until("吴江 holds 青浦's latest checkpoint", async () => {
      const h = await heldSize();
      const latest = await q.composed!.evidence.checkpoints.latest();
      if (h === undefined || h !== latest?.size) return undefined;
      return (await qStore.get(storeKeys.evidenceCosignature.key(h, WUJIANG))) === undefined ? undefined : h;
    });
    await qStore.batch([{ type: "del", key: storeKeys.evidenceCosignature.key(held, WUJIANG) }]);
    // 青浦's genuine log, larger than what 吴江 holds (the witnessing traffic itself grows it).
    const size = await until("青浦's log grew past it", async () => {
      const s = q.composed!.evidence.log.committed.size;
      return s > held + 1 ? s : undefined;
    });
    const tree = evidenceTree(qStore);
    // The stored Merkle nodes give the same proofs as the entries alone.
    expect(await inclusionProof(3, size, tree)).toEqual(await inclusionProof(3, size, (i) => q.composed!.evidence.log.leafHashAt(i)));
    const signer = { privateKey: createPrivateKey(q.certificates.signing.privateKeyPem), certificateChain: [q.certificates.signing.certificatePem] };
    const genuine = await signCheckpoint({ origin: QINGPU, treeSize: size, rootHash: await treeRoot(size, tree), timestamp: new Date() }, signer);
    // As if 青浦 believed 吴江 held size 1 (an answer lost, a request resent after a long silence): a valid proof, from the wrong place.
    const request = await createEnvelope({
      body: { kind: { case: "checkpointCosignature", value: { checkpoint: new TextEncoder().encode(genuine), previousTreeSize: 1n, consistencyProof: await consistencyProof(1, size, tree) } } },
      sender: QINGPU,
      recipient: WUJIANG,
      signer: { kid: q.certificates.signing.kid, privateKey: signer.privateKey, algorithm: "ES256" },
    });
    const client = createFederationClient({ address: w.node!.addresses!.federation, nodeId: WUJIANG, ca: fed.root.certificatePem, cert: q.certificates.tls.certificatePem, key: q.certificates.tls.privateKeyPem });
    await client.deliver({ envelope: request.envelope });
    client.close();
    // 吴江 answers with a cosignature of the checkpoint it holds: 青浦 learns where the next proof must start.
    const answered = await until("吴江's answer", async () => qStore.get(storeKeys.evidenceCosignature.key(held, WUJIANG)));
    for await (const e of w.composed!.events.read(-1, 100_000)) expect(e.type).not.toBe("evidence.fork");
    expect(answered.byteLength).toBeGreaterThan(0);
    // The witness did not take the checkpoint on the strength of a proof from elsewhere.
    expect(await heldSize()).toBe(held);
  });

  it("a witness that sees two different checkpoints of the same size raises evidence.fork with both", async () => {
    const q = fed.node(QINGPU);
    const w = fed.node(WUJIANG).composed!;
    const held = await until("吴江 holds a checkpoint of 青浦", async () => {
      const latest = await q.composed!.evidence.checkpoints.latest();
      return latest;
    });
    const cp = decodeCheckpoint(held.jws);
    // 青浦's key signs a second history of the same size (what a node rewriting its past would do).
    const forged = await signCheckpoint({ origin: QINGPU, treeSize: cp.treeSize, rootHash: new Uint8Array(32).fill(7), timestamp: new Date() }, { privateKey: createPrivateKey(q.certificates.signing.privateKeyPem), certificateChain: [q.certificates.signing.certificatePem] });
    await until("吴江 cosigned the real one", async () => {
      for await (const e of q.node!.components.store.iterate(storeKeys.evidenceCosignature.range(cp.treeSize))) return e;
      return undefined;
    });
    const request = await createEnvelope({ body: { kind: { case: "checkpointCosignature", value: { checkpoint: new TextEncoder().encode(forged) } } }, sender: QINGPU, recipient: WUJIANG, signer: { kid: q.certificates.signing.kid, privateKey: createPrivateKey(q.certificates.signing.privateKeyPem), algorithm: "ES256" } });
    const client = createFederationClient({ address: fed.node(WUJIANG).node!.addresses!.federation, nodeId: WUJIANG, ca: fed.root.certificatePem, cert: q.certificates.tls.certificatePem, key: q.certificates.tls.privateKeyPem });
    await client.deliver({ envelope: request.envelope });
    client.close();
    const fork = await until("evidence.fork", async () => {
      for await (const e of w.events.read(-1, 100_000)) if (e.type === "evidence.fork") return e;
      return undefined;
    });
    expect(fork).toMatchObject({ alert: true, partner: QINGPU, detail: { origin: QINGPU, reason: "same-size", received: forged } });
    expect((fork.detail as { held: string }).held).not.toBe(forged);
  });
});

describe("tampering with a stopped node's LevelDB is caught", () => {
  let dataDir: string;
  beforeAll(async () => {
    await fed.stopNode(QINGPU); // graceful: a last checkpoint covers everything
    dataDir = fed.node(QINGPU).config.dataDir;
  }, 30_000);

  const copy = (name: string) => {
    const to = join(dir, name);
    cpSync(dataDir, to, { recursive: true });
    return to;
  };
  const audit = async (path: string, change?: (s: Awaited<ReturnType<typeof openLevelStore>>) => Promise<void>) => {
    const store = await openLevelStore(path);
    try {
      if (change !== undefined) await change(store);
      return await auditLog(store, { trust: fed.root.certificatePem, nodeId: QINGPU });
    } finally {
      await store.close();
    }
  };

  it("verifies the untouched log against every checkpoint", async () => {
    const r = await audit(copy("clean"));
    expect(r).toMatchObject({ ok: true, payloadsDeleted: 0, signaturesChecked: true });
    expect(r.entries).toBeGreaterThan(10);
    expect(r.checkpoints).toBeGreaterThan(0);
  });

  it("an edited entry, a deleted entry, reordered entries and an edited payload are each detected", async () => {
    const edit = await audit(copy("edit"), async (s) => {
      const v = (await s.get(storeKeys.evidence.key(3)))!;
      const changed = new Uint8Array(v);
      changed[changed.length - 1] = (changed[changed.length - 1] ?? 0) ^ 1;
      await s.batch([{ type: "put", key: storeKeys.evidence.key(3), value: changed }]);
    });
    expect(edit.ok).toBe(false);
    expect(edit.problem?.code).toBe("AUDIT_CHAIN_BROKEN");

    const del = await audit(copy("delete"), async (s) => s.batch([{ type: "del", key: storeKeys.evidence.key(4) }]));
    expect(del.ok).toBe(false);
    expect(del.problem?.reason).toBe("index-mismatch");

    const reorder = await audit(copy("reorder"), async (s) => {
      const [a, b] = await s.getMany([storeKeys.evidence.key(5), storeKeys.evidence.key(6)]);
      await s.batch([{ type: "put", key: storeKeys.evidence.key(5), value: b! }, { type: "put", key: storeKeys.evidence.key(6), value: a! }]);
    });
    expect(reorder.ok).toBe(false);

    const payload = await audit(copy("payload"), async (s) => s.batch([{ type: "put", key: storeKeys.evidencePayload.key(2), value: new TextEncoder().encode("forged") }]));
    expect(payload.ok).toBe(false);
    expect(payload.problem).toMatchObject({ index: 2 });
    expect(payload.problem?.reason).toMatch(/payload-(length|digest)-mismatch/);
  });

  it("removing the last entries, past every checkpoint, shows against the log's state; a forged checkpoint or Merkle node is named", async () => {
    const last = async (s: Awaited<ReturnType<typeof openLevelStore>>) => {
      for await (const e of s.iterate({ ...storeKeys.evidence.range(), reverse: true, limit: 1 })) return storeKeys.evidence.decode(e.key)[0];
      throw new Error("empty log");
    };
    const tail = await audit(copy("tail"), async (s) => s.batch([{ type: "del", key: storeKeys.evidence.key(await last(s)) }]));
    expect(tail.ok).toBe(false);
    expect(tail.problem?.reason).toMatch(/state-mismatch|log-truncated/);

    // A checkpoint rewritten in the store (its signature no longer matches).
    const cp = await audit(copy("checkpoint"), async (s) => {
      for await (const e of s.iterate({ ...storeKeys.evidenceCheckpoint.range(), limit: 1 })) {
        const [h, p, sig] = new TextDecoder().decode(e.value).split(".");
        const payload = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
        payload["rootHash"] = Buffer.alloc(32, 9).toString("base64url");
        await s.batch([{ type: "put", key: e.key, value: new TextEncoder().encode(`${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${sig}`) }]);
      }
    });
    expect(cp.problem).toMatchObject({ reason: "checkpoint-invalid" });

    const node = await audit(copy("node"), async (s) => {
      for await (const e of s.iterate({ ...storeKeys.evidenceNode.range(), limit: 1 })) await s.batch([{ type: "put", key: e.key, value: new Uint8Array(32).fill(1) }]);
    });
    expect(node.problem).toMatchObject({ reason: "node-mismatch" });
  });

  it("retention deletes payloads, the log still verifies, and the bundle exported before still does", async () => {
    const path = copy("retention");
    const store = await openLevelStore(path);
    try {
      const deleted = await prunePayloads(store, new Date(Date.now() + 1_000));
      expect(deleted).toBeGreaterThan(0);
      const r = await auditLog(store);
      expect(r).toMatchObject({ ok: true, payloadsDeleted: deleted });
      const after = await exportCaseBundle(store, caseId);
      expect(after.entries.every((e) => e.payload === undefined)).toBe(true);
      expect((await verifyCaseBundle(JSON.stringify(after), { trust: fed.root.certificatePem })).ok).toBe(true);
    } finally {
      await store.close();
    }
    expect((await verifyCaseBundle(JSON.stringify(bundle), { trust: fed.root.certificatePem })).ok).toBe(true);
  });
});
