import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { TongbanError, type ServiceImpl, type TrustStore } from "@tongban/sdk";
import { EnvelopeSchema, FederationService, GetNodeInfoResponseSchema } from "@tongban/sdk/gen";
import type { Intake } from "../inbox/intake.js";
import { NODE_SOFTWARE } from "../software.js";

/** What the federation service is built from. */
export interface FederationServiceDeps {
  readonly nodeId: string;
  readonly intake: Intake;
  /** Checks TLS peers (chain, validity, revocation) and names their node. */
  readonly trust: TrustStore;
  readonly suites?: readonly string[];
  readonly now?: () => Date;
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
      // signature bytes are exactly those received, and nothing is encoded twice.
      const result = await deps.intake.deliver(req.envelope, { nodeId: peer });
      return { receipt: result.receiptEnvelope ?? fromBinary(EnvelopeSchema, result.receipt) };
    },
    async getNodeInfo() {
      const region = deps.nodeId.split(".")[1] ?? "";
      return create(GetNodeInfoResponseSchema, {
        nodeId: deps.nodeId,
        regions: [region],
        suites: [...(deps.suites ?? ["jose-v1"])],
        protocols: ["tongban/1"],
        software: NODE_SOFTWARE,
        now: timestampFromDate(now()),
      });
    },
  };
}
