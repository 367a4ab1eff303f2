"""Relay helpers on prekey upload bytes (``bt_prekey_upload_*``) and wire message ids
(``bt_message_id_of``): what a relay server, or a test standing in for one, needs."""

from __future__ import annotations

from ctypes import byref, c_uint8

from . import _native
from ._util import BytesLike, as_bytes, buffers, take
from .errors import check


def verify_upload(upload: BytesLike) -> None:
    """Strictly parses upload bytes and checks every signature and key in them; raises
    (``TruncatedError``, ``BadSignatureError``, ...) if the relay should refuse them."""
    upload = as_bytes(upload, "upload")
    check(_native.lib().bt_prekey_upload_verify(upload, len(upload)))


def take_bundle(upload: BytesLike) -> tuple[bytes, bytes]:
    """Hands out one bundle from a device's published prekeys, consuming one one-time
    prekey of each kind if any is left. Returns ``(remaining, bundle)``: store
    ``remaining`` in place of ``upload``, give ``bundle`` to the peer."""
    upload = as_bytes(upload, "upload")
    with buffers(2) as (remaining, bundle):
        check(
            _native.lib().bt_prekey_upload_take_bundle(
                upload, len(upload), byref(remaining), byref(bundle)
            )
        )
        return take(remaining), take(bundle)


def merge_uploads(older: BytesLike, newer: BytesLike) -> bytes:
    """Applies a later upload of the same device (a replenish or rotation) to the stored
    one: signed and last-resort prekeys replaced, one-time prekeys added. Returns the
    merged upload, to store in place of ``older``."""
    older = as_bytes(older, "older")
    newer = as_bytes(newer, "newer")
    with buffers() as (merged,):
        check(
            _native.lib().bt_prekey_upload_merge(
                older, len(older), newer, len(newer), byref(merged)
            )
        )
        return take(merged)


def message_id_of(wire: BytesLike) -> bytes:
    """The 16-byte id of a wire message, as sender, recipient and relay each compute it."""
    wire = as_bytes(wire, "wire")
    out = (c_uint8 * _native.MESSAGE_ID_LEN)()
    check(_native.lib().bt_message_id_of(wire, len(wire), out))
    return bytes(out)


class PublishedPrekeys:
    """A relay's copy of one device's published prekeys: the upload bytes, verified on the
    way in, merged with later uploads, and handing out one bundle per request.

    Not locked: a relay serving several threads guards each device's copy itself.
    """

    def __init__(self, upload: BytesLike) -> None:
        upload = as_bytes(upload, "upload")
        verify_upload(upload)
        self.upload = upload

    def merge(self, newer: BytesLike) -> None:
        """Verifies and applies a later upload (replenish, rotation)."""
        newer = as_bytes(newer, "newer")
        verify_upload(newer)
        self.upload = merge_uploads(self.upload, newer)

    def take_bundle(self) -> bytes:
        """One bundle for a peer that asks."""
        self.upload, bundle = take_bundle(self.upload)
        return bundle
