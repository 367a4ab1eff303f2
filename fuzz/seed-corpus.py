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

# pq_block: padded pairwise plaintexts from the session vectors (real ek and ct chunks),
# and op streams that alternate genuine turns so the live session reaches every PQ phase.
for case in session["cases"]:
    seen = 0
    for step in case["steps"]:
        if "send" in step and step["send"]["pq_block"] != "00" and seen < 4:
            put("pq_block", bytes.fromhex(step["send"]["padded_plaintext"])[:128])
            seen += 1
put("pq_block", bytes([0xC0, 0x40]) * 150)
put("pq_block", bytes([0xC0, 0x40]) * 80 + bytes([0x80, 38, 0x01, 0, 0, 0, 1, 36]) + bytes(32))
put("pq_block", bytes([0x00, 6, 0x02, 0, 0, 0, 1, 0]) + bytes([0x20, 1, 0]))

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

# Relay frames (docs/relay.md), written from the documented layout.
def u32(v):
    return v.to_bytes(4, "big")


def short(b):
    return bytes([len(b)]) + b


def long(b):
    return u32(len(b)) + b


def address(user, device):
    return short(user) + u32(device)


bob = address(b"bob", 1)
for frame in [
    b"\x01" + b"\x01\x01" + b"\x02" + bytes(range(32)),
    b"\x02" + b"\x03" + bob + b"\x04" + bytes(32) + b"\x05" + bytes(64) + b"\x06\x00",
    b"\x02" + b"\x03" + bob + b"\x04" + bytes(32) + b"\x05" + bytes(64) + b"\x06\x01" + long(b"cert"),
    b"\x03" + b"\x07" + u32(3),
    b"\x04" + b"\x08" + u32(1) + b"\x09" + long(b"\x01upload"),
    b"\x05" + b"\x08" + u32(2) + b"\x03" + bob,
    b"\x06" + b"\x08" + u32(2) + b"\x0a" + long(b"\x01bundle") + b"\x06\x00" + b"\x0b\x01" + long(b"list"),
    b"\x07" + b"\x08" + u32(3) + b"\x0c" + short(b"carol"),
    b"\x08" + b"\x08" + u32(3) + b"\x0d\x02" + u32(1) + u32(2) + b"\x0b\x00",
    b"\x09" + b"\x08" + u32(4) + b"\x0b" + long(b"list"),
    b"\x0a" + b"\x08" + u32(4),
    b"\x0b" + b"\x0e\x00\x02" + bob + address(b"carol", 7) + b"\x0f" + long(b"\x13group wire"),
    b"\x0c" + b"\x10" + bytes(16),
    b"\x0d" + b"\x11" + bob + b"\x0f" + long(b"\x11wire"),
    b"\x0e" + b"\x12\x00\x02" + bytes(16) + bytes([1] * 16),
    b"\x0f" + b"\x13\x11" + b"\x14" + short(bytes(16)),
    b"\x0f" + b"\x13\x01" + b"\x14\x00",
]:
    put("relay_frame", frame)

# group_message: mode byte, then a distribution (0), a GroupMessage (1), a flip position,
# mask and body (2), or a stored record (3). Genuine messages and distributions come from
# the group vectors; the genuine ones there are under other keys than the target's, so
# mode 2 seeds carry the fuzzer to the target's own messages.
groups = json.loads((vectors / "groups.json").read_text())
for case in groups["cases"]:
    put("group_message", b"\x00" + bytes.fromhex(case["distribution"]))
    for step in case["steps"][:3]:
        if "send" in step and len(step["send"]["wire"]) < 4096:
            put("group_message", b"\x01" + bytes.fromhex(step["send"]["wire"]))
for case in json.loads((vectors / "invalid.json").read_text())["cases"]:
    if case["kind"] == "group":
        last = case["input"]["events"][-1]
        if "message" in last and len(last["message"]) < 4096:
            put("group_message", b"\x01" + bytes.fromhex(last["message"]))
        elif "distribution" in last:
            put("group_message", b"\x00" + bytes.fromhex(last["distribution"]))
put("group_message", b"\x02\x00\x00\x00" + b"0123456789abcdef hello")
put("group_message", b"\x02\x00\x1e\x01" + b"0123456789abcdef")
put("group_message", b"\x03\x01\x00\x00\x00\x00")
