"""A whole conversation between two SQLite accounts through the binding: bundles from the
upload, PQXDH, messages both ways and out of order, receipts and the statuses they set,
close and reopen, the inbox and acknowledgements, and the errors on the way, each raised
as its own exception class."""

from __future__ import annotations

import pytest

import bluetick
from bluetick import (
    Account,
    AlreadyReceivedError,
    AuthenticationError,
    AuthenticationFailedError,
    DuplicateMessageError,
    InvalidArgumentError,
    InvalidIdCountError,
    MalformedInputError,
    Message,
    MessageStatus,
    NoSessionError,
    Receipt,
    ReceiptKind,
    StoreError,
    TruncatedError,
    UnknownMessageError,
    UnknownMessageTypeError,
    WrongStorageKeyError,
)
from helpers import KEY_ALICE, KEY_BOB, SMALL, TINY, publish


def test_two_accounts_converse_persist_and_reopen(tmp_path):
    alice_db, bob_db = tmp_path / "alice.db", tmp_path / "bob.db"
    with Account.create_sqlite(alice_db, KEY_ALICE, SMALL) as alice, Account.create_sqlite(
        str(bob_db), KEY_BOB, SMALL
    ) as bob:
        alice_key, bob_key = alice.identity, bob.identity
        assert len(alice_key) == 32 and alice_key != bob_key

        # Bob publishes; the relay hands Alice a bundle with a one-time prekey.
        relay = publish(bob)
        bundle = relay.take_bundle()
        assert len(bundle) == 1806

        # PQXDH from the bundle, then two more messages in that session.
        id1, m1 = alice.encrypt("bob", 1, b"hi bob", bundle=bundle)
        assert alice.message_status(id1) is MessageStatus.PENDING
        assert alice.mark_sent(id1) is MessageStatus.SENT
        assert bluetick.message_id_of(m1) == id1
        id2, m2 = alice.encrypt("bob", 1, b"second")
        id3, m3 = alice.encrypt(b"bob", 1, bytearray(b"third"))
        alice.mark_sent(id2)
        alice.mark_sent(id3)

        # Bob receives the first, then the third before the second.
        first = bob.decrypt("alice", 1, m1)
        assert isinstance(first, Message)
        assert (first.id, first.body, first.sender) == (id1, b"hi bob", alice_key)
        assert (first.user, first.device) == (b"alice", 1)
        assert bob.decrypt("alice", 1, m3).body == b"third"
        assert bob.decrypt("alice", 1, memoryview(m2)).body == b"second"

        # All three wait in the inbox until acknowledged.
        inbox = bob.inbox()
        assert sorted(e.body for e in inbox) == [b"hi bob", b"second", b"third"]
        assert {(e.user, e.device) for e in inbox} == {(b"alice", 1)}
        assert {e.id for e in inbox} == {id1, id2, id3}

        # Receipts: delivered for all three (ids in any order), read for the first. The
        # read one arrives first; the delivery receipt must not move it back.
        delivered = bob.create_receipt("alice", 1, ReceiptKind.DELIVERED, [id3, id1, id2], 1000)
        read = bob.create_receipt("alice", 1, ReceiptKind.READ, [id1], now_ms=2000)
        got = alice.decrypt("bob", 1, read.wire)
        assert isinstance(got, Receipt)
        assert (got.kind, got.timestamp_ms, got.id, got.sender) == (
            ReceiptKind.READ,
            2000,
            read.id,
            bob_key,
        )
        assert got.updates == [(id1, MessageStatus.READ)]
        got = alice.decrypt("bob", 1, delivered.wire)
        assert got.kind is ReceiptKind.DELIVERED and got.timestamp_ms == 1000
        assert sorted(got.updates) == sorted(
            [(id2, MessageStatus.DELIVERED), (id3, MessageStatus.DELIVERED)]
        )
        assert alice.message_status(id1) is MessageStatus.READ
        assert alice.message_status(id2) is MessageStatus.DELIVERED
        # The same receipt again is a duplicate; a relay ack after Read changes nothing.
        with pytest.raises(DuplicateMessageError) as e:
            alice.decrypt("bob", 1, read.wire)
        assert type(e.value) is DuplicateMessageError
        assert alice.mark_sent(id1) is MessageStatus.READ

        # A reply the other way, and safety numbers that agree.
        reply = bob.encrypt("alice", 1, b"yes!")
        assert alice.decrypt("bob", 1, reply.wire).body == b"yes!"
        number = alice.safety_number("bob", 1)
        assert number is not None and len(number) == 60 and number.isdigit()
        assert bob.safety_number("alice", 1) == number
        assert bob.safety_number("carol", 1) is None
        assert alice.peer_identity("bob", 1) == bob_key
        assert alice.peer_identity("carol", 1) is None

    # Closed (closing again is harmless); a wrong key and an existing account refused.
    alice.close()
    assert alice.closed
    with pytest.raises(WrongStorageKeyError) as e:
        Account.open_sqlite(bob_db, KEY_ALICE)
    assert isinstance(e.value, StoreError)
    assert e.value.status_name == "BT_WRONG_STORAGE_KEY" and "storage key" in e.value.message
    with pytest.raises(bluetick.AccountExistsError):
        Account.create_sqlite(bob_db, KEY_BOB)

    # Reopened: identities, sessions, statuses and the inbox persisted.
    with Account.open_sqlite(alice_db, KEY_ALICE, SMALL) as alice, Account.open_sqlite(
        bob_db, KEY_BOB
    ) as bob:
        assert bob.identity == bob_key
        assert alice.message_status(id1) is MessageStatus.READ
        assert alice.message_status(id3) is MessageStatus.DELIVERED
        assert len(bob.inbox()) == 3

        # A redelivery comes back from the inbox; after acknowledgement it is refused.
        assert bob.decrypt("alice", 1, m1).body == b"hi bob"
        bob.acknowledge(id1)
        bob.acknowledge(id2)
        assert [e.id for e in bob.inbox()] == [id3]
        with pytest.raises(AlreadyReceivedError) as e:
            bob.decrypt("alice", 1, m1)
        assert isinstance(e.value, DuplicateMessageError)

        after = bob.encrypt("alice", 1, b"after reopen")
        assert alice.decrypt("bob", 1, after.wire).body == b"after reopen"

        # Deniable receipts move statuses too.
        deniable = bob.create_receipt("alice", 1, ReceiptKind.DENIABLE_READ, [id3], 7)
        got = alice.decrypt("bob", 1, deniable.wire)
        assert got.kind is ReceiptKind.DENIABLE_READ and got.kind.deniable
        assert got.updates == [(id3, MessageStatus.READ)]

        # Unknown ids and peers, and arguments out of range.
        unknown = bytes([0xEE]) * 16
        with pytest.raises(UnknownMessageError):
            bob.acknowledge(unknown)
        with pytest.raises(UnknownMessageError):
            alice.mark_sent(unknown)
        assert alice.message_status(unknown) is None
        with pytest.raises(UnknownMessageError):
            bob.create_receipt("alice", 1, ReceiptKind.READ, [unknown])
        with pytest.raises(InvalidIdCountError):
            bob.create_receipt("alice", 1, ReceiptKind.READ, [])
        with pytest.raises(InvalidArgumentError) as e:
            bob.create_receipt("alice", 1, 3, [id3])  # not a receipt kind
        assert type(e.value) is InvalidArgumentError and e.value.status == 101
        with pytest.raises(NoSessionError) as e:
            alice.encrypt("carol", 1, b"x")
        assert "bundle" in e.value.message


def test_damaged_input_raises_its_own_error_and_changes_nothing(memory_account):
    alice, bob = memory_account(TINY, KEY_ALICE), memory_account(SMALL)
    relay = publish(bob)
    bundle = relay.take_bundle()

    # Bundles: truncated, trailing bytes, wrong version, forged signature.
    with pytest.raises(TruncatedError) as e:
        alice.encrypt("bob", 1, b"x", bundle=bundle[:-1])
    assert isinstance(e.value, MalformedInputError) and e.value.status_name == "BT_TRUNCATED"
    with pytest.raises(bluetick.TrailingBytesError):
        alice.encrypt("bob", 1, b"x", bundle=bundle + b"\0")
    with pytest.raises(bluetick.UnsupportedVersionError):
        alice.encrypt("bob", 1, b"x", bundle=b"\x02" + bundle[1:])
    forged = bytearray(bundle)
    forged[1 + 32 + 4 + 32] ^= 1  # the signed prekey's signature
    with pytest.raises(bluetick.BadSignatureError) as e:
        alice.encrypt("bob", 1, b"x", bundle=forged)
    assert isinstance(e.value, AuthenticationError)

    # A genuine exchange, so the next message is a plain Message.
    first = alice.encrypt("bob", 1, b"first", bundle=bundle)
    assert bob.decrypt("alice", 1, first.wire).body == b"first"
    ok = bob.encrypt("alice", 1, b"ok")
    assert alice.decrypt("bob", 1, ok.wire).body == b"ok"
    sent = alice.encrypt("bob", 1, b"second")
    wire = sent.wire

    with pytest.raises(TruncatedError):
        bob.decrypt("alice", 1, b"")
    with pytest.raises(TruncatedError):
        bob.decrypt("alice", 1, wire[:5])
    with pytest.raises(bluetick.CiphertextTooShortError):
        bob.decrypt("alice", 1, wire[: 1 + 40 + 8])
    with pytest.raises(AuthenticationFailedError) as e:
        bob.decrypt("alice", 1, wire[:-1])
    assert isinstance(e.value, AuthenticationError)
    tampered = bytearray(wire)
    tampered[-3] ^= 1
    with pytest.raises(AuthenticationFailedError):
        bob.decrypt("alice", 1, tampered)
    with pytest.raises(UnknownMessageTypeError):
        bob.decrypt("alice", 1, b"\x7f" + wire[1:])
    with pytest.raises(NoSessionError):
        bob.decrypt("mallory", 1, wire)

    # None of that moved the session: the genuine message still decrypts, once.
    got = bob.decrypt("alice", 1, wire)
    assert (got.id, got.body) == (sent.id, b"second")
    assert bob.decrypt("alice", 1, wire).body == b"second"  # redelivery before ack
    bob.acknowledge(sent.id)
    with pytest.raises(AlreadyReceivedError):
        bob.decrypt("alice", 1, wire)
