#!/usr/bin/python3
"""An independent verifier of signed Tongban mapping tables, written from docs/mapping.md §5 alone.

It shares no code with the TypeScript SDK: the JWS is checked with jwcrypto, the certificate with
pyca/cryptography (as verify_envelope.py does), and the canonical JSON is re-made with Python's json.

usage: verify_table.py TABLE.jws --cert PUBLISHER_CERT.pem --anchor ROOT.pem [--digest HEX] [--now EPOCH_SECONDS]
Prints one JSON object (publisher, kind, version and the digest a directory lists: SHA-256 hex of the
canonical JSON); exits 0 when the table is valid (and has the given digest), 1 otherwise.
"""
import argparse
import base64
import hashlib
import json
import sys
import time

from jwcrypto import jwk, jws

from verify_envelope import Invalid, report, signer_certificate


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical(value):
    # Keys sorted, no insignificant whitespace, UTF-8 (non-ASCII as is): what ECMAScript's JSON.stringify writes
    # for the sorted value, for the strings, integers, booleans, arrays and objects tables hold.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def verify(args):
    parts = open(args.table, "r", encoding="utf-8").read().strip().split(".")
    if len(parts) != 3:
        raise Invalid("MAPPING_SIGNATURE_INVALID", "not a JWS compact serialization")
    header = json.loads(b64url_decode(parts[0]))
    if header.get("typ") != "tongban-mapping+jws" or header.get("alg") not in ("ES256", "EdDSA") or not isinstance(header.get("kid"), str):
        raise Invalid("MAPPING_SIGNATURE_INVALID", "unexpected protected header %r" % header)
    cert, _ = signer_certificate(args.cert, args.anchor, header["kid"], args.now)
    checker = jws.JWS()
    try:
        checker.deserialize(".".join(parts))
        checker.verify(jwk.JWK.from_pyca(cert.public_key()), alg=header["alg"])
    except Exception:
        raise Invalid("MAPPING_SIGNATURE_INVALID", "the signature does not verify")
    payload = b64url_decode(parts[1])
    table = json.loads(payload.decode("utf-8"))
    if canonical(table) != payload:
        raise Invalid("MAPPING_SIGNATURE_INVALID", "the payload is not the table's canonical JSON")
    if header.get("tbpub") != table.get("publisher") or header.get("tbkind") != table.get("kind") or header.get("tbver") != table.get("version"):
        raise Invalid("MAPPING_SIGNATURE_INVALID", "the protected header and the table disagree on publisher, kind or version")
    digest = hashlib.sha256(payload).hexdigest()
    if args.digest is not None and digest != args.digest:
        raise Invalid("MAPPING_DIGEST_MISMATCH", "digest %s, expected %s" % (digest, args.digest))
    return {"valid": True, "publisher": table["publisher"], "kind": table["kind"], "version": table["version"], "digest": digest}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("table")
    p.add_argument("--cert", required=True)
    p.add_argument("--anchor", required=True)
    p.add_argument("--digest")
    p.add_argument("--now", type=float, default=time.time())
    return report(verify, p.parse_args(), "MAPPING_SIGNATURE_INVALID")


if __name__ == "__main__":
    sys.exit(main())
