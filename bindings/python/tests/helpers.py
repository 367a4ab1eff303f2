"""Constants and small helpers of the tests (a relay standing in for the server)."""

from __future__ import annotations

import os
from pathlib import Path

from bluetick import Account, AccountConfig, PublishedPrekeys, Sent

KEY_ALICE = bytes([0x11]) * 32
KEY_BOB = bytes([0x22]) * 32
SMALL = AccountConfig(3, 3, 2)
TINY = AccountConfig(0, 0, 0)


def publish(account: Account) -> PublishedPrekeys:
    """The relay's copy of an account's prekeys, as after its first upload."""
    return PublishedPrekeys(account.prekey_upload())


def send_first(sender: Account, to_user: str, relay: PublishedPrekeys, body: bytes) -> Sent:
    """Encrypts the first message to a peer from a bundle the relay hands out."""
    return sender.encrypt(to_user, 1, body, bundle=relay.take_bundle())


PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def vectors_dir() -> Path:
    """``BLUETICK_VECTORS``, else ``../../vectors`` from ``bindings/python``: the
    repository's ``vectors/``."""
    configured = os.environ.get("BLUETICK_VECTORS")
    if configured:
        return Path(configured).resolve()
    return (PACKAGE_ROOT / ".." / ".." / "vectors").resolve()
