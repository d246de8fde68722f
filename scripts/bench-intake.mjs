#!/usr/bin/env node
// Node intake over mutual TLS — verify, durable LevelDB group commit, signed
// receipt — against a bare grpc-js echo server with the same TLS and the same
// message bytes, measured in the same run (DESIGN §13: ≥ 2,000 msg/s, p99 <
// 50 ms, ratio ≥ 0.5). Envelopes are signed in advance: the sender's signing
// cost is not the receiver's intake.
//   node scripts/bench-intake.mjs [--messages N] [--concurrency C] [--no-evidence] [--alg ES256|EdDSA]
//                                 [--offload worker|threadpool|inline] [--threads N] [--json]
// --no-evidence: without the evidence log hook (to measure what the log costs).
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

const argv = process.argv.slice(2);
const arg = (n, d) => (argv.includes(n) ? Number(argv[argv.indexOf(n) + 1]) : d);
const json = argv.includes("--json");
const MESSAGES = arg("--messages", 20_000);
const CONCURRENCY = arg("--concurrency", 64);
const EVIDENCE = !argv.includes("--no-evidence");
const ALG = argv.includes("--alg") ? argv[argv.indexOf("--alg") + 1] : "ES256"; // ES256 or EdDSA (both nodes)
const OFFLOAD = argv.includes("--offload") ? argv[argv.indexOf("--offload") + 1] : "worker"; // worker, threadpool or inline
const THREADS = arg("--threads", 2);
if (!["worker", "threadpool", "inline"].includes(OFFLOAD)) throw new TypeError("--offload is worker, threadpool or inline");
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

log(`signing ${MESSAGES} envelopes in advance …`);
const envelopes = [];
for (let i = 0; i < MESSAGES; i++) {
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
      workerData: { name, address, path, requests, concurrency: CONCURRENCY, ca: root.certificatePem, key: q.tls.privateKeyPem, cert: q.tls.certificatePem, serverName: "localhost" },
    });
    worker.once("message", (r) => {
      log(`${name}: ${r.per_s} msg/s, p99 ${r.p99_ms} ms`);
      resolve(r);
    });
    worker.once("error", reject);
  });
}

// Echo answers with the request bytes; the node answers Deliver with its receipt.
const requests = envelopes.map((e) => toBinary(DeliverRequestSchema, { $typeName: "tongban.v1.DeliverRequest", envelope: e }));
await load("warm-up", `127.0.0.1:${echoPort}`, "/bench.Echo/Echo", requests.slice(0, 2_000));
const echoRow = await load("bare grpc-js echo (mTLS)", `127.0.0.1:${echoPort}`, "/bench.Echo/Echo", requests);
const nodeRow = await load(`node intake (mTLS, verify, LevelDB fsync group commit${EVIDENCE ? " + evidence log" : ""}, signed receipt)`, `127.0.0.1:${node.port}`, "/tongban.v1.FederationService/Deliver", requests);
const stats = committer.stats;

const ratio = Number((nodeRow.per_s / echoRow.per_s).toFixed(3));
const rows = [echoRow, { ...nodeRow, ratio_vs_echo: ratio }];
const summary = { offload: OFFLOAD, evidence_log: EVIDENCE, evidence_entries: evidenceLog.size, target_per_s: 2000, target_p99_ms: 50, target_ratio: 0.5, met: nodeRow.per_s >= 2000 && nodeRow.p99_ms < 50 && ratio >= 0.5, concurrency: CONCURRENCY, group_commit: stats };

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
