import { createHash, createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  TongbanError,
  TrustStore,
  clientCredentials,
  createEnvelope,
  createFederationClient,
  createFederationRoot,
  createGrpcClient,
  createPlatformClient,
  issueNodeCertificates,
  newMessageId,
  serverCredentials,
  signCheckpoint,
  startGrpcServer,
  verifyEnvelope,
  type EnvelopeSigner,
  type FederationClient,
  type NodeCertificates,
  type PlatformClient,
} from "@tongban/sdk";
import { BodySchema, CaseState, DecisionOutcome, EnvelopeSchema, FederationService, HandlingMode, IdentityDocumentType, JointTaskState, MessageType, ReceiptStatus, type Envelope } from "@tongban/sdk/gen";
import { RESTART_FEATURE, type BodyKind, type ConformanceCase, type Mutation, type Step } from "./case-schema.js";
import type { ManagedNode } from "./managed-node.js";

/** A test partner the node under test knows (its certificates enrolled, its address a peer). */
export interface PartnerIdentity {
  readonly nodeId: string;
  readonly certificates: NodeCertificates;
}

/** Where and what the node under test is. */
export interface Target {
  readonly nodeId: string;
  /** FederationService `host:port`. */
  readonly federation: string;
  /** PlatformService `host:port` and a token. */
  readonly platform?: { readonly address: string; readonly token: string };
  /** The federation root (PEM), and its key to issue strangers' certificates. */
  readonly ca: { readonly certificatePem: string; readonly privateKeyPem?: string };
  /** The target's signing and TLS certificates (PEM): receipts are checked against the first, submissions encrypted to the second. */
  readonly signingCert: string;
  readonly tlsCert: string;
  /** Features the target has (cases with other `requires` are skipped). */
  readonly features: readonly string[];
}

/** One case's outcome. */
export interface CaseResult {
  readonly id: string;
  readonly title: string;
  readonly status: "passed" | "failed" | "skipped";
  readonly ms: number;
  readonly reason?: string;
  /** The exchange, step by step (what was sent, what came back). */
  readonly exchange: readonly string[];
}

/** The runner's partner servers, receiving what the node under test sends. */
export interface PartnerServer {
  /** Answer this many next deliveries with UNAVAILABLE (a partner having a bad moment). */
  failNext: number;
  /** `checkpoint` is set for CHECKPOINT_COSIGNATURE answers: the checkpoint (JWS) that was cosigned. */
  readonly received: { readonly type: string; readonly caseId: string; readonly messageId: string; readonly at: number; readonly sender: string; readonly checkpoint?: string; readonly materials: readonly string[] }[];
  readonly materials: { readonly digest: string; readonly at: number }[];
  close(): Promise<void>;
}

const codeOf = (err: unknown) => (err instanceof TongbanError ? err.code : `UNCODED (${err instanceof Error ? err.message.slice(0, 80) : String(err)})`);
const signerOf = (c: NodeCertificates): EnvelopeSigner => {
  const privateKey = createPrivateKey(c.signing.privateKeyPem);
  return { kid: c.signing.kid, privateKey, algorithm: privateKey.asymmetricKeyType === "ed25519" ? "EdDSA" : "ES256" };
};

/**
 * Starts partner A's FederationService (mutual TLS, A's certificate) so the
 * node under test can deliver to it: every envelope is verified against the
 * target's signing certificate and receipted; materials pushed with
 * PutMaterial are recorded with their arrival time.
 */
export async function startPartnerServer(partner: PartnerIdentity, target: Target, listen: { host: string; port: number }): Promise<PartnerServer> {
  const trust = new TrustStore({ anchor: target.ca.certificatePem });
  trust.addCertificate(target.signingCert);
  const received: PartnerServer["received"][number][] = [];
  const materials: PartnerServer["materials"][number][] = [];
  const signer = signerOf(partner.certificates);
  const state: PartnerServer & { received: PartnerServer["received"][number][] } = { failNext: 0, received, materials, close: async () => undefined };
  const server = await startGrpcServer({
    host: listen.host,
    port: listen.port,
    credentials: serverCredentials({ ca: target.ca.certificatePem, cert: partner.certificates.tls.certificatePem, key: partner.certificates.tls.privateKeyPem, requireClientCert: true }),
    services: [
      [
        FederationService,
        {
          async deliver(req) {
            if (state.failNext > 0) {
              state.failNext--;
              throw new TongbanError("TRANSPORT_UNAVAILABLE", "partner A is having a bad moment (conformance)");
            }
            const v = await verifyEnvelope(req.envelope!, { self: partner.nodeId, resolver: trust, decryptionKey: createPrivateKey(partner.certificates.tls.privateKeyPem) });
            const cos = v.body?.kind.case === "checkpointCosignature" ? v.body.kind.value : undefined;
            received.push({
              type: MessageType[v.header.type] ?? "",
              caseId: v.header.caseId,
              messageId: v.header.messageId,
              at: Date.now(),
              sender: v.header.sender,
              // The digests of the materials a submission names (each must have been pushed before it).
              materials: v.body?.kind.case === "applicationSubmission" ? v.body.kind.value.materials.map((m) => Buffer.from(m.digest).toString("hex")) : [],
              // Only answers (a cosignature) count; the node's own requests to witness its log are not.
              ...(cos !== undefined && cos.cosignature.length > 0 ? { checkpoint: new TextDecoder().decode(cos.checkpoint) } : {}),
            });
            const receipt = await createEnvelope({
              body: { kind: { case: "technicalReceipt", value: { receivedMessageId: v.header.messageId, receivedDigest: v.receiptDigest, receivedAt: timestampFromDate(new Date()), status: ReceiptStatus.ACCEPTED, receivedFrom: v.header.sender } } },
              sender: partner.nodeId,
              recipient: v.header.sender,
              caseId: v.header.caseId,
              correlationId: v.header.messageId,
              signer,
            });
            return { receipt: receipt.envelope };
          },
          async putMaterial(requests) {
            let digest: Uint8Array = new Uint8Array();
            let size = 0n;
            for await (const r of requests) {
              digest = r.digest;
              size = r.totalSize;
            }
            materials.push({ digest: Buffer.from(digest).toString("hex"), at: Date.now() });
            return { digest, size, alreadyPresent: false };
          },
        },
      ],
    ],
  });
  state.close = () => server.shutdown();
  return state;
}

/** The parts a run shares across cases. */
export interface RunContext {
  readonly target: Target;
  readonly partners: { readonly a: PartnerIdentity; readonly b: PartnerIdentity };
  readonly partnerServer?: PartnerServer;
  /** The node under test as a process the runner owns (`--node-command`): enables the `restart` feature. */
  readonly node?: ManagedNode;
  readonly timeoutMs: number;
}

async function strangers(ctx: RunContext): Promise<{ stranger: NodeCertificates; otherCa: NodeCertificates }> {
  const region = ctx.partners.a.nodeId.split(".")[1] ?? "320509";
  const cache = strangerCache.get(ctx);
  if (cache !== undefined) return cache;
  const otherRoot = await createFederationRoot({ name: "not the federation (conformance)", validityDays: 1 });
  const otherCa = await issueNodeCertificates({ ca: otherRoot, nodeId: ctx.partners.a.nodeId, signingAlgorithm: "ES256", validityDays: 1 });
  const stranger =
    ctx.target.ca.privateKeyPem === undefined
      ? otherCa
      : await issueNodeCertificates({ ca: { certificatePem: ctx.target.ca.certificatePem, privateKeyPem: ctx.target.ca.privateKeyPem }, nodeId: `cn.${region}.conformance-stranger`, signingAlgorithm: "ES256", validityDays: 1 });
  const out = { stranger, otherCa };
  strangerCache.set(ctx, out);
  return out;
}
const strangerCache = new WeakMap<RunContext, { stranger: NodeCertificates; otherCa: NodeCertificates }>();

async function bodyFor(kind: BodyKind, caseId: string, ctx: RunContext, fork: { root?: Uint8Array; jws?: string }): Promise<MessageInitShape<typeof BodySchema>> {
  const task = (site: string, basicCode: string) => ({ taskId: "t1", site, item: { basicCode }, dependsOn: [] });
  const a = ctx.partners.a;
  switch (kind) {
    case "joint-assignment":
      return { kind: { case: "jointTaskAssignment", value: { jointCaseId: caseId, lead: a.nodeId, task: task(ctx.target.nodeId, "00TB00000501"), applicant: { name: "王五" } } } };
    case "joint-assignment-other-site":
      return { kind: { case: "jointTaskAssignment", value: { jointCaseId: caseId, lead: a.nodeId, task: task(ctx.partners.b.nodeId, "00TB00000501"), applicant: { name: "王五" } } } };
    case "joint-assignment-not-agreed":
      return { kind: { case: "jointTaskAssignment", value: { jointCaseId: caseId, lead: a.nodeId, task: task(ctx.target.nodeId, "00TB00000101"), applicant: { name: "王五" } } } };
    case "checkpoint-request":
    case "checkpoint-request-fork": {
      // Partner A's own log checkpoint, for the node to witness; the fork is another root at the same size.
      if (kind === "checkpoint-request" || fork.root === undefined) fork.root = new Uint8Array(createHash("sha256").update(`${caseId}${kind}`).digest());
      const root = kind === "checkpoint-request-fork" ? new Uint8Array(createHash("sha256").update(`fork ${caseId}`).digest()) : fork.root;
      const jws = await signCheckpoint({ origin: a.nodeId, treeSize: 8, rootHash: root, timestamp: new Date() }, { privateKey: createPrivateKey(a.certificates.signing.privateKeyPem), certificateChain: [a.certificates.signing.certificatePem] });
      fork.jws = jws;
      return { kind: { case: "checkpointCosignature", value: { checkpoint: new TextEncoder().encode(jws) } } };
    }
    case "result-bad-seal":
      return { kind: { case: "result", value: { documents: [{ documentId: "d1", name: "结果文书", content: new TextEncoder().encode("a result"), sealFormat: "jose-seal-v1", sealSignature: new TextEncoder().encode("not a seal signature") }] } } };
    case "status-update":
      return { kind: { case: "statusUpdate", value: { state: CaseState.ACCEPTED, note: "conformance" } } };
    case "submission-online":
      return { kind: { case: "applicationSubmission", value: { mode: HandlingMode.FULL_ONLINE, item: { basicCode: "00TB00000101" }, applicant: { name: "张三", idType: IdentityDocumentType.RESIDENT_ID, idNumber: "11010519491231002X" }, formChecked: true } } };
    case "submission-unknown-item":
      return { kind: { case: "applicationSubmission", value: { mode: HandlingMode.REMOTE_RECEIPT, item: { basicCode: "99XX99999999" }, applicant: { name: "张三" } } } };
    case "submission-joint-mode":
      return { kind: { case: "applicationSubmission", value: { mode: HandlingMode.JOINT, item: { basicCode: "00TB00000101" }, applicant: { name: "张三" } } } };
    case "submission":
      return {
        kind: {
          case: "applicationSubmission",
          value: { mode: HandlingMode.REMOTE_RECEIPT, item: { basicCode: "00TB00000101" }, applicant: { name: "张三", idType: IdentityDocumentType.RESIDENT_ID, idNumber: "11010519491231002X" }, formChecked: true, identityVerified: true, caseNumber: caseId.slice(0, 8) },
        },
      };
    case "acceptance":
      return { kind: { case: "acceptance", value: {} } };
    case "refusal":
      return { kind: { case: "refusal", value: { explanation: "conformance" } } };
    case "decision":
      return { kind: { case: "decision", value: { outcome: DecisionOutcome.APPROVED } } };
    case "withdrawal":
      return { kind: { case: "withdrawal", value: { reason: "conformance" } } };
    case "correction-request":
      return { kind: { case: "correctionRequest", value: { note: "conformance" } } };
    case "result":
      return { kind: { case: "result", value: {} } };
  }
}

function flip(b: Uint8Array, at = Math.floor(b.length / 2)): Uint8Array {
  const out = new Uint8Array(b);
  out[at] = (out[at] ?? 0) ^ 0x01;
  return out;
}

function mutate(env: Envelope, m: Mutation): Envelope {
  const e = fromBinary(EnvelopeSchema, toBinary(EnvelopeSchema, env));
  switch (m) {
    case "tamper-header":
      e.header = flip(e.header);
      break;
    case "tamper-body":
      e.body = flip(e.body);
      break;
    case "tamper-signature":
      if (e.signature !== undefined) e.signature.value = flip(e.signature.value);
      break;
    case "tamper-protected-header":
      if (e.signature !== undefined) e.signature.protected = flip(e.signature.protected, 3);
      break;
    case "drop-signature":
      delete (e as { signature?: unknown }).signature;
      break;
    case "truncate-header":
      e.header = e.header.subarray(0, Math.floor(e.header.length / 2));
      break;
    case "swap-header-body":
      [e.header, e.body] = [e.body, e.header];
      break;
    case "empty-envelope":
      return fromBinary(EnvelopeSchema, new Uint8Array());
    default:
      break;
  }
  return e;
}

/** Runs one case against the target. Never throws: a failure is a result with the reason and the exchange. */
export async function runCase(c: ConformanceCase, ctx: RunContext): Promise<CaseResult> {
  const t0 = Date.now();
  const exchange: string[] = [];
  const features = ctx.node === undefined ? ctx.target.features : [...ctx.target.features, RESTART_FEATURE];
  const missing = (c.requires ?? []).filter((f) => !features.includes(f));
  if (missing.length > 0) {
    const why = missing.map((f) => (f === RESTART_FEATURE ? "restart (give --node-command so the runner owns the node process and can crash it)" : f));
    return { id: c.id, title: c.title, status: "skipped", ms: 0, reason: `the node does not declare ${why.join(", ")}`, exchange };
  }
  const clients: { close(): void }[] = [];
  const sent: { envelope: Envelope; receipt?: Envelope; receiptDigest: Uint8Array; messageId: string }[] = [];
  let caseId = "";
  const forkState: { root?: Uint8Array; jws?: string } = {};
  const seq = new Map<string, number>();
  const fail = (reason: string): CaseResult => ({ id: c.id, title: c.title, status: "failed", ms: Date.now() - t0, reason, exchange });
  const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ctx.timeoutMs).unref());
  try {
    const run = async (): Promise<string | undefined> => {
      for (const [i, step] of c.steps.entries()) {
        const problem = await runStep(step, i);
        if (problem !== undefined) return `step ${i + 1}: ${problem}`;
      }
      return undefined;
    };
    const runStep = async (step: Step, i: number): Promise<string | undefined> => {
      if ("deliver" in step) {
        const d = step.deliver;
        const { stranger, otherCa } = await strangers(ctx);
        const as = d.as === "b" ? ctx.partners.b.certificates : d.as === "stranger" ? stranger : ctx.partners.a.certificates;
        const asId = d.as === "b" ? ctx.partners.b.nodeId : d.as === "stranger" ? stranger.nodeId : ctx.partners.a.nodeId;
        const tls = d.tls === "other-partner" ? (d.as === "b" ? ctx.partners.a.certificates : ctx.partners.b.certificates) : d.tls === "other-ca" ? otherCa : d.tls === "none" ? undefined : as;
        if (d.case === "new") caseId = newMessageId();
        const thisCase = d.case === undefined ? "" : caseId;
        let envelope: Envelope;
        let receiptDigest: Uint8Array;
        let messageId: string;
        if (d.repeat !== undefined) {
          const prior = sent[d.repeat];
          if (prior === undefined) return `repeat of step ${d.repeat} that sent nothing`;
          ({ envelope, receiptDigest, messageId } = prior);
        } else {
          const key = `${asId} ${thisCase}`;
          const sequence = d.sequence ?? (thisCase === "" ? 0 : (seq.get(key) ?? 0) + 1);
          if (thisCase !== "" && d.sequence === undefined) seq.set(key, sequence);
          const wrongSigner = d.mutate === "sign-as-other-partner" ? (d.as === "b" ? ctx.partners.a.certificates : ctx.partners.b.certificates) : d.mutate === "unknown-signer" ? stranger : as;
          const senderId = d.mutate === "sign-as-other-partner" ? (d.as === "b" ? ctx.partners.a.nodeId : ctx.partners.b.nodeId) : d.mutate === "unknown-signer" ? stranger.nodeId : asId;
          const when = d.mutate === "stale" ? new Date(Date.now() - 100 * 3600_000) : d.mutate === "future" ? new Date(Date.now() + 3600_000) : new Date();
          const body = await bodyFor(d.body, thisCase, ctx, forkState);
          const encrypt = d.body.startsWith("submission") || d.body.startsWith("result") || d.body.startsWith("joint-assignment");
          const made = await createEnvelope({
            body,
            sender: senderId,
            recipient: d.mutate === "wrong-recipient" ? ctx.partners.b.nodeId : ctx.target.nodeId,
            ...(thisCase === "" ? {} : { caseId: thisCase, sequence }),
            signer: signerOf(wrongSigner),
            now: when,
            ...(d.reuseIdOf !== undefined && sent[d.reuseIdOf] !== undefined ? { messageId: sent[d.reuseIdOf]!.messageId } : {}),
            ...(encrypt ? { encryptTo: new X509Certificate(ctx.target.tlsCert).publicKey as KeyObject } : {}),
          });
          envelope = mutate(made.envelope, d.mutate ?? "none");
          receiptDigest = made.receiptDigest;
          messageId = made.messageId;
        }
        const client: FederationClient = tls === undefined
          ? (createGrpcClient(FederationService, ctx.target.federation, clientCredentials({ ca: ctx.target.ca.certificatePem, expectedNodeId: ctx.target.nodeId }), { defaultTimeoutMs: 5_000 }) as FederationClient)
          : createFederationClient({ address: ctx.target.federation, nodeId: ctx.target.nodeId, ca: ctx.target.ca.certificatePem, cert: tls.tls.certificatePem, key: tls.tls.privateKeyPem, timeoutMs: 5_000 });
        clients.push(client);
        const times = d.times ?? 1;
        const outcomes = await Promise.all(Array.from({ length: times }, () => client.deliver({ envelope }).then((r) => ({ ok: true as const, receipt: r.receipt }), (err: unknown) => ({ ok: false as const, code: codeOf(err) }))));
        const first = outcomes[0]!;
        exchange.push(`${i + 1}. deliver ${d.body}${d.mutate && d.mutate !== "none" ? ` (${d.mutate})` : ""} as ${asId}${times > 1 ? ` ×${times}` : ""} → ${first.ok ? "receipt" : first.code}`);
        sent[i] = { envelope, receiptDigest, messageId, ...(first.ok && first.receipt !== undefined ? { receipt: first.receipt } : {}) };
        const e = step.expect;
        if (e.code !== undefined || e.codes !== undefined) {
          const want = e.codes ?? [e.code!];
          for (const o of outcomes) if (o.ok || !want.some((w) => o.code === w || (w.endsWith("*") && o.code.startsWith(w.slice(0, -1))))) return `expected ${want.join(" or ")}, got ${o.ok ? "a receipt" : o.code}`;
          return undefined;
        }
        if (e.receipt === true || e.sameReceiptAs !== undefined) {
          for (const o of outcomes) if (!o.ok) return `expected a receipt, got ${o.code}`;
          const trust = new TrustStore({ anchor: ctx.target.ca.certificatePem });
          trust.addCertificate(ctx.target.signingCert);
          for (const o of outcomes) {
            if (!o.ok || o.receipt === undefined) return "no receipt in the answer";
            const v = await verifyEnvelope(o.receipt, { self: asId, resolver: trust }).catch((err: unknown) => codeOf(err));
            if (typeof v === "string") return `the receipt does not verify: ${v}`;
            if (v.body?.kind.case !== "technicalReceipt") return "the answer is not a technical receipt";
            if (Buffer.compare(Buffer.from(v.body.kind.value.receivedDigest), Buffer.from(receiptDigest)) !== 0) return "the receipt does not bind the digest of what was sent";
          }
          if (e.sameReceiptAs !== undefined) {
            const prior = sent[e.sameReceiptAs]?.receipt;
            const got = outcomes[0]!.ok ? outcomes[0]!.receipt : undefined;
            if (prior === undefined || got === undefined || Buffer.compare(Buffer.from(toBinary(EnvelopeSchema, prior)), Buffer.from(toBinary(EnvelopeSchema, got))) !== 0) return "a duplicate must get the same receipt";
          }
        }
        return undefined;
      }
      if ("platform" in step) {
        const p = step.platform;
        if (p.call === "node-info") {
          const cert = ctx.partners.a.certificates;
          const client = createFederationClient({ address: ctx.target.federation, nodeId: ctx.target.nodeId, ca: ctx.target.ca.certificatePem, cert: cert.tls.certificatePem, key: cert.tls.privateKeyPem, timeoutMs: 5_000 });
          clients.push(client);
          const info = await client.getNodeInfo({}).catch((err: unknown) => codeOf(err));
          exchange.push(`${i + 1}. GetNodeInfo → ${typeof info === "string" ? info : info.nodeId}`);
          if (typeof info === "string") return `GetNodeInfo failed: ${info}`;
          if (info.nodeId !== ctx.target.nodeId) return `GetNodeInfo names ${info.nodeId}`;
          if (!info.protocols.includes("tongban/1")) return "GetNodeInfo does not list tongban/1";
          return undefined;
        }
        if (p.call === "mapping-table") {
          // GetMappingTable on the federation port, as a partner asks for a table the directory lists.
          const cert = ctx.partners.a.certificates;
          const client = createFederationClient({ address: ctx.target.federation, nodeId: ctx.target.nodeId, ca: ctx.target.ca.certificatePem, cert: cert.tls.certificatePem, key: cert.tls.privateKeyPem, timeoutMs: 5_000 });
          clients.push(client);
          const ask = { publisher: p.publisher ?? "", kind: p.kind ?? "implementation", version: p.version ?? "" };
          const got = await client.getMappingTable(ask).then((r) => r, (err: unknown) => codeOf(err));
          exchange.push(`${i + 1}. GetMappingTable(${ask.publisher}, ${ask.kind}, ${JSON.stringify(ask.version)}) → ${typeof got === "string" ? got : `version ${got.version}, ${got.document.length} bytes`}`);
          const want = step.expect.code;
          if (want !== undefined) return got === want ? undefined : `expected ${want}, got ${typeof got === "string" ? got : "a table"}`;
          return typeof got === "string" ? `GetMappingTable failed: ${got}` : undefined;
        }
        if (p.call === "pull-events" || p.call === "pull-acknowledge") {
          // Pull mode on the federation port, as a partner that takes no connections collects and answers.
          const cert = ctx.partners.a.certificates;
          const client = createFederationClient({ address: ctx.target.federation, nodeId: ctx.target.nodeId, ca: ctx.target.ca.certificatePem, cert: cert.tls.certificatePem, key: cert.tls.privateKeyPem, timeoutMs: 10_000 });
          clients.push(client);
          const want = step.expect.code;
          if (p.call === "pull-events") {
            // Nothing is queued for this partner: the stream must end, empty, about when the wait it asked for ends.
            const waitMs = p.waitMs ?? 500;
            const t0 = Date.now();
            const got = await (async () => {
              let n = 0;
              for await (const _ of client.pullEvents({ after: "", max: 10, waitMs }, { timeoutMs: waitMs + 5_000 })) n++;
              return n;
            })().catch((err: unknown) => codeOf(err));
            const ms = Date.now() - t0;
            exchange.push(`${i + 1}. PullEvents(wait ${waitMs} ms) → ${typeof got === "string" ? got : `${got} envelope(s) in ${ms} ms`}`);
            if (want !== undefined) return got === want ? undefined : `expected ${want}, got ${typeof got === "string" ? got : "a stream"}`;
            if (typeof got === "string") return `PullEvents failed: ${got}`;
            if (got !== 0) return `PullEvents handed out ${got} envelope(s) though none waits for this partner`;
            return ms > waitMs + 2_000 ? `the stream stayed open ${ms} ms, well past the ${waitMs} ms asked for` : undefined;
          }
          const cursor = p.cursor ?? "";
          const outcome = p.outcome === "none" ? { case: undefined } : { case: "refusal" as const, value: { code: "CASE_NOT_FOUND", message: "conformance: no such message" } };
          const got = await client.acknowledgePulled({ acknowledgements: [{ cursor, outcome }] }).then((r) => r, (err: unknown) => codeOf(err));
          exchange.push(`${i + 1}. AcknowledgePulled(${JSON.stringify(cursor)}, ${p.outcome ?? "refusal"}) → ${typeof got === "string" ? got : `accepted ${got.accepted}, unknown ${JSON.stringify(got.unknown)}`}`);
          if (want !== undefined) return got === want ? undefined : `expected ${want}, got ${typeof got === "string" ? got : "an answer"}`;
          if (typeof got === "string") return `AcknowledgePulled failed: ${got}`;
          return got.accepted === 0 && got.unknown.includes(cursor) ? undefined : `a cursor never handed out must come back as unknown, got accepted ${got.accepted}, unknown ${JSON.stringify(got.unknown)}`;
        }
        if (ctx.target.platform === undefined) return "this case needs the platform API (--platform, --platform-token)";
        const token = p.token === "none" ? undefined : p.token === "wrong" ? "tbp_wrong-token" : ctx.target.platform.token;
        const client: PlatformClient =
          token === undefined
            ? (createGrpcClient((await import("@tongban/sdk/gen")).PlatformService, ctx.target.platform.address, clientCredentials({ ca: ctx.target.ca.certificatePem, expectedNodeId: ctx.target.nodeId }), { defaultTimeoutMs: 5_000 }) as PlatformClient)
            : createPlatformClient({ address: ctx.target.platform.address, nodeId: ctx.target.nodeId, ca: ctx.target.ca.certificatePem, token, timeoutMs: 5_000 });
        clients.push(client);
        const outcome = await platformCall(client, p, caseId, ctx).catch((err: unknown) => ({ code: codeOf(err) }));
        exchange.push(`${i + 1}. platform ${p.call}${p.spoil ? ` (${p.spoil})` : ""}${p.token && p.token !== "valid" ? ` token=${p.token}` : ""} → ${JSON.stringify(outcome).slice(0, 120)}`);
        const e = step.expect;
        if (e.code !== undefined) return "code" in outcome && outcome.code === e.code ? undefined : `expected ${e.code}, got ${JSON.stringify(outcome).slice(0, 100)}`;
        if ("code" in outcome) return `failed: ${outcome.code}`;
        if (e.state !== undefined && outcome.state !== e.state) return `expected state ${e.state}, got ${outcome.state ?? "none"}`;
        if (e.resolved !== undefined && outcome.resolved !== e.resolved) return `expected resolved ${e.resolved}`;
        if (e.alert !== undefined && outcome.alert !== e.alert) return `expected an event with alert ${e.alert}`;
        if (e.gap !== undefined && outcome.gap !== e.gap) return `expected gap ${e.gap}, got ${outcome.gap ?? "none"}`;
        if (p.call === "submit" && "caseId" in outcome && outcome.caseId !== undefined) caseId = outcome.caseId;
        return undefined;
      }
      if ("node" in step) {
        if (ctx.node === undefined) return "this case needs --node-command (the runner must own the node process)";
        const t = Date.now();
        await ctx.node.restart(step.node.restart);
        exchange.push(`${i + 1}. node ${step.node.restart === "kill" ? "killed (SIGKILL, no shutdown)" : "stopped (SIGTERM)"} and started again → answering after ${Date.now() - t} ms`);
        return undefined;
      }
      if ("partner" in step) {
        if (ctx.partnerServer === undefined) return "this case needs the partner server (--partner-listen)";
        ctx.partnerServer.failNext = step.partner.failNext;
        exchange.push(`${i + 1}. partner A answers the next ${step.partner.failNext} deliveries UNAVAILABLE`);
        return undefined;
      }
      // receive: what the node under test sends to partner A.
      const server = ctx.partnerServer;
      if (server === undefined) return "this case needs the partner server (--partner-listen)";
      const r = step.receive;
      const end = Date.now() + (r.withinMs ?? 10_000);
      if (r.minWaitMs !== undefined) await new Promise((res) => setTimeout(res, r.minWaitMs));
      for (;;) {
        const got = server.received.filter((x) =>
          r.type === "CHECKPOINT_COSIGNATURE" ? x.type === r.type && x.checkpoint !== undefined && x.checkpoint === forkState.jws : x.type === r.type && (caseId === "" || x.caseId === caseId),
        );
        if (got.length >= (step.expect?.count ?? 1)) {
          exchange.push(`${i + 1}. received ${r.type} ×${got.length}`);
          if (step.expect?.count !== undefined && got.length !== step.expect.count) return `received ${got.length} ${r.type}, expected ${step.expect.count}`;
          if (r.materialsFirst === true) {
            const message = got[0]!;
            if (message.materials.length === 0) return "the submission names no materials";
            for (const digest of message.materials) {
              const pushed = server.materials.find((m) => m.digest === digest);
              if (pushed === undefined) return `material ${digest.slice(0, 12)}… named by the submission was never pushed (PutMaterial)`;
              if (pushed.at > message.at) return `material ${digest.slice(0, 12)}… arrived after the message that names it`;
            }
          }
          return undefined;
        }
        if (Date.now() > end) return `nothing of type ${r.type} arrived within ${r.withinMs ?? 10_000} ms`;
        await new Promise((res) => setTimeout(res, 25));
      }
    };
    const outcome = await Promise.race([run(), timer]);
    if (outcome === "timeout") return fail(`timed out after ${ctx.timeoutMs} ms`);
    if (outcome !== undefined) return fail(outcome);
    return { id: c.id, title: c.title, status: "passed", ms: Date.now() - t0, exchange };
  } catch (err) {
    return fail(`runner error: ${codeOf(err)}`);
  } finally {
    for (const cl of clients) cl.close();
  }
}

async function platformCall(client: PlatformClient, p: Extract<Step, { platform: unknown }>["platform"], caseId: string, ctx: RunContext): Promise<{ state?: string; resolved?: boolean; gap?: string; caseId?: string; alert?: boolean } | { code: string }> {
  switch (p.call) {
    case "get-joint": {
      const end = Date.now() + 5_000;
      for (;;) {
        const v = await client.getJointCase({ jointCaseId: caseId }).then((r) => r.view, (err: unknown) => (Date.now() > end ? Promise.reject(err) : undefined));
        const t = v?.tasks.find((x) => x.taskId === (p.task ?? "t1"));
        if (t !== undefined) return { state: JointTaskState[t.state] ?? "" };
        if (Date.now() > end) return { code: "CASE_NOT_FOUND" };
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    case "events": {
      // The node's event log, looking for an event of this case.
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 8_000);
      try {
        for await (const e of client.watchEvents({ after: "" }, { signal: controller.signal })) {
          if (e.type === p.event && (caseId === "" || e.caseId === caseId)) return { state: e.type, alert: (JSON.parse(e.dataJson) as { alert?: boolean }).alert === true };
        }
      } catch {
        // aborted: not found in time
      } finally {
        clearTimeout(timer);
      }
      return { code: `NO_EVENT ${p.event ?? ""}` };
    }
    case "get-case": {
      const end = Date.now() + 5_000;
      for (;;) {
        const v = await client.getCase({ caseId }).then((r) => r.view, () => undefined);
        if (v !== undefined) return { state: CaseState[v.state] ?? "" };
        if (Date.now() > end) return client.getCase({ caseId }).then((r) => ({ state: CaseState[r.view!.state] ?? "" }));
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    case "resolve": {
      const mode = p.mode === "joint" ? HandlingMode.JOINT : p.mode === "full_online" ? HandlingMode.FULL_ONLINE : HandlingMode.REMOTE_RECEIPT;
      const r = await client.resolveItem({ handlingRegion: p.handlingRegion ?? ctx.partners.a.nodeId.split(".")[1] ?? "", item: p.item ?? "00TB00000101", mode });
      return { resolved: r.resolved, gap: r.gapCode };
    }
    case "node-info":
    case "mapping-table":
    case "pull-events":
    case "pull-acknowledge": // all on the federation port, answered before this
      return { state: "" };
    case "submit": {
      const materials = [];
      for (const code of p.spoil === "materials" ? ["M001"] : ["M001", "M002", "M003"]) {
        const data = new TextEncoder().encode(`conformance ${code} ${newMessageId()}`);
        const digest = createHash("sha256").update(data).digest();
        await client.uploadMaterial((async function* () {
          yield { digest, digestAlgorithm: "sha256", totalSize: BigInt(data.length), offset: 0n, data };
        })());
        materials.push({ materialId: code, name: code, nationalCode: code, size: BigInt(data.length), digest, digestAlgorithm: "sha256" });
      }
      const { view } = await client.submitApplication({
        requestId: `conformance-${newMessageId()}`,
        handlingNode: ctx.partners.a.nodeId,
        application: {
          mode: HandlingMode.REMOTE_RECEIPT,
          item: { basicCode: p.spoil === "item" ? "99XX99999999" : (p.item ?? "00TB00000101") },
          applicant: { name: "张三", idType: IdentityDocumentType.RESIDENT_ID, idNumber: p.spoil === "identity" ? "110105194912310021" : "11010519491231002X" },
          form: p.spoil === "form" ? [] : [{ name: "申请人姓名", value: "张三" }, { name: "出生日期", value: "19491231" }, { name: "性别", value: "男" }, { name: "联系地址", value: "江苏省|苏州市|吴江区" }],
          materials,
        },
      });
      return { state: CaseState[view!.state] ?? "", caseId: view!.caseId };
    }
  }
}

