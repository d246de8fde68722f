import { TongbanError, type HandlerContext, type TrustStore } from "@tongban/sdk";

/**
 * The node id of the TLS peer of a federation call, after checking its
 * certificate against the trust store at `at`: the handshake already checked
 * the chain, but not revocation and not the validity window as of now
 * (a long-lived connection outlives both). The intake compares the result
 * with the envelope's signer (TRANSPORT_PEER_MISMATCH).
 *
 * @throws TongbanError TRANSPORT_UNAUTHENTICATED without a client certificate;
 *   TRUST_CERT_EXPIRED, TRUST_CERT_REVOKED, TRUST_UNTRUSTED_CHAIN,
 *   TRUST_CERT_INVALID, TRUST_CRL_STALE from the trust store.
 *
 * @example
 * ```ts
 * async deliver(req, ctx) {
 *   const peer = peerNodeId(ctx, trust, new Date());
 *   return intake.deliver(req.envelope, { nodeId: peer });
 * }
 * ```
 */
export function peerNodeId(ctx: HandlerContext, trust: TrustStore, at: Date): string {
  const cert = ctx.peer.certificate;
  if (cert === undefined) throw new TongbanError("TRANSPORT_UNAUTHENTICATED", "the federation service needs a TLS client certificate");
  return trust.verifyPeerCertificate(cert, at);
}
