"""The protocol layer with the operating system's randomness: identities, prekeys, a
session both ways, a record saved and restored, receipts made and checked."""

from __future__ import annotations

import os

import pytest

import bluetick
from bluetick import ContentType, Identity, PreKeys, ReceiptKind, Session, verify_receipt


@pytest.fixture
def parties():
    alice, bob = Identity.generate(), Identity.generate()
    bob_prekeys = PreKeys()
    bob_prekeys.add_signed(bob, 1, os.urandom(32))
    bob_prekeys.add_one_time(7, os.urandom(32))
    bob_prekeys.add_pq(bob, 2, os.urandom(64), last_resort=True)
    yield alice, bob, bob_prekeys
    for handle in (bob_prekeys, bob, alice):
        handle.close()


def test_a_session_both_ways_and_a_record_restored(parties):
    alice, bob, bob_prekeys = parties
    bundle = bob_prekeys.bundle(bob)
    assert len(bundle) == 1806
    with Session() as a, Session() as b, PreKeys() as alice_prekeys:
        assert a.start(alice, bundle) == 0  # the OS generator: no scripted bytes used
        first = a.encrypt(b"hello")
        assert bluetick.message_id_of(first.wire) == first.id
        got = b.decrypt(bob, bob_prekeys, first.wire)
        assert (got.body, got.content_type, got.sender) == (
            b"hello",
            ContentType.APPLICATION,
            alice.public_key,
        )
        reply = b.encrypt(b"receipt body", ContentType.RECEIPT)
        saved = a.to_bytes()
        with Session(saved) as restored:
            got = restored.decrypt(alice, alice_prekeys, reply.wire)
            assert (got.body, got.content_type) == (b"receipt body", ContentType.RECEIPT)
        # Restored from the same bytes, the original decrypts it too (it never moved).
        assert a.decrypt(alice, alice_prekeys, reply.wire).body == b"receipt body"
        with pytest.raises(bluetick.DuplicateMessageError):
            a.decrypt(alice, alice_prekeys, reply.wire)


def test_scripted_randomness_that_runs_out_changes_nothing(parties):
    alice, bob, bob_prekeys = parties
    bundle = bob_prekeys.bundle(bob)
    with Session() as a:
        with pytest.raises(bluetick.InvalidArgumentError, match="randomness"):
            a.start(alice, bundle, randomness=bytes(64))  # needs 96
        with pytest.raises(bluetick.NoSessionError):
            a.encrypt(b"x")
        assert a.start(alice, bundle, randomness=os.urandom(96)) == 96
        with pytest.raises(bluetick.InvalidArgumentError):
            a.encrypt(b"x", content_type=3)


def test_receipts_made_and_verified(parties):
    alice, bob, _ = parties
    ids = [os.urandom(16) for _ in range(3)]
    body = bob.create_receipt(alice.public_key, ReceiptKind.READ, 1234, ids)
    verified = verify_receipt(body, bob.public_key, alice.public_key, ids + [os.urandom(16)])
    assert (verified.kind, verified.timestamp_ms) == (ReceiptKind.READ, 1234)
    with pytest.raises(bluetick.UnknownMessageIdError):
        verify_receipt(body, bob.public_key, alice.public_key, ids[:2])
    with pytest.raises(bluetick.BadSignatureError):
        verify_receipt(body, alice.public_key, alice.public_key, ids)
    with pytest.raises(bluetick.TruncatedError):
        verify_receipt(body[:-1], bob.public_key, alice.public_key, ids)
    with pytest.raises(bluetick.InvalidArgumentError):
        bob.create_receipt(alice.public_key, 3, 0, ids)
    deniable = bob.create_receipt(alice.public_key, ReceiptKind.DENIABLE_DELIVERED, 5, ids)
    assert verify_receipt(deniable, bob.public_key, alice.public_key, ids).kind.deniable


def test_identity_from_seed_is_deterministic():
    seed = bytes(range(32))
    with Identity.from_seed(seed) as one, Identity.from_seed(bytearray(seed)) as two:
        assert one.public_key == two.public_key and len(one.public_key) == 32
    with pytest.raises(bluetick.InvalidArgumentError):
        Identity.from_seed(bytes(31))
    with pytest.raises(bluetick.ClosedError):
        one.public_key
