#!/usr/bin/env node
// Envelope sign+verify throughput with a cached trust chain, against raw
// node:crypto sign+verify of the same algorithm over the same bytes, measured
// in the same run (machines are noisy; only the ratio is comparable).
//
//   node scripts/bench-envelope.mjs [--seconds N] [--json]
// Needs the built SDK (npm run build). Target (DESIGN §13): ratio ≥ 0.7.
import { createPrivateKey, sign, verify } from "node:crypto";
import { createEnvelope, createFederationRoot, issueNodeCertificates, TrustStore, verifyEnvelope } from "../packages/sdk/dist/index.js";
import { CaseState } from "../packages/sdk/dist/proto.js";

const argv = process.argv.slice(2);
const json = argv.includes("--json");
const secIdx = argv.indexOf("--seconds");
const seconds = secIdx >= 0 ? Number(argv[secIdx + 1]) : 3;
const log = (s) => process.stderr.write(`${s}\n`);

const root = await createFederationRoot({ name: "bench root", validityDays: 30 });
const from = "cn.310118.qingpu";
const to = "cn.320509.wujiang";
const rows = [];
for (const alg of ["ES256", "EdDSA"]) {
  const node = await issueNodeCertificates({ ca: root, nodeId: from, signingAlgorithm: alg, validityDays: 30 });
  const trust = new TrustStore({ anchor: root.certificatePem });
  trust.addCertificate(node.signing.certificatePem);
  const key = createPrivateKey(node.signing.privateKeyPem);
  const signer = { kid: node.signing.kid, privateKey: key, algorithm: alg };
  const body = { kind: { case: "statusUpdate", value: { state: CaseState.ACCEPTED, note: "已受理，承诺时限 5 个工作日".repeat(4) } } };
  const opts = { self: to, resolver: trust };

  const sample = await createEnvelope({ body, sender: from, recipient: to, signer });
  const payload = Buffer.concat([Buffer.from(sample.envelope.signature.protected), sample.headerBytes]);
  const pub = trust.resolveSigner(node.signing.kid, new Date()).publicKey;
  const hash = alg === "ES256" ? "sha256" : null;
  const sopt = alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key;
  const vopt = alg === "ES256" ? { key: pub, dsaEncoding: "ieee-p1363" } : pub;

  // Interleave short rounds of both so drift in machine load hits both alike.
  let rawOps = 0, rawMs = 0, envOps = 0, envMs = 0;
  const deadline = performance.now() + seconds * 1000;
  log(`[bench-envelope] ${alg}: ${seconds}s …`);
  while (performance.now() < deadline) {
    let t = performance.now();
    for (let i = 0; i < 200; i++) {
      const s = sign(hash, payload, sopt);
      if (!verify(hash, payload, vopt, s)) throw new Error("raw verify failed");
    }
    rawMs += performance.now() - t;
    rawOps += 200;
    t = performance.now();
    for (let i = 0; i < 200; i++) {
      const made = await createEnvelope({ body, sender: from, recipient: to, signer });
      await verifyEnvelope(made.bytes, opts);
    }
    envMs += performance.now() - t;
    envOps += 200;
  }
  const raw = (rawOps / rawMs) * 1000;
  const env = (envOps / envMs) * 1000;
  rows.push({ algorithm: alg, raw_sign_verify_per_s: Math.round(raw), envelope_create_verify_per_s: Math.round(env), ratio: Number((env / raw).toFixed(3)), target: 0.7, met: env / raw >= 0.7 });
}

if (json) {
  process.stdout.write(`${JSON.stringify({ bench: "envelope", seconds, rows }, null, 2)}\n`);
} else {
  console.table(rows);
}
