#!/usr/bin/python3
"""An independent verifier of Tongban envelopes, written from docs/protocol.md alone.

It shares no code with the TypeScript SDK: the protobuf wire format is read by hand
(docs/protocol.md "Envelope layout"), the JWS is checked with jwcrypto, certificates
with pyca/cryptography.

usage: verify_envelope.py ENVELOPE_FILE --cert SIGNER_CERT.pem --anchor ROOT.pem
                          --self NODE_ID [--now EPOCH_SECONDS]
Prints one JSON object; exits 0 when the envelope is valid, 1 otherwise.
"""
import argparse
import base64
import hashlib
import json
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwk, jws


class Invalid(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def read_varint(buf, i):
    shift = result = 0
    while True:
        if i >= len(buf):
            raise Invalid("ENVELOPE_MALFORMED", "truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise Invalid("ENVELOPE_MALFORMED", "varint too long")


def fields(buf):
    """Yields (field_number, value) for wire types 0 (varint) and 2 (bytes)."""
    i = 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = read_varint(buf, i)
        elif wire == 2:
            length, i = read_varint(buf, i)
            if i + length > len(buf):
                raise Invalid("ENVELOPE_MALFORMED", "truncated field")
            value, i = bytes(buf[i:i + length]), i + length
        else:
            raise Invalid("ENVELOPE_MALFORMED", "unexpected wire type %d" % wire)
        yield number, value


def message(buf, names):
    out = {}
    for number, value in fields(buf):
        if number in names:
            out[names[number]] = value
    return out


def timestamp(buf):
    t = message(buf, {1: "seconds", 2: "nanos"})
    return t.get("seconds", 0) + t.get("nanos", 0) / 1e9


def signer_certificate(cert_path, anchor_path, kid, now):
    """The signer's certificate and the node ids it names: kid is base64url(SHA-256(DER)); it must chain to the anchor."""
    cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
    der = cert.public_bytes(serialization.Encoding.DER)
    if b64url(hashlib.sha256(der).digest()) != kid:
        raise Invalid("TRUST_UNKNOWN_SIGNER", "kid does not name the given certificate")
    anchor = x509.load_pem_x509_certificate(open(anchor_path, "rb").read())
    try:
        anchor.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    except Exception:
        raise Invalid("TRUST_UNTRUSTED_CHAIN", "certificate not signed by the anchor")
    if not (cert.not_valid_before.timestamp() <= now <= cert.not_valid_after.timestamp()):
        raise Invalid("TRUST_CERT_EXPIRED", "certificate not valid now")
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    node_ids = [u[len("urn:tongban:node:"):] for u in san.get_values_for_type(x509.UniformResourceIdentifier) if u.startswith("urn:tongban:node:")]
    return cert, node_ids


def verify(args):
    raw = open(args.envelope, "rb").read()
    env = message(raw, {1: "header", 2: "body", 3: "signature"})
    sig = message(env.get("signature", b""), {1: "protected", 2: "value"})
    header_bytes, body = env.get("header", b""), env.get("body", b"")
    protected = json.loads(sig["protected"].decode("utf-8"))
    if protected.get("typ") != "tongban-header+jws" or protected.get("alg") not in ("ES256", "EdDSA"):
        raise Invalid("ENVELOPE_UNSUPPORTED_SUITE", "unexpected protected header %r" % protected)

    cert, node_ids = signer_certificate(args.cert, args.anchor, protected["kid"], args.now)

    # Detached-payload JWS (RFC 7515 appendix F): reattach the header bytes as the payload.
    token = "%s.%s.%s" % (b64url(sig["protected"]), b64url(header_bytes), b64url(sig["value"]))
    key = jwk.JWK.from_pyca(cert.public_key())
    try:
        checker = jws.JWS()
        checker.deserialize(token)
        checker.verify(key, alg=protected["alg"])
    except Exception:
        raise Invalid("ENVELOPE_BAD_SIGNATURE", "signature does not verify over the header bytes")

    header = message(header_bytes, {1: "protocol", 2: "message_id", 3: "type", 4: "sender", 5: "recipient", 8: "case_id",
                                    11: "created_at", 12: "expires_at", 13: "body_digest", 14: "suite", 15: "body_encoding"})
    if header.get("protocol") != b"tongban/1":
        raise Invalid("ENVELOPE_UNSUPPORTED_PROTOCOL", "protocol %r" % header.get("protocol"))
    sender = header.get("sender", b"").decode()
    if sender not in node_ids:
        raise Invalid("TRUST_SIGNER_MISMATCH", "signed by %s, sent as %s" % (node_ids, sender))
    if header.get("recipient", b"").decode() != args.self:
        raise Invalid("ENVELOPE_WRONG_RECIPIENT", "addressed to %s" % header.get("recipient"))
    created, expires = timestamp(header.get("created_at", b"")), timestamp(header.get("expires_at", b""))
    if created > args.now + 300 or created < args.now - 72 * 3600:
        raise Invalid("ENVELOPE_TIMESTAMP_OUT_OF_WINDOW", "created_at outside the window")
    if args.now > expires:
        raise Invalid("ENVELOPE_EXPIRED", "expired")
    digest = message(header.get("body_digest", b""), {1: "algorithm", 2: "value"})
    if digest.get("algorithm") != 1 or digest.get("value") != hashlib.sha256(body).digest():
        raise Invalid("ENVELOPE_BODY_DIGEST_MISMATCH", "body does not match the signed digest")
    return {
        "valid": True,
        "message_id": header.get("message_id", b"").decode(),
        "type": header.get("type", 0),
        "sender": sender,
        "recipient": args.self,
        "encrypted": header.get("body_encoding") == 2,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("envelope")
    p.add_argument("--cert", required=True)
    p.add_argument("--anchor", required=True)
    p.add_argument("--self", required=True)
    p.add_argument("--now", type=float, default=time.time())
    return report(verify, p.parse_args(), "ENVELOPE_MALFORMED")


def report(check, args, undecodable_code):
    """Runs a check and prints its result as one JSON object; 0 when valid, 1 otherwise."""
    try:
        result = check(args)
    except Invalid as e:
        print(json.dumps({"valid": False, "code": e.code, "message": str(e)}))
        return 1
    except Exception as e:  # anything undecodable is refused, never a crash
        print(json.dumps({"valid": False, "code": undecodable_code, "message": repr(e)}))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
