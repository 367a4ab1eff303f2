#!/usr/bin/env python3
"""Independent checker for Bluetick's protocol-v1 test vectors.

Replays every vector file beside this script (pqxdh, kdf, session, receipts, invalid,
attachments, devices, groups)
from its inputs with a second implementation of the protocol written from
shared/design/protocol-v1.md and vectors/FORMAT.md, and compares every result byte.

It uses only PyNaCl (libsodium), pyca/cryptography and kyber-py, and shares no code with
the Rust crate, so an agreement between the two is evidence that both follow the spec.

Usage: python3 check.py [VECTOR_DIR]   (default: the folder of this script)
Prints one line per mismatch, then `check.py: N passed, M failed`; exits 1 on any failure.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import struct
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

import nacl.bindings
import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from kyber_py.ml_kem import ML_KEM_1024, ML_KEM_768

# --- Constants (spec §1-§8) -----------------------------------------------------------

ZERO32 = bytes(32)
FF32 = b"\xff" * 32
PQXDH_INFO = b"Bluetick_X25519_SHA-256_ML-KEM-1024"
RATCHET_INFO = b"Bluetick_Ratchet_v1"
MESSAGE_KEYS_INFO = b"Bluetick_MessageKeys_v1"
SPK_CONTEXT = b"Bluetick_SignedPreKey_v1"
PQPK_CONTEXT = b"Bluetick_PqPreKey_v1"
RECEIPT_CONTEXT = b"Bluetick_Receipt_v1"
MESSAGE_ID_CONTEXT = b"Bluetick_MessageId_v1"
DEVICE_CERTIFICATE_CONTEXT = b"Bluetick_DeviceCertificate_v1"
DEVICE_LIST_CONTEXT = b"Bluetick_DeviceList_v1"
MAX_USER_ID_LEN = 64
MAX_DEVICES = 16
PQ_SECRET_INFO = b"Bluetick_PqRatchet_v1"
RATCHET_PQ_INFO = b"Bluetick_Ratchet_PQ_v1"

EC_TAG = 0x05
KEM_TAG = 0x0A
MESSAGE_TYPE = 0x11
PREKEY_MESSAGE_TYPE = 0x12
BUNDLE_VERSION = 0x01

HEADER_LEN = 44  # revision 3 (spec §14): DHs || PN || N || PE
TAG_LEN = 16
KEM_EK_LEN = 1568
KEM_CT_LEN = 1568
KEM_Q = 3329
P25519 = 2**255 - 19
PAD_BLOCK = 64
CONTENT_APPLICATION = 0x01
CONTENT_TYPES = (CONTENT_APPLICATION, 0x02)
# An application body starts with its clock: lamport (u64) || sent_at_ms (u64) (spec §10).
APPLICATION_BODY_PREFIX = 16

MAX_SKIP = 2000
MAX_STORED_SKIPPED = 2000
MAX_BODY = 16 * 1024 * 1024
# The PQ ratchet (spec §14): ML-KEM-768, objects sent in 32-byte chunks inside pq_blocks.
PQ_EK_LEN = 1184
PQ_CT_LEN = 1088
PQ_CHUNK = 32
PQ_EK_CHUNKS = PQ_EK_LEN // PQ_CHUNK  # 37
PQ_CT_CHUNKS = PQ_CT_LEN // PQ_CHUNK  # 34
PQ_KIND_NONE, PQ_KIND_EK, PQ_KIND_CT = 0x00, 0x01, 0x02
PQ_BLOCK_LEN = 38
# The largest ciphertext a 16 MiB body can produce: a 38-byte pq_block, the content type,
# the body and 0x80, rounded up to 64, plus the tag.
MAX_CIPHERTEXT = (PQ_BLOCK_LEN + MAX_BODY + 2 + PAD_BLOCK - 1) // PAD_BLOCK * PAD_BLOCK + TAG_LEN

SIGNED_RECEIPT_KINDS = (0x01, 0x02)
DENIABLE_RECEIPT_KINDS = (0x81, 0x82)
MAX_RECEIPT_IDS = 1024
MESSAGE_ID_LEN = 16


class Reject(Exception):
    """A rejection, named as the Rust crate's ErrorKind names it (vectors/invalid.json)."""

    def __init__(self, name: str, detail: str = ""):
        super().__init__(f"{name}: {detail}" if detail else name)
        self.name = name


# --- Primitives (spec §1) ---------------------------------------------------------------

def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def x25519_public(private: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()


def x25519(private: bytes, public: bytes) -> bytes:
    """RFC 7748 X25519; an all-zero result means a small-order peer key and aborts."""
    if len(public) != 32:
        raise Reject("LowOrderKey", "X25519 public key is not 32 bytes")
    try:
        shared = X25519PrivateKey.from_private_bytes(private).exchange(
            X25519PublicKey.from_public_bytes(public))
    except ValueError as e:  # pyca refuses the all-zero output itself
        raise Reject("LowOrderKey", str(e)) from None
    if shared == ZERO32:
        raise Reject("LowOrderKey")
    return shared


def is_low_order_x25519(public: bytes) -> bool:
    """A small-order point gives zero with every clamped scalar (a multiple of the cofactor)."""
    try:
        x25519(b"\x01" * 32, public)
    except Reject:
        return True
    return False


def aead_seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def aead_open(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise Reject("AuthenticationFailed") from None


def u32(value: int) -> bytes:
    return struct.pack(">I", value)


class Reader:
    """Strict big-endian reader: running out is Truncated, leftovers are TrailingBytes."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise Reject("Truncated", f"need {n} bytes at offset {self.pos}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack(">Q", self.take(8))[0]

    def flag(self) -> bool:
        value = self.u8()
        if value not in (0, 1):
            raise Reject("InvalidFlag", f"flag byte {value}")
        return value == 1

    def rest(self) -> bytes:
        out = self.data[self.pos:]
        self.pos = len(self.data)
        return out

    def finish(self) -> None:
        if self.pos != len(self.data):
            raise Reject("TrailingBytes", f"{len(self.data) - self.pos} bytes left")


# --- Identity keys and signatures (spec §2) -----------------------------------------------

class Identity:
    """An Ed25519 identity from a 32-byte seed, with its Montgomery (X25519) form."""

    def __init__(self, seed: bytes):
        self._signing = nacl.signing.SigningKey(seed)
        self.public = bytes(self._signing.verify_key)
        secret64 = seed + self.public  # libsodium's secret key layout
        self.x_private = nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(secret64)
        self.x_public = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(self.public)

    def sign(self, message: bytes) -> bytes:
        return self._signing.sign(message).signature


def validate_identity_key(public: bytes) -> None:
    """Valid, canonical, torsion-free, not small order: exactly libsodium's is_valid_point."""
    if len(public) != 32 or not nacl.bindings.crypto_core_ed25519_is_valid_point(public):
        raise Reject("InvalidIdentityKey")


def identity_x25519_public(public: bytes) -> bytes:
    validate_identity_key(public)
    return nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(public)


def verify_signature(public: bytes, message: bytes, signature: bytes) -> None:
    """libsodium's verify rejects non-canonical S, small-order A and R (verify_strict's rules)."""
    validate_identity_key(public)
    if len(signature) != 64:
        raise Reject("BadSignature", "signature is not 64 bytes")
    try:
        nacl.signing.VerifyKey(public).verify(message, signature)
    except nacl.exceptions.BadSignatureError:
        raise Reject("BadSignature") from None


def encode_ec(public: bytes) -> bytes:
    return bytes([EC_TAG]) + public


def encode_kem(ek: bytes) -> bytes:
    return bytes([KEM_TAG]) + ek


def signed_prekey_message(spk_public: bytes) -> bytes:
    return SPK_CONTEXT + encode_ec(spk_public)


def pq_prekey_message(ek: bytes) -> bytes:
    return PQPK_CONTEXT + encode_kem(ek)


# --- ML-KEM-1024 (spec §1) ---------------------------------------------------------------

def kem_keygen(seed: bytes) -> tuple[bytes, bytes]:
    """Deterministic KeyGen_internal(d = seed[0..32], z = seed[32..64]) -> (ek, dk)."""
    if len(seed) != 64:
        raise ValueError("ML-KEM seed must be 64 bytes")
    return ML_KEM_1024._keygen_internal(seed[:32], seed[32:])


def check_kem_key(ek: bytes) -> None:
    """FIPS 203 §7.2 input check: right length, and every 12-bit coefficient of t-hat < q."""
    if len(ek) != KEM_EK_LEN:
        raise Reject("InvalidKemKey", f"length {len(ek)}")
    for i in range(0, 384 * 4, 3):
        b0, b1, b2 = ek[i], ek[i + 1], ek[i + 2]
        if (b0 | (b1 & 0x0F) << 8) >= KEM_Q or ((b1 >> 4) | b2 << 4) >= KEM_Q:
            raise Reject("InvalidKemKey", f"coefficient >= q at byte {i}")


def kem_encaps(ek: bytes, m: bytes) -> tuple[bytes, bytes]:
    """Encaps_internal(ek, m) after the input check -> (ciphertext, shared secret)."""
    check_kem_key(ek)
    shared, ciphertext = ML_KEM_1024._encaps_internal(ek, m)
    return ciphertext, shared


def kem_decaps(dk: bytes, ciphertext: bytes) -> bytes:
    return ML_KEM_1024.decaps(dk, ciphertext)


# --- ML-KEM-768 for the PQ ratchet (spec §14) ------------------------------------------------

def kem768_keygen(seed: bytes) -> tuple[bytes, bytes]:
    if len(seed) != 64:
        raise ValueError("ML-KEM seed must be 64 bytes")
    return ML_KEM_768._keygen_internal(seed[:32], seed[32:])


def check_kem768_key(ek: bytes) -> None:
    """FIPS 203 §7.2 input check for ML-KEM-768 (k = 3): every coefficient of t-hat < q."""
    if len(ek) != PQ_EK_LEN:
        raise Reject("InvalidPqKey", f"length {len(ek)}")
    for i in range(0, 384 * 3, 3):
        b0, b1, b2 = ek[i], ek[i + 1], ek[i + 2]
        if (b0 | (b1 & 0x0F) << 8) >= KEM_Q or ((b1 >> 4) | b2 << 4) >= KEM_Q:
            raise Reject("InvalidPqKey", f"coefficient >= q at byte {i}")


def kem768_encaps(ek: bytes, m: bytes) -> tuple[bytes, bytes]:
    check_kem768_key(ek)
    shared, ciphertext = ML_KEM_768._encaps_internal(ek, m)
    return ciphertext, shared


def kem768_decaps(dk: bytes, ciphertext: bytes) -> bytes:
    return ML_KEM_768.decaps(dk, ciphertext)


# --- Prekey bundle (spec §2, FORMAT.md) ------------------------------------------------------

@dataclass
class Bundle:
    identity: bytes
    spk_id: int
    spk_public: bytes
    spk_signature: bytes
    pq_id: int
    pq_public: bytes
    pq_signature: bytes
    opk_id: Optional[int] = None
    opk_public: Optional[bytes] = None


def encode_bundle(b: Bundle) -> bytes:
    out = bytes([BUNDLE_VERSION]) + b.identity
    out += u32(b.spk_id) + b.spk_public + b.spk_signature
    out += u32(b.pq_id) + b.pq_public + b.pq_signature
    if b.opk_public is None:
        return out + b"\x00"
    return out + b"\x01" + u32(b.opk_id) + b.opk_public


def decode_bundle(data: bytes) -> Bundle:
    r = Reader(data)
    version = r.u8()
    if version != BUNDLE_VERSION:
        raise Reject("UnsupportedVersion", f"bundle version {version}")
    b = Bundle(identity=r.take(32), spk_id=r.u32(), spk_public=r.take(32), spk_signature=r.take(64),
               pq_id=r.u32(), pq_public=r.take(KEM_EK_LEN), pq_signature=r.take(64))
    if r.flag():
        b.opk_id = r.u32()
        b.opk_public = r.take(32)
    r.finish()
    return b


def check_x25519_prekey(public: bytes, what: str) -> None:
    """A prekey must be a canonical u-coordinate (all 256 bits read, < p) of large order."""
    if int.from_bytes(public, "little") >= P25519:
        raise Reject("NonCanonicalKey", what)
    if is_low_order_x25519(public):
        raise Reject("LowOrderKey", what)


def verify_bundle(b: Bundle) -> None:
    """PQXDH step 1 plus the keys' own checks, in the order FORMAT.md fixes for the vectors."""
    validate_identity_key(b.identity)
    verify_signature(b.identity, signed_prekey_message(b.spk_public), b.spk_signature)
    check_x25519_prekey(b.spk_public, "signed prekey")
    verify_signature(b.identity, pq_prekey_message(b.pq_public), b.pq_signature)
    check_kem_key(b.pq_public)
    if b.opk_public is not None:
        check_x25519_prekey(b.opk_public, "one-time prekey")


# --- PQXDH (spec §3) -----------------------------------------------------------------------

class BobKeys:
    """Bob's identity and prekeys, made from a case's recorded inputs (FORMAT.md)."""

    def __init__(self, inputs: dict):
        self.identity = Identity(unhex(inputs["bob_identity_seed"]))
        self.spk_id = inputs["bob_signed_prekey_id"]
        self.spk_private = unhex(inputs["bob_signed_prekey_private"])
        self.spk_public = x25519_public(self.spk_private)
        self.opk_id = inputs.get("bob_one_time_prekey_id")
        opk_private = inputs.get("bob_one_time_prekey_private")
        self.opk_private = unhex(opk_private) if opk_private is not None else None
        self.opk_public = x25519_public(self.opk_private) if self.opk_private else None
        self.pq_id = inputs["bob_pq_prekey_id"]
        self.pq_public, self.pq_private = kem_keygen(unhex(inputs["bob_pq_prekey_seed"]))

    def bundle(self) -> Bundle:
        return Bundle(
            identity=self.identity.public,
            spk_id=self.spk_id, spk_public=self.spk_public,
            spk_signature=self.identity.sign(signed_prekey_message(self.spk_public)),
            pq_id=self.pq_id, pq_public=self.pq_public,
            pq_signature=self.identity.sign(pq_prekey_message(self.pq_public)),
            opk_id=self.opk_id if self.opk_private else None, opk_public=self.opk_public)


def derive_shared_key(dhs: list[bytes], kem_shared: bytes) -> bytes:
    return hkdf(ZERO32, FF32 + b"".join(dhs) + kem_shared, PQXDH_INFO, 32)


def associated_data(ik_a: bytes, ik_b: bytes, pq_public: bytes) -> bytes:
    """Spec §3 step 6 (revision 2): the 32-byte Ed25519 identity keys, then the PQ prekey hash."""
    return ik_a + ik_b + sha256(encode_kem(pq_public))


@dataclass
class PqxdhResult:
    ephemeral_public: bytes
    kem_ciphertext: bytes
    kem_shared_secret: bytes
    dh: list  # DH1..DH3, then DH4 when an OPK was used
    shared_key: bytes
    associated_data: bytes


def pqxdh_initiate(alice: Identity, bundle: Bundle, ephemeral_private: bytes,
                   encaps_randomness: bytes) -> PqxdhResult:
    verify_bundle(bundle)
    ciphertext, kem_shared = kem_encaps(bundle.pq_public, encaps_randomness)
    ikx_b = identity_x25519_public(bundle.identity)
    dhs = [x25519(alice.x_private, bundle.spk_public),
           x25519(ephemeral_private, ikx_b),
           x25519(ephemeral_private, bundle.spk_public)]
    if bundle.opk_public is not None:
        dhs.append(x25519(ephemeral_private, bundle.opk_public))
    return PqxdhResult(x25519_public(ephemeral_private), ciphertext, kem_shared, dhs,
                       derive_shared_key(dhs, kem_shared),
                       associated_data(alice.public, bundle.identity, bundle.pq_public))


def pqxdh_respond(bob: BobKeys, alice_identity: bytes, ephemeral_public: bytes,
                  ciphertext: bytes, used_opk: bool) -> tuple[bytes, bytes]:
    """Bob's side of steps 4-5 -> (SK, AD)."""
    ikx_a = identity_x25519_public(alice_identity)
    dhs = [x25519(bob.spk_private, ikx_a),
           x25519(bob.identity.x_private, ephemeral_public),
           x25519(bob.spk_private, ephemeral_public)]
    if used_opk:
        dhs.append(x25519(bob.opk_private, ephemeral_public))
    kem_shared = kem_decaps(bob.pq_private, ciphertext)
    return (derive_shared_key(dhs, kem_shared),
            associated_data(alice_identity, bob.identity.public, bob.pq_public))


# --- Double Ratchet KDFs (spec §4) -----------------------------------------------------------

def kdf_rk(root_key: bytes, dh_output: bytes) -> tuple[bytes, bytes]:
    out = hkdf(root_key, dh_output, RATCHET_INFO, 64)
    return out[:32], out[32:]


def kdf_ck(chain_key: bytes) -> tuple[bytes, bytes]:
    """-> (message key, next chain key)."""
    return hmac_sha256(chain_key, b"\x01"), hmac_sha256(chain_key, b"\x02")


def kdf_rk_pq(root_key: bytes, dh_output: bytes, pq_secret: bytes) -> tuple[bytes, bytes]:
    """KDF_RK_PQ (spec §14): HKDF(RK, dh || pqs, "Bluetick_Ratchet_PQ_v1", 64)."""
    out = hkdf(root_key, dh_output + pq_secret, RATCHET_PQ_INFO, 64)
    return out[:32], out[32:]


def pq_secret(shared: bytes, epoch: int, ek: bytes, ct: bytes) -> bytes:
    """PQS_e (spec §14)."""
    info = PQ_SECRET_INFO + u32(epoch) + sha256(ek) + sha256(ct)
    return hkdf(ZERO32, shared, info, 32)


def expand_message_key(message_key: bytes) -> tuple[bytes, bytes]:
    out = hkdf(ZERO32, message_key, MESSAGE_KEYS_INFO, 44)
    return out[:32], out[32:]


# --- Wire formats (spec §5) --------------------------------------------------------------------

def pad_plaintext(content_type: int, body: bytes) -> bytes:
    framed = bytes([content_type]) + body + b"\x80"
    return framed + bytes(-len(framed) % PAD_BLOCK)


def unpad_plaintext(padded: bytes) -> tuple[int, bytes]:
    """-> (content type, body). Accepts any 0x80 + zeros tail, as FORMAT.md defines BadPadding."""
    if len(padded) == 0 or len(padded) % PAD_BLOCK:
        raise Reject("BadPadding", f"length {len(padded)}")
    content = padded.rstrip(b"\x00")
    if not content.endswith(b"\x80") or len(content) < 2:  # need content type + 0x80
        raise Reject("BadPadding", "no 0x80 marker after a content type")
    if content[0] not in CONTENT_TYPES:
        raise Reject("UnknownContentType", f"0x{content[0]:02x}")
    return content[0], content[1:-1]


def parse_application_body(body: bytes) -> tuple[int, int, bytes]:
    """-> (lamport, sent_at_ms, data) of an application body (spec §10)."""
    if len(body) < APPLICATION_BODY_PREFIX:
        raise Reject("InvalidBody", f"{len(body)} bytes, shorter than the 16-byte clock")
    return (int.from_bytes(body[:8], "big"), int.from_bytes(body[8:16], "big"),
            body[APPLICATION_BODY_PREFIX:])


def run_invalid_application_body(inp) -> None:
    """A decrypted, padded plaintext whose application body the account reads."""
    content_type, body = unpad_plaintext(unhex(inp))
    if content_type != CONTENT_APPLICATION:
        raise Reject("NotApplication", f"content type 0x{content_type:02x}")
    parse_application_body(body)


def encode_header(dh: bytes, pn: int, n: int, pe: int) -> bytes:
    return dh + u32(pn) + u32(n) + u32(pe)


def decode_header(header: bytes) -> tuple[bytes, int, int, int]:
    pn, n, pe = struct.unpack(">III", header[32:44])
    return header[:32], pn, n, pe


# --- pq_block and the pairwise framing (spec §14) -------------------------------------------

def encode_pq_block(chunk) -> bytes:
    """chunk: None or (kind, epoch, index, 32 bytes)."""
    if chunk is None:
        return bytes([PQ_KIND_NONE])
    kind, epoch, index, data = chunk
    return bytes([kind]) + u32(epoch) + bytes([index]) + data


def pad_pairwise(chunk, content_type: int, body: bytes) -> bytes:
    framed = encode_pq_block(chunk) + bytes([content_type]) + body + b"\x80"
    return framed + bytes(-len(framed) % PAD_BLOCK)


def unpad_pairwise(padded: bytes):
    """-> (chunk or None, content type byte, body): the padding first, then the pq_block's
    structure (step 1 of spec §14), then the content type byte, judged later."""
    if len(padded) == 0 or len(padded) % PAD_BLOCK:
        raise Reject("BadPadding", f"length {len(padded)}")
    content = padded.rstrip(b"\x00")
    if not content.endswith(b"\x80"):
        raise Reject("BadPadding", "no 0x80 marker")
    framed = content[:-1]
    if not framed:
        raise Reject("ShortPqBlock", "no pq_block")
    kind = framed[0]
    if kind == PQ_KIND_NONE:
        chunk, rest = None, framed[1:]
    elif kind in (PQ_KIND_EK, PQ_KIND_CT):
        if len(framed) < PQ_BLOCK_LEN:
            raise Reject("ShortPqBlock", f"{len(framed)} bytes")
        epoch = struct.unpack(">I", framed[1:5])[0]
        index = framed[5]
        count = PQ_EK_CHUNKS if kind == PQ_KIND_EK else PQ_CT_CHUNKS
        if index >= count:
            raise Reject("PqIndexOutOfRange", f"index {index} of {count}")
        chunk, rest = (kind, epoch, index, framed[6:38]), framed[38:]
    else:
        raise Reject("UnknownPqKind", f"0x{kind:02x}")
    if not rest:
        raise Reject("BadPadding", "no content type")
    return chunk, rest[0], rest[1:]


def message_id(wire: bytes) -> bytes:
    return sha256(MESSAGE_ID_CONTEXT + wire)[:MESSAGE_ID_LEN]


@dataclass
class Message:
    header: bytes
    ciphertext: bytes


@dataclass
class PreKeyMessage:
    identity: bytes
    ephemeral: bytes
    spk_id: int
    pq_id: int
    opk_id: Optional[int]
    kem_ciphertext: bytes
    message: Message


def parse_message_body(r: Reader) -> Message:
    kind = r.u8()
    if kind != MESSAGE_TYPE:
        raise Reject("UnknownMessageType", f"0x{kind:02x}")
    header = r.take(HEADER_LEN)
    ciphertext = r.rest()
    if len(ciphertext) < TAG_LEN:
        raise Reject("CiphertextTooShort")
    if len(ciphertext) > MAX_CIPHERTEXT:
        raise Reject("MessageTooLong")
    return Message(header, ciphertext)


def parse_wire(wire: bytes):
    """-> Message or PreKeyMessage; never anything but a Reject on bad input."""
    r = Reader(wire)
    kind = r.u8()
    if kind == MESSAGE_TYPE:
        return parse_message_body(Reader(wire))
    if kind != PREKEY_MESSAGE_TYPE:
        raise Reject("UnknownMessageType", f"0x{kind:02x}")
    identity, ephemeral = r.take(32), r.take(32)
    spk_id, pq_id = r.u32(), r.u32()
    opk_id = r.u32() if r.flag() else None
    kem_ciphertext = r.take(KEM_CT_LEN)
    return PreKeyMessage(identity, ephemeral, spk_id, pq_id, opk_id, kem_ciphertext,
                         parse_message_body(Reader(r.rest())))


def encode_message(header: bytes, ciphertext: bytes) -> bytes:
    return bytes([MESSAGE_TYPE]) + header + ciphertext


def prekey_message_prefix(alice_identity: bytes, ephemeral_public: bytes, bundle: Bundle,
                          kem_ciphertext: bytes) -> bytes:
    """Everything of Alice's PreKeyMessages before the inner Message; it never changes."""
    out = bytes([PREKEY_MESSAGE_TYPE]) + alice_identity + ephemeral_public
    out += u32(bundle.spk_id) + u32(bundle.pq_id)
    out += b"\x00" if bundle.opk_public is None else b"\x01" + u32(bundle.opk_id)
    return out + kem_ciphertext


# --- The PQ ratchet's per-side state (spec §14) ------------------------------------------------

@dataclass
class PqState:
    """One side's epoch state. `phase` is one of "unsampled", "sending_ek" (E side),
    "waiting_ek", "ek_ready", "sending_ct" (C side)."""
    initiator: bool
    epoch: int = 1
    phase: str = ""
    mixed: int = 0  # PEm
    pending: Optional[tuple] = None  # (e, PQS_e) at the E side after Decaps
    seed: Optional[bytes] = None
    ek: Optional[bytes] = None
    dk: Optional[bytes] = None
    ct: Optional[bytes] = None
    secret: Optional[bytes] = None
    next: int = 0
    chunks: dict = field(default_factory=dict)  # index -> 32 bytes of the object received

    def __post_init__(self):
        if not self.phase:
            self.phase = "unsampled" if self.e_side() else "waiting_ek"

    def e_side(self) -> bool:
        """Alice is the E side of odd epochs, Bob of even ones."""
        return (self.epoch % 2 == 1) == self.initiator

    def start_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.seed = self.ek = self.dk = self.ct = self.secret = None
        self.next = 0
        self.chunks = {}
        self.phase = "unsampled" if self.e_side() else "waiting_ek"

    def next_chunk(self, draw_seed: Callable, draw_m: Callable):
        """The chunk this side's next message carries (KEM randomness drawn lazily)."""
        e = self.epoch
        if self.phase == "unsampled":
            self.seed = draw_seed()
            self.ek, self.dk = kem768_keygen(self.seed)
            self.phase, self.next, self.chunks = "sending_ek", 0, {}
        if self.phase == "sending_ek":
            if self.chunks:  # a ct chunk has arrived: carry nothing
                return None
            i = self.next
            self.next = (i + 1) % PQ_EK_CHUNKS
            return (PQ_KIND_EK, e, i, self.ek[i * PQ_CHUNK:(i + 1) * PQ_CHUNK])
        if self.phase == "ek_ready":
            m = draw_m()
            self.ct, shared = kem768_encaps(self.ek, m)
            self.secret = pq_secret(shared, e, self.ek, self.ct)
            self.phase, self.next = "sending_ct", 0
        if self.phase == "sending_ct":
            i = self.next
            self.next = (i + 1) % PQ_CT_CHUNKS
            return (PQ_KIND_CT, e, i, self.ct[i * PQ_CHUNK:(i + 1) * PQ_CHUNK])
        return None  # waiting_ek

    def receive(self, chunk) -> None:
        """Steps 2-5 of spec §14, in place (callers work on a copy)."""
        if chunk is None:
            return
        kind, epoch, index, data = chunk
        if epoch < self.epoch:
            return
        if epoch > self.epoch:
            raise Reject("PqFutureEpoch", f"{epoch} > {self.epoch}")
        if (kind == PQ_KIND_EK) == self.e_side():
            raise Reject("PqWrongKind")
        if self.phase == "unsampled":
            raise Reject("PqUnexpectedChunk")
        if self.phase == "sending_ek":
            if index in self.chunks:
                return
            self.chunks[index] = data
            if len(self.chunks) == PQ_CT_CHUNKS:
                ct = b"".join(self.chunks[i] for i in range(PQ_CT_CHUNKS))
                shared = kem768_decaps(self.dk, ct)
                secret = pq_secret(shared, self.epoch, self.ek, ct)
                done = self.epoch
                self.start_epoch(self.epoch + 1)  # the C side of the next epoch
                self.pending = (done, secret)
            return
        if self.phase == "waiting_ek":
            if index in self.chunks:
                return
            self.chunks[index] = data
            if len(self.chunks) == PQ_EK_CHUNKS:
                ek = b"".join(self.chunks[i] for i in range(PQ_EK_CHUNKS))
                check_kem768_key(ek)
                self.ek, self.chunks, self.phase = ek, {}, "ek_ready"
        # ek_ready / sending_ct: an ek chunk of a complete object is ignored

    def receiving_secret(self, pe: int) -> Optional[bytes]:
        """For a new peer ratchet key with header PE: None (KDF_RK) or PQS_PE (KDF_RK_PQ)."""
        if pe == self.mixed:
            return None
        if pe == self.mixed + 1 and self.epoch == pe and not self.e_side() \
                and self.phase == "sending_ct":
            return self.secret
        raise Reject("InvalidPqEpoch", f"PE {pe}, last mixed {self.mixed}")


# --- Double Ratchet state machine (spec §4, Signal Double Ratchet §3.5) --------------------------

@dataclass
class Ratchet:
    rk: bytes
    dhs_private: bytes
    dhr: Optional[bytes]
    cks: Optional[bytes]
    ckr: Optional[bytes] = None
    ns: int = 0
    nr: int = 0
    pn: int = 0
    skipped: OrderedDict = field(default_factory=OrderedDict)  # (dh, n) -> mk, oldest first
    # Recorded "random" ratchet privates, consumed in order by DH ratchet steps.
    privates: list = field(default_factory=list)
    next_private: int = 0
    pq: Optional[PqState] = None
    # Set by a receiving step that mixed PQS_PE: the pq_block of that message is not applied.
    closed_epoch: bool = False

    @classmethod
    def initiator(cls, shared_key: bytes, bob_spk: bytes, privates: list) -> "Ratchet":
        rk, cks = kdf_rk(shared_key, x25519(privates[0], bob_spk))
        return cls(rk=rk, dhs_private=privates[0], dhr=bob_spk, cks=cks,
                   privates=privates, next_private=1, pq=PqState(initiator=True))

    @classmethod
    def responder(cls, shared_key: bytes, spk_private: bytes, privates: list) -> "Ratchet":
        return cls(rk=shared_key, dhs_private=spk_private, dhr=None, cks=None, privates=privates,
                   pq=PqState(initiator=False))

    def _generate_dh(self) -> bytes:
        if self.next_private >= len(self.privates):
            raise Reject("RatchetPrivatesExhausted", "the case lists too few ratchet privates")
        private = self.privates[self.next_private]
        self.next_private += 1
        return private

    def encrypt(self, padded: bytes, ad: bytes) -> tuple[bytes, bytes, bytes]:
        """-> (header, ciphertext, message key)."""
        if self.cks is None:
            raise Reject("NoSession", "no sending chain yet")
        mk, self.cks = kdf_ck(self.cks)
        # PE: the last epoch mixed when this sending chain was made, which is PEm now.
        header = encode_header(x25519_public(self.dhs_private), self.pn, self.ns, self.pq.mixed)
        self.ns += 1
        key, nonce = expand_message_key(mk)
        aad = ad + bytes([MESSAGE_TYPE]) + header
        return header, aead_seal(key, nonce, padded, aad), mk

    def decrypt(self, message: Message, ad: bytes) -> tuple["Ratchet", bytes]:
        """-> (new state, padded plaintext). Works on a copy: self never changes."""
        state = copy.deepcopy(self)
        padded = state._decrypt_in_place(message, ad)
        return state, padded

    def _decrypt_in_place(self, message: Message, ad: bytes) -> bytes:
        dh, pn, n, pe = decode_header(message.header)
        aad = ad + bytes([MESSAGE_TYPE]) + message.header
        self.closed_epoch = False
        if (dh, n) in self.skipped:
            mk = self.skipped.pop((dh, n))
            return aead_open(*expand_message_key(mk), message.ciphertext, aad)
        if dh != self.dhr:
            # PE is judged before any key is derived (spec §14).
            receive_secret = self.pq.receiving_secret(pe)
            self._skip_message_keys(pn)
            self._dh_ratchet(dh, pe, receive_secret)
        elif self.ckr is None:  # Alice before Bob's first reply: no chain for this key
            raise Reject("AuthenticationFailed", "no receiving chain for this ratchet key")
        elif n < self.nr:
            # Same chain, key already used (it is not among the skipped ones).
            raise Reject("DuplicateMessage")
        self._skip_message_keys(n)
        mk, self.ckr = kdf_ck(self.ckr)
        self.nr += 1
        return aead_open(*expand_message_key(mk), message.ciphertext, aad)

    def _skip_message_keys(self, until: int) -> None:
        if self.ckr is None:
            return
        if until - self.nr > MAX_SKIP:
            raise Reject("TooManySkipped", f"{until - self.nr} keys")
        while self.nr < until:
            mk, self.ckr = kdf_ck(self.ckr)
            self.skipped[(self.dhr, self.nr)] = mk
            self.nr += 1
            if len(self.skipped) > MAX_STORED_SKIPPED:
                self.skipped.popitem(last=False)  # the oldest goes first

    def _dh_ratchet(self, their_dh: bytes, pe: int, receive_secret: Optional[bytes]) -> None:
        self.pn, self.ns, self.nr = self.ns, 0, 0
        self.dhr = their_dh
        dh = x25519(self.dhs_private, self.dhr)
        if receive_secret is None:
            self.rk, self.ckr = kdf_rk(self.rk, dh)
        else:
            # Mixed on receive: PEm = PE, and this side is the E side of PE + 1.
            self.rk, self.ckr = kdf_rk_pq(self.rk, dh, receive_secret)
            self.pq.mixed = pe
            self.pq.start_epoch(pe + 1)
            self.closed_epoch = True
        self.dhs_private = self._generate_dh()
        dh = x25519(self.dhs_private, self.dhr)
        # The pending secret as it was before this message (its pq_block comes later).
        if self.pq.pending is not None:
            epoch, secret = self.pq.pending
            self.rk, self.cks = kdf_rk_pq(self.rk, dh, secret)
            self.pq.mixed, self.pq.pending = epoch, None
        else:
            self.rk, self.cks = kdf_rk(self.rk, dh)


# --- Parties ---------------------------------------------------------------------------------------

@dataclass
class Sent:
    padded_plaintext: bytes
    header_dh: bytes
    pn: int
    n: int
    pe: int
    pq_block: bytes
    message_key: bytes
    wire: bytes
    message_id: bytes


class KemDraws:
    """A side's recorded KEM randomness (spec §14), drawn in order while it sends."""

    def __init__(self, seeds: list, encaps: list):
        self.seeds, self.encaps = list(seeds), list(encaps)

    def seed(self) -> bytes:
        if not self.seeds:
            raise Reject("KemRandomnessExhausted", "the case lists too few KEM seeds")
        return self.seeds.pop(0)

    def m(self) -> bytes:
        if not self.encaps:
            raise Reject("KemRandomnessExhausted", "the case lists too little encapsulation randomness")
        return self.encaps.pop(0)


class Session:
    """One party's ratchet (the PQ state included) plus the session's associated data."""

    def __init__(self, ratchet: Ratchet, ad: bytes, kem: KemDraws):
        self.ratchet = ratchet
        self.ad = ad
        self.kem = kem

    def encrypt(self, content_type: int, body: bytes) -> tuple[bytes, bytes, bytes, bytes]:
        """-> (padded plaintext, inner Message bytes, message key, pq_block)."""
        if len(body) > MAX_BODY:
            raise Reject("PlaintextTooLarge")
        if self.ratchet.cks is None:
            raise Reject("NoSession", "no sending chain yet")
        chunk = self.ratchet.pq.next_chunk(self.kem.seed, self.kem.m)
        padded = pad_pairwise(chunk, content_type, body)
        header, ciphertext, mk = self.ratchet.encrypt(padded, self.ad)
        return padded, encode_message(header, ciphertext), mk, encode_pq_block(chunk)

    def decrypt(self, message: Message) -> tuple[int, bytes]:
        """Transactional (spec §4, §14): the DH step with the PQ state as it was, decrypt,
        the pq_block judged against the state before the message, the content type; the
        state moves only when all passed."""
        state, padded = self.ratchet.decrypt(message, self.ad)
        chunk, content_type, body = unpad_pairwise(padded)
        judged = copy.deepcopy(self.ratchet.pq)
        judged.receive(chunk)
        if content_type not in CONTENT_TYPES:
            raise Reject("UnknownContentType", f"0x{content_type:02x}")
        if not state.closed_epoch:
            # The chunk's effect on the epoch state; the pending secret only if the chunk
            # set it (the DH step may have mixed and erased the one held before).
            newly_pending = judged.pending if self.ratchet.pq.pending is None else None
            mixed, pending = state.pq.mixed, state.pq.pending
            state.pq = judged
            state.pq.mixed = mixed
            state.pq.pending = newly_pending if newly_pending is not None else pending
        self.ratchet = state
        return content_type, body


def sent_record(padded: bytes, inner: bytes, mk: bytes, wire: bytes, pq_block: bytes) -> Sent:
    dh, pn, n, pe = decode_header(inner[1:1 + HEADER_LEN])
    return Sent(padded, dh, pn, n, pe, pq_block, mk, wire, message_id(wire))


class Alice:
    """The initiator: PQXDH from Bob's bundle, then PreKeyMessages until Bob answers."""

    def __init__(self, inputs: dict, bundle: Bundle, ratchet_privates: list, kem: KemDraws):
        self.identity = Identity(unhex(inputs["alice_identity_seed"]))
        self.pqxdh = pqxdh_initiate(self.identity, bundle, unhex(inputs["alice_ephemeral_private"]),
                                    unhex(inputs["kem_encaps_randomness"]))
        self.session = Session(Ratchet.initiator(self.pqxdh.shared_key, bundle.spk_public,
                                                 ratchet_privates), self.pqxdh.associated_data,
                               kem)
        self.prefix = prekey_message_prefix(self.identity.public, self.pqxdh.ephemeral_public,
                                            bundle, self.pqxdh.kem_ciphertext)
        self.confirmed = False  # has decrypted a message from Bob

    def send(self, content_type: int, body: bytes) -> Sent:
        padded, inner, mk, pq_block = self.session.encrypt(content_type, body)
        wire = inner if self.confirmed else self.prefix + inner
        return sent_record(padded, inner, mk, wire, pq_block)

    def receive(self, wire: bytes) -> tuple[int, bytes]:
        message = parse_wire(wire)
        if isinstance(message, PreKeyMessage):
            raise Reject("UnknownPreKey", "the initiator holds no prekeys")
        got = self.session.decrypt(message)
        self.confirmed = True
        return got


class Bob:
    """The responder: sessions keyed by (IK_A, EK_A), created by PreKeyMessages."""

    def __init__(self, inputs: dict, ratchet_privates: list, kem: KemDraws):
        self.keys = BobKeys(inputs)
        self.ratchet_privates = ratchet_privates
        self.kem = kem
        self.sessions: dict = {}  # (IK_A, EK_A) -> Session
        self.current: Optional[Session] = None
        self.accepted_base_keys: set = set()  # (SPK id, PQPK id, EK_A)
        self.opk_available = self.keys.opk_private is not None

    def send(self, content_type: int, body: bytes) -> Sent:
        if self.current is None:
            raise Reject("NoSession")
        padded, inner, mk, pq_block = self.current.encrypt(content_type, body)
        return sent_record(padded, inner, mk, inner, pq_block)

    def receive(self, wire: bytes) -> tuple[int, bytes]:
        message = parse_wire(wire)
        if isinstance(message, PreKeyMessage):
            return self._receive_prekey_message(message)
        if self.current is None:
            raise Reject("NoSession")
        return self.current.decrypt(message)

    def _receive_prekey_message(self, m: PreKeyMessage) -> tuple[int, bytes]:
        validate_identity_key(m.identity)
        existing = self.sessions.get((m.identity, m.ephemeral))
        if existing is not None:  # a repeat for a session Bob holds: the ratchet decides
            return existing.decrypt(m.message)
        if (m.spk_id, m.pq_id, m.ephemeral) in self.accepted_base_keys:
            raise Reject("PreKeyReplay")
        k = self.keys
        if m.spk_id != k.spk_id or m.pq_id != k.pq_id:
            raise Reject("UnknownPreKey")
        if m.opk_id is not None and (not self.opk_available or m.opk_id != k.opk_id):
            raise Reject("UnknownPreKey", "one-time prekey")
        shared_key, ad = pqxdh_respond(k, m.identity, m.ephemeral, m.kem_ciphertext,
                                       m.opk_id is not None)
        session = Session(Ratchet.responder(shared_key, k.spk_private, self.ratchet_privates), ad,
                          self.kem)
        got = session.decrypt(m.message)
        # Commit only after the first message authenticated (spec §3).
        self.sessions[(m.identity, m.ephemeral)] = session
        self.current = session
        self.accepted_base_keys.add((m.spk_id, m.pq_id, m.ephemeral))
        if m.opk_id is not None:
            self.opk_available = False
        return got


def build_parties(case: dict) -> tuple[Alice, Bob]:
    """Alice and Bob from a case's PQXDH inputs and the randomness each side draws: ratchet
    privates, and (revision 3) KEM seeds and encapsulation randomness."""
    def hexes(name: str) -> list:
        return [unhex(v) for v in case.get(name) or []]
    bob = Bob(case["pqxdh"], hexes("bob_ratchet_privates"),
              KemDraws(hexes("bob_kem_seeds"), hexes("bob_encaps_randomness")))
    alice = Alice(case["pqxdh"], bob.keys.bundle(), hexes("alice_ratchet_privates"),
                  KemDraws(hexes("alice_kem_seeds"), hexes("alice_encaps_randomness")))
    return alice, bob


# --- Receipts (spec §7) ------------------------------------------------------------------------------

def receipt_fields(kind: int, timestamp_ms: int, ids: list[bytes]) -> bytes:
    return bytes([kind]) + struct.pack(">QH", timestamp_ms, len(ids)) + b"".join(ids)


def receipt_signed_payload(signer: bytes, peer: bytes, kind: int, timestamp_ms: int,
                           ids: list[bytes]) -> bytes:
    return RECEIPT_CONTEXT + signer + peer + receipt_fields(kind, timestamp_ms, ids)


def build_receipt(signer: Identity, peer: bytes, kind: int, timestamp_ms: int,
                  ids: list[bytes]) -> tuple[Optional[bytes], Optional[bytes], bytes]:
    """-> (signed payload, signature, body); the first two are None for deniable kinds."""
    fields = receipt_fields(kind, timestamp_ms, ids)
    if kind in DENIABLE_RECEIPT_KINDS:
        return None, None, fields
    payload = receipt_signed_payload(signer.public, peer, kind, timestamp_ms, ids)
    signature = signer.sign(payload)
    return payload, signature, fields + signature


@dataclass
class Receipt:
    kind: int
    timestamp_ms: int
    ids: list
    signature: Optional[bytes]


def parse_receipt(body: bytes) -> Receipt:
    r = Reader(body)
    kind = r.u8()
    if kind not in SIGNED_RECEIPT_KINDS + DENIABLE_RECEIPT_KINDS:
        raise Reject("UnknownReceiptKind", f"0x{kind:02x}")
    timestamp_ms, count = r.u64(), r.u16()
    if not 1 <= count <= MAX_RECEIPT_IDS:
        raise Reject("InvalidIdCount", str(count))
    ids = [r.take(MESSAGE_ID_LEN) for _ in range(count)]
    signature = r.take(64) if kind in SIGNED_RECEIPT_KINDS else None
    r.finish()
    if any(a >= b for a, b in zip(ids, ids[1:])):
        raise Reject("NonCanonicalIds")
    return Receipt(kind, timestamp_ms, ids, signature)


def verify_receipt(body: bytes, signer: bytes, receiver: bytes, sent_ids: set) -> Receipt:
    """The receiver's checks: parse, signature naming the receiver as peer, ids it sent."""
    receipt = parse_receipt(body)
    if receipt.signature is not None:
        payload = receipt_signed_payload(signer, receiver, receipt.kind, receipt.timestamp_ms,
                                         receipt.ids)
        verify_signature(signer, payload, receipt.signature)
    if any(i not in sent_ids for i in receipt.ids):
        raise Reject("UnknownMessageId")
    return receipt


# --- Attachments (spec §13) ---------------------------------------------------------------------------

ATTACHMENT_INFO = b"Bluetick_Attachment_v1"
ATTACHMENT_CHUNK = 65536
ATTACHMENT_SEALED = ATTACHMENT_CHUNK + 16
ATTACHMENT_MAX_SIZE = 1 << 40
ATTACHMENT_POINTER_LEN = 72


def attachment_plaintext(rule: str, size: int) -> bytes:
    if rule != "i mod 251":
        raise ValueError(f"unknown plaintext rule {rule!r}")
    block = bytes(range(251))
    return (block * (size // 251 + 1))[:size]


def attachment_keys(key: bytes) -> tuple[bytes, bytes]:
    """(AES key, 7-byte nonce prefix) = HKDF(ZERO32, key, info, 39)."""
    okm = hkdf(ZERO32, key, ATTACHMENT_INFO, 39)
    return okm[:32], okm[32:]


def attachment_nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + u32(index) + (b"\x01" if last else b"\x00")


def attachment_chunk_count(size: int) -> int:
    return max(1, -(-size // ATTACHMENT_CHUNK))


def attachment_ciphertext_len(size: int) -> int:
    return size + 16 * attachment_chunk_count(size)


def attachment_encrypt(key: bytes, plaintext: bytes) -> list[bytes]:
    """The sealed chunks of an attachment, in order."""
    aes_key, prefix = attachment_keys(key)
    aead = AESGCM(aes_key)
    pieces = [plaintext[i:i + ATTACHMENT_CHUNK]
              for i in range(0, len(plaintext), ATTACHMENT_CHUNK)] or [b""]
    return [aead.encrypt(attachment_nonce(prefix, i, i == len(pieces) - 1), piece, None)
            for i, piece in enumerate(pieces)]


def attachment_pointer(key: bytes, size: int, blob: bytes) -> bytes:
    return key + struct.pack(">Q", size) + sha256(blob)


def parse_attachment_pointer(pointer: bytes) -> tuple[bytes, int, bytes]:
    if len(pointer) < ATTACHMENT_POINTER_LEN:
        raise Reject("Truncated", f"pointer of {len(pointer)} bytes")
    if len(pointer) > ATTACHMENT_POINTER_LEN:
        raise Reject("TrailingBytes", f"pointer of {len(pointer)} bytes")
    size = struct.unpack(">Q", pointer[32:40])[0]
    if size > ATTACHMENT_MAX_SIZE:
        raise Reject("AttachmentTooLarge", f"size {size}")
    return pointer[:32], size, pointer[40:]


def attachment_decrypt(pointer: bytes, blob: bytes) -> bytes:
    """Decrypts a whole blob as the streaming decryptor does (FORMAT.md): a full piece of
    65,552 bytes is a non-final chunk when at least one byte follows it; a chunk that does not
    authenticate is named by how the blob's length compares with the pointer's."""
    key, size, digest = parse_attachment_pointer(pointer)
    aes_key, prefix = attachment_keys(key)
    aead = AESGCM(aes_key)
    expected_len = attachment_ciphertext_len(size)
    count = max(1, -(-len(blob) // ATTACHMENT_SEALED))
    out = bytearray()
    for i in range(count):
        last = i == count - 1
        piece = blob[i * ATTACHMENT_SEALED:(i + 1) * ATTACHMENT_SEALED]
        seen = len(blob) if last else (i + 1) * ATTACHMENT_SEALED + 1
        try:
            out += aead.decrypt(attachment_nonce(prefix, i, last), piece, None)
        except (InvalidTag, ValueError):
            if seen > expected_len:
                raise Reject("TrailingBytes", f"{seen} bytes where {expected_len} expected") from None
            if last and seen < expected_len:
                raise Reject("Truncated", f"{seen} bytes where {expected_len} expected") from None
            raise Reject("AuthenticationFailed", f"chunk {i}") from None
        if len(out) > size:
            raise Reject("SizeMismatch", f"more than {size} bytes")
    if not hmac.compare_digest(sha256(blob), digest):
        raise Reject("DigestMismatch")
    if len(out) != size:
        raise Reject("SizeMismatch", f"{len(out)} bytes, pointer says {size}")
    return bytes(out)


def check_attachment_case(case: dict, c: CaseCheck) -> None:
    key = unhex(case["attachment_key"])
    size = case["size"]
    plaintext = attachment_plaintext(case["plaintext_rule"], size)
    chunks = attachment_encrypt(key, plaintext)
    blob = b"".join(chunks)
    aes_key, prefix = attachment_keys(key)
    # Fields beyond §9's shape are checked when present.
    for name, value in (("aes_key", aes_key), ("nonce_prefix", prefix),
                        ("chunk_count", len(chunks)), ("ciphertext_size", len(blob))):
        if name in case:
            c.expect(case, name, value)
    c.expect(case, "ciphertext_sha256", sha256(blob))
    pointer = attachment_pointer(key, size, blob)
    c.expect(case, "pointer", pointer)
    shown = sorted({i for i in (0, 1, 2) if i < len(chunks)} | {len(chunks) - 1})
    records = case.get("chunks") or []
    if [r.get("index") for r in records] != shown:
        c.problem("chunks", f"indices {[r.get('index') for r in records]}, expected {shown}")
    for r in records:
        i = r.get("index")
        if not isinstance(i, int) or not 0 <= i < len(chunks):
            continue
        last = i == len(chunks) - 1
        where = f"chunks[{i}]."
        c.expect(r, "last", last, where)
        c.expect(r, "nonce", attachment_nonce(prefix, i, last), where)
        c.expect(r, "ciphertext_hex_prefix", chunks[i][:64], where)
    # And the blob decrypts back.
    if attachment_decrypt(pointer, blob) != plaintext:
        c.problem("decrypt", "the blob does not decrypt to the plaintext")


def attachment_cases(data: dict):
    yield from cases_of(check_attachment_case)(data)


def assemble_attachment_blob(inp: dict) -> bytes:
    key = unhex(inp["attachment_key"])
    genuine = b"".join(attachment_encrypt(
        key, attachment_plaintext(inp["plaintext_rule"], inp["size"])))
    blob = bytearray()
    for piece in inp["blob"]:
        if "genuine" in piece:
            start, end = piece["genuine"]
            blob += genuine[start:end]
        else:
            blob += unhex(piece["hex"])
    return bytes(blob)


def run_invalid_attachment(inp: dict) -> None:
    attachment_decrypt(unhex(inp["pointer"]), assemble_attachment_blob(inp))


# --- Comparing against the vectors -------------------------------------------------------------------

# --- Groups: sender keys (spec §12) -----------------------------------------------------------

GROUP_MESSAGE_TYPE = 0x13
GROUP_MESSAGE_CONTEXT = b"Bluetick_GroupMessage_v1"
GROUP_MESSAGE_KEYS_INFO = b"Bluetick_GroupMessageKeys_v1"
GROUP_HEADER_LEN = 1 + 16 + 4 + 4
SIGNATURE_LEN = 64
MAX_GROUP_ID_LEN = 64
MAX_GROUP_SKIP = 2000
MAX_GROUP_STORED_SKIPPED = 2000
# The largest group ciphertext: a 16 MiB body framed (no pq_block) and padded, plus the tag.
MAX_GROUP_CIPHERTEXT = (MAX_BODY + 2 + PAD_BLOCK - 1) // PAD_BLOCK * PAD_BLOCK + TAG_LEN


def group_chain_step(chain_key: bytes) -> tuple[bytes, bytes]:
    """-> (MK_i, CK_{i+1})."""
    return hmac_sha256(chain_key, b"\x01"), hmac_sha256(chain_key, b"\x02")


def group_message_keys(message_key: bytes) -> tuple[bytes, bytes]:
    out = hkdf(ZERO32, message_key, GROUP_MESSAGE_KEYS_INFO, 44)
    return out[:32], out[32:]


def encode_distribution(group_id: bytes, distribution_id: bytes, chain_id: int,
                        iteration: int, chain_key: bytes, signing_public: bytes) -> bytes:
    return (bytes([len(group_id)]) + group_id + distribution_id + u32(chain_id) + u32(iteration)
            + chain_key + signing_public)


@dataclass
class Distribution:
    group_id: bytes
    distribution_id: bytes
    chain_id: int
    iteration: int
    chain_key: bytes
    signing_public: bytes


def parse_distribution(body: bytes) -> Distribution:
    r = Reader(body)
    n = r.u8()
    if n == 0 or n > MAX_GROUP_ID_LEN:
        raise Reject("InvalidGroupId", f"group id of {n} bytes")
    d = Distribution(r.take(n), r.take(16), r.u32(), r.u32(), r.take(32), r.take(32))
    r.finish()
    return d


@dataclass
class GroupMessage:
    distribution_id: bytes
    chain_id: int
    iteration: int
    header: bytes
    ciphertext: bytes
    signed: bytes
    signature: bytes


def parse_group_message(wire: bytes) -> GroupMessage:
    if not wire:
        raise Reject("Truncated", "empty")
    if wire[0] != GROUP_MESSAGE_TYPE:
        raise Reject("UnknownMessageType", f"0x{wire[0]:02x}")
    r = Reader(wire[1:])
    distribution_id, chain_id, iteration = r.take(16), r.u32(), r.u32()
    rest = r.rest()
    if len(rest) < SIGNATURE_LEN:
        raise Reject("Truncated", "no room for the signature")
    ciphertext = rest[:-SIGNATURE_LEN]
    if len(ciphertext) < TAG_LEN:
        raise Reject("CiphertextTooShort")
    if len(ciphertext) > MAX_GROUP_CIPHERTEXT:
        raise Reject("MessageTooLong")
    return GroupMessage(distribution_id, chain_id, iteration, wire[:GROUP_HEADER_LEN],
                        ciphertext, wire[:-SIGNATURE_LEN], wire[-SIGNATURE_LEN:])


class GroupSender:
    """A device's own sender key."""

    def __init__(self, distribution_id: bytes, chain_id: int, iteration: int,
                 chain_key: bytes, signing_seed: bytes):
        self.distribution_id, self.chain_id = distribution_id, chain_id
        self.iteration, self.chain_key = iteration, chain_key
        self._signing = nacl.signing.SigningKey(signing_seed)
        self.signing_public = bytes(self._signing.verify_key)

    def distribution(self, group_id: bytes) -> bytes:
        return encode_distribution(group_id, self.distribution_id, self.chain_id,
                                   self.iteration, self.chain_key, self.signing_public)

    def encrypt(self, body: bytes) -> dict:
        mk, next_ck = group_chain_step(self.chain_key)
        key, nonce = group_message_keys(mk)
        header = bytes([GROUP_MESSAGE_TYPE]) + self.distribution_id + u32(self.chain_id) \
            + u32(self.iteration)
        padded = pad_plaintext(CONTENT_APPLICATION, body)
        unsigned = header + aead_seal(key, nonce, padded, header)
        wire = unsigned + self._signing.sign(GROUP_MESSAGE_CONTEXT + unsigned).signature
        out = {"iteration": self.iteration, "content_type": CONTENT_APPLICATION, "body": body,
               "padded_plaintext": padded, "message_key": mk, "aes_key": key, "nonce": nonce,
               "wire": wire, "message_id": message_id(wire)}
        self.iteration += 1
        self.chain_key = next_ck
        return out


@dataclass
class HeldSenderKey:
    group_id: bytes
    sender: str
    chain_id: int
    signing_public: bytes
    chain_key: Optional[bytes]  # None once replaced: only the skipped keys stay
    iteration: int
    skipped: "OrderedDict[int, bytes]" = field(default_factory=OrderedDict)


class GroupReceiver:
    """The sender keys one device holds, by distribution id. A failure changes nothing: every
    decryption works on a copy that replaces the held key only on success."""

    def __init__(self):
        self.held: dict[bytes, HeldSenderKey] = {}

    def accept(self, sender: str, body: bytes) -> None:
        d = parse_distribution(body)
        held = self.held.get(d.distribution_id)
        if held is not None:
            if held.group_id == d.group_id and held.sender == sender:
                return
            raise Reject("DistributionConflict")
        if not nacl.bindings.crypto_core_ed25519_is_valid_point(d.signing_public):
            raise Reject("InvalidValue", "the signing key is not a valid point")
        for other in self.held.values():
            if other.group_id == d.group_id and other.sender == sender:
                other.chain_key = None  # replaced: its skipped keys stay for an hour
        self.held[d.distribution_id] = HeldSenderKey(d.group_id, sender,
                                                     d.chain_id, d.signing_public, d.chain_key,
                                                     d.iteration)

    def decrypt(self, wire: bytes) -> tuple[str, bytes]:
        m = parse_group_message(wire)
        held = self.held.get(m.distribution_id)
        if held is None:
            raise Reject("UnknownDistribution")
        verify_signature(held.signing_public, GROUP_MESSAGE_CONTEXT + m.signed, m.signature)
        if m.chain_id != held.chain_id:
            raise Reject("WrongChainId", f"{m.chain_id:#x} is not {held.chain_id:#x}")
        state = copy.deepcopy(held)
        if state.chain_key is not None and m.iteration >= state.iteration:
            if m.iteration - state.iteration > MAX_GROUP_SKIP:
                raise Reject("TooManySkipped", f"{m.iteration - state.iteration} keys")
            while state.iteration < m.iteration:
                mk, state.chain_key = group_chain_step(state.chain_key)
                state.skipped[state.iteration] = mk
                state.iteration += 1
            mk, state.chain_key = group_chain_step(state.chain_key)
            state.iteration += 1
            while len(state.skipped) > MAX_GROUP_STORED_SKIPPED:
                state.skipped.popitem(last=False)
        elif m.iteration in state.skipped:
            mk = state.skipped.pop(m.iteration)
        elif state.chain_key is None:
            raise Reject("UnknownDistribution", "the key was replaced; iteration never skipped")
        else:
            raise Reject("DuplicateMessage", f"iteration {m.iteration}")
        key, nonce = group_message_keys(mk)
        content_type, body = unpad_plaintext(aead_open(key, nonce, m.ciphertext, m.header))
        if content_type != CONTENT_APPLICATION:
            raise Reject("UnknownContentType", f"0x{content_type:02x} in a group message")
        self.held[m.distribution_id] = state
        return state.sender, body


def check_group_key_fields(record: dict, group_id: bytes, c: CaseCheck, where: str) -> GroupSender:
    sender = GroupSender(unhex(record["distribution_id"]), record["chain_id"],
                         record["initial_iteration"], unhex(record["initial_chain_key"]),
                         unhex(record["signing_seed"]))
    c.expect(record, "signing_public", sender.signing_public, where)
    c.expect(record, "distribution", sender.distribution(group_id), where)
    return sender


def check_group_case(case: dict, c: CaseCheck) -> None:
    group_id = unhex(case["group_id"])
    if not 1 <= len(group_id) <= MAX_GROUP_ID_LEN:
        c.problem("group_id", f"{len(group_id)} bytes, not 1 to 64")
    sender = check_group_key_fields(case, group_id, c, "")
    receiver = GroupReceiver()
    receiver.accept("alice.1", sender.distribution(group_id))
    sent = []
    for i, step in enumerate(case["steps"]):
        where = f"steps[{i}]."
        if "send" in step:
            record = step["send"]
            out = sender.encrypt(unhex(record["body"]))
            for name in ("iteration", "content_type", "padded_plaintext", "message_key",
                         "aes_key", "nonce", "wire", "message_id"):
                c.expect(record, name, out[name], where + "send.")
            sent.append((unhex(record["wire"]), out["body"]))
        elif "receive" in step:
            wire, body = sent[step["receive"]]
            try:
                _, got = receiver.decrypt(wire)
            except Reject as e:
                c.problem(where + "receive", f"rejected: {e}")
                continue
            if got != body:
                c.problem(where + "receive", "the body does not come back")
        elif "rotate" in step:
            sender = check_group_key_fields(step["rotate"], group_id, c, where + "rotate.")
            receiver.accept("alice.1", sender.distribution(group_id))
        else:
            c.problem(where, f"unknown step {sorted(step)}")


def run_invalid_group(inp: dict) -> None:
    receiver = GroupReceiver()
    events = inp["events"]
    for index, e in enumerate(events):
        try:
            if "distribution" in e:
                receiver.accept(e["sender"], unhex(e["distribution"]))
            else:
                receiver.decrypt(unhex(e["message"]))
        except Reject as err:
            if index < len(events) - 1:
                raise Reject(f"early:{err.name}",
                             f"event {index} of {len(events)} was rejected: {err}") from None
            raise


MISSING = object()


def unhex(value: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"expected a hex string, got {value!r}")
    return bytes.fromhex(value)


def shorten(value, limit: int = 80) -> str:
    text = "<missing>" if value is MISSING else json.dumps(value)
    return text if len(text) <= limit else f"{text[:limit // 2]}...{text[-limit // 4:]} ({len(text)} chars)"


class CaseCheck:
    """Collects the mismatches of one case; a case passes when it has none."""

    def __init__(self):
        self.problems: list[tuple[str, str]] = []

    def problem(self, where: str, what: str) -> None:
        self.problems.append((where, what))

    def expect(self, record: dict, name: str, actual, where: str = "") -> None:
        """Compares record[name] with actual (bytes as lowercase hex, ints, None as null)."""
        expected = record.get(name, MISSING) if isinstance(record, dict) else MISSING
        want = actual.hex() if isinstance(actual, (bytes, bytearray)) else actual
        if expected is MISSING or expected != want or type(expected) is not type(want):
            self.problem(where + name, f"expected {shorten(expected)}, computed {shorten(want)}")


def pqxdh_inputs_results(inputs: dict) -> tuple[dict, tuple[bytes, bytes]]:
    """Every pqxdh.json result field, recomputed, and Bob's own (SK, AD) to compare."""
    bob = BobKeys(inputs)
    bundle = bob.bundle()
    alice = Identity(unhex(inputs["alice_identity_seed"]))
    r = pqxdh_initiate(alice, bundle, unhex(inputs["alice_ephemeral_private"]),
                       unhex(inputs["kem_encaps_randomness"]))
    bob_sk, bob_ad = pqxdh_respond(bob, alice.public, r.ephemeral_public, r.kem_ciphertext,
                                   bundle.opk_public is not None)
    return {
        "alice_identity_public": alice.public,
        "bob_identity_public": bob.identity.public,
        "bob_signed_prekey_public": bob.spk_public,
        "bob_signed_prekey_signature": bundle.spk_signature,
        "bob_pq_prekey_public": bob.pq_public,
        "bob_pq_prekey_signature": bundle.pq_signature,
        "kem_ciphertext": r.kem_ciphertext,
        "kem_shared_secret": r.kem_shared_secret,
        "dh1": r.dh[0], "dh2": r.dh[1], "dh3": r.dh[2],
        "dh4": r.dh[3] if len(r.dh) > 3 else None,
        "shared_key": r.shared_key,
        "associated_data": r.associated_data,
    }, (bob_sk, bob_ad)


def check_pqxdh_case(case: dict, c: CaseCheck) -> None:
    results, (bob_sk, bob_ad) = pqxdh_inputs_results(case)
    for name, value in results.items():
        c.expect(case, name, value)
    if (bob_sk, bob_ad) != (results["shared_key"], results["associated_data"]):
        c.problem("bob_side", "Bob's SK/AD differ from Alice's")


def check_session_case(case: dict, c: CaseCheck) -> None:
    alice, bob = build_parties(case)
    parties = {"alice": alice, "bob": bob}
    sends: list[dict] = []
    for index, step in enumerate(case["steps"]):
        where = f"steps[{index}]."
        if "send" in step:
            s = step["send"]
            sends.append(s)
            result = parties[s["sender"]].send(s["content_type"], unhex(s["body"]))
            for name in ("padded_plaintext", "header_dh", "pn", "n", "pe", "pq_block",
                         "message_key", "wire", "message_id"):
                c.expect(s, name, getattr(result, name), where + "send.")
        elif "receive" in step:
            s = sends[step["receive"]]
            receiver = parties["bob" if s["sender"] == "alice" else "alice"]
            try:
                content_type, body = receiver.receive(unhex(s["wire"]))
            except Reject as e:
                c.problem(where + "receive", f"decrypting send #{step['receive']} failed: {e}")
                continue
            if (content_type, body.hex()) != (s["content_type"], s["body"]):
                c.problem(where + "receive", f"send #{step['receive']} decrypted to "
                          f"type {content_type}, body {shorten(body.hex())}")
        else:
            c.problem(where, "step is neither send nor receive")


def check_receipt_case(case: dict, c: CaseCheck) -> None:
    payload, signature, body = build_receipt(
        Identity(unhex(case["signer_identity_seed"])), unhex(case["peer_identity_public"]),
        case["kind"], case["timestamp_ms"], [unhex(i) for i in case["ids"]])
    c.expect(case, "signed_payload", payload)
    c.expect(case, "signature", signature)
    c.expect(case, "body", body)


# invalid.json: run the named operation; it must raise Reject with the named error.

def run_invalid_receipt(inp: dict) -> None:
    verify_receipt(unhex(inp["body"]), unhex(inp["signer_identity_public"]),
                   unhex(inp["receiver_identity_public"]), {unhex(i) for i in inp["sent_ids"]})


# --- Users with several devices (spec §11) ------------------------------------------------

@dataclass
class DeviceList:
    user: bytes
    version: int
    devices: list  # [(device id, IK_dev)], the primary first
    signed: bytes
    signature: bytes


@dataclass
class DeviceCertificate:
    user: bytes
    device: int
    identity: bytes
    issued_at_ms: int
    signed: bytes
    signature: bytes


def read_user_id(r: Reader) -> bytes:
    n = r.u8()
    if not 1 <= n <= MAX_USER_ID_LEN:
        raise Reject("InvalidValue", f"user id of {n} bytes")
    return r.take(n)


def parse_device_list(data: bytes) -> DeviceList:
    r = Reader(data)
    user = read_user_id(r)
    version = r.u64()
    count = r.u8()
    if not 1 <= count <= MAX_DEVICES:
        raise Reject("InvalidValue", f"{count} devices")
    devices = []
    for _ in range(count):
        device = r.u32()
        key = r.take(32)
        validate_identity_key(key)
        devices.append((device, key))
    ids = [d for d, _ in devices]
    if len(set(ids)) != len(ids):
        raise Reject("InvalidValue", "a device is named twice")
    signed = data[:r.pos]
    signature = r.take(64)
    r.finish()
    return DeviceList(user, version, devices, signed, signature)


def verify_device_list(lst: DeviceList, pinned_user_identity: bytes) -> None:
    # The first entry is the primary, whose key is the user identity that signs the list.
    if lst.devices[0][1] != pinned_user_identity:
        raise Reject("UntrustedIdentity", "the list is led by another user identity")
    verify_signature(pinned_user_identity, DEVICE_LIST_CONTEXT + lst.signed, lst.signature)


def verify_device_list_update(new: DeviceList, current: DeviceList) -> None:
    if new.user != current.user:
        raise Reject("InvalidValue", "another user's list")
    verify_device_list(new, current.devices[0][1])
    if new.version <= current.version:
        raise Reject("StaleDeviceList", f"version {new.version} after {current.version}")


def check_listed_device(lst: DeviceList, device: int, identity: bytes) -> None:
    if (device, identity) not in lst.devices:
        raise Reject("DeviceNotListed", f"device {device}")


def parse_device_certificate(data: bytes) -> DeviceCertificate:
    r = Reader(data)
    user = read_user_id(r)
    device = r.u32()
    identity = r.take(32)
    validate_identity_key(identity)
    issued_at_ms = r.u64()
    signed = data[:r.pos]
    signature = r.take(64)
    r.finish()
    return DeviceCertificate(user, device, identity, issued_at_ms, signed, signature)


def sign_device_list(primary: Identity, user: bytes, version: int, devices: list) -> bytes:
    signed = bytes([len(user)]) + user + struct.pack(">Q", version) + bytes([len(devices)])
    for device, key in devices:
        signed += u32(device) + key
    return signed + primary.sign(DEVICE_LIST_CONTEXT + signed)


def sign_device_certificate(primary: Identity, user: bytes, device: int, identity: bytes,
                            issued_at_ms: int) -> bytes:
    signed = bytes([len(user)]) + user + u32(device) + identity + struct.pack(">Q", issued_at_ms)
    return signed + primary.sign(DEVICE_CERTIFICATE_CONTEXT + signed)


def check_device_case(case: dict, c: CaseCheck) -> None:
    user = unhex(case["user_id"])
    primary = Identity(unhex(case["user_identity_seed"]))
    if "user_identity_public" in case:
        c.expect(case, "user_identity_public", primary.public)
    devices = []
    for d in case["devices"]:
        identity = Identity(unhex(d["identity_seed"]))
        if "identity_public" in d:
            c.expect(d, "identity_public", identity.public)
        devices.append((d["device_id"], identity.public))
    if not devices or devices[0][1] != primary.public:
        c.problem("devices", "the primary (the user identity seed) must lead the list")
        return
    c.expect(case, "device_list", sign_device_list(primary, user, case["version"], devices))
    expected = [sign_device_certificate(primary, user, d, k, case["issued_at_ms"])
                for d, k in devices]
    got = [unhex(x) for x in case["certificates"]]
    if got != expected:
        c.problem("certificates", "differ from the certificates the primary signs")
    # And what was signed verifies, as a receiver checks it.
    lst = parse_device_list(unhex(case["device_list"]))
    verify_device_list(lst, primary.public)
    for cert in got:
        parsed = parse_device_certificate(cert)
        verify_signature(primary.public, DEVICE_CERTIFICATE_CONTEXT + parsed.signed,
                         parsed.signature)
        check_listed_device(lst, parsed.device, parsed.identity)


def run_invalid_device(kind: str) -> Callable:
    def run(inp: dict) -> None:
        pinned = unhex(inp["user_identity_public"])
        if kind == "device_certificate":
            cert = parse_device_certificate(unhex(inp["certificate"]))
            verify_signature(pinned, DEVICE_CERTIFICATE_CONTEXT + cert.signed, cert.signature)
            return
        if kind == "device_list_update":
            current = parse_device_list(unhex(inp["current"]))
            verify_device_list(current, pinned)
            verify_device_list_update(parse_device_list(unhex(inp["device_list"])), current)
            return
        lst = parse_device_list(unhex(inp["device_list"]))
        verify_device_list(lst, pinned)
        if kind == "device_check":
            check_listed_device(lst, inp["device_id"], unhex(inp["device_identity_public"]))
    return run


def run_invalid_session(inp: dict) -> None:
    alice, bob = build_parties(inp)
    parties = {"alice": alice, "bob": bob}
    deliveries = inp["deliveries"]
    for index, d in enumerate(deliveries):
        try:
            parties[d["to"]].receive(unhex(d["wire"]))
        except Reject as e:
            if index < len(deliveries) - 1:
                raise Reject(f"early:{e.name}",
                             f"delivery {index} of {len(deliveries)} was rejected: {e}") from None
            raise


INVALID_KINDS: dict[str, Callable] = {
    "identity_key": lambda inp: validate_identity_key(unhex(inp)),
    "bundle": lambda inp: verify_bundle(decode_bundle(unhex(inp))),
    "wire": lambda inp: parse_wire(unhex(inp)),
    "plaintext": lambda inp: unpad_plaintext(unhex(inp)),
    "application_body": run_invalid_application_body,
    "receipt": run_invalid_receipt,
    "session": run_invalid_session,
    "attachment": run_invalid_attachment,
    "attachment_pointer": lambda inp: parse_attachment_pointer(unhex(inp)),
    "device_list": run_invalid_device("device_list"),
    "device_list_update": run_invalid_device("device_list_update"),
    "device_check": run_invalid_device("device_check"),
    "device_certificate": run_invalid_device("device_certificate"),
    "group": run_invalid_group,
}


def check_invalid_case(case: dict, c: CaseCheck) -> None:
    run = INVALID_KINDS.get(case["kind"])
    if run is None:
        c.problem("kind", f"unknown kind {case['kind']!r}")
        return
    try:
        run(case["input"])
    except Reject as e:
        if e.name != case["error"]:
            c.problem("error", f"expected {case['error']}, rejected with {e}")
        return
    c.problem("error", f"expected {case['error']}, but the input was accepted")


def kdf_cases(data: dict) -> Iterable[tuple[str, dict, Callable]]:
    def root(e, c):
        new_root, chain = kdf_rk(unhex(e["root_key"]), unhex(e["dh_output"]))
        c.expect(e, "new_root_key", new_root)
        c.expect(e, "chain_key", chain)

    def chain(e, c):
        mk, next_ck = kdf_ck(unhex(e["chain_key"]))
        c.expect(e, "message_key", mk)
        c.expect(e, "next_chain_key", next_ck)

    def message_keys(e, c):
        key, nonce = expand_message_key(unhex(e["message_key"]))
        c.expect(e, "aes_key", key)
        c.expect(e, "nonce", nonce)

    def pq_secret_entry(e, c):
        # The ML-KEM-768 exchange itself is checked when its inputs are given.
        if "kem_seed" in e and "encaps_randomness" in e:
            ek, dk = kem768_keygen(unhex(e["kem_seed"]))
            c.expect(e, "ek", ek)
            ct, shared = kem768_encaps(ek, unhex(e["encaps_randomness"]))
            c.expect(e, "ct", ct)
            c.expect(e, "kem_shared_secret", shared)
            if kem768_decaps(dk, ct) != shared:
                c.problem("decaps", "Decaps does not give the encapsulated secret")
        c.expect(e, "pq_secret", pq_secret(unhex(e["kem_shared_secret"]), e["epoch"],
                                           unhex(e["ek"]), unhex(e["ct"])))

    def root_pq(e, c):
        new_root, chain_key = kdf_rk_pq(unhex(e["root_key"]), unhex(e["dh_output"]),
                                        unhex(e["pq_secret"]))
        c.expect(e, "new_root_key", new_root)
        c.expect(e, "chain_key", chain_key)

    for section, fn in (("root", root), ("chain", chain), ("message_keys", message_keys),
                        ("pq_secret", pq_secret_entry), ("root_pq", root_pq)):
        entries = data.get(section)
        if not isinstance(entries, list) or not entries:
            yield section, {}, lambda e, c, s=section: c.problem(s, "section missing or empty")
            continue
        for i, entry in enumerate(entries):
            yield f"{section}[{i}]", entry, fn


def cases_of(check: Callable) -> Callable:
    """Adapts a per-case checker to files shaped {"cases": [...]}."""
    def iterate(data: dict):
        cases = data.get("cases") if isinstance(data, dict) else None
        if not isinstance(cases, list) or not cases:
            yield "cases", {}, lambda e, c: c.problem("cases", "missing or empty")
            return
        for i, case in enumerate(cases):
            name = case.get("name") if isinstance(case, dict) else None
            yield f"#{i}" + (f" {name}" if name else ""), case, check
    return iterate


VECTOR_FILES = {
    "pqxdh.json": cases_of(check_pqxdh_case),
    "kdf.json": kdf_cases,
    "session.json": cases_of(check_session_case),
    "receipts.json": cases_of(check_receipt_case),
    "invalid.json": cases_of(check_invalid_case),
    "attachments.json": attachment_cases,
    "devices.json": cases_of(check_device_case),
    "groups.json": cases_of(check_group_case),
}

SPEC_REVISION = 3
MAX_LINES_PER_CASE = 20  # a diverging ratchet repeats itself; keep the output readable


def run(folder: Path, out=sys.stdout) -> tuple[int, int]:
    passed = failed = 0
    for filename, iterate in VECTOR_FILES.items():
        path = folder / filename
        if not path.is_file():
            print(f"{filename}: file missing", file=out)
            failed += 1
            continue
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            print(f"{filename}: unreadable: {e}", file=out)
            failed += 1
            continue
        # Spec §9: every file names its revision; this checker implements revision 3. A file
        # of another revision fails, and its cases are still checked to say where it differs.
        revision = data.get("revision") if isinstance(data, dict) else None
        if revision != SPEC_REVISION:
            print(f"{filename}: revision {revision!r}, this checker implements "
                  f"revision {SPEC_REVISION}", file=out)
            failed += 1
        for case_name, record, check in iterate(data):
            c = CaseCheck()
            try:
                check(record, c)
            except Exception as e:  # a crash on a case is a mismatch, not the end of the run
                c.problem("<error>", f"{type(e).__name__}: {e}")
            for where, what in c.problems[:MAX_LINES_PER_CASE]:
                print(f"{filename}: {case_name}: {where}: {what}", file=out)
            if len(c.problems) > MAX_LINES_PER_CASE:
                print(f"{filename}: {case_name}: ... {len(c.problems) - MAX_LINES_PER_CASE} more",
                      file=out)
            if c.problems:
                failed += 1
            else:
                passed += 1
    return passed, failed


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    passed, failed = run(folder)
    print(f"check.py: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
