"""Groups (spec §12): members, one send with its group wire, distributions and transcript,
the group message on every member device, per-device receipts and the aggregate."""

from __future__ import annotations

from bluetick import (
    AccountError,
    Address,
    BatchMessage,
    DeviceEntry,
    ErrorKind,
    MessageStatus,
    ReceiptKind,
)
from conftest import SMALL
from helpers import publish, raises

A1 = Address(user=b"alice", device=1)
A2 = Address(user=b"alice", device=2)
B1 = Address(user=b"bob", device=1)
C1 = Address(user=b"carol", device=1)
G = b"friends"


RELAY = Address(user=b"relay", device=0)


def three_users(memory_account):
    """Alice (two devices), Bob and Carol in the group `G`, and the relay's prekeys of each
    device; no session yet."""
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
    relays = {
        (a.user, a.device): publish(acc) for a, acc in ((A1, a1), (A2, a2), (B1, b1), (C1, c1))
    }
    return a1, a2, b1, c1, relays


def connect(acc, relays):
    for addr in acc.group_devices_without_session(G):
        acc.start_session(addr, relays[(addr.user, addr.device)].take_bundle())
    assert acc.group_devices_without_session(G) == []


def test_a_group_of_three_users(memory_account):
    a1, a2, b1, c1, relays = three_users(memory_account)
    assert a1.group_members(G) == [b"bob", b"carol"]
    raises(AccountError.NoSession, ErrorKind.NO_SESSION, a1.send_to_group, G, b"x", 0)
    connect(a1, relays)

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


def test_a_removed_member_loses_its_key_and_a_forgotten_group_refuses_its_wires(memory_account):
    a1, a2, b1, c1, relays = three_users(memory_account)
    accounts = {(a.user, a.device): acc for a, acc in ((A1, a1), (A2, a2), (B1, b1), (C1, c1))}

    def deliver(sender, sent):
        for w in sent.distributions + sent.transcripts:
            accounts[(w.to.user, w.to.device)].decrypt(sender, w.wire)
        for to in sent.recipients:
            accounts[(to.user, to.device)].decrypt(RELAY, sent.group_wire)

    connect(a1, relays)
    deliver(A1, a1.send_to_group(G, b"hello", 2_000))
    connect(b1, relays)
    deliver(B1, b1.send_to_group(G, b"from bob", 2_100))
    assert [e.body for e in a1.group_inbox(G)] == [b"from bob"]
    # Not delivered yet: one message from each.
    bob_later = b1.send_to_group(G, b"bob later", 2_200)
    alice_later = a1.send_to_group(G, b"alice later", 2_200)
    assert bob_later.distributions == [] and alice_later.distributions == []

    # Alice removes Bob: his key goes with that call, so his next message is an unknown
    # distribution (not a refused member), and Alice's inbox does not move.
    a1.set_group_members(G, [b"carol"], 2_300)
    unknown = (AccountError.Decryption, ErrorKind.UNKNOWN_DISTRIBUTION)
    raises(*unknown, a1.decrypt, RELAY, bob_later.group_wire)
    assert [e.body for e in a1.group_inbox(G)] == [b"from bob"]

    # Carol forgets the group: Alice's message under the key Carol held no longer opens,
    # the unacknowledged messages stay, the group is unknown and its clock starts over.
    inbox = c1.group_inbox(G)
    assert [e.body for e in inbox] == [b"hello", b"from bob"]
    assert c1.group_clock(G) == 2
    c1.forget_group(G)
    raises(*unknown, c1.decrypt, RELAY, alice_later.group_wire)
    assert c1.group_inbox(G) == inbox
    assert c1.group_clock(G) == 0
    raises(AccountError.InvalidArgument, ErrorKind.INVALID_VALUE, c1.group_members, G)
    raises(AccountError.InvalidArgument, ErrorKind.INVALID_VALUE, c1.send_to_group, G, b"x", 2_400)
    c1.forget_group(G)  # again: nothing to do

    # Made again: a new key for every member device, and a clock from the start.
    c1.set_group_members(G, [b"alice", b"bob"], 2_500)
    connect(c1, relays)
    back = c1.send_to_group(G, b"back", 2_600)
    assert back.lamport == 1
    assert [w.to for w in back.distributions] == [A1, A2, B1]
    deliver(C1, back)
    assert b"back" in [e.body for e in b1.group_inbox(G)]


def test_a_receiving_device_counts_a_replaced_keys_hour_on_the_clock_it_decrypts_at(
    memory_account,
):
    a1, a2, b1, c1, relays = three_users(memory_account)
    connect(b1, relays)
    minute, t = 60_000, 1_800_000_000_000
    # Four under Bob's first key, two under the next (the first is 8 days old by then).
    later = 2_000 + 8 * 24 * 60 * minute
    sends = [
        b1.send_to_group(G, b"old" if i < 4 else b"new", (2_000 if i < 4 else later) + i)
        for i in range(6)
    ]
    keys = [w.wire for s in sends for w in s.distributions if w.to == C1]
    assert len(keys) == 2
    wires = [s.group_wire for s in sends]

    def body(now, i):
        got = c1.decrypt_at(RELAY, wires[i], now).received
        assert got.is_GROUP_MESSAGE()
        return got.body

    # Carol only receives: her last group call was at 1_000.
    assert c1.decrypt_at(B1, keys[0], t - 10 * minute).received.is_DISTRIBUTION()
    assert body(t - 10 * minute, 0) == b"old" and body(t - 5 * minute, 3) == b"old"
    # The replacement at T, in a batch.
    [out] = c1.decrypt_batch_at([BatchMessage(peer=B1, wire=keys[1])], t)
    assert out.is_DECRYPTED() and out.incoming.received.is_DISTRIBUTION()
    assert body(t + minute, 4) == b"new"
    assert body(t + 59 * minute, 1) == b"old"
    unknown = (AccountError.Decryption, ErrorKind.UNKNOWN_DISTRIBUTION)
    inbox = c1.group_inbox(G)
    raises(*unknown, c1.decrypt_at, RELAY, wires[2], t + 61 * minute)
    assert c1.group_inbox(G) == inbox
    # Once a message opens after the hour the old key is erased: a clock gone back does not
    # bring it back, and neither does `decrypt` without one.
    assert body(t + 62 * minute, 5) == b"new"
    raises(*unknown, c1.decrypt_at, RELAY, wires[2], t + 30 * minute)
    raises(*unknown, c1.decrypt, RELAY, wires[2])
