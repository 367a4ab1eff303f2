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
