#!/usr/bin/env node
// Node intake over mutual TLS — verify, durable LevelDB group commit, signed
// receipt — against a bare grpc-js echo server with the same TLS and the same
// message bytes, measured in the same run (DESIGN §13: ≥ 2,000 msg/s, p99 <
// 50 ms, ratio ≥ 0.5). Envelopes are signed in advance: the sender's signing
// cost is not the receiver's intake.
//
// The two are measured in alternating rounds (echo, node, echo, node, …), each
// after its own warm-up, and the figures are the medians over the rounds: on a
// shared 2-core machine one run of either can be off by 25 %, and a ratio taken
// from neighbouring runs drifts less than one taken minutes apart.
//   node scripts/bench-intake.mjs [--messages N] [--rounds R] [--concurrency C] [--no-evidence] [--client grpc-js|http2]
//                                 [--alg ES256|EdDSA] [--offload worker|threadpool|inline] [--threads N] [--json]
// --messages: per round (default 10,000); --rounds: default 3.
// --no-evidence: without the evidence log hook (to measure what the log costs).
// --client: the load generator — grpc-js (default, as a partner node sends) or http2 (node:http2 with
//   hand-written gRPC framing, far lighter: the server gets more of the 2 cores, in both kinds of round).
// Each round also reports the CPU the load generator's thread used (Linux) and the rest, the server's
// share: the load generator shares the machine's 2 cores with the server under test. Of the server's
// share, the event loop's (this process's main thread) is given too; the remainder is the server's other
// threads: signature workers, LevelDB and libuv threads, V8's GC helpers (which serve the load generator too).
import { createPrivateKey } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { toBinary } from "@bufbuild/protobuf";
import { EvidenceLog, GroupCommitter, Intake, federationService, openLevelStore, receiptSignerFor, verifierFor } from "../packages/node/dist/index.js";
import { TrustStore, createEnvelope, createFederationRoot, issueNodeCertificates, serverCredentials, startGrpcServer, startSignatureWorker, threadPoolSignatures } from "../packages/sdk/dist/index.js";
import { CaseState, DeliverRequestSchema, FederationService } from "../packages/sdk/dist/proto.js";
import { threadCpuMs } from "./lib/thread-cpu.mjs";

const argv = process.argv.slice(2);
const arg = (n, d) => (argv.includes(n) ? Number(argv[argv.indexOf(n) + 1]) : d);
const json = argv.includes("--json");
const MESSAGES = arg("--messages", 10_000);
const ROUNDS = Math.max(1, arg("--rounds", 3));
const WARMUP = Math.min(2_000, MESSAGES);
const CONCURRENCY = arg("--concurrency", 40);
const EVIDENCE = !argv.includes("--no-evidence");
const ALG = argv.includes("--alg") ? argv[argv.indexOf("--alg") + 1] : "ES256"; // ES256 or EdDSA (both nodes)
const OFFLOAD = argv.includes("--offload") ? argv[argv.indexOf("--offload") + 1] : "worker"; // worker, threadpool or inline
const THREADS = arg("--threads", 2);
const CLIENT = argv.includes("--client") ? argv[argv.indexOf("--client") + 1] : "grpc-js";
if (!["worker", "threadpool", "inline"].includes(OFFLOAD)) throw new TypeError("--offload is worker, threadpool or inline");
if (!["grpc-js", "http2"].includes(CLIENT)) throw new TypeError("--client is grpc-js or http2");
const log = (s) => process.stderr.write(`[bench-intake] ${s}\n`);

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const root = await createFederationRoot({ name: "bench root", validityDays: 2 });
const q = await issueNodeCertificates({ ca: root, nodeId: QINGPU, signingAlgorithm: ALG, validityDays: 2 });
const w = await issueNodeCertificates({ ca: root, nodeId: WUJIANG, signingAlgorithm: ALG, validityDays: 2 });
const trust = new TrustStore({ anchor: root.certificatePem });
trust.addCertificate(q.signing.certificatePem);
const wIdentity = { nodeId: WUJIANG, signer: { kid: w.signing.kid, privateKey: createPrivateKey(w.signing.privateKeyPem), algorithm: ALG }, decryptionKey: createPrivateKey(w.tls.privateKeyPem) };
const qSigner = { kid: q.signing.kid, privateKey: createPrivateKey(q.signing.privateKeyPem), algorithm: ALG };

// Every node round needs envelopes of its own (a resent one is a duplicate), and so does the node's warm-up.
const TOTAL = WARMUP + ROUNDS * MESSAGES;
log(`signing ${TOTAL} envelopes in advance …`);
const envelopes = [];
for (let i = 0; i < TOTAL; i++) {
  if (i > 0 && i % 10_000 === 0) log(`  … ${i}`);
  const m = await createEnvelope({ body: { kind: { case: "statusUpdate", value: { state: CaseState.ACCEPTED, note: "已受理" } } }, sender: QINGPU, recipient: WUJIANG, signer: qSigner });
  envelopes.push(m.envelope);
}

const dir = mkdtempSync(join(tmpdir(), "tongban-bench-intake-"));
const store = await openLevelStore(join(dir, "data"));
// As in the node: the evidence log appends its entries to every group batch.
const evidenceLog = new EvidenceLog(store);
await evidenceLog.open();
const committer = new GroupCommitter(store, EVIDENCE ? { hook: evidenceLog } : {});
// As in the node: signatures checked and made on two worker threads, in batches (--offload
// threadpool: libuv's thread pool, one job per signature; inline: on the event loop).
const signatures = OFFLOAD === "worker" ? startSignatureWorker({ threads: THREADS }) : undefined;
const offload = OFFLOAD === "worker" ? { offload: signatures } : OFFLOAD === "threadpool" ? { offload: threadPoolSignatures } : {};
const intake = new Intake({ store, committer, verify: verifierFor(wIdentity, trust, offload), signReceipt: receiptSignerFor(wIdentity, offload), apply: () => [] }, { maxInFlight: 100_000 });
const tls = { ca: root.certificatePem, cert: w.tls.certificatePem, key: w.tls.privateKeyPem, requireClientCert: true };
const node = await startGrpcServer({ credentials: serverCredentials(tls), services: [[FederationService, federationService({ nodeId: WUJIANG, intake, trust })]] });

// The baseline: bare grpc-js, same TLS, same bytes in and out, no work.
const identity = (b) => b;
const echoDef = { Echo: { path: "/bench.Echo/Echo", requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } };
const echo = new grpc.Server();
echo.addService(echoDef, { Echo: (call, cb) => cb(null, call.request) });
const echoPort = await new Promise((res, rej) => echo.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createSsl(Buffer.from(root.certificatePem), [{ private_key: Buffer.from(w.tls.privateKeyPem), cert_chain: Buffer.from(w.tls.certificatePem) }], true), (e, p) => (e ? rej(e) : res(p))));

/** Runs the load in a worker thread against `address`/`path` with the given request bytes. */
function load(name, address, path, requests) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./bench-intake-load.mjs", import.meta.url), {
      workerData: { name, address, path, requests, concurrency: CONCURRENCY, client: CLIENT, ca: root.certificatePem, key: q.tls.privateKeyPem, cert: q.tls.certificatePem, serverName: "localhost" },
    });
    const cpu0 = process.cpuUsage();
    const loop0 = threadCpuMs();
    worker.once("message", (r) => {
      // CPU of the whole process (every thread: server, load generator, workers, GC) per message: steadier than the rate on a noisy machine.
      const cpu = process.cpuUsage(cpu0);
      const loop1 = threadCpuMs();
      const all = (cpu.user + cpu.system) / 1000;
      const { load_cpu_ms, ...rest } = r;
      const row = { ...rest, cpu_ms_per_msg: Number((all / r.messages).toFixed(3)) };
      // The load generator's own thread, and everything else (server threads, signature workers, LevelDB, GC helpers).
      if (load_cpu_ms !== undefined) {
        row.load_cpu_ms_per_msg = Number((load_cpu_ms / r.messages).toFixed(3));
        row.server_cpu_ms_per_msg = Number(((all - load_cpu_ms) / r.messages).toFixed(3));
        // The server's share, split: its event loop (this thread) and its other threads.
        if (loop0 !== undefined && loop1 !== undefined) row.event_loop_cpu_ms_per_msg = Number(((loop1 - loop0) / r.messages).toFixed(3));
      }
      const loop = row.event_loop_cpu_ms_per_msg === undefined ? "" : `: event loop ${row.event_loop_cpu_ms_per_msg}`;
      const shares = load_cpu_ms === undefined ? "" : ` (load generator ${row.load_cpu_ms_per_msg}, server ${row.server_cpu_ms_per_msg}${loop})`;
      log(`${name}: ${r.per_s} msg/s, p99 ${r.p99_ms} ms, ${row.cpu_ms_per_msg} ms CPU/msg${shares}`);
      resolve(row);
    });
    worker.once("error", reject);
  });
}

// Echo answers with the request bytes; the node answers Deliver with its receipt.
// The requests are packed into one buffer and the envelope objects dropped: the
// bench's own data should not sit in the server's heap (tens of MB the garbage
// collector would walk, in the node's rounds more often than in the echo's).
const encoded = envelopes.map((e) => toBinary(DeliverRequestSchema, { $typeName: "tongban.v1.DeliverRequest", envelope: e }));
envelopes.length = 0;
const offsets = new Int32Array(encoded.length + 1);
encoded.forEach((b, i) => (offsets[i + 1] = offsets[i] + b.byteLength));
const packed = new Uint8Array(offsets[encoded.length]);
encoded.forEach((b, i) => packed.set(b, offsets[i]));
encoded.length = 0;
/** Requests `from` to `to` (exclusive) for a load worker: one copied buffer and where each request starts in it. */
const requests = {
  slice: (from, to) => ({ bytes: packed.slice(offsets[from], offsets[to]), starts: offsets.slice(from, to + 1).map((o) => o - offsets[from]) }),
};
const ECHO = { address: `127.0.0.1:${echoPort}`, path: "/bench.Echo/Echo" };
const NODE = { address: `127.0.0.1:${node.port}`, path: "/tongban.v1.FederationService/Deliver" };
const nodeName = `node intake (mTLS, verify, LevelDB fsync group commit${EVIDENCE ? " + evidence log" : ""}, signed receipt)`;
await load("echo warm-up", ECHO.address, ECHO.path, requests.slice(0, WARMUP));
await load("node warm-up", NODE.address, NODE.path, requests.slice(0, WARMUP));
const rounds = [];
for (let r = 0; r < ROUNDS; r++) {
  log(`round ${r + 1}/${ROUNDS}`);
  const batch = requests.slice(WARMUP + r * MESSAGES, WARMUP + (r + 1) * MESSAGES);
  const e = await load("bare grpc-js echo (mTLS)", ECHO.address, ECHO.path, batch);
  const n = await load(nodeName, NODE.address, NODE.path, batch);
  rounds.push({ echo: e, node: n, ratio: Number((n.per_s / e.per_s).toFixed(3)) });
}
const stats = committer.stats;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const med = (pick) => Number(median(rounds.map(pick)).toFixed(3));
/** The medians of the load generator's and the server's CPU per message, where the rounds measured them. */
const split = (kind) =>
  rounds.every((x) => x[kind].server_cpu_ms_per_msg !== undefined)
    ? {
        load_cpu_ms_per_msg: med((x) => x[kind].load_cpu_ms_per_msg),
        server_cpu_ms_per_msg: med((x) => x[kind].server_cpu_ms_per_msg),
        ...(rounds.every((x) => x[kind].event_loop_cpu_ms_per_msg !== undefined) ? { event_loop_cpu_ms_per_msg: med((x) => x[kind].event_loop_cpu_ms_per_msg) } : {}),
      }
    : {};
const rows = [
  ...rounds.flatMap((x, i) => [
    { round: i + 1, ...x.echo },
    { round: i + 1, ...x.node, ratio_vs_echo: x.ratio },
  ]),
  { round: "median", name: "bare grpc-js echo (mTLS)", messages: MESSAGES, per_s: med((x) => x.echo.per_s), p50_ms: med((x) => x.echo.p50_ms), p99_ms: med((x) => x.echo.p99_ms), cpu_ms_per_msg: med((x) => x.echo.cpu_ms_per_msg), ...split("echo") },
  { round: "median", name: nodeName, messages: MESSAGES, per_s: med((x) => x.node.per_s), p50_ms: med((x) => x.node.p50_ms), p99_ms: med((x) => x.node.p99_ms), cpu_ms_per_msg: med((x) => x.node.cpu_ms_per_msg), ...split("node"), ratio_vs_echo: med((x) => x.ratio) },
];
const nodePerS = med((x) => x.node.per_s);
const nodeP99 = med((x) => x.node.p99_ms);
const ratio = med((x) => x.ratio);
const summary = {
  client: CLIENT,
  offload: OFFLOAD,
  evidence_log: EVIDENCE,
  evidence_entries: evidenceLog.size,
  rounds: ROUNDS,
  messages_per_round: MESSAGES,
  concurrency: CONCURRENCY,
  target_per_s: 2000,
  target_p99_ms: 50,
  target_ratio: 0.5,
  median_per_s: nodePerS,
  median_p99_ms: nodeP99,
  worst_p99_ms: Math.max(...rounds.map((x) => x.node.p99_ms)),
  median_ratio: ratio,
  met: nodePerS >= 2000 && nodeP99 < 50 && ratio >= 0.5,
  group_commit: stats,
};

await node.shutdown(100);
echo.forceShutdown();
await committer.close();
if (signatures !== undefined) log(`signature worker: ${signatures.stats.signatures} signatures in ${signatures.stats.batches} batches`);
await signatures?.close();
await store.close();
rmSync(dir, { recursive: true, force: true });

if (json) process.stdout.write(`${JSON.stringify({ bench: "intake", rows, summary }, null, 2)}\n`);
else {
  console.table(rows);
  console.log(summary);
}
