#!/usr/bin/env node
// Regenerates the gm-v1 golden envelopes in this folder from the BUILT SDK
// (`npx tsup` in packages/sdk first): a mixed federation under one P-256
// root — qingpu signs with ES256 (jose-v1), wujiang with an SM2 certificate
// the root issued, jiashan with an SM2 certificate from an SM2 CA below the
// root (gm-v1). The keys written here are TEST-ONLY keys, published on
// purpose so anyone can check the goldens; never use them. SM2 signatures
// and encryption are randomised, so running this again produces different
// (equally valid) files; goldens are made once and committed.
import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createEnvelope, createFederationRoot, createSm2Ca, issueNodeCertificates, issueSm2SigningCertificate } from "../../../dist/index.js";
import { CaseState, HandlingMode, IdentityDocumentType } from "../../../dist/proto.js";

const here = dirname(fileURLToPath(import.meta.url));
const notBefore = new Date("2026-01-01T00:00:00Z");
const created = new Date("2026-03-02T02:00:00Z");
const write = (name, data) => writeFileSync(join(here, name), data);

const root = await createFederationRoot({ name: "Tongban GM Golden Test Root (TEST ONLY)", validityDays: 3650, notBefore });
write("root.crt", root.certificatePem);
const sm2Ca = await createSm2Ca({ ca: root, name: "Tongban GM Golden Test SM2 CA (TEST ONLY)", validityDays: 3650, notBefore, pathLength: 0 });
write("sm2-ca.crt", sm2Ca.certificatePem);

const nodes = {};
for (const [id, alg] of [["cn.310118.qingpu", "ES256"], ["cn.320509.wujiang", "SM2SM3"]]) {
  nodes[id] = await issueNodeCertificates({ ca: root, nodeId: id, signingAlgorithm: alg, validityDays: 3650, notBefore });
}
const jiashanTls = await issueNodeCertificates({ ca: root, nodeId: "cn.330421.jiashan", signingAlgorithm: "ES256", validityDays: 3650, notBefore });
nodes["cn.330421.jiashan"] = { tls: jiashanTls.tls, signing: await issueSm2SigningCertificate({ ca: sm2Ca, nodeId: "cn.330421.jiashan", validityDays: 3650, notBefore }) };
for (const [id, n] of Object.entries(nodes)) {
  write(`${id}.sign.crt`, n.signing.certificatePem);
  write(`${id}.sign.key`, n.signing.privateKeyPem);
  write(`${id}.tls.crt`, n.tls.certificatePem);
  write(`${id}.tls.key`, n.tls.privateKeyPem);
}
const signer = (id) => {
  const key = createPrivateKey(nodes[id].signing.privateKeyPem);
  return { kid: nodes[id].signing.kid, privateKey: key, algorithm: key.asymmetricKeyType === "ec" ? "ES256" : "SM2SM3" };
};
const pub = (pem) => new X509Certificate(pem).publicKey;
const submission = {
  kind: {
    case: "applicationSubmission",
    value: {
      mode: HandlingMode.REMOTE_RECEIPT,
      applicant: { name: "李四", idType: IdentityDocumentType.RESIDENT_ID, idNumber: "11010519491231002X" },
      form: [{ name: "reason", value: "遗失补办" }],
    },
  },
};

const cases = [
  {
    // gm-v1 signature, clear body (SM2 certificate issued by the P-256 root)
    file: "status-update.sm2sm3.tbe",
    from: "cn.320509.wujiang",
    to: "cn.310118.qingpu",
    body: { kind: { case: "statusUpdate", value: { state: CaseState.ACCEPTED, note: "已受理" } } },
    messageId: "019cac8e-3c00-7000-8000-000000000101",
    caseId: "019cac8e-3c00-7000-8000-0000000001ca",
    sequence: 3,
  },
  {
    // gm-v1 signature (SM2 CA chain), GM container body to the recipient's SM2 certificate
    file: "application-submission.sm2sm3.gm-sm4.tbe",
    from: "cn.330421.jiashan",
    to: "cn.320509.wujiang",
    body: submission,
    messageId: "019cac8e-3c00-7000-8000-000000000102",
    caseId: "019cac8e-3c00-7000-8000-0000000001cb",
    sequence: 1,
    encryptTo: (to) => pub(nodes[to].signing.certificatePem),
  },
  {
    // jose-v1 signature to a gm-v1 recipient: GM container body
    file: "application-submission.es256.gm-sm4.tbe",
    from: "cn.310118.qingpu",
    to: "cn.330421.jiashan",
    body: submission,
    messageId: "019cac8e-3c00-7000-8000-000000000103",
    caseId: "019cac8e-3c00-7000-8000-0000000001cc",
    sequence: 1,
    encryptTo: (to) => pub(nodes[to].signing.certificatePem),
  },
  {
    // gm-v1 signature to a jose-v1 recipient: JWE body to its TLS key
    file: "application-submission.sm2sm3.jwe.tbe",
    from: "cn.320509.wujiang",
    to: "cn.310118.qingpu",
    body: submission,
    messageId: "019cac8e-3c00-7000-8000-000000000104",
    caseId: "019cac8e-3c00-7000-8000-0000000001cd",
    sequence: 1,
    encryptTo: (to) => pub(nodes[to].tls.certificatePem),
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
    ...(c.encryptTo ? { encryptTo: c.encryptTo(c.to) } : {}),
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
    encrypted: Boolean(c.encryptTo),
    suite: made.header.suite,
    receiptDigest: Buffer.from(made.receiptDigest).toString("hex"),
    verifyAt: "2026-03-02T02:01:00Z",
  });
}
write("expected.json", `${JSON.stringify(expected, null, 2)}\n`);
process.stdout.write(`wrote ${expected.length} gm-v1 golden envelopes\n`);
