"""A relay standing in for the server, and error assertions."""

from __future__ import annotations

import pytest

from bluetick import Account, Address, Outgoing, PreKeyUpload


def publish(account: Account) -> PreKeyUpload:
    """The relay's copy of an account's prekeys, as after its first upload."""
    return PreKeyUpload.from_bytes(account.prekey_upload().to_bytes())


def send_first(sender: Account, to: Address, relay: PreKeyUpload, body: bytes) -> Outgoing:
    """Encrypts the first message to a peer from a bundle the relay hands out."""
    return sender.encrypt(to, body, relay.take_bundle(), 0)


def raises(family, kind, call, *args):
    """Asserts that the call raises exactly `family` with `kind`; returns the error."""
    with pytest.raises(Exception) as e:
        call(*args)
    assert type(e.value) is family, f"{type(e.value).__qualname__} is not {family.__qualname__}: {e.value}"
    assert e.value.kind == kind, f"{e.value.kind} is not {kind}: {e.value}"
    return e.value
