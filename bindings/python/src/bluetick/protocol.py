"""The protocol layer without an account: identities from seeds, prekeys in memory,
session records and receipt bodies (``bt_identity_*``, ``bt_prekeys_*``, ``bt_session_*``,
``bt_receipt_*``). For servers, tools and test-vector checks that drive PQXDH and the
ratchet themselves; apps use :class:`bluetick.Account`.

Functions that need randomness take ``randomness``: None for the operating system's
generator, or the exact bytes to draw, in the order the protocol draws them (to reproduce
test vectors). Scripted randomness that runs out raises ``InvalidArgumentError`` and
changes nothing.
"""

from __future__ import annotations

import os
from ctypes import byref, c_size_t, c_uint8, c_uint64, c_void_p
from typing import Iterable, Optional

from . import _native
from ._util import BytesLike, Handle, as_bytes, buffers, fixed, id_list, key, take, u32, u64
from .errors import check, invalid_argument
from .model import ContentType, Decrypted, ReceiptKind, Sent, VerifiedReceipt


def _randomness(randomness: Optional[BytesLike]) -> tuple[Optional[bytes], int]:
    if randomness is None:
        return None, 0
    data = as_bytes(randomness, "randomness")
    if not data:
        # (NULL, 0) would mean "the OS generator": an empty script is refused instead.
        raise invalid_argument("randomness is empty: pass None for the OS generator")
    return data, len(data)


def _kind(kind: int) -> int:
    value = int(kind)
    if not 0 <= value <= 0xFF:
        raise invalid_argument(f"{value} is not a byte")
    return value


class Identity(Handle):
    """An identity key pair (Ed25519), made from a 32-byte seed."""

    _kind = "identity"

    def __init__(self, ptr: int) -> None:
        super().__init__(ptr, _native.lib().bt_identity_free)

    @classmethod
    def from_seed(cls, seed: BytesLike) -> "Identity":
        seed = fixed(seed, 32, "seed")
        out = c_void_p()
        check(_native.lib().bt_identity_from_seed(seed, byref(out)))
        return cls(out.value)

    @classmethod
    def generate(cls) -> "Identity":
        """A new identity from 32 random bytes of the operating system."""
        return cls.from_seed(os.urandom(32))

    @property
    def public_key(self) -> bytes:
        """The 32-byte public identity key (``IK``)."""
        out = (c_uint8 * _native.KEY_LEN)()
        with self._use() as ptr:
            check(_native.lib().bt_identity_public(ptr, out))
        return bytes(out)

    def create_receipt(
        self,
        peer_key: BytesLike,
        kind: ReceiptKind,
        timestamp_ms: int,
        ids: Iterable[BytesLike],
    ) -> bytes:
        """A receipt body of ``kind`` signed by this identity, for messages sent by the
        peer whose identity key is ``peer_key`` (ids are sorted and deduplicated)."""
        peer_key = key(peer_key, "peer_key")
        joined, count = id_list(ids)
        with buffers() as (body,), self._use() as ptr:
            check(
                _native.lib().bt_receipt_create(
                    ptr,
                    peer_key,
                    _kind(kind),
                    u64(timestamp_ms, "timestamp_ms"),
                    joined or None,
                    count,
                    byref(body),
                )
            )
            return take(body)


def verify_receipt(
    body: BytesLike,
    signer_key: BytesLike,
    receiver_key: BytesLike,
    sent_ids: Iterable[BytesLike],
) -> VerifiedReceipt:
    """Verifies a receipt body as its receiver: signed by ``signer_key``, addressed to
    ``receiver_key``, every id among ``sent_ids`` (the messages the receiver sent the
    signer). Returns its kind and timestamp; raises on any failure."""
    body = as_bytes(body, "body")
    signer_key = key(signer_key, "signer_key")
    receiver_key = key(receiver_key, "receiver_key")
    joined, count = id_list(sent_ids, "sent_ids")
    kind = c_uint8(0)
    timestamp = c_uint64(0)
    check(
        _native.lib().bt_receipt_verify(
            body,
            len(body),
            signer_key,
            receiver_key,
            joined or None,
            count,
            byref(kind),
            byref(timestamp),
        )
    )
    return VerifiedReceipt(ReceiptKind(kind.value), timestamp.value)


class PreKeys(Handle):
    """Private prekeys held in memory (thread-safe)."""

    _kind = "prekeys"

    def __init__(self) -> None:
        out = c_void_p()
        check(_native.lib().bt_prekeys_new(byref(out)))
        super().__init__(out.value, _native.lib().bt_prekeys_free)

    def add_signed(self, identity: Identity, prekey_id: int, private_key: BytesLike) -> None:
        """Adds a signed prekey (32-byte X25519 private key), signed by ``identity``."""
        private_key = key(private_key, "private_key")
        with self._use() as ptr, identity._use() as ident:
            check(
                _native.lib().bt_prekeys_add_signed(
                    ptr, ident, u32(prekey_id, "prekey_id"), private_key
                )
            )

    def add_one_time(self, prekey_id: int, private_key: BytesLike) -> None:
        """Adds a one-time X25519 prekey (32-byte private key)."""
        private_key = key(private_key, "private_key")
        with self._use() as ptr:
            check(
                _native.lib().bt_prekeys_add_one_time(
                    ptr, u32(prekey_id, "prekey_id"), private_key
                )
            )

    def add_pq(
        self, identity: Identity, prekey_id: int, seed: BytesLike, last_resort: bool = False
    ) -> None:
        """Adds an ML-KEM-1024 prekey from a 64-byte seed ``d || z``, signed by
        ``identity``; one-time unless ``last_resort``."""
        seed = fixed(seed, 64, "seed")
        with self._use() as ptr, identity._use() as ident:
            check(
                _native.lib().bt_prekeys_add_pq(
                    ptr, ident, u32(prekey_id, "prekey_id"), bool(last_resort), seed
                )
            )

    def bundle(self, identity: Identity) -> bytes:
        """The bundle these prekeys give (nothing is consumed)."""
        with buffers() as (out,), self._use() as ptr, identity._use() as ident:
            check(_native.lib().bt_prekeys_bundle(ptr, ident, byref(out)))
            return take(out)


class Session(Handle):
    """All sessions with one peer (a session record). Thread-safe; every call either
    completes or changes nothing."""

    _kind = "session"

    def __init__(self, record: BytesLike = b"") -> None:
        """An empty record, or one read from :meth:`to_bytes`."""
        record = as_bytes(record, "record")
        out = c_void_p()
        check(_native.lib().bt_session_new(record or None, len(record), byref(out)))
        super().__init__(out.value, _native.lib().bt_session_free)

    def to_bytes(self) -> bytes:
        """The serialized record (it holds secrets: store it encrypted)."""
        with buffers() as (out,), self._use() as ptr:
            check(_native.lib().bt_session_to_bytes(ptr, byref(out)))
            return take(out)

    def start(
        self, identity: Identity, bundle: BytesLike, randomness: Optional[BytesLike] = None
    ) -> int:
        """Starts a session as the initiator from a peer's bundle (PQXDH). Scripted
        randomness is drawn as: ephemeral key (32), encapsulation randomness (32), first
        ratchet key (32). Returns how many bytes of it were used."""
        bundle = as_bytes(bundle, "bundle")
        script, script_len = _randomness(randomness)
        used = c_size_t(0)
        with self._use() as ptr, identity._use() as ident:
            check(
                _native.lib().bt_session_start(
                    ptr, ident, bundle, len(bundle), script, script_len, byref(used)
                )
            )
        return used.value

    def encrypt(self, body: BytesLike, content_type: ContentType = ContentType.APPLICATION) -> Sent:
        """Encrypts ``body`` in the current session; returns ``(id, wire)``."""
        body = as_bytes(body, "body")
        out_id = (c_uint8 * _native.MESSAGE_ID_LEN)()
        with buffers() as (wire,), self._use() as ptr:
            check(
                _native.lib().bt_session_encrypt(
                    ptr, _kind(content_type), body, len(body), byref(wire), out_id
                )
            )
            return Sent(bytes(out_id), take(wire))

    def decrypt(
        self,
        identity: Identity,
        prekeys: PreKeys,
        wire: BytesLike,
        randomness: Optional[BytesLike] = None,
    ) -> Decrypted:
        """Decrypts a wire message from the peer; a PreKeyMessage may start a new session
        from ``prekeys`` (consuming its one-time keys). Scripted randomness is drawn only
        when the message completes a DH ratchet step: one ratchet key (32 bytes);
        ``randomness_used`` of the result says whether it was."""
        wire = as_bytes(wire, "wire")
        script, script_len = _randomness(randomness)
        used = c_size_t(0)
        content_type = c_uint8(0)
        sender = (c_uint8 * _native.KEY_LEN)()
        with buffers() as (body,), self._use() as ptr, identity._use() as ident, prekeys._use() as pre:
            check(
                _native.lib().bt_session_decrypt(
                    ptr,
                    ident,
                    pre,
                    wire,
                    len(wire),
                    script,
                    script_len,
                    byref(used),
                    byref(content_type),
                    byref(body),
                    sender,
                )
            )
            return Decrypted(ContentType(content_type.value), take(body), bytes(sender), used.value)
