import { create, toBinary } from "@bufbuild/protobuf";
import { TongbanError, clientCredentials, createGrpcClient, decodeEnvelope, encodeSingleMessageField, rememberWireBytes, singleFieldOf, wireBytesOf, type GrpcClient } from "@tongban/sdk";
import { DeliverRequestSchema, EnvelopeSchema, FederationService, type Envelope } from "@tongban/sdk/gen";
import type { Sender } from "./outbox.js";

/** How to reach partner nodes over mutual TLS. */
export interface GrpcSenderOptions {
  /** The federation root (PEM) partners' TLS certificates chain to. */
  readonly ca: string;
  /** This node's TLS certificate and key (PEM). */
  readonly cert: string;
  readonly key: string;
  /** Partner node id → "host:port". */
  readonly addresses: (nodeId: string) => string | undefined;
  readonly timeoutMs?: number;
  /**
   * Checks a partner's TLS server certificate (DER) beyond its chain and node id — the node checks it against its trust
   * store (validity, revocation), as its server does a client's. An error refuses the connection.
   */
  readonly checkServer?: (certificate: Uint8Array) => Error | undefined;
  /**
   * Runs before each delivery on the destination's channel — the node pushes
   * the materials a submission names (PutMaterial) here, so they are at the
   * partner before the message that needs them.
   */
  readonly prepare?: (client: GrpcClient<typeof FederationService>, destination: string, envelope: Envelope) => Promise<void>;
}

/**
 * A {@link Sender} over gRPC with mutual TLS: one channel per partner,
 * which must present a certificate for the node id it is called as.
 * Reconnect backoff is kept short; the outbox's schedule does the pacing.
 */
export function grpcSender(options: GrpcSenderOptions): Sender & {
  close(): void;
  setIdentity(tls: { readonly cert: string; readonly key: string }): void;
  /** The channel to a partner (for calls other than Deliver, e.g. GetMappingTable). */
  client(nodeId: string): GrpcClient<typeof FederationService>;
} {
  const clients = new Map<string, GrpcClient<typeof FederationService>>();
  let identity = { cert: options.cert, key: options.key };
  const clientFor = (nodeId: string) => {
    const address = options.addresses(nodeId);
    if (address === undefined) throw new TongbanError("DELIVERY_FAILED", `no address known for ${nodeId}`, { details: { destination: nodeId } });
    // Keyed by address too: a partner that moved (a new directory entry) gets a new channel.
    const key = `${nodeId}@${address}`;
    let c = clients.get(key);
    if (c === undefined) {
      const check = options.checkServer;
      const credentials = clientCredentials({
        ca: options.ca,
        cert: identity.cert,
        key: identity.key,
        expectedNodeId: nodeId,
        ...(check === undefined ? {} : { checkServerIdentity: (_host: string, cert: { raw: Buffer }) => check(new Uint8Array(cert.raw)) }),
      });
      c = createGrpcClient(FederationService, address, credentials, {
        defaultTimeoutMs: options.timeoutMs ?? 10_000,
        channelOptions: { "grpc.initial_reconnect_backoff_ms": 100, "grpc.max_reconnect_backoff_ms": 1_000 },
      });
      clients.set(key, c);
    }
    return c;
  };
  const send = async (destination: string, envelope: Uint8Array): Promise<Uint8Array> => {
    const client = clientFor(destination);
    if (options.prepare !== undefined) await options.prepare(client, destination, decodeEnvelope(envelope));
    // The request goes as the bytes queued (DeliverRequest holds only the envelope, field 1): not decoded and encoded again.
    const res = await client.deliver(rememberWireBytes(create(DeliverRequestSchema), encodeSingleMessageField(1, envelope)));
    if (res.receipt === undefined) throw new TongbanError("RECEIPT_INVALID", "the partner answered without a receipt");
    // The receipt as the partner sent it (DeliverResponse field 1), which is what the outbox keeps as evidence.
    const wire = wireBytesOf(res);
    return (wire === undefined ? undefined : singleFieldOf(1, wire)) ?? toBinary(EnvelopeSchema, res.receipt);
  };
  return Object.assign(send, {
    client: clientFor,
    /**
     * A new TLS certificate and key for deliveries from now on: every channel is
     * closed (calls on it finish; grpc-js refuses only new ones) and the next
     * delivery to a partner opens one that presents the new certificate.
     */
    setIdentity(tls: { readonly cert: string; readonly key: string }) {
      identity = { cert: tls.cert, key: tls.key };
      for (const c of clients.values()) c.close();
      clients.clear();
    },
    close() {
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  });
}
