import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Command } from "commander";
import {
  MemoryReplayGuard,
  TongbanError,
  TrustStore,
  createCrl,
  createEnvelope,
  createFederationRoot,
  issueNodeCertificates,
  loadTablesFromDirectory,
  resolveItem,
  translateForm,
  maskPersonalId,
  newMessageId,
  provinceOf,
  regionName,
  validateCitizenId,
  verifyEnvelope,
  type EnvelopeSigner,
  type FederationRoot,
  type NodeCertificates,
} from "@tongban/sdk";
import {
  CaseState,
  DeliveryMethod,
  EnvelopeSchema,
  HandlingMode,
  IdentityDocumentType,
  MessageType,
  ReceiptStatus,
} from "@tongban/sdk/gen";
import { outputFor, type CommandRegistrar } from "../context.js";
import { exampleTables, runFederationDemo } from "./demo-federation.js";
import type { Output } from "../output.js";

/** The three nodes of the Yangtze River Delta demonstration zone (长三角生态绿色一体化发展示范区). */
const DELTA = [
  { id: "cn.310118.qingpu", label: "青浦", alg: "ES256" },
  { id: "cn.320509.wujiang", label: "吴江", alg: "EdDSA" },
  { id: "cn.330421.jiashan", label: "嘉善", alg: "ES256" },
] as const;

interface Step {
  step: number;
  site: string;
  what: string;
  outcome: string;
}

/**
 * `tongban demo`: the protocol on embedded defaults, in one process — a
 * throwaway federation CA, three delta nodes, an encrypted remote-receipt
 * submission from 青浦's window to 吴江, its verification and signed receipt,
 * and the attacks the envelope layer refuses. Nothing leaves the machine;
 * the temporary directory is removed unless `--keep` is given.
 */
export const demoCommand: CommandRegistrar = (program, ctx) => {
  const demo = program.command("demo").description("run the demos on embedded defaults (throwaway CA, the three delta nodes)");
  demo
    .command("federation", { isDefault: true })
    .description("three real nodes on 127.0.0.1 (mTLS, LevelDB): a remote-receipt case end to end, printed as a timeline (the default)")
    .option("--keep", "keep the temporary directory with the CA, node directories and data")
    .option("--console", "leave the nodes running with the operator console on 青浦 (prints its address and token; Ctrl-C stops)")
    .option("--pull", "run 吴江 in pull mode: it takes no inbound connections and collects what its partners queue for it")
    .action(async (opts: { keep?: boolean; console?: boolean; pull?: boolean }, cmd: Command) => {
      await runFederationDemo(outputFor(cmd, ctx), opts.keep === true, opts.console === true, opts.pull === true);
    });
  demo
    .command("envelope")
    .description("the envelope layer in one process: an encrypted submission, its signed receipt, and the attacks it refuses")
    .option("--keep", "keep the temporary directory with the CA, node keys and envelopes")
    .action(async (opts: { keep?: boolean }, cmd: Command) => {
      await runDemo(outputFor(cmd, ctx), opts.keep === true);
    });
};

async function runDemo(out: Output, keep: boolean): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "tongban-demo-"));
  const steps: Step[] = [];
  const record = (site: string, what: string, outcome: string) => {
    const s = { step: steps.length + 1, site, what, outcome };
    steps.push(s);
    out.note(`[${String(s.step).padStart(2)}] ${site.padEnd(4, "　")} ${what} → ${outcome}`);
  };
  try {
    out.note(`Tongban demo — work directory ${keep ? dir : "(temporary, removed at the end)"}`);

    // 1. Federation PKI: one root, three nodes.
    const root = await createFederationRoot({ name: "Tongban Demo Federation Root (throwaway)", validityDays: 30 });
    await writeFile(join(dir, "root.crt"), root.certificatePem);
    record("联邦", "create the federation root CA", `kid ${root.kid.slice(0, 12)}…`);
    const nodes = new Map<string, NodeCertificates>();
    for (const n of DELTA) {
      const certs = await issueNodeCertificates({ ca: root, nodeId: n.id, signingAlgorithm: n.alg, validityDays: 30 });
      nodes.set(n.id, certs);
      await writeFile(join(dir, `${n.id}.sign.crt`), certs.signing.certificatePem);
      const province = provinceOf(n.id.split(".")[1] ?? "");
      record(n.label, `enroll ${n.id} (${province?.name ?? "?"} ${regionName(n.id.split(".")[1] ?? "") ?? "?"})`, `TLS + ${n.alg} signing certificates`);
    }
    const [qingpu, wujiang, jiashan] = DELTA.map((n) => nodes.get(n.id)!) as [NodeCertificates, NodeCertificates, NodeCertificates];
    const trust = trustFor(root, nodes);

    // 2. An applicant from 吴江 (Jiangsu) at 青浦's window (Shanghai): 异地代收代办.
    const applicantId = "11010519491231002X";
    const idCheck = validateCitizenId(applicantId);
    record("青浦", `形式审查 + 身份核验 of the applicant (${maskPersonalId(applicantId)})`, idCheck.ok ? "identity number valid" : "invalid");
    // 3. Mapping: what does 吴江 call this item, which materials, which form fields?
    const registry = loadTablesFromDirectory(exampleTables());
    const qingpuCode = registry.itemIn("310118", "00TB00000101")!.implementationCode;
    const resolution = resolveItem(registry, { receivingRegion: "310118", handlingRegion: "320509", item: qingpuCode });
    if (!resolution.ok) throw new TypeError(`example tables do not resolve: ${resolution.message}`);
    record("青浦", `resolve 青浦's ${resolution.receiving.item?.name} (${qingpuCode.slice(-12)}) for 吴江`, `吴江 item "${resolution.handling.item.name}", ${resolution.materials.length} materials mapped, ${resolution.promisedWorkingDays} working day(s)`);
    const localForm = { 申请人姓名: "张三", 出生日期: "19491231", 性别: "男", 联系地址: "江苏省|苏州市|吴江区中山南路1号" };
    const translated = translateForm(localForm, resolution.fields.receiving, resolution.fields.handling);
    record("青浦", "translate the form into 吴江's field names", Object.entries(translated.form).map(([k, v]) => `${k}=${v}`).join(", "));
    const kecheng = registry.itemIn("330802", "00TB00000102")!;
    const gap = resolveItem(registry, { receivingRegion: "330802", handlingRegion: "361129", item: kecheng.implementationCode });
    record("柯城", `resolve ${kecheng.name} for 万年 (the 柯城/万年 case)`, gap.ok ? "resolved" : `${gap.code}; nearest at 万年: ${gap.candidates.map((c) => `${c.name} (${c.score})`).join(", ") || "none"}`);

    const caseId = newMessageId();
    const submission = await createEnvelope({
      body: {
        kind: {
          case: "applicationSubmission",
          value: {
            mode: HandlingMode.REMOTE_RECEIPT,
            item: {
              basicCode: resolution.basicCode,
              receivingCode: qingpuCode,
              handlingCode: resolution.handling.item.implementationCode,
              name: resolution.handling.item.name,
            },
            tables: resolution.tables.map((t) => ({ publisher: t.publisher, kind: t.kind, version: String(t.version), digest: Buffer.from(t.digest, "hex") })),
            applicant: { name: "张三", idType: IdentityDocumentType.RESIDENT_ID, idNumber: applicantId },
            form: Object.entries(translated.form).map(([name, value]) => ({ name, value })),
            delivery: { method: DeliveryMethod.POST, postalAddress: "上海市青浦区…", recipientName: "张三" },
            receivingOffice: { name: "青浦区行政服务中心 跨省通办窗口", region: "310118" },
            formChecked: true,
            identityVerified: idCheck.ok,
          },
        },
      },
      sender: qingpu.nodeId,
      recipient: wujiang.nodeId,
      caseId,
      sequence: 1,
      signer: signerOf(qingpu),
      encryptTo: new X509Certificate(wujiang.tls.certificatePem).publicKey,
    });
    await writeFile(join(dir, "submission.tbe"), submission.bytes);
    const leaks = Buffer.from(submission.envelope.body).includes(Buffer.from(applicantId));
    record("青浦", "forward the application to 吴江 (signed ES256, body JWE-encrypted to 吴江)", `${submission.bytes.byteLength} bytes; personal data visible in transit: ${leaks ? "YES" : "no"}`);

    // 4. Any hop can check origin without reading: verify without decrypting.
    const hop = await verifyEnvelope(submission.bytes, { self: wujiang.nodeId, resolver: trust, skipBody: true });
    record("任一", "check origin of the ciphertext without decrypting", `signed by ${hop.signer.nodeId}`);

    // 5. 吴江 verifies, opens and receipts.
    const replay = new MemoryReplayGuard();
    const wujiangKey = createPrivateKey(wujiang.tls.privateKeyPem);
    const got = await verifyEnvelope(submission.bytes, { self: wujiang.nodeId, resolver: trust, replay, decryptionKey: wujiangKey });
    const applicant = got.body?.kind.case === "applicationSubmission" ? got.body.kind.value.applicant : undefined;
    record("吴江", "verify and open the submission", `${MessageType[got.header.type]} from ${got.signer.nodeId}; applicant ${maskPersonalId(applicant?.idNumber ?? "")}`);
    const receipt = await createEnvelope({
      body: {
        kind: {
          case: "technicalReceipt",
          value: { receivedMessageId: got.header.messageId, receivedDigest: got.receiptDigest, status: ReceiptStatus.ACCEPTED, receivedFrom: got.header.sender },
        },
      },
      sender: wujiang.nodeId,
      recipient: qingpu.nodeId,
      caseId,
      correlationId: got.header.messageId,
      signer: signerOf(wujiang),
    });
    record("吴江", "return a signed technical receipt binding the digest received", `receipt ${receipt.messageId.slice(0, 13)}…`);

    // 6. 青浦 checks the receipt binds what it sent.
    const r = await verifyEnvelope(receipt.bytes, { self: qingpu.nodeId, resolver: trust });
    const bound = r.body?.kind.case === "technicalReceipt" && Buffer.from(r.body.kind.value.receivedDigest).equals(Buffer.from(submission.receiptDigest));
    record("青浦", "verify the receipt (non-repudiation of receipt)", bound ? "binds exactly the bytes sent" : "DOES NOT BIND");

    // 7. 吴江 accepts (受理); state travels as a signed status update.
    const accepted = await createEnvelope({
      body: { kind: { case: "statusUpdate", value: { state: CaseState.ACCEPTED, note: "已受理，承诺 5 个工作日" } } },
      sender: wujiang.nodeId,
      recipient: qingpu.nodeId,
      caseId,
      sequence: 1,
      signer: signerOf(wujiang),
    });
    const acc = await verifyEnvelope(accepted.bytes, { self: qingpu.nodeId, resolver: trust });
    record("吴江", "受理 (accept) and tell the receiving site", `${MessageType[acc.header.type]} ${CaseState[CaseState.ACCEPTED]}`);

    // 8. What the envelope layer refuses.
    const attacks: [string, () => Promise<unknown>][] = [
      ["deliver the same envelope again (at-least-once transport)", async () => {
        const again = await verifyEnvelope(submission.bytes, { self: wujiang.nodeId, resolver: trust, replay, decryptionKey: wujiangKey });
        return again.duplicate ? "detected as a duplicate: answer with the first receipt, apply nothing" : "NOT DETECTED";
      }],
      ["change one byte of the ciphertext in transit", async () => verifyEnvelope(tamper(submission.bytes, "body"), { self: wujiang.nodeId, resolver: trust })],
      ["change one byte of the signed header", async () => verifyEnvelope(tamper(submission.bytes, "header"), { self: wujiang.nodeId, resolver: trust })],
      ["deliver 青浦's envelope to 嘉善", async () => verifyEnvelope(submission.bytes, { self: jiashan.nodeId, resolver: trust })],
      ["reuse the message id with other content", async () => {
        const forged = await createEnvelope({
          body: { kind: { case: "statusUpdate", value: { state: CaseState.WITHDRAWN } } },
          sender: qingpu.nodeId,
          recipient: wujiang.nodeId,
          messageId: submission.messageId,
          signer: signerOf(qingpu),
        });
        return verifyEnvelope(forged.bytes, { self: wujiang.nodeId, resolver: trust, replay });
      }],
      ["嘉善's key signs a header claiming to be 青浦", async () => {
        const posing = await createEnvelope({ body: { kind: { case: "statusUpdate", value: { state: CaseState.REFUSED } } }, sender: qingpu.nodeId, recipient: wujiang.nodeId, signer: signerOf(jiashan) });
        return verifyEnvelope(posing.bytes, { self: wujiang.nodeId, resolver: trust });
      }],
      ["嘉善's signing certificate is revoked, then it sends", async () => {
        const crl = await createCrl({ ca: root, revoked: [{ serial: jiashan.signing.serial, date: new Date() }], thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 86_400_000) });
        const revokedTrust = trustFor(root, nodes);
        revokedTrust.setCrl(crl);
        const e = await createEnvelope({ body: { kind: { case: "statusUpdate", value: { state: CaseState.ACCEPTED } } }, sender: jiashan.nodeId, recipient: wujiang.nodeId, signer: signerOf(jiashan) });
        return verifyEnvelope(e.bytes, { self: wujiang.nodeId, resolver: revokedTrust });
      }],
    ];
    for (const [what, attempt] of attacks) {
      let outcome: string;
      try {
        const result = await attempt();
        outcome = typeof result === "string" ? result : "ACCEPTED (this should not happen)";
      } catch (err) {
        if (!(err instanceof TongbanError)) throw err;
        outcome = `refused: ${err.code}`;
      }
      record("攻击", what, outcome);
    }

    out.line();
    out.line("Tongban protocol demo — 异地代收代办 between the delta demonstration-zone nodes");
    out.table(["#", "site", "what", "outcome"], steps.map((s) => [s.step, s.site, s.what, s.outcome]));
    out.line(keep ? `Kept: ${dir}` : "Temporary files removed.");
    out.result({ ok: true, caseId, steps, ...(keep ? { dir } : {}) });
  } finally {
    if (!keep) await rm(dir, { recursive: true, force: true });
  }
}

function trustFor(root: FederationRoot, nodes: Map<string, NodeCertificates>): TrustStore {
  const t = new TrustStore({ anchor: root.certificatePem });
  for (const n of nodes.values()) t.addCertificate(n.signing.certificatePem);
  return t;
}

function signerOf(n: NodeCertificates): EnvelopeSigner {
  const privateKey: KeyObject = createPrivateKey(n.signing.privateKeyPem);
  return { kid: n.signing.kid, privateKey, algorithm: privateKey.asymmetricKeyType === "ed25519" ? "EdDSA" : "ES256" };
}

function tamper(bytes: Uint8Array, part: "header" | "body"): Uint8Array {
  const env = fromBinary(EnvelopeSchema, bytes);
  const target = new Uint8Array(env[part]);
  const at = Math.floor(target.length / 2);
  target[at] = (target[at] ?? 0) ^ 0x01;
  env[part] = target;
  return toBinary(EnvelopeSchema, env);
}
