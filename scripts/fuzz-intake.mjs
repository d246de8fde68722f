#!/usr/bin/env node
// Fuzzing the intake over the wire (docs/benchmarks.md "Fuzzing"): a partner
// with a valid federation certificate floods a real node's Deliver with
// malformed requests — bit flips in the signed header, the body, the
// signature and its protected header, truncations, swapped parts, oversize
// bodies, other message types, random protobuf and random bytes — while valid
// envelopes keep flowing. Every malformed input must be refused (no receipt),
// with a status and, past decoding, a Tongban error code; every valid one must
// be receipted; the node must stay up with stable memory.
//
//   node --expose-gc scripts/fuzz-intake.mjs [--count 100000] [--concurrency 32] [--seed N] [--json]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { prng } from "./lib/prng.mjs";
import * as grpc from "@grpc/grpc-js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => pathToFileURL(join(root, p)).href;
const { startLocalFederation } = await import(dist("packages/node/dist/index.js"));
const { clientCredentials, createEnvelope } = await import(dist("packages/sdk/dist/index.js"));
const { toBinary, fromBinary, create } = await import("@bufbuild/protobuf");
const { DeliverRequestSchema, EnvelopeSchema, HeaderSchema, CaseState } = await import(dist("packages/sdk/dist/proto.js"));
const { createPrivateKey } = await import("node:crypto");

const QINGPU = "cn.310118.qingpu";
const WUJIANG = "cn.320509.wujiang";
const DELIVER = "/tongban.v1.FederationService/Deliver";


/** Runs the fuzzer; returns counts and memory; throws if an input was accepted or the node broke. */
export async function runFuzz(options = {}) {
  const count = options.count ?? 100_000;
  const concurrency = options.concurrency ?? 32;
  const seed = options.seed ?? Date.now() % 1_000_000;
  const validEvery = options.validEvery ?? 50;
  const log = options.log ?? ((s) => process.stderr.write(`[fuzz] ${s}\n`));
  const random = prng(seed);
  const int = (n) => Math.floor(random() * n);
  const dir = mkdtempSync(join(tmpdir(), "tongban-fuzz-"));
  // One partner sending as fast as it can: the per-partner rate limiter (tested on its own) would
  // refuse most inputs before they reach the checks this fuzzes, so its limits are raised here.
  const fed = await startLocalFederation({ dir, tablesDir: join(root, "examples", "mapping"), nodes: [{ nodeId: QINGPU }, { nodeId: WUJIANG }], limits: { perPartnerRate: 1_000_000, perPartnerBurst: 1_000_000, perPartnerInFlight: 1_024 } });
  const q = fed.node(QINGPU);
  const signer = { kid: q.certificates.signing.kid, privateKey: createPrivateKey(q.certificates.signing.privateKeyPem), algorithm: "ES256" };
  const fresh = async () =>
    (await createEnvelope({ body: { kind: { case: "statusUpdate", value: { state: CaseState.ACCEPTED, note: "fuzz baseline" } } }, sender: QINGPU, recipient: WUJIANG, signer })).envelope;
  const base = await fresh();
  const baseBytes = toBinary(EnvelopeSchema, base);

  const identity = (b) => b;
  const Client = grpc.makeGenericClientConstructor({}, "Fuzz");
  // As a partner node connects: mutual TLS, the server checked by its node id, which is also the TLS server name.
  const creds = clientCredentials({ ca: fed.root.certificatePem, cert: q.certificates.tls.certificatePem, key: q.certificates.tls.privateKeyPem, expectedNodeId: WUJIANG });
  const client = new Client(fed.node(WUJIANG).node.addresses.federation, creds, { "grpc.max_send_message_length": 64 * 1024 * 1024, "grpc.ssl_target_name_override": WUJIANG });
  const send = (bytes) =>
    new Promise((resolve) => {
      const md = new grpc.Metadata();
      client.makeUnaryRequest(DELIVER, identity, identity, Buffer.from(bytes), md, { deadline: Date.now() + 10_000 }, (err, res) => {
        resolve(err ? { ok: false, status: err.code, code: String(err.metadata?.get("tongban-error-code")[0] ?? "") } : { ok: true, bytes: res });
      });
    });

  const flip = (b, bits = 1 + int(8)) => {
    const out = new Uint8Array(b);
    for (let i = 0; i < bits; i++) {
      const at = int(out.length);
      out[at] ^= 1 << int(8);
    }
    // Guarantee a difference even if two flips cancelled out.
    if (Buffer.compare(Buffer.from(out), Buffer.from(b)) === 0) out[0] ^= 1;
    return out;
  };
  const wrap = (env) => toBinary(DeliverRequestSchema, create(DeliverRequestSchema, { envelope: env }));
  const clone = () => fromBinary(EnvelopeSchema, baseBytes);
  const MUTATIONS = [
    ["header bit flip", () => { const e = clone(); e.header = flip(e.header); return wrap(e); }],
    ["body bit flip", () => { const e = clone(); e.body = flip(e.body); return wrap(e); }],
    ["signature bit flip", () => { const e = clone(); e.signature.value = flip(e.signature.value); return wrap(e); }],
    ["protected header bit flip", () => { const e = clone(); e.signature.protected = flip(e.signature.protected); return wrap(e); }],
    ["truncated header", () => { const e = clone(); e.header = e.header.subarray(0, int(e.header.length)); return wrap(e); }],
    ["truncated body", () => { const e = clone(); e.body = e.body.subarray(0, int(e.body.length)); return wrap(e); }],
    ["truncated signature", () => { const e = clone(); e.signature.value = e.signature.value.subarray(0, int(e.signature.value.length)); return wrap(e); }],
    ["header and body swapped", () => { const e = clone(); [e.header, e.body] = [e.body, e.header]; return wrap(e); }],
    ["no signature", () => { const e = clone(); e.signature = undefined; return wrap(e); }],
    ["empty envelope", () => wrap(create(EnvelopeSchema, {}))],
    ["header re-encoded with another recipient", () => { const e = clone(); const h = fromBinary(HeaderSchema, e.header); h.recipient = "cn.330421.jiashan"; e.header = toBinary(HeaderSchema, h); return wrap(e); }],
    ["header re-encoded with another message id", () => { const e = clone(); const h = fromBinary(HeaderSchema, e.header); h.messageId = `${h.messageId.slice(0, -4)}ffff`; e.header = toBinary(HeaderSchema, h); return wrap(e); }],
    ["another message type as the request", () => toBinary(HeaderSchema, fromBinary(HeaderSchema, base.header))],
    ["truncated request", () => { const w = wrap(clone()); return w.subarray(0, int(w.length)); }],
    ["request bit flip", () => flip(wrap(clone()), 1 + int(4))],
    ["random protobuf", () => { const parts = []; for (let i = 0; i < 1 + int(8); i++) { const field = 1 + int(20); const wt = [0, 2][int(2)]; parts.push((field << 3) | wt); if (wt === 0) parts.push(int(128)); else { const n = int(40); parts.push(n); for (let j = 0; j < n; j++) parts.push(int(256)); } } return Uint8Array.from(parts); }],
    ["random bytes", () => { const n = 1 + int(512); const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = int(256); return b; }],
    ["oversize body (5 MiB)", () => { const e = clone(); e.body = new Uint8Array(5 * 1024 * 1024); return wrap(e); }],
  ];

  const eq = (a, b) => a !== undefined && b !== undefined && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
  const sameAsBase = (bytes) => {
    let e;
    try {
      e = fromBinary(DeliverRequestSchema, bytes).envelope;
    } catch {
      return false;
    }
    return e !== undefined && eq(e.header, base.header) && eq(e.body, base.body) && eq(e.signature?.value, base.signature?.value) && eq(e.signature?.protected, base.signature?.protected);
  };
  const gc = globalThis.gc;
  const heap = () => {
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const counts = {};
  const codes = {};
  let accepted = 0;
  let validSent = 0;
  let validOk = 0;
  let done = 0;
  let heapStart = 0;
  const started = Date.now();
  let nextValid = Promise.resolve();
  const workers = Array.from({ length: concurrency }, async () => {
    for (;;) {
      const i = done++;
      if (i >= count) return;
      if (i === Math.min(2_000, Math.floor(count / 10))) heapStart = heap(); // after warm-up
      if (i % validEvery === 0) {
        // Valid traffic continues: a freshly signed envelope must be receipted.
        nextValid = nextValid.then(async () => {
          validSent++;
          // As a sender's outbox does: an envelope refused for load (RESOURCE_EXHAUSTED) is sent again, the same bytes.
          const request = wrap(await fresh());
          let r = await send(request);
          for (let attempt = 1; !r.ok && r.status === grpc.status.RESOURCE_EXHAUSTED && attempt < 20; attempt++) {
            await new Promise((res) => setTimeout(res, 50 * attempt));
            r = await send(request);
          }
          if (r.ok) validOk++;
        });
      }
      // Oversize inputs are costly; keep them rare.
      const pick = int(MUTATIONS.length * 20) === 0 ? MUTATIONS.length - 1 : int(MUTATIONS.length - 1);
      const [name, make] = MUTATIONS[pick];
      // A flip in a tag can leave an encoding that still decodes to the very same
      // signed envelope (wire-type leniency); that is the valid message, not a
      // malformed one, so such inputs are drawn again.
      let input = make();
      while (sameAsBase(input)) input = make();
      const r = await send(input);
      counts[name] = (counts[name] ?? 0) + 1;
      if (r.ok) {
        accepted++;
        log(`ACCEPTED a malformed input: ${name}`);
      } else {
        const key = `${grpc.status[r.status] ?? r.status}${r.code ? ` ${r.code}` : ""}`;
        codes[key] = (codes[key] ?? 0) + 1;
      }
      if ((i + 1) % 10_000 === 0) log(`${i + 1}/${count} malformed inputs, ${accepted} accepted, ${validOk}/${validSent} valid receipted`);
    }
  });
  await Promise.all(workers);
  await nextValid;
  const heapEnd = heap();
  // The node still serves: one more valid envelope.
  const after = await send(wrap(await fresh()));
  client.close();
  await fed.stop();
  rmSync(dir, { recursive: true, force: true });
  const result = {
    seed,
    malformed: count,
    accepted,
    refusedBy: codes,
    mutations: counts,
    valid: { sent: validSent, receipted: validOk },
    nodeStillServing: after.ok,
    heapMiB: { afterWarmup: Math.round(heapStart / 1048576), end: Math.round(heapEnd / 1048576), gcAvailable: gc !== undefined },
    perSecond: Math.round(count / ((Date.now() - started) / 1000)),
  };
  const broken = [];
  if (accepted > 0) broken.push(`${accepted} malformed inputs were accepted`);
  if (validOk !== validSent) broken.push(`${validSent - validOk} valid envelopes were not receipted`);
  if (!after.ok) broken.push("the node stopped serving");
  if (broken.length > 0) throw Object.assign(new Error(`fuzzing failed (seed ${seed}): ${broken.join("; ")}`), { result });
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const argv = process.argv.slice(2);
  const arg = (n, d) => (argv.includes(n) ? Number(argv[argv.indexOf(n) + 1]) : d);
  try {
    const r = await runFuzz({ count: arg("--count", 100_000), concurrency: arg("--concurrency", 32), seed: arg("--seed", undefined) });
    if (argv.includes("--json")) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else {
      process.stdout.write(`Fuzzing: ${r.malformed} malformed inputs, ${r.accepted} accepted; ${r.valid.receipted}/${r.valid.sent} valid envelopes receipted; heap ${r.heapMiB.afterWarmup} → ${r.heapMiB.end} MiB; ${r.perSecond}/s; seed ${r.seed}\n`);
      for (const [k, v] of Object.entries(r.refusedBy).sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${String(v).padStart(7)}  ${k}\n`);
    }
  } catch (err) {
    process.stderr.write(`${err.message}\n${JSON.stringify(err.result ?? {}, null, 2)}\n`);
    process.exit(1);
  }
}
