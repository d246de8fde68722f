import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { TongbanError, decodeEnvelope, encodeSingleMessageField, rememberWireBytes, singleFieldOf, wireBytesOf, type ServiceImpl, type TrustStore } from "@tongban/sdk";
import { AcknowledgePulledResponseSchema, DeliverResponseSchema, EnvelopeSchema, FederationService, GetNodeInfoResponseSchema } from "@tongban/sdk/gen";
import { readCase } from "../handlers/case-effects.js";
import type { MaterialStore } from "../handlers/materials.js";
import type { Intake } from "../inbox/intake.js";
import type { PullAnswer, PullQueue } from "../outbox/pull-queue.js";
import type { Store } from "../store/types.js";
import { NODE_SOFTWARE } from "../software.js";

/** What the federation service is built from. */
export interface FederationServiceDeps {
  readonly nodeId: string;
  readonly intake: Intake;
  /** Checks TLS peers (chain, validity, revocation) and names their node. */
  readonly trust: TrustStore;
  readonly suites?: readonly string[];
  readonly now?: () => Date;
  /** Serves PutMaterial/FetchMaterial when given (with the store to check case partners). */
  readonly materials?: MaterialStore;
  readonly store?: Store;
  /** The version of the federation directory the node holds (GetNodeInfo), if any. */
  readonly directoryVersion?: () => number | undefined;
  /** Serves PullEvents/AcknowledgePulled when given: what the outbox parked for pull partners. */
  readonly pulls?: PullQueue;
  /** The longest a PullEvents stream stays open, and the most envelopes on one (defaults 60 s, 256). */
  readonly pullLimits?: { readonly maxWaitMs: number; readonly maxEnvelopes: number };
}

/**
 * The node's FederationService (node ↔ node, mutual TLS). `Deliver` hands
 * the envelope to the intake with the TLS peer's node id — checked here
 * against the trust store, so an expired or revoked peer certificate is
 * refused even though the TLS handshake accepted its chain. Methods not
 * listed answer UNIMPLEMENTED (the transport does that).
 */
export function federationService(deps: FederationServiceDeps): Partial<ServiceImpl<typeof FederationService>> {
  const now = deps.now ?? (() => new Date());
  return {
    async deliver(req, ctx) {
      if (req.envelope === undefined) throw new TongbanError("ENVELOPE_MALFORMED", "DeliverRequest has no envelope");
      const cert = ctx.peer.certificate;
      if (cert === undefined) throw new TongbanError("TRANSPORT_UNAUTHENTICATED", "the federation service needs a TLS client certificate");
      const peer = deps.trust.verifyPeerCertificate(cert, now());
      // The decoded Envelope goes to the intake as it is: its header, body and
      // signature bytes are exactly those received, and nothing is encoded
      // twice — the envelope's bytes as received (for the inbox record) and
      // the receipt's bytes as signed (for the answer) ride along.
      const raw = wireBytesOf(req);
      const envelopeBytes = raw === undefined ? undefined : singleFieldOf(1, raw);
      if (envelopeBytes !== undefined) rememberWireBytes(req.envelope, envelopeBytes);
      const result = await deps.intake.deliver(req.envelope, { nodeId: peer });
      const response = create(DeliverResponseSchema, { receipt: result.receiptEnvelope ?? decodeEnvelope(result.receipt) });
      return rememberWireBytes(response, encodeSingleMessageField(1, result.receipt));
    },
    async putMaterial(requests, ctx) {
      const materials = deps.materials;
      if (materials === undefined) throw new TongbanError("UNIMPLEMENTED", "this node does not take materials");
      const cert = ctx.peer.certificate;
      if (cert === undefined) throw new TongbanError("TRANSPORT_UNAUTHENTICATED", "the federation service needs a TLS client certificate");
      deps.trust.verifyPeerCertificate(cert, now());
      const info = await materials.put(requests);
      return { digest: Buffer.from(info.digest, "hex"), size: BigInt(info.size), alreadyPresent: info.alreadyPresent };
    },
    async *fetchMaterial(req, ctx) {
      const materials = deps.materials;
      if (materials === undefined || deps.store === undefined) throw new TongbanError("UNIMPLEMENTED", "this node does not serve materials");
      const cert = ctx.peer.certificate;
      if (cert === undefined) throw new TongbanError("TRANSPORT_UNAUTHENTICATED", "the federation service needs a TLS client certificate");
      const peer = deps.trust.verifyPeerCertificate(cert, now());
      // Only the partner of the case may read its materials — or a pull partner an envelope waiting for it names them to.
      const record = await readCase(deps.store, req.caseId);
      if ((record === undefined || record.partner !== peer) && deps.pulls?.offered(peer, req.digest) !== true) throw new TongbanError("AUTH_NOT_ALLOWED", `${peer} is not a party to case ${req.caseId}`, { details: { caseId: req.caseId } });
      for await (const c of materials.read(req.digest, Number(req.offset))) {
        yield { offset: BigInt(c.offset), data: c.data, totalSize: BigInt(c.totalSize) };
      }
    },
    async *pullEvents(req, ctx) {
      const pulls = deps.pulls;
      if (pulls === undefined) throw new TongbanError("UNIMPLEMENTED", "this node does not queue envelopes for pulling");
      const cert = ctx.peer.certificate;
      if (cert === undefined) throw new TongbanError("TRANSPORT_UNAUTHENTICATED", "the federation service needs a TLS client certificate");
      // Only what is queued for the caller's own node id (its verified TLS identity) is ever handed out.
      const peer = deps.trust.verifyPeerCertificate(cert, now());
      const limits = deps.pullLimits ?? { maxWaitMs: 60_000, maxEnvelopes: 256 };
      const max = req.max === 0 ? limits.maxEnvelopes : Math.min(req.max, limits.maxEnvelopes);
      for await (const p of pulls.pull(peer, { after: req.after, max, waitMs: Math.min(req.waitMs, limits.maxWaitMs), signal: ctx.signal })) {
        yield { cursor: p.cursor, envelope: decodeEnvelope(p.envelope), materials: [...p.materials] };
      }
    },
    async acknowledgePulled(req, ctx) {
      const pulls = deps.pulls;
      if (pulls === undefined) throw new TongbanError("UNIMPLEMENTED", "this node does not queue envelopes for pulling");
      const cert = ctx.peer.certificate;
      if (cert === undefined) throw new TongbanError("TRANSPORT_UNAUTHENTICATED", "the federation service needs a TLS client certificate");
      const peer = deps.trust.verifyPeerCertificate(cert, now());
      const answers: PullAnswer[] = [];
      for (const [i, a] of req.acknowledgements.entries()) {
        const o = a.outcome;
        if (o.case === "receipt") answers.push({ cursor: a.cursor, receipt: toBinary(EnvelopeSchema, o.value) });
        else if (o.case === "refusal") answers.push({ cursor: a.cursor, refusal: { code: o.value.code, message: o.value.message, ...(o.value.retryAfterMs > 0 ? { retryAfterMs: o.value.retryAfterMs } : {}) } });
        else throw new TongbanError("ENVELOPE_MALFORMED", `acknowledgements[${i}] has neither a receipt nor a refusal`, { details: { index: i } });
      }
      // Each answer ends the attempt waiting on it as Deliver's answer would; the receipt is verified there.
      const r = pulls.acknowledge(peer, answers);
      return create(AcknowledgePulledResponseSchema, { accepted: r.accepted, unknown: [...r.unknown] });
    },
    async getNodeInfo() {
      const region = deps.nodeId.split(".")[1] ?? "";
      return create(GetNodeInfoResponseSchema, {
        nodeId: deps.nodeId,
        regions: [region],
        suites: [...(deps.suites ?? ["jose-v1"])],
        protocols: ["tongban/1"],
        software: NODE_SOFTWARE,
        directoryVersion: String(deps.directoryVersion?.() ?? ""),
        now: timestampFromDate(now()),
      });
    },
  };
}
