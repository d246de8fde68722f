/**
 * Deadlines driven by the node: the clock starts at 受理, stops during
 * correction, and the watch raises `deadline.yellow` before the due time
 * and `deadline.red` (an alert) once it passes — once per level, as events
 * and metrics. Runs a composed node on LevelDB with a clock the test moves,
 * across the 2025 National Day holiday and its make-up working day.
 */
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createPrivateKey } from "node:crypto";
import { createEnvelope, createFederationRoot, decodeEntry, issueNodeCertificates, newMessageId, type NodeCertificates } from "@tongban/sdk";
import { CaseState, HandlingMode } from "@tongban/sdk/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeNode, type ComposedNode } from "../compose.js";
import { verifyNodeConfig } from "../config/verify-node-config.js";
import { auditLog } from "../evidence/audit.js";
import { storeKeys } from "../store/keys.js";
import { createNodeLogger } from "../server/node-logger.js";
import { createNodeMetrics, type NodeMetrics } from "../server/node-metrics.js";
import { openLevelStore, type LevelStore } from "../store/level-store.js";
import { initNodeDirectory } from "./node-directory.js";

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const TABLES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "examples", "mapping");

let dir: string;
let store: LevelStore;
let composed: ComposedNode;
let metrics: NodeMetrics;
let qingpu: NodeCertificates;
let now = new Date("2025-09-29T02:00:00Z"); // Monday 10:00 in Shanghai
const at = (iso: string) => {
  now = new Date(iso);
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tongban-deadlines-"));
  // Certificates valid from before the simulated autumn of 2025 until after today.
  const notBefore = new Date("2025-09-01T00:00:00Z");
  const validityDays = Math.ceil((Date.now() - notBefore.getTime()) / 86_400_000) + 30;
  const root = await createFederationRoot({ name: "deadline test root", validityDays, notBefore });
  qingpu = await issueNodeCertificates({ ca: root, nodeId: QINGPU, signingAlgorithm: "ES256", validityDays, notBefore });
  const init = await initNodeDirectory({ dir: join(dir, "wujiang"), nodeId: WUJIANG, ca: root, tablesDir: TABLES, validityDays, notBefore });
  const { trust } = await verifyNodeConfig(init.config);
  trust.addCertificate(qingpu.signing.certificatePem);
  store = await openLevelStore(init.config.dataDir);
  metrics = createNodeMetrics({ nodeId: WUJIANG, processMetrics: false });
  const logger = createNodeLogger({ nodeId: WUJIANG, level: "silent" });
  // Evidence retention on (30 days), run by the test through pruneEvidence().
  composed = await composeNode({ config: { ...init.config, retention: { evidencePayloadDays: 30 } }, store, trust, logger, metrics, clock: () => now }, { sender: async () => new Uint8Array() });
  const wujiangTls = new X509Certificate(init.certificates.tls.certificatePem).publicKey;
  // 青浦 forwards a case (补领结婚证: 1 promised working day at 吴江).
  const caseId = newMessageId();
  const m = await createEnvelope({
    body: { kind: { case: "applicationSubmission", value: { mode: HandlingMode.REMOTE_RECEIPT, item: { basicCode: "00TB00000101" } } } },
    sender: QINGPU,
    recipient: WUJIANG,
    caseId,
    sequence: 1,
    signer: { kid: qingpu.signing.kid, privateKey: createPrivateKey(qingpu.signing.privateKeyPem), algorithm: "ES256" },
    encryptTo: wujiangTls,
    now,
  });
  await composed.intake.deliver(m.bytes, { nodeId: QINGPU });
  caseIdUnderTest = caseId;
}, 60_000);
let caseIdUnderTest = "";

afterAll(async () => {
  for (const s of composed?.services ?? []) await s.stop();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const levels = async () => (await metrics.registry.getSingleMetricAsString("tongban_deadline_warnings_total")).split("\n").filter((l) => !l.startsWith("#"));

describe("deadlines driven by the node", () => {
  it("takes the promised working days from 吴江's own mapping table", async () => {
    expect((await composed.desk.get(caseIdUnderTest))?.workingDays).toBe(1);
  });

  it("starts at 受理 on Tuesday 30 September 2025: due at the close of Thursday 9 October (1–8 October are the holiday)", async () => {
    at("2025-09-30T01:00:00Z");
    const r = await composed.desk.act(caseIdUnderTest, "accept", { kind: { case: "acceptance", value: {} } });
    expect(r.snapshot.state).toBe(CaseState.ACCEPTED);
    expect(r.deadline?.startedAt).toBe("2025-09-30T01:00:00.000Z");
    const events = await composed.checkDeadlines();
    // One working day left after the day of acceptance: yellow at once.
    expect(events.map((e) => e.type)).toEqual(["deadline.yellow"]);
    expect(events[0]?.detail).toMatchObject({ remainingWorkingDays: 1 });
    expect(String((events[0]?.detail as { dueAt: string }).dueAt)).toMatch(/^2025-10-09T/);
    expect(await composed.checkDeadlines()).toEqual([]); // once per level
  });

  it("stays yellow through the holiday and turns red (an alert) once the due time has passed", async () => {
    at("2025-10-05T04:00:00Z");
    expect(await composed.checkDeadlines()).toEqual([]);
    at("2025-10-10T01:00:00Z");
    const red = await composed.checkDeadlines();
    expect(red.map((e) => [e.type, e.alert])).toEqual([["deadline.red", true]]);
    expect(await levels()).toEqual(expect.arrayContaining([expect.stringMatching(/level="yellow".*\} 1$/), expect.stringMatching(/level="red".*\} 1$/)]));
    const stored: string[] = [];
    for await (const e of composed.events.read()) if (e.caseId === caseIdUnderTest) stored.push(e.type);
    expect(stored).toEqual(expect.arrayContaining(["case.opened", "case.state", "deadline.yellow", "deadline.red"]));
  });

  it("stops the clock during a correction (补正) and shows it as stopped", async () => {
    at("2025-10-10T02:00:00Z");
    const r = await composed.desk.act(caseIdUnderTest, "correct-1", { kind: { case: "correctionRequest", value: { note: "请补正" } } });
    expect(r.deadline?.stops.at(-1)).toMatchObject({ reason: "correction", stoppedAt: "2025-10-10T02:00:00.000Z" });
    expect(await composed.checkDeadlines()).toEqual([]);
  });

  it("warns weeks ahead when the node's own certificates near expiry, once each", async () => {
    const notAfter = new Date(new X509Certificate(readFileSync(join(dir, "wujiang", "pki", "tls.crt"), "utf8")).validTo);
    at(new Date(notAfter.getTime() - 40 * 86_400_000).toISOString());
    expect((await composed.checkDeadlines()).filter((e) => e.type === "certificate.expiring")).toEqual([]);
    at(new Date(notAfter.getTime() - 10 * 86_400_000).toISOString());
    const warned = (await composed.checkDeadlines()).filter((e) => e.type === "certificate.expiring");
    expect(warned.map((e) => (e.detail as { certificate: string }).certificate).sort()).toEqual(["signing", "tls"]);
    expect(warned.every((e) => e.alert === true && (e.detail as { days: number }).days <= 10)).toBe(true);
    expect((await composed.checkDeadlines()).filter((e) => e.type === "certificate.expiring")).toEqual([]);
  });

  it("evidence retention deletes the payloads of entries older than retention.evidencePayloadDays while the node runs; the log still verifies", async () => {
    const times: number[] = [];
    for await (const e of store.iterate(storeKeys.evidence.range())) times.push(decodeEntry(e.value).timestamp);
    let payloads = 0;
    for await (const _ of store.iterate(storeKeys.evidencePayload.range())) payloads++;
    expect(payloads).toBeGreaterThan(0);
    const first = Math.min(...times);
    const last = Math.max(...times);
    at(new Date(first + 30 * 86_400_000 - 60_000).toISOString());
    expect(await composed.pruneEvidence()).toBe(0); // nothing is 30 days old yet
    at(new Date(last + 31 * 86_400_000).toISOString());
    expect(await composed.pruneEvidence()).toBe(payloads);
    for await (const _ of store.iterate(storeKeys.evidencePayload.range())) throw new Error("a payload was left");
    expect((await metrics.evidencePayloadsPrunedTotal.get()).values[0]?.value).toBe(payloads);
    const report = await auditLog(store);
    expect(report).toMatchObject({ ok: true, entries: times.length, payloadsDeleted: payloads });
  });
});
