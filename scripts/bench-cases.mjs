#!/usr/bin/env node
// Remote-receipt cases end to end across two real nodes (mTLS, LevelDB), and
// 100 MB of materials through one case (peak memory), each against a
// baseline measured in the same run:
//   - cases: the messages of completed cases per second vs a bare grpc-js
//     echo over mTLS at the same concurrency (the transport alone);
//   - materials: MB/s from upload at the receiving window to the handling
//     node holding every byte (verified by digest) vs SHA-256 + fsync'd file
//     write of the same bytes (what any store must at least do).
//   node scripts/bench-cases.mjs [--cases 60] [--concurrency 8] [--material-mb 100] [--json]
import { createHash, createPrivateKey } from "node:crypto";
import { mkdtempSync, openSync, rmSync, writeSync, fsyncSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as grpc from "@grpc/grpc-js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => pathToFileURL(join(root, p)).href;
const { startLocalFederation } = await import(dist("packages/node/dist/index.js"));
const { clientCredentials } = await import(dist("packages/sdk/dist/index.js"));
const { CaseState, DecisionOutcome, DeliveryMethod, HandlingMode, IdentityDocumentType } = await import(dist("packages/sdk/dist/proto.js"));
void createPrivateKey;

const argv = process.argv.slice(2);
const arg = (n, d) => (argv.includes(n) ? Number(argv[argv.indexOf(n) + 1]) : d);
const json = argv.includes("--json");
const CASES = arg("--cases", 60);
const CONCURRENCY = arg("--concurrency", 8);
const MATERIAL_MB = arg("--material-mb", 100);
const log = (s) => process.stderr.write(`[bench-cases] ${s}\n`);
const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), "tongban-bench-cases-"));
const fed = await startLocalFederation({ dir, tablesDir: join(root, "examples", "mapping"), nodes: [{ nodeId: QINGPU }, { nodeId: WUJIANG }], compose: { outboxIntervalMs: 50 } });
const q = fed.node(QINGPU).platform;
const w = fed.node(WUJIANG).platform;
async function until(probe) {
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await sleep(25);
  }
}
const stateAt = (client, caseId, state) => until(async () => ((await client.getCase({ caseId })).view?.state === state ? true : undefined));

async function upload(data) {
  const digest = createHash("sha256").update(data).digest();
  const CHUNK = 256 * 1024;
  await q.uploadMaterial((async function* () {
    for (let at = 0; at < data.length || at === 0; at += CHUNK) {
      yield { digest, digestAlgorithm: "sha256", totalSize: BigInt(data.length), offset: BigInt(at), data: data.subarray(at, at + CHUNK) };
      if (data.length === 0) break;
    }
  })());
  return digest;
}
async function runCase(i, materials) {
  const { view } = await q.submitApplication({
    requestId: `bench-${i}-${Math.random()}`,
    handlingNode: WUJIANG,
    application: {
      mode: HandlingMode.REMOTE_RECEIPT,
      item: { receivingCode: "11310118310118012U000TB00000101" },
      applicant: { name: "张三", idType: IdentityDocumentType.RESIDENT_ID, idNumber: "11010519491231002X" },
      form: [{ name: "申请人姓名", value: "张三" }, { name: "出生日期", value: "19491231" }, { name: "性别", value: "男" }, { name: "联系地址", value: "江苏省|苏州市|吴江区" }],
      materials,
    },
  });
  const caseId = view.caseId;
  await stateAt(w, caseId, CaseState.DELIVERED);
  const act = (client, action) => client.actOnCase({ caseId, requestId: `${caseId}-${action.kind.case}`, action });
  await act(w, { kind: { case: "acceptance", value: {} } });
  await act(w, { kind: { case: "decision", value: { outcome: DecisionOutcome.APPROVED } } });
  await act(w, { kind: { case: "result", value: { deliveryMethod: DeliveryMethod.POST } } });
  await stateAt(q, caseId, CaseState.RESULT_SENT);
  await act(q, { kind: { case: "deliveryConfirmation", value: { method: DeliveryMethod.POST } } });
  await stateAt(w, caseId, CaseState.RESULT_DELIVERED);
}

// Small shared materials, uploaded once (the bench measures case traffic).
const small = [];
for (const [code, name] of [["M001", "居民身份证"], ["M002", "户口本"], ["M003", "双人合影照片"]]) {
  const data = new TextEncoder().encode(`${name} for the benchmark`);
  small.push({ materialId: code, name, nationalCode: code, size: BigInt(data.length), digest: await upload(data), digestAlgorithm: "sha256" });
}

// Baseline: bare grpc-js echo over mTLS with a body of the size of a typical envelope.
const identity = (b) => b;
const echo = new grpc.Server();
echo.addService({ Echo: { path: "/bench.Echo/Echo", requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } }, { Echo: (call, cb) => cb(null, call.request) });
const wc = fed.node(WUJIANG).certificates;
const port = await new Promise((res, rej) => echo.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createSsl(Buffer.from(fed.root.certificatePem), [{ private_key: Buffer.from(wc.tls.privateKeyPem), cert_chain: Buffer.from(wc.tls.certificatePem) }], true), (e, p) => (e ? rej(e) : res(p))));
const qc = fed.node(QINGPU).certificates;
const Client = grpc.makeGenericClientConstructor({}, "Echo");
// The echo server holds 吴江's certificate: checked by its node id, which is also the TLS server name (as the nodes' own clients do).
const ec = new Client(`127.0.0.1:${port}`, clientCredentials({ ca: fed.root.certificatePem, cert: qc.tls.certificatePem, key: qc.tls.privateKeyPem, expectedNodeId: WUJIANG }), {
  "grpc.ssl_target_name_override": WUJIANG,
});
const payload = Buffer.alloc(1200, 7);
const ECHO_N = CASES * 10;
let sent = 0;
const e0 = performance.now();
await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
  while (sent < ECHO_N) {
    sent++;
    await new Promise((res, rej) => ec.makeUnaryRequest("/bench.Echo/Echo", identity, identity, payload, (err) => (err ? rej(err) : res())));
  }
}));
const echoPerS = ECHO_N / ((performance.now() - e0) / 1000);
ec.close();
echo.forceShutdown();
log(`baseline echo: ${Math.round(echoPerS)} round trips/s`);

// Cases.
let next = 0;
const c0 = performance.now();
await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
  while (next < CASES) await runCase(next++, small);
}));
const caseSeconds = (performance.now() - c0) / 1000;
const casesPerS = CASES / caseSeconds;
const MESSAGES_PER_CASE = 5; // submission, acceptance, decision, result, delivery confirmation (each receipted)
log(`cases: ${CASES} in ${caseSeconds.toFixed(1)} s = ${casesPerS.toFixed(1)}/s`);

// 100 MB of materials through one case.
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
globalThis.gc?.();
const rssBefore = process.memoryUsage().rss;
const parts = 4;
const partBytes = Math.floor((MATERIAL_MB * 1024 * 1024) / parts);
const CHUNK = 256 * 1024;
// Material bytes are generated chunk by chunk (twice: once to hash, once to send), so the
// driver never holds a material whole and the RSS growth is the nodes' own.
const chunkOf = (part, at) => {
  const n = Math.min(CHUNK, partBytes - at);
  const b = Buffer.alloc(n, (part * 31 + at / CHUNK) & 0xff);
  b.writeUInt32BE(part, 0);
  return b;
};
const digestOf = (part) => {
  const h = createHash("sha256");
  for (let at = 0; at < partBytes; at += CHUNK) h.update(chunkOf(part, at));
  return h.digest();
};
// Baseline: SHA-256 and an fsync'd file write of the same bytes.
const b0 = performance.now();
const file = join(dir, "baseline.bin");
const fd = openSync(file, "w");
for (let part = 0; part < parts; part++) {
  const h = createHash("sha256");
  for (let at = 0; at < partBytes; at += CHUNK) {
    const c = chunkOf(part, at);
    h.update(c);
    writeSync(fd, c);
  }
  h.digest();
}
fsyncSync(fd);
closeSync(fd);
const baselineMBps = MATERIAL_MB / ((performance.now() - b0) / 1000);
const mats = [];
const m0 = performance.now();
for (let part = 0; part < parts; part++) {
  const digest = digestOf(part);
  await q.uploadMaterial((async function* () {
    for (let at = 0; at < partBytes; at += CHUNK) yield { digest, digestAlgorithm: "sha256", totalSize: BigInt(partBytes), offset: BigInt(at), data: chunkOf(part, at) };
  })());
  mats.push({ materialId: `M00${part + 1}`, name: `large scan ${part + 1}`, nationalCode: ["M001", "M002", "M003", "M004"][part], size: BigInt(partBytes), digest, digestAlgorithm: "sha256" });
}
const { view } = await q.submitApplication({
  requestId: `bench-large-${Math.random()}`,
  handlingNode: WUJIANG,
  application: {
    mode: HandlingMode.REMOTE_RECEIPT,
    item: { receivingCode: "11310118310118012U000TB00000101" },
    applicant: { name: "张三", idType: IdentityDocumentType.RESIDENT_ID, idNumber: "11010519491231002X" },
    form: [{ name: "申请人姓名", value: "张三" }, { name: "出生日期", value: "19491231" }, { name: "性别", value: "男" }, { name: "联系地址", value: "江苏省|苏州市|吴江区" }],
    materials: mats.slice(0, 3),
  },
});
await stateAt(w, view.caseId, CaseState.DELIVERED);
const wStore = fed.node(WUJIANG).composed.materials;
for (const m of mats.slice(0, 3)) if (!(await wStore.has(m.digest))) throw new Error("a material did not arrive");
const materialSeconds = (performance.now() - m0) / 1000;
clearInterval(sampler);
const movedMB = (MATERIAL_MB * 3) / 4 + MATERIAL_MB; // all 4 uploaded at the window, 3 of them forwarded
const materialMBps = MATERIAL_MB / materialSeconds;
log(`materials: ${MATERIAL_MB} MB uploaded, ${(MATERIAL_MB * 3) / 4} MB forwarded and verified in ${materialSeconds.toFixed(1)} s; peak RSS ${Math.round(peakRss / 1048576)} MiB`);

await fed.stop();
rmSync(dir, { recursive: true, force: true });
const rows = [
  { measure: "baseline: bare grpc-js echo over mTLS, round trips/s", value: Math.round(echoPerS) },
  { measure: "remote-receipt cases end to end /s (2 nodes, 5 receipted messages each)", value: Math.round(casesPerS * 10) / 10 },
  { measure: "case messages/s ÷ echo round trips/s", value: Math.round(((casesPerS * MESSAGES_PER_CASE) / echoPerS) * 1000) / 1000 },
  { measure: "baseline: SHA-256 + fsync'd file write, MB/s", value: Math.round(baselineMBps) },
  { measure: `materials through a case: ${MATERIAL_MB} MB uploaded at the window, ${(MATERIAL_MB * 3) / 4} MB forwarded and verified, MB/s (of the upload)`, value: Math.round(materialMBps * 10) / 10 },
  { measure: "materials MB/s ÷ baseline MB/s", value: Math.round((materialMBps / baselineMBps) * 1000) / 1000 },
  { measure: "peak RSS during the materials case, MiB (whole process: driver + two nodes)", value: Math.round(peakRss / 1048576) },
  { measure: "RSS growth during the materials case, MiB", value: Math.round((peakRss - rssBefore) / 1048576), target: `< ${MATERIAL_MB} (streamed, never whole in memory)`, met: peakRss - rssBefore < MATERIAL_MB * 1048576 },
];
void movedMB;
if (json) process.stdout.write(`${JSON.stringify({ bench: "cases", rows }, null, 2)}\n`);
else console.table(rows);
