#!/usr/bin/env node
// Regenerates the golden envelopes in this folder from the BUILT SDK
// (`npx tsup` in packages/sdk first). The keys written here are TEST-ONLY
// keys, published on purpose so anyone can check the goldens; never use them.
// Goldens are made once and committed: ES256 signatures are randomised, so
// running this again produces different (equally valid) files.
import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createEnvelope, createFederationRoot, issueNodeCertificates } from "../../dist/index.js";
import { CaseState, HandlingMode, IdentityDocumentType } from "../../dist/proto.js";

const here = dirname(fileURLToPath(import.meta.url));
const notBefore = new Date("2026-01-01T00:00:00Z");
const created = new Date("2026-03-02T02:00:00Z");
const write = (name, data) => writeFileSync(join(here, name), data);

const root = await createFederationRoot({ name: "Tongban Golden Test Root (TEST ONLY)", validityDays: 3650, notBefore });
write("root.crt", root.certificatePem);
const nodes = {};
for (const [id, alg] of [["cn.310118.qingpu", "ES256"], ["cn.320509.wujiang", "EdDSA"]]) {
  const n = await issueNodeCertificates({ ca: root, nodeId: id, signingAlgorithm: alg, validityDays: 3650, notBefore });
  nodes[id] = n;
  write(`${id}.sign.crt`, n.signing.certificatePem);
  write(`${id}.sign.key`, n.signing.privateKeyPem);
  write(`${id}.tls.crt`, n.tls.certificatePem);
  write(`${id}.tls.key`, n.tls.privateKeyPem);
}
const signer = (id) => {
  const key = createPrivateKey(nodes[id].signing.privateKeyPem);
  return { kid: nodes[id].signing.kid, privateKey: key, algorithm: key.asymmetricKeyType === "ed25519" ? "EdDSA" : "ES256" };
};

const cases = [
  {
    file: "status-update.es256.tbe",
    from: "cn.310118.qingpu",
    to: "cn.320509.wujiang",
    body: { kind: { case: "statusUpdate", value: { state: CaseState.ACCEPTED, note: "已受理" } } },
    messageId: "019cac8e-3c00-7000-8000-000000000001",
    caseId: "019cac8e-3c00-7000-8000-0000000000ca",
    sequence: 2,
  },
  {
    file: "application-submission.eddsa.jwe.tbe",
    from: "cn.320509.wujiang",
    to: "cn.310118.qingpu",
    body: {
      kind: {
        case: "applicationSubmission",
        value: {
          mode: HandlingMode.REMOTE_RECEIPT,
          applicant: { name: "张三", idType: IdentityDocumentType.RESIDENT_ID, idNumber: "11010519491231002X" },
          form: [{ name: "marriage_date", value: "2001-05-20" }],
        },
      },
    },
    messageId: "019cac8e-3c00-7000-8000-000000000002",
    caseId: "019cac8e-3c00-7000-8000-0000000000cb",
    sequence: 1,
    encrypt: true,
  },
];

const expected = [];
for (const c of cases) {
  const made = await createEnvelope({
    body: c.body,
    sender: c.from,
    recipient: c.to,
    signer: signer(c.from),
    messageId: c.messageId,
    caseId: c.caseId,
    sequence: c.sequence,
    now: created,
    ...(c.encrypt ? { encryptTo: new X509Certificate(nodes[c.to].tls.certificatePem).publicKey } : {}),
  });
  write(c.file, made.bytes);
  expected.push({
    file: c.file,
    sha256: createHash("sha256").update(made.bytes).digest("hex"),
    sender: c.from,
    recipient: c.to,
    messageId: c.messageId,
    caseId: c.caseId,
    sequence: c.sequence,
    bodyCase: c.body.kind.case,
    encrypted: Boolean(c.encrypt),
    receiptDigest: Buffer.from(made.receiptDigest).toString("hex"),
    verifyAt: "2026-03-02T02:01:00Z",
  });
}
write("expected.json", `${JSON.stringify(expected, null, 2)}\n`);
process.stdout.write(`wrote ${expected.length} golden envelopes\n`);
