"""A whole conversation between two SQLite accounts through the generated layer: bundles
from the upload, PQXDH, messages both ways and out of order, receipts and the statuses they
set, close and reopen, the inbox and acknowledgements, and the errors on the way."""

from __future__ import annotations

import bluetick
from bluetick import Account, AccountError, ErrorKind, MessageStatus, ReceiptKind, StatusUpdate
from conftest import ALICE, BOB, CAROL, KEY_ALICE, KEY_BOB, SMALL, TINY
from helpers import publish, raises


def test_two_accounts_converse_persist_and_reopen(tmp_path):
    alice_db, bob_db = str(tmp_path / "alice.db"), str(tmp_path / "bob.db")
    with Account.create_sqlite(alice_db, KEY_ALICE, SMALL) as alice, Account.create_sqlite(
        bob_db, KEY_BOB, SMALL
    ) as bob:
        alice_key, bob_key = alice.identity(), bob.identity()
        assert len(alice_key) == 32 and alice_key != bob_key

        # Bob publishes; the relay hands Alice a bundle with a one-time prekey.
        relay = publish(bob)
        bundle = relay.take_bundle()
        assert len(bundle) == 1806

        # PQXDH from the bundle, then two more messages in that session.
        m1 = alice.encrypt(BOB, b"hi bob", bundle, 1001)
        assert m1.lamport == 1
        id1 = m1.id
        assert alice.message_status(id1) == MessageStatus.PENDING
        assert alice.mark_sent(id1) == MessageStatus.SENT
        assert bluetick.message_id_of(m1.wire) == id1
        m2 = alice.encrypt(BOB, b"second", None, 1002)
        m3 = alice.encrypt(BOB, b"third", None, 1003)
        assert (m2.lamport, m3.lamport) == (2, 3)
        id2, id3 = m2.id, m3.id
        alice.mark_sent(id2)
        alice.mark_sent(id3)

        # Bob receives the first, then the third before the second.
        first = bob.decrypt(ALICE, m1.wire)
        assert first.received.is_MESSAGE()
        assert (first.received.id, first.received.body, first.sender) == (id1, b"hi bob", alice_key)
        assert first._from == ALICE
        assert (first.received.lamport, first.received.sent_at_ms) == (1, 1001)
        assert bob.decrypt(ALICE, m3.wire).received.body == b"third"
        assert bob.decrypt(ALICE, m2.wire).received.body == b"second"

        # All three wait in the inbox until acknowledged.
        inbox = bob.inbox()
        assert sorted(e.body for e in inbox) == [b"hi bob", b"second", b"third"]
        assert {(e._from.user, e._from.device) for e in inbox} == {(b"alice", 1)}
        assert {e.id for e in inbox} == {id1, id2, id3}
        # The conversation lists them as Alice wrote them, though the third came first.
        shown = bob.conversation_inbox(b"alice")
        assert [(e.body, e.lamport, e.sent_at_ms) for e in shown] == [
            (b"hi bob", 1, 1001), (b"second", 2, 1002), (b"third", 3, 1003)]
        assert bob.conversation_inbox(b"carol") == []
        assert bob.conversation_clock(b"alice") == 3

        # Receipts: delivered for all three (ids in any order), read for the first. The
        # read one arrives first; the delivery receipt must not move it back.
        delivered = bob.create_receipt(ALICE, ReceiptKind.DELIVERED, [id3, id1, id2], 1000)
        read = bob.create_receipt(ALICE, ReceiptKind.READ, [id1], 2000)
        got = alice.decrypt(BOB, read.wire)
        assert got.received.is_RECEIPT() and got.sender == bob_key
        assert (got.received.kind, got.received.timestamp_ms) == (ReceiptKind.READ, 2000)
        assert got.received.updated == [StatusUpdate(id=id1, status=MessageStatus.READ)]
        got = alice.decrypt(BOB, delivered.wire)
        assert got.received.kind == ReceiptKind.DELIVERED and got.received.timestamp_ms == 1000
        assert sorted((u.id, u.status.value) for u in got.received.updated) == sorted(
            [(id2, MessageStatus.DELIVERED.value), (id3, MessageStatus.DELIVERED.value)]
        )
        assert alice.message_status(id1) == MessageStatus.READ
        assert alice.message_status(id2) == MessageStatus.DELIVERED
        # The same receipt again was already received, like a redelivered message; a relay
        # ack after Read changes nothing.
        raises(AccountError.AlreadyReceived, ErrorKind.ALREADY_RECEIVED, alice.decrypt, BOB, read.wire)
        assert alice.mark_sent(id1) == MessageStatus.READ

        # A reply the other way, and safety numbers that agree.
        reply = bob.encrypt(ALICE, b"yes!", None, 0)
        assert alice.decrypt(BOB, reply.wire).received.body == b"yes!"
        number = alice.safety_number(BOB)
        assert number is not None and len(number) == 60 and number.isdigit()
        assert bob.safety_number(ALICE) == number
        assert bob.safety_number(CAROL) is None
        assert alice.peer_identity(BOB) == bob_key
        assert alice.peer_identity(CAROL) is None

    # Closed (closing again is harmless) and refusing calls; a wrong key and an existing
    # account refused.
    alice.close_store()
    raises(AccountError.InvalidArgument, ErrorKind.CLOSED, alice.identity)
    e = raises(AccountError.Store, ErrorKind.WRONG_STORAGE_KEY, Account.open_sqlite, bob_db, KEY_ALICE, SMALL)
    assert "storage key" in str(e)
    raises(AccountError.Store, ErrorKind.ACCOUNT_EXISTS, Account.create_sqlite, bob_db, KEY_BOB, SMALL)

    # Reopened: identities, sessions, statuses and the inbox persisted.
    with Account.open_sqlite(alice_db, KEY_ALICE, SMALL) as alice, Account.open_sqlite(
        bob_db, KEY_BOB, SMALL
    ) as bob:
        assert bob.identity() == bob_key
        assert alice.message_status(id1) == MessageStatus.READ
        assert alice.message_status(id3) == MessageStatus.DELIVERED
        assert len(bob.inbox()) == 3

        # A redelivery comes back from the inbox; after acknowledgement it is refused.
        assert bob.decrypt(ALICE, m1.wire).received.body == b"hi bob"
        bob.acknowledge(id1)
        bob.acknowledge(id2)
        assert [e.id for e in bob.inbox()] == [id3]
        raises(AccountError.AlreadyReceived, ErrorKind.ALREADY_RECEIVED, bob.decrypt, ALICE, m1.wire)

        after = bob.encrypt(ALICE, b"after reopen", None, 0)
        assert alice.decrypt(BOB, after.wire).received.body == b"after reopen"

        # Deniable receipts move statuses too.
        deniable = bob.create_receipt(ALICE, ReceiptKind.DENIABLE_READ, [id3], 7)
        got = alice.decrypt(BOB, deniable.wire)
        assert got.received.kind == ReceiptKind.DENIABLE_READ
        assert got.received.updated == [StatusUpdate(id=id3, status=MessageStatus.READ)]

        # Unknown ids and peers, and arguments out of range.
        unknown = bytes([0xEE]) * 16
        raises(AccountError.UnknownMessage, ErrorKind.UNKNOWN_MESSAGE, bob.acknowledge, unknown)
        raises(AccountError.UnknownMessage, ErrorKind.UNKNOWN_MESSAGE, alice.mark_sent, unknown)
        assert alice.message_status(unknown) is None
        raises(AccountError.UnknownMessage, ErrorKind.UNKNOWN_MESSAGE,
               bob.create_receipt, ALICE, ReceiptKind.READ, [unknown], 0)
        raises(AccountError.Receipt, ErrorKind.INVALID_ID_COUNT, bob.create_receipt, ALICE, ReceiptKind.READ, [], 0)
        e = raises(AccountError.NoSession, ErrorKind.NO_SESSION, alice.encrypt, CAROL, b"x", None, 0)
        assert "bundle" in str(e)


def test_damaged_input_raises_its_own_error_and_changes_nothing(memory_account):
    alice, bob = memory_account(TINY, KEY_ALICE), memory_account(SMALL)
    bundle = publish(bob).take_bundle()

    # Bundles: truncated, trailing bytes, wrong version, forged signature.
    raises(AccountError.Bundle, ErrorKind.TRUNCATED, alice.encrypt, BOB, b"x", bundle[:-1], 0)
    raises(AccountError.Bundle, ErrorKind.TRAILING_BYTES, alice.encrypt, BOB, b"x", bundle + b"\0", 0)
    raises(AccountError.Bundle, ErrorKind.UNSUPPORTED_VERSION, alice.encrypt, BOB, b"x", b"\x02" + bundle[1:], 0)
    forged = bytearray(bundle)
    forged[1 + 32 + 4 + 32] ^= 1  # the signed prekey's signature
    raises(AccountError.Bundle, ErrorKind.BAD_SIGNATURE, alice.encrypt, BOB, b"x", bytes(forged), 0)
    assert alice.peer_identity(BOB) is None  # nothing was trusted

    # A genuine exchange, so the next message is a plain Message.
    first = alice.encrypt(BOB, b"first", bundle, 0)
    assert bob.decrypt(ALICE, first.wire).received.body == b"first"
    ok = bob.encrypt(ALICE, b"ok", None, 0)
    assert alice.decrypt(BOB, ok.wire).received.body == b"ok"
    sent = alice.encrypt(BOB, b"second", None, 0)
    wire = sent.wire

    D = AccountError.Decryption
    raises(D, ErrorKind.TRUNCATED, bob.decrypt, ALICE, b"")
    raises(D, ErrorKind.TRUNCATED, bob.decrypt, ALICE, wire[:5])
    raises(D, ErrorKind.CIPHERTEXT_TOO_SHORT, bob.decrypt, ALICE, wire[: 1 + 40 + 8])
    raises(D, ErrorKind.AUTHENTICATION_FAILED, bob.decrypt, ALICE, wire[:-1])
    tampered = bytearray(wire)
    tampered[-3] ^= 1
    raises(D, ErrorKind.AUTHENTICATION_FAILED, bob.decrypt, ALICE, bytes(tampered))
    raises(D, ErrorKind.UNKNOWN_MESSAGE_TYPE, bob.decrypt, ALICE, b"\x7f" + wire[1:])
    raises(D, ErrorKind.NO_SESSION, bob.decrypt, bluetick.Address(user=b"mallory", device=1), wire)

    # None of that moved the session: the genuine message still decrypts.
    got = bob.decrypt(ALICE, wire)
    assert (got.received.id, got.received.body) == (sent.id, b"second")
    assert bob.decrypt(ALICE, wire).received.body == b"second"  # redelivery before ack
    bob.acknowledge(sent.id)
    raises(AccountError.AlreadyReceived, ErrorKind.ALREADY_RECEIVED, bob.decrypt, ALICE, wire)


def test_a_damaged_store_is_reported_as_corrupt(tmp_path):
    """Every record is bound to its row: a damaged row key is a corrupt store, found by
    verify_store on an open account and by opening it, never read as a missing record."""
    import sqlite3

    alice_db, bob_db = str(tmp_path / "alice.db"), str(tmp_path / "bob.db")
    with Account.create_sqlite(alice_db, KEY_ALICE, SMALL) as alice, Account.create_sqlite(
        bob_db, KEY_BOB, SMALL
    ) as bob:
        bob.decrypt(ALICE, alice.encrypt(BOB, b"hi bob", publish(bob).take_bundle(), 0).wire)
        bob.verify_store()
        with sqlite3.connect(bob_db) as db:
            key, = db.execute("SELECT key FROM records WHERE tbl = 'sessions'").fetchone()
            damaged = bytes([key[0] ^ 1]) + key[1:]
            db.execute("UPDATE records SET key = ? WHERE tbl = 'sessions' AND key = ?",
                       (damaged, key))
        e = raises(AccountError.Store, ErrorKind.STORE_CORRUPT, bob.verify_store)
        assert "sessions" in str(e)
    raises(AccountError.Store, ErrorKind.STORE_CORRUPT, Account.open_sqlite, bob_db, KEY_BOB, SMALL)
