"""Users with several devices (spec §11) through the generated layer: device lists signed
by the primary, sessions from bundles, one logical message with a sent transcript, the
transcript on the companion, per-device and aggregate statuses, and the refusals."""

from __future__ import annotations

from bluetick import Account, AccountError, Address, DeviceEntry, ErrorKind, MessageStatus, ReceiptKind
from conftest import SMALL
from helpers import publish, raises

A1 = Address(user=b"alice", device=1)
A2 = Address(user=b"alice", device=2)
B1 = Address(user=b"bob", device=1)


def test_a_primary_a_companion_and_a_peer(memory_account):
    a1, a2, b1 = memory_account(SMALL), memory_account(SMALL), memory_account(SMALL)
    # Without its own address, an account cannot sign its user's list.
    raises(AccountError.Device, ErrorKind.INVALID_VALUE, a1.sign_device_list, 1, [])
    a1.set_own_address(A1)
    a2.set_own_address(A2)
    b1.set_own_address(B1)
    assert a2.own_address() == A2

    alice_list = a1.sign_device_list(1, [DeviceEntry(device=2, identity=a2.identity())])
    change = a2.accept_device_list(alice_list)
    assert change.added == [1, 2] and change.removed == [] and change.changed == []
    assert a2.user_identity(b"alice") == a1.identity()
    b1.accept_device_list(alice_list)
    bob_list = b1.sign_device_list(1, [])
    for a in (a1, a2):
        a.accept_device_list(bob_list)
    assert a1.device_list(b"bob") == bob_list
    # The same version with other contents is stale and changes nothing.
    raises(AccountError.Device, ErrorKind.STALE_DEVICE_LIST, a1.sign_device_list, 1, [])
    assert a1.device_list(b"alice") == alice_list
    # Every Alice device shows Bob the same number: it is over user identities.
    assert a1.user_safety_number(b"bob") == a2.user_safety_number(b"bob") is not None
    assert b1.user_safety_number(b"alice") == a1.user_safety_number(b"bob")

    # Sessions from bundles; a device the list does not name is refused.
    raises(AccountError.NoSession, ErrorKind.NO_SESSION, a1.send_to_user, b"bob", b"x", 0)
    assert a1.devices_without_session(b"bob") == [B1, A2]
    a2_relay, b1_relay = publish(a2), publish(b1)
    raises(
        AccountError.Device,
        ErrorKind.DEVICE_NOT_LISTED,
        a1.start_session,
        Address(user=b"alice", device=9),
        a2_relay.take_bundle(),
    )
    a1.start_session(B1, b1_relay.take_bundle())
    a1.start_session(A2, a2_relay.take_bundle())
    assert a1.devices_without_session(b"bob") == []

    # One logical message: a wire to Bob and a sent transcript to the companion.
    m = a1.send_to_user(b"bob", b"hello bob", 77)
    assert m.lamport == 1 and len(m.id) == 16
    to_bob, transcript = m.wires
    assert (to_bob.to, to_bob.transcript) == (B1, False)
    assert (transcript.to, transcript.transcript) == (A2, True)
    assert a1.logical_status(m.id) == MessageStatus.PENDING
    a1.mark_sent(to_bob.id)
    assert a1.logical_status(m.id) == MessageStatus.SENT

    got = a2.decrypt(A1, transcript.wire).received
    assert got.is_TRANSCRIPT()
    assert (got.to_user, got.lamport, got.sent_at_ms, got.body) == (b"bob", 1, 77, b"hello bob")
    [entry] = a2.conversation_inbox(b"bob")
    assert (entry._from, entry.transcript_to, entry.body) == (A1, b"bob", b"hello bob")
    assert a2.conversation_clock(b"bob") == 1
    # Bob gets an ordinary message; his inbox has no transcript.
    assert b1.decrypt(A1, to_bob.wire).received.is_MESSAGE()
    assert [e.transcript_to for e in b1.inbox()] == [None]

    receipt = b1.create_receipt(A1, ReceiptKind.DELIVERED, [to_bob.id], 5)
    a1.decrypt(B1, receipt.wire)
    assert a1.logical_status(m.id) == MessageStatus.DELIVERED
    info = a1.message_info(m.id)
    assert [(s.to, s.status, s.transcript) for s in info] == [
        (B1, MessageStatus.DELIVERED, False),
        (A2, MessageStatus.PENDING, True),
    ]
    assert a1.logical_status(bytes(16)) is None
    assert a1.message_info(bytes(16)) is None
