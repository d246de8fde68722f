#!/usr/bin/python3
"""An independent gRPC client of a Tongban node's FederationService, written from docs/protocol.md.

It shares no code with the TypeScript SDK: Debian's grpcio carries the calls over mutual TLS, and the
protobuf messages are written and read by hand (the wire reader of verify_envelope.py).

usage: grpc_client.py ADDRESS --ca ROOT.pem [--cert TLS.crt --key TLS.key] CALL ...
  node-info
  deliver ENVELOPE_FILE --receipt-out FILE      (checks the receipt binds the receipt digest of what was sent)
  mapping-table PUBLISHER KIND [VERSION] --out FILE
  pull --wait-ms MS --envelope-out FILE --refuse CODE [--retry-after MS]
      (docs/protocol.md §9: takes one envelope queued for this node with PullEvents, fetches the materials it
       lists with FetchMaterial and checks their SHA-256, and answers it with AcknowledgePulled: a refusal)
Prints one JSON object; exits 0 on success, 1 when the node refused (with its gRPC status and Tongban error code).
"""
import argparse
import hashlib
import json
import struct
import sys

import grpc

from verify_envelope import fields, message

SERVICE = "/tongban.v1.FederationService/"


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(number, data):
    """A length-delimited field (string, bytes or message), as protobuf writes it."""
    return varint(number << 3 | 2) + varint(len(data)) + data


def receipt_digest(envelope):
    """docs/protocol.md §6: SHA-256 over u32be(len) || bytes of header, body, protected, value."""
    env = message(envelope, {1: "header", 2: "body", 3: "signature"})
    sig = message(env.get("signature", b""), {1: "protected", 2: "value"})
    h = hashlib.sha256()
    for part in (env.get("header", b""), env.get("body", b""), sig.get("protected", b""), sig.get("value", b"")):
        h.update(struct.pack(">I", len(part)) + part)
    return h.digest()


def field_varint(number, n):
    return varint(number << 3) + varint(n)


def stream(channel, method, request, timeout):
    rpc = channel.unary_stream(SERVICE + method, request_serializer=lambda b: b, response_deserializer=lambda b: b)
    return rpc(request, timeout=timeout)


def pull(channel, args):
    """Pull mode as a pull node does it (docs/protocol.md §9), answering the envelope with a refusal."""
    wait_ms = int(args.wait_ms)
    request = field_varint(2, 1) + field_varint(3, wait_ms)  # after: empty (from the oldest), max 1, wait_ms
    events = list(stream(channel, "PullEvents", request, timeout=wait_ms / 1000 + 10))
    if not events:
        return {"ok": True, "pulled": 0}
    cursor, envelope, materials = b"", b"", []
    for number, value in fields(events[0]):
        if number == 1:
            cursor = value
        elif number == 2:
            envelope = value
        elif number == 3:
            materials.append(value)  # repeated bytes: every occurrence
    open(args.envelope_out, "wb").write(envelope)
    header = message(message(envelope, {1: "header"}).get("header", b""), {2: "message_id", 8: "case_id"})
    fetched = []
    for digest in materials:
        chunks = stream(channel, "FetchMaterial", field_bytes(1, header.get("case_id", b"")) + field_bytes(2, digest), timeout=30)
        data = b"".join(message(c, {2: "data"}).get("data", b"") for c in chunks)
        fetched.append(hashlib.sha256(data).digest() == digest)
    refusal = field_bytes(1, args.refuse.encode()) + field_bytes(2, b"refused by the Python pull client") + (field_varint(3, int(args.retry_after)) if args.retry_after else b"")
    answer = call(channel, "AcknowledgePulled", field_bytes(1, field_bytes(1, cursor) + field_bytes(3, refusal)))
    unknown = [v.decode() for n, v in fields(answer) if n == 2]
    accepted = message(answer, {1: "accepted"}).get("accepted", 0)
    # The same cursor again: already answered, so the node names it unknown.
    again = call(channel, "AcknowledgePulled", field_bytes(1, field_bytes(1, cursor) + field_bytes(3, refusal)))
    return {
        "ok": True,
        "pulled": len(events),
        "message_id": header.get("message_id", b"").decode(),
        "materials": len(materials),
        "materials_match_digests": all(fetched) and len(fetched) == len(materials),
        "accepted": accepted,
        "unknown": unknown,
        "answered_twice_unknown": [v.decode() for n, v in fields(again) if n == 2] == [cursor.decode()],
    }


def call(channel, method, request):
    rpc = channel.unary_unary(SERVICE + method, request_serializer=lambda b: b, response_deserializer=lambda b: b)
    return rpc(request, timeout=10)


def run(args):
    creds = grpc.ssl_channel_credentials(
        root_certificates=open(args.ca, "rb").read(),
        private_key=open(args.key, "rb").read() if args.key else None,
        certificate_chain=open(args.cert, "rb").read() if args.cert else None,
    )
    with grpc.secure_channel(args.address, creds) as channel:
        if args.call == "node-info":
            info = message(call(channel, "GetNodeInfo", b""), {1: "node_id", 4: "protocols", 6: "directory_version"})
            return {"ok": True, "node_id": info.get("node_id", b"").decode(), "directory_version": info.get("directory_version", b"").decode()}
        if args.call == "deliver":
            sent = open(args.args[0], "rb").read()
            answer = call(channel, "Deliver", field_bytes(1, sent))
            receipt = message(answer, {1: "receipt"}).get("receipt", b"")
            open(args.receipt_out, "wb").write(receipt)
            env = message(receipt, {1: "header", 2: "body"})
            body = message(env.get("body", b""), {2: "technical_receipt"})
            tr = message(body.get("technical_receipt", b""), {1: "received_message_id", 2: "received_digest", 7: "duplicate"})
            return {
                "ok": True,
                "received_message_id": tr.get("received_message_id", b"").decode(),
                "binds_what_was_sent": tr.get("received_digest") == receipt_digest(sent),
                "duplicate": tr.get("duplicate", 0) == 1,
            }
        if args.call == "mapping-table":
            publisher, kind = args.args[0], args.args[1]
            version = args.args[2] if len(args.args) > 2 else ""
            req = field_bytes(1, publisher.encode()) + field_bytes(2, kind.encode()) + (field_bytes(3, version.encode()) if version else b"")
            res = message(call(channel, "GetMappingTable", req), {1: "version", 2: "document"})
            open(args.out, "wb").write(res.get("document", b""))
            return {"ok": True, "version": res.get("version", b"").decode()}
        if args.call == "pull":
            return pull(channel, args)
        raise SystemExit("unknown call %s" % args.call)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("address")
    p.add_argument("--ca", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--receipt-out")
    p.add_argument("--out")
    p.add_argument("--wait-ms", default="5000")
    p.add_argument("--envelope-out")
    p.add_argument("--refuse", default="OVERLOADED")
    p.add_argument("--retry-after")
    p.add_argument("call")
    p.add_argument("args", nargs="*")
    args = p.parse_args()
    try:
        result = run(args)
    except grpc.RpcError as e:
        # docs/errors.md: the stable code travels in the trailing metadata tongban-error-code.
        trailers = dict(e.trailing_metadata() or ())
        print(json.dumps({"ok": False, "grpc": e.code().name, "code": trailers.get("tongban-error-code"), "message": e.details()}))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
