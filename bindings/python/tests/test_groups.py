"""Groups (spec §12): members, one send with its group wire, distributions and transcript,
the group message on every member device, per-device receipts and the aggregate."""

from __future__ import annotations

from bluetick import AccountError, Address, DeviceEntry, ErrorKind, MessageStatus, ReceiptKind
from conftest import SMALL
from helpers import publish, raises

A1 = Address(user=b"alice", device=1)
A2 = Address(user=b"alice", device=2)
B1 = Address(user=b"bob", device=1)
C1 = Address(user=b"carol", device=1)
G = b"friends"


def test_a_group_of_three_users(memory_account):
    a1, a2, b1, c1 = (memory_account(SMALL) for _ in range(4))
    for acc, addr in ((a1, A1), (a2, A2), (b1, B1), (c1, C1)):
        acc.set_own_address(addr)
    lists = [
        a1.sign_device_list(1, [DeviceEntry(device=2, identity=a2.identity())]),
        b1.sign_device_list(1, []),
        c1.sign_device_list(1, []),
    ]
    for acc in (a1, a2, b1, c1):
        for lst in lists:
            acc.accept_device_list(lst)
        acc.set_group_members(G, [b"alice", b"bob", b"carol"], 1_000)
    assert a1.group_members(G) == [b"bob", b"carol"]
    raises(AccountError.NoSession, ErrorKind.NO_SESSION, a1.send_to_group, G, b"x", 0)
    relays = {(a.user, a.device): publish(acc) for a, acc in ((A2, a2), (B1, b1), (C1, c1))}
    for addr in a1.group_devices_without_session(G):
        a1.start_session(addr, relays[(addr.user, addr.device)].take_bundle())
    assert a1.group_devices_without_session(G) == []

    sent = a1.send_to_group(G, b"hello group", 2_000)
    assert sent.lamport == 1 and sent.recipients == [B1, C1]
    assert [w.to for w in sent.distributions] == [B1, C1]
    assert [w.to for w in sent.transcripts] == [A2]
    by_addr = {b"bob": b1, b"carol": c1}
    for d in sent.distributions:
        got = by_addr[d.to.user].decrypt(A1, d.wire).received
        assert got.is_DISTRIBUTION() and got.group == G
    for acc in (b1, c1):
        # The relay may attach any address: the sender is the key's distributor.
        got = acc.decrypt(Address(user=b"relay", device=0), sent.group_wire).received
        assert got.is_GROUP_MESSAGE()
        assert (got.group, got._from, got.lamport, got.body) == (G, A1, 1, b"hello group")
        [entry] = acc.group_inbox(G)
        assert (entry.group, entry._from, entry.body) == (G, A1, b"hello group")
        assert acc.group_clock(G) == 1
    t = a2.decrypt(A1, sent.transcripts[0].wire).received
    assert t.is_GROUP_MESSAGE() and t.group == G and t._from == A1
    # The next message needs no distribution.
    assert a1.send_to_group(G, b"again", 2_001).distributions == []

    a1.mark_sent(sent.group_wire_id)
    assert a1.logical_status(sent.id) == MessageStatus.SENT
    for acc, addr, kind in ((b1, B1, ReceiptKind.READ), (c1, C1, ReceiptKind.DELIVERED)):
        [entry] = acc.group_inbox(G)
        r = acc.create_receipt(entry._from, kind, [entry.id], 3_000)
        a1.decrypt(addr, r.wire)
    assert a1.logical_status(sent.id) == MessageStatus.DELIVERED
    info = [(s.to, s.status, s.transcript) for s in a1.message_info(sent.id)]
    assert info[0] == (B1, MessageStatus.READ, False)
    assert info[1] == (C1, MessageStatus.DELIVERED, False)
    assert (info[2][0], info[2][2]) == (A2, True)
