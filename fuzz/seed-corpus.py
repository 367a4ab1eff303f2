#!/usr/bin/env python3
"""Seeds the fuzz corpora from the test vectors, so the fuzzers start from valid inputs
(bundles, messages, receipts, framing) instead of searching for exact lengths."""
import hashlib
import json
import pathlib

here = pathlib.Path(__file__).parent
vectors = here.parent / "vectors"


def put(target, data):
    d = here / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


session = json.loads((vectors / "session.json").read_text())
for case in session["cases"]:
    for step in case["steps"][:6]:
        if "send" in step:
            put("wire_message", bytes.fromhex(step["send"]["wire"]))
            put("plaintext", bytes.fromhex(step["send"]["padded_plaintext"])[:512])
for case in json.loads((vectors / "receipts.json").read_text())["cases"]:
    body = bytes.fromhex(case["body"])
    if len(body) < 4096:
        put("receipt", body)
for case in json.loads((vectors / "invalid.json").read_text())["cases"]:
    kind = case["kind"]
    if kind == "bundle":
        put("bundle", bytes.fromhex(case["input"]))
    elif kind == "wire" and len(case["input"]) < 8192:
        put("wire_message", bytes.fromhex(case["input"]))
    elif kind == "receipt":
        put("receipt", bytes.fromhex(case["input"]["body"]))
    elif kind == "plaintext":
        put("plaintext", bytes.fromhex(case["input"]))

# attachment_decrypt: genuine blobs under the target's fixed key, with their size and digest
# ahead of them (size || SHA-256 || push step || blob), sealed from the spec by hand.
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

okm = HKDF(SHA256(), 39, bytes(32), b"Bluetick_Attachment_v1").derive(bytes([7]) * 32)
aead = AESGCM(okm[:32])
for size, step in ((0, 0), (1, 1), (1000, 3), (65537, 9)):
    plain = bytes(i % 251 for i in range(size))
    pieces = [plain[i:i + 65536] for i in range(0, size, 65536)] or [b""]
    blob = b"".join(
        aead.encrypt(okm[32:] + i.to_bytes(4, "big") + bytes([i == len(pieces) - 1]), p, None)
        for i, p in enumerate(pieces))
    put("attachment_decrypt",
        size.to_bytes(8, "big") + hashlib.sha256(blob).digest() + bytes([step]) + blob)
