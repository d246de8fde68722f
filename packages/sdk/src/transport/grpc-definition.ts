import { create, isMessage, type DescMessage, type DescMethod, type DescService, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { schemaCodec } from "../envelope/schema-codec.js";
import { decodeEnvelopeHolder } from "../envelope/wire-decode.js";

/** The gRPC path of a method, e.g. `/tongban.v1.FederationService/Deliver`. */
export function grpcPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/**
 * Accepts a full message or an init object and returns a message, so
 * handlers and callers may write `{ digest, size }` instead of `create(...)`.
 */
export function toMessage<D extends DescMessage>(schema: D, value: MessageInitShape<D> | MessageShape<D>): MessageShape<D> {
  return isMessage(value, schema) ? value : create(schema, value as MessageInitShape<D>);
}

/** Messages whose exact protobuf encoding is known: decoded requests, and answers built from bytes already encoded. */
const wireBytes = new WeakMap<object, Uint8Array>();

/**
 * Records `bytes` as the encoding of `message`: the transport sends these
 * bytes instead of encoding the message again (e.g. a receipt stored as
 * bytes and answered to a duplicate). The caller vouches they encode it.
 */
export function rememberWireBytes<T extends object>(message: T, bytes: Uint8Array): T {
  wireBytes.set(message, bytes);
  return message;
}

/** The bytes a message was decoded from (a request or an answer the transport received), or given with {@link rememberWireBytes}. */
export function wireBytesOf(message: object): Uint8Array | undefined {
  return wireBytes.get(message);
}

/**
 * The encoding of a message that holds one message field `field` (e.g. a
 * `DeliverResponse` with its receipt) from that field's encoding, without
 * encoding it again: tag, length, bytes.
 */
export function encodeSingleMessageField(field: number, bytes: Uint8Array): Uint8Array {
  const head: number[] = [(field << 3) | 2];
  for (let n = bytes.length; ; n >>>= 7) {
    if (n < 0x80) {
      head.push(n);
      break;
    }
    head.push((n & 0x7f) | 0x80);
  }
  const out = new Uint8Array(head.length + bytes.length);
  out.set(head, 0);
  out.set(bytes, head.length);
  return out;
}

/**
 * The encoding of field `field` (a length-delimited field) when `bytes` is
 * exactly that one field and nothing else; undefined otherwise.
 */
export function singleFieldOf(field: number, bytes: Uint8Array): Uint8Array | undefined {
  if (bytes[0] !== ((field << 3) | 2)) return undefined;
  let len = 0;
  let i = 1;
  for (let shift = 0; i < bytes.length && shift < 35; i++, shift += 7) {
    len += (bytes[i]! & 0x7f) * 2 ** shift;
    if ((bytes[i]! & 0x80) === 0) break;
  }
  i++;
  return i + len === bytes.length ? bytes.subarray(i) : undefined;
}

function serializer<D extends DescMessage>(schema: D): (value: MessageShape<D>) => Buffer {
  const codec = schemaCodec(schema);
  return (value) => {
    const bytes = wireBytes.get(value) ?? codec.encode(value);
    // Wrap, don't copy: large material chunks pass through here.
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer<D extends DescMessage>(schema: D): (bytes: Buffer) => MessageShape<D> {
  // A message that only carries an envelope (DeliverRequest, DeliverResponse:
  // one of each per delivery) is read directly; see envelope/wire-decode.ts.
  const only = schema.fields.length === 1 ? schema.fields[0]! : undefined;
  const holder = only?.fieldKind === "message" && only.message.typeName === "tongban.v1.Envelope" ? only : undefined;
  const codec = schemaCodec(schema);
  // A plain Uint8Array view (no copy), so `bytes` fields come out as
  // Uint8Array rather than Buffer, the same as every other protobuf-es path.
  return (bytes) => {
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const direct = holder === undefined ? undefined : (decodeEnvelopeHolder(schema.typeName, holder.number, holder.localName, view) as MessageShape<D> | undefined);
    const message = direct ?? codec.decode(view);
    // Every decoded message remembers its bytes (wireBytesOf): an envelope exactly as it came is what its
    // signature and a node's evidence refer to, and an answer can be relayed without encoding it again.
    wireBytes.set(message, view);
    return message;
  };
}

/** Marks a request the server could not decode (see {@link malformedRequestOf}). */
const MALFORMED = Symbol("tongban.malformed-request");

/**
 * The server's request decoder: bytes that do not decode as the method's
 * input give a marker instead of throwing, so the handler layer answers
 * ENVELOPE_MALFORMED (INVALID_ARGUMENT with the error-code trailer) rather
 * than grpc-js's bare INTERNAL.
 */
function requestDecoder<D extends DescMessage>(schema: D): (bytes: Buffer) => MessageShape<D> {
  const decode = deserializer(schema);
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (err) {
      return { [MALFORMED]: `the request is not a valid ${schema.typeName}: ${err instanceof Error ? err.message : String(err)}` } as unknown as MessageShape<D>;
    }
  };
}

/** The reason a decoded request is a malformed-request marker, or undefined for a real message. */
export function malformedRequestOf(request: unknown): string | undefined {
  return typeof request === "object" && request !== null && MALFORMED in request ? String((request as Record<symbol, unknown>)[MALFORMED]) : undefined;
}

/** A grpc-js method definition for one protobuf-es method descriptor. */
export function toGrpcMethodDefinition(method: DescMethod): MethodDefinition<MessageShape<DescMessage>, MessageShape<DescMessage>> {
  return {
    path: grpcPath(method),
    originalName: method.name,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: serializer(method.input),
    requestDeserialize: requestDecoder(method.input),
    responseSerialize: serializer(method.output),
    responseDeserialize: deserializer(method.output),
  };
}

/**
 * Converts a generated protobuf-es v2 service descriptor (e.g.
 * `FederationService`) into a grpc-js `ServiceDefinition`, keyed by each
 * method's `localName` (`deliver`, `putMaterial`, ...) with paths like
 * `/tongban.v1.FederationService/Deliver`, binary protobuf encoding, and
 * `requestStream`/`responseStream` set from the method kind.
 *
 * @example
 * ```ts
 * server.addService(toGrpcServiceDefinition(FederationService), adaptService(FederationService, impl));
 * ```
 */
export function toGrpcServiceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<MessageShape<DescMessage>, MessageShape<DescMessage>>> = {};
  for (const method of service.methods) definition[method.localName] = toGrpcMethodDefinition(method);
  return definition;
}
