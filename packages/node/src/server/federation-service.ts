import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { TongbanError, decodeEnvelope, encodeSingleMessageField, rememberWireBytes, singleFieldOf, wireBytesOf, type ServiceImpl, type TrustStore } from "@tongban/sdk";
import { DeliverResponseSchema, FederationService, GetNodeInfoResponseSchema } from "@tongban/sdk/gen";
import { readCase } from "../handlers/case-effects.js";
import type { MaterialStore } from "../handlers/materials.js";
import type { Intake } from "../inbox/intake.js";
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
      // Only the partner of the case may read its materials.
      const record = await readCase(deps.store, req.caseId);
      if (record === undefined || record.partner !== peer) throw new TongbanError("AUTH_NOT_ALLOWED", `${peer} is not a party to case ${req.caseId}`, { details: { caseId: req.caseId } });
      for await (const c of materials.read(req.digest, Number(req.offset))) {
        yield { offset: BigInt(c.offset), data: c.data, totalSize: BigInt(c.totalSize) };
      }
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
