"""Attachments through the generated layer and the file-object helpers: a round trip, every
case of `attachments.json` (pointer, blob digest, each chunk by random access), the
attachment cases of `invalid.json` with their recorded kinds, and a damaged blob that
releases nothing past its last good chunk."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from bluetick import (
    AttachmentDecryptor,
    AttachmentEncryptor,
    AttachmentError,
    ErrorKind,
    attachment_chunk_range,
    decrypt_attachment,
    encrypt_attachment,
    open_attachment_chunk,
)
from conftest import vectors_dir
from helpers import raises

CHUNK = 65536
SEALED = CHUNK + 16


def _cases(name: str, kind: str | None = None) -> list[dict]:
    path = vectors_dir() / name
    if not path.is_file():  # reported by the `vectors` fixture, with the path
        return [{"name": "missing"}]
    cases = json.loads(path.read_text())["cases"]
    return [c for c in cases if kind is None or c["kind"] == kind]


def _kind(name: str) -> ErrorKind:
    """The ErrorKind named as in invalid.json (`DigestMismatch` -> DIGEST_MISMATCH)."""
    snake = "".join("_" + c if c.isupper() else c for c in name).lstrip("_").upper()
    return ErrorKind[snake]


def _plaintext(size: int) -> bytes:
    return (bytes(range(251)) * (size // 251 + 1))[:size]


def _seal(key: bytes, plain: bytes) -> tuple[bytes, bytes]:
    """The blob of `plain` under `key`, fed in uneven pieces; and its pointer."""
    enc = AttachmentEncryptor.with_key(key)
    blob, at, step = bytearray(), 0, 1
    while at < len(plain):
        blob += enc.update(plain[at:at + step])
        at, step = at + step, step * 3 + 1000
    last = enc.finish()
    return bytes(blob + last.sealed), last.pointer


def test_stream_round_trip():
    plain = bytes((i * 7 + 3) & 0xFF for i in range(300_000))
    blob = io.BytesIO()
    pointer = encrypt_attachment(io.BytesIO(plain), blob)
    assert len(pointer) == 72
    assert len(blob.getvalue()) == 300_000 + 5 * 16
    out = io.BytesIO()
    decrypt_attachment(pointer, io.BytesIO(blob.getvalue()), out)
    assert out.getvalue() == plain
    again = io.BytesIO()
    assert encrypt_attachment(io.BytesIO(plain), again) != pointer  # a fresh key each time
    assert again.getvalue() != blob.getvalue()


def test_round_trip_through_files(tmp_path):
    plain = _plaintext(140_000)
    (tmp_path / "photo").write_bytes(plain)
    with open(tmp_path / "photo", "rb") as src, open(tmp_path / "blob", "wb") as dst:
        pointer = encrypt_attachment(src, dst)
    with open(tmp_path / "blob", "rb") as src, open(tmp_path / "out", "wb") as dst:
        decrypt_attachment(pointer, src, dst)
    assert (tmp_path / "out").read_bytes() == plain


@pytest.mark.parametrize("case", _cases("attachments.json"), ids=lambda c: c["name"])
def test_attachment_vector(case, vectors):
    size = case["size"]
    plain = _plaintext(size)
    blob, pointer = _seal(bytes.fromhex(case["attachment_key"]), plain)
    assert pointer == bytes.fromhex(case["pointer"])
    assert len(blob) == case["ciphertext_size"]
    assert hashlib.sha256(blob).hexdigest() == case["ciphertext_sha256"]
    out = io.BytesIO()
    decrypt_attachment(bytes.fromhex(case["pointer"]), io.BytesIO(blob), out)
    assert out.getvalue() == plain
    # Every chunk by random access; the recorded ones also by their bytes.
    count = case["chunk_count"]
    opened = bytearray()
    for i in range(count):
        r = attachment_chunk_range(size, i)
        opened += open_attachment_chunk(pointer, i, blob[r.offset:r.offset + r.length])
    assert bytes(opened) == plain
    raises(AttachmentError.Blob, ErrorKind.INVALID_VALUE, attachment_chunk_range, size, count)
    assert case["chunks"]
    for chunk in case["chunks"]:
        r = attachment_chunk_range(size, chunk["index"])
        prefix = bytes.fromhex(chunk["ciphertext_hex_prefix"])
        assert blob[r.offset:r.offset + len(prefix)] == prefix
        assert chunk["last"] == (chunk["index"] == count - 1)


def _blob_of(inp: dict) -> bytes:
    genuine, _ = _seal(bytes.fromhex(inp["attachment_key"]), _plaintext(inp["size"]))
    blob = bytearray()
    for piece in inp["blob"]:
        if "genuine" in piece:
            start, end = piece["genuine"]
            blob += genuine[start:end]
        else:
            blob += bytes.fromhex(piece["hex"])
    return bytes(blob)


@pytest.mark.parametrize("case", _cases("invalid.json", "attachment"), ids=lambda c: c["name"])
def test_invalid_attachment(case, vectors):
    inp = case["input"]
    out = io.BytesIO()
    raises(AttachmentError.Blob, _kind(case["error"]), decrypt_attachment,
           bytes.fromhex(inp["pointer"]), io.BytesIO(_blob_of(inp)), out)
    # Nothing past the last whole chunk that verified: never the final chunk.
    assert len(out.getvalue()) < inp["size"]
    assert len(out.getvalue()) % CHUNK == 0


@pytest.mark.parametrize("case", _cases("invalid.json", "attachment_pointer"), ids=lambda c: c["name"])
def test_invalid_attachment_pointer(case, vectors):
    pointer = bytes.fromhex(case["input"])
    raises(AttachmentError.Pointer, _kind(case["error"]), AttachmentDecryptor, pointer)
    raises(AttachmentError.Pointer, _kind(case["error"]), open_attachment_chunk, pointer, 0, bytes(16))


def test_flipped_byte_releases_nothing_past_the_last_good_chunk():
    plain = _plaintext(300_000)
    blob = io.BytesIO()
    pointer = encrypt_attachment(io.BytesIO(plain), blob)
    damaged = bytearray(blob.getvalue())
    damaged[2 * SEALED + 100] ^= 0x40  # inside chunk 2
    out = io.BytesIO()
    e = raises(AttachmentError.Blob, ErrorKind.AUTHENTICATION_FAILED, decrypt_attachment,
               pointer, io.BytesIO(bytes(damaged)), out)
    assert "chunk 2" in str(e)
    assert out.getvalue() == plain[:2 * CHUNK]
    dec = AttachmentDecryptor(pointer)
    raises(AttachmentError.Blob, ErrorKind.AUTHENTICATION_FAILED, dec.update, bytes(damaged))
    raises(AttachmentError.Blob, ErrorKind.AUTHENTICATION_FAILED, dec.update, b"\x00")


def test_one_chunk_by_random_access():
    plain = _plaintext(200_000)
    blob = io.BytesIO()
    pointer = encrypt_attachment(io.BytesIO(plain), blob)
    r = attachment_chunk_range(200_000, 3)
    assert (r.offset, r.length) == (3 * SEALED, 200_000 - 3 * CHUNK + 16)
    sealed = blob.getvalue()[r.offset:r.offset + r.length]
    assert open_attachment_chunk(pointer, 3, sealed) == plain[3 * CHUNK:]
    raises(AttachmentError.Blob, ErrorKind.TRUNCATED, open_attachment_chunk, pointer, 2, sealed)
    flipped = bytes([sealed[0] ^ 1]) + sealed[1:]
    raises(AttachmentError.Blob, ErrorKind.AUTHENTICATION_FAILED, open_attachment_chunk, pointer, 3, flipped)


def test_the_pointer_is_never_printed():
    last = AttachmentEncryptor.with_key(bytes([0xAB]) * 32).finish()
    for text in (str(last), repr(last), f"{last}"):
        assert "redacted" in text
        assert "ab" * 8 not in text.lower() and "\\xab" not in text


def test_finished_objects_refuse_more():
    enc = AttachmentEncryptor()
    enc.finish()
    raises(AttachmentError.InvalidArgument, ErrorKind.INVALID_ARGUMENT, enc.update, b"abc")
    raises(AttachmentError.InvalidArgument, ErrorKind.INVALID_ARGUMENT, AttachmentEncryptor.with_key, bytes(31))
