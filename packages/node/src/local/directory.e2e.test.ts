/**
 * Day-2 operations over real nodes (mTLS, LevelDB): a federation built from
 * a signed directory alone, signing-key rotation under traffic, an expiring
 * directory (grace with alerts, then only known partners), and per-partner
 * limits under a flood.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TongbanError, createEnvelope, createFederationClient, issueNodeCertificates, type PlatformClient } from "@tongban/sdk";
import { CaseState, MessageStatus } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRemoteReceiptCase, stateAt as stateAtNode, submitApplication, until } from "./e2e-helpers.js";
import { startLocalFederation, type LocalFederation } from "./local-federation.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const JIASHAN = "cn.330421.jiashan";
const TABLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "examples", "mapping");
let dir: string;
let fed: LocalFederation;
const platform = (id: string): PlatformClient => fed.node(id).platform!;

const stateAt = (id: string, caseId: string, state: CaseState) => stateAtNode(platform(id), caseId, state);
const submit = (requestId: string): Promise<string> => submitApplication(platform(QINGPU), WUJIANG, requestId);
const runCase = (requestId: string): Promise<string> => runRemoteReceiptCase(platform(QINGPU), platform(WUJIANG), WUJIANG, requestId);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-directory-"));
  fed = await startLocalFederation({ dir, tablesDir: TABLES, nodes: [{ nodeId: QINGPU }, { nodeId: WUJIANG }, { nodeId: JIASHAN }], fromDirectory: { graceMs: 4_000 }, compose: { outboxIntervalMs: 50 } });
}, 60_000);
afterAll(async () => {
  await fed?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("a federation from its directory", () => {
  it("has no per-peer configuration, and runs a case on what the directory says", async () => {
    for (const n of fed.nodes.values()) {
      expect(readFileSync(n.configFile, "utf8")).toMatch(/peers: \[\]/);
      expect(n.composed!.directory.status).toBe("current");
      expect(n.composed!.directory.peers.map((p) => p.nodeId).sort()).toEqual([QINGPU, WUJIANG, JIASHAN].filter((x) => x !== n.nodeId).sort());
    }
    const caseId = await runCase("from-directory");
    expect((await platform(QINGPU).getCase({ caseId })).view?.state).toBe(CaseState.RESULT_DELIVERED);
    // Any node hands the directory to a peer that asks (it is self-verifying).
    const q = fed.node(QINGPU).certificates;
    const client = createFederationClient({ address: fed.node(WUJIANG).node!.addresses!.federation, nodeId: WUJIANG, ca: fed.root.certificatePem, cert: q.tls.certificatePem, key: q.tls.privateKeyPem });
    const got = await client.getDirectory({ ifNewerThan: "0" });
    expect(got.version).toBe("1");
    expect(new TextDecoder().decode(got.document)).toBe(readFileSync(join(dir, "directory.jws"), "utf8"));
    expect((await client.getDirectory({ ifNewerThan: "1" })).document.length).toBe(0);
    // GetNodeInfo names the directory version the node holds.
    expect((await client.getNodeInfo({})).directoryVersion).toBe("1");
    client.close();
  });

  it("refuses an older directory once it holds a newer one (no rollback)", async () => {
    const v1 = readFileSync(join(dir, "directory.jws"), "utf8");
    const v2 = await fed.publishDirectory();
    const d = fed.node(JIASHAN).composed!.directory;
    expect(await d.offer(v2, "test")).toBe(true);
    expect(d.version).toBe(2);
    await expect(d.offer(v1, "test")).rejects.toBeInstanceOf(TongbanError);
    expect(d.version).toBe(2);
  });
});

describe("rotation of a running node's signing key under traffic", () => {
  it("loses no message: the directory announces both keys, then 吴江 switches", async () => {
    const w = fed.node(WUJIANG);
    const fresh = await issueNodeCertificates({ ca: fed.root, nodeId: WUJIANG, signingAlgorithm: "ES256", validityDays: 30 });
    // Traffic: cases keep flowing while the key changes.
    const traffic = Promise.all(Array.from({ length: 6 }, (_, i) => runCase(`rotation-${i}`)));
    // 1. Publish the new signing certificate beside the old one; every node picks it up.
    const text = await fed.publishDirectory((input) => ({
      ...input,
      nodes: input.nodes.map((n) => (n.nodeId === WUJIANG ? { ...n, certificates: { ...n.certificates, signing: [w.certificates.signing.certificatePem, fresh.signing.certificatePem] } } : n)),
    }));
    for (const n of fed.nodes.values()) await n.composed!.directory.offer(text, "rotation").catch(() => false);
    // 2. 吴江 switches to the new key while cases are in flight.
    await new Promise((r) => setTimeout(r, 100));
    w.composed!.rotateSigningKey(fresh.signing.certificatePem, fresh.signing.privateKeyPem);
    const caseIds = await traffic;
    // Every message 吴江 sent after the switch was receipted by 青浦; nothing failed or was rejected.
    for (const caseId of caseIds) {
      const view = (await platform(WUJIANG).getCase({ caseId })).view!;
      for (const t of view.timeline.filter((x) => x.site === WUJIANG && x.messageId !== "")) {
        const s = await until("ack", async () => {
          const r = await platform(WUJIANG).getMessageStatus({ messageId: t.messageId });
          return r.status === MessageStatus.ACKNOWLEDGED || r.status === MessageStatus.FAILED || r.status === MessageStatus.REJECTED ? r : undefined;
        });
        expect(MessageStatus[s.status]).toBe("ACKNOWLEDGED");
      }
    }
    // The receipts 青浦 now signs are verified by 吴江, and 吴江's envelopes carry the new kid.
    const last = await submit("after-rotation");
    await stateAt(WUJIANG, last, CaseState.DELIVERED);
    await platform(WUJIANG).actOnCase({ caseId: last, requestId: "after-rotation-a", action: { kind: { case: "acceptance", value: {} } } });
    await stateAt(QINGPU, last, CaseState.ACCEPTED);
    expect(new X509Certificate(fresh.signing.certificatePem).serialNumber).not.toBe(new X509Certificate(w.certificates.signing.certificatePem).serialNumber);
  }, 40_000);
});

describe("limits under a flood", () => {
  it("limits one partner's flood without starving another", async () => {
    // 嘉善 floods 吴江 with valid, distinct envelopes far above its rate.
    const j = fed.node(JIASHAN).certificates;
    const flooder = createFederationClient({ address: fed.node(WUJIANG).node!.addresses!.federation, nodeId: WUJIANG, ca: fed.root.certificatePem, cert: j.tls.certificatePem, key: j.tls.privateKeyPem });
    const signer = { kid: j.signing.kid, privateKey: createPrivateKey(j.signing.privateKeyPem), algorithm: "ES256" as const };
    const envelopes = await Promise.all(Array.from({ length: 1_300 }, () => createEnvelope({ body: { kind: { case: "statusUpdate", value: { state: CaseState.ACCEPTED, note: "flood" } } }, sender: JIASHAN, recipient: WUJIANG, signer }).then((m) => m.envelope)));
    const codes = new Map<string, number>();
    const flood = Promise.all(envelopes.map((envelope) => flooder.deliver({ envelope }).then(() => "OK", (e: unknown) => (e instanceof TongbanError ? e.code : String(e))))).then((all) => {
      for (const c of all) codes.set(c, (codes.get(c) ?? 0) + 1);
    });
    // Meanwhile 青浦's case goes through.
    const caseId = await runCase("during-flood");
    await flood;
    flooder.close();
    expect((await platform(QINGPU).getCase({ caseId })).view?.state).toBe(CaseState.RESULT_DELIVERED);
    const limited = (codes.get("RATE_LIMITED") ?? 0) + (codes.get("OVERLOADED") ?? 0);
    expect(limited).toBeGreaterThan(0);
    expect(codes.get("OK") ?? 0).toBeGreaterThan(0);
    expect([...codes.keys()].every((c) => ["OK", "RATE_LIMITED", "OVERLOADED"].includes(c))).toBe(true);
  }, 40_000);
});

describe("an expiring directory", () => {
  it("keeps serving within the grace period with an alert, then admits only partners it knew", async () => {
    // A directory that expires in a moment; 吴江 has talked to 青浦, never to the newcomer 万年.
    const wannian = await issueNodeCertificates({ ca: fed.root, nodeId: "cn.361129.wannian", signingAlgorithm: "ES256", validityDays: 30 });
    const text = await fed.publishDirectory(
      (input) => ({ ...input, nodes: [...input.nodes, { nodeId: "cn.361129.wannian", name: "万年", regions: ["361129"], endpoints: { federation: "127.0.0.1:9" }, suite: "jose-v1", certificates: { tls: [wannian.tls.certificatePem], signing: [wannian.signing.certificatePem] }, contact: { name: "万年" } }] }),
      1_000,
    );
    const w = fed.node(WUJIANG).composed!;
    expect(await w.directory.offer(text, "test")).toBe(true);
    // Polled, not slept: a loaded machine must not turn "within grace" into "stale" by accident.
    await until("expiry", async () => (w.directory.check() !== "current" ? true : undefined), 10_000);
    expect(w.directory.check()).toBe("expired-within-grace");
    await runCase("within-grace"); // service continues
    const alert = await until("directory alert", async () => {
      for await (const e of w.events.read(-1, 100_000)) if (e.type === "directory.expired-within-grace") return e;
      return undefined;
    });
    expect(alert.alert).toBe(true);
    await until("the end of the grace period", async () => (w.directory.check() === "stale" ? true : undefined), 15_000);
    // 青浦, a partner it knew, is still served; 万年, new to it, is refused.
    await runCase("after-grace");
    const newcomer = createFederationClient({ address: fed.node(WUJIANG).node!.addresses!.federation, nodeId: WUJIANG, ca: fed.root.certificatePem, cert: wannian.tls.certificatePem, key: wannian.tls.privateKeyPem });
    const m = await createEnvelope({ body: { kind: { case: "statusUpdate", value: { state: CaseState.ACCEPTED } } }, sender: "cn.361129.wannian", recipient: WUJIANG, signer: { kid: wannian.signing.kid, privateKey: createPrivateKey(wannian.signing.privateKeyPem), algorithm: "ES256" } });
    await expect(newcomer.deliver({ envelope: m.envelope })).rejects.toMatchObject({ code: "DIRECTORY_STALE" });
    newcomer.close();
  }, 40_000);
});
