"""The relay client driven against a relay in miniature: the relay's side of the frame
layout of docs/relay.md is written here by hand (not with the library's codec)."""

from __future__ import annotations

import struct

import pytest
from conftest import ALICE, BOB, KEY_ALICE, KEY_BOB, SMALL, TINY
from helpers import publish

from bluetick import (
    Address,
    MessageStatus,
    Received,
    RelayBackoff,
    RelayClient,
    RelayError,
    RelayErrorCode,
    RelayEvent,
    RelayState,
)

NONCE = bytes(range(0x40, 0x60))
NO_JITTER = RelayBackoff(base_ms=100, max_ms=1_000, jitter_ms=0)


def address(a: Address) -> bytes:
    return bytes([len(a.user)]) + a.user + struct.pack(">I", a.device)


def challenge() -> bytes:
    return b"\x01\x01\x01\x02" + NONCE


def welcome(queued: int) -> bytes:
    return b"\x03\x07" + struct.pack(">I", queued)


def sent(message_id: bytes) -> bytes:
    return b"\x0c\x10" + message_id


def deliver(sender: Address, wire: bytes) -> bytes:
    return b"\x0d\x11" + address(sender) + b"\x0f" + struct.pack(">I", len(wire)) + wire


def bundle_answer(request: int, bundle: bytes) -> bytes:
    return (
        b"\x06\x08" + struct.pack(">I", request) + b"\x0a" + struct.pack(">I", len(bundle)) + bundle
        + b"\x06\x00\x0b\x00"
    )


def parse_send(frame: bytes) -> tuple[Address, bytes]:
    """The one recipient and the wire of a Send frame."""
    assert frame[0] == 0x0B and frame[1] == 0x0E
    assert struct.unpack(">H", frame[2:4])[0] == 1
    n = frame[4]
    to = Address(user=frame[5 : 5 + n], device=struct.unpack(">I", frame[5 + n : 9 + n])[0])
    at = 9 + n
    assert frame[at] == 0x0F
    (length,) = struct.unpack(">I", frame[at + 1 : at + 5])
    assert len(frame) == at + 5 + length
    return to, frame[at + 5 :]


def parse_ack(frame: bytes) -> list[bytes]:
    assert frame[0] == 0x0E and frame[1] == 0x12
    (count,) = struct.unpack(">H", frame[2:4])
    assert len(frame) == 4 + 16 * count
    return [frame[4 + 16 * i : 20 + 16 * i] for i in range(count)]


def handshake(client: RelayClient, account, queued: int = 0) -> None:
    """Connects and authenticates as the relay would, checking the Authenticate frame."""
    client.connected()
    assert client.state() == RelayState.AWAITING_CHALLENGE()
    client.receive(challenge(), account)
    [auth] = client.drain_transmit()
    me = client.address()
    assert auth[0] == 0x02 and auth[1] == 0x03
    assert auth[2 : 7 + len(me.user)] == address(me)
    ik = 8 + len(me.user)
    assert auth[ik : ik + 32] == account.identity()
    client.receive(welcome(queued), account)
    assert client.state() == RelayState.READY()
    assert client.drain_events() == [RelayEvent.READY(queued=queued)]


def test_two_clients_through_a_fake_relay(memory_account):
    alice = memory_account(SMALL, KEY_ALICE)
    bob = memory_account(SMALL, KEY_BOB)
    bob_at_relay = publish(bob)
    a = RelayClient(ALICE, None, NO_JITTER)
    b = RelayClient(BOB, None, NO_JITTER)
    assert a.drain_transmit() == []
    handshake(a, alice)
    handshake(b, bob)

    # Alice fetches Bob's bundle and sends him a first message.
    request = a.fetch_bundle(BOB)
    [fetch] = a.drain_transmit()
    assert fetch[0] == 0x05 and struct.unpack(">I", fetch[2:6])[0] == request
    a.receive(bundle_answer(request, bob_at_relay.take_bundle()), alice)
    [bundle] = a.drain_events()
    assert bundle.is_BUNDLE() and bundle.request == request and bundle.certificate is None
    first = alice.encrypt(BOB, b"hello bob", bundle.bundle, 1000)
    assert a.send([BOB], first.wire) == first.id
    [frame] = a.drain_transmit()
    to, wire = parse_send(frame)
    assert to == BOB and wire == first.wire

    # The relay's Sent: the grey tick.
    a.receive(sent(first.id), alice)
    assert a.drain_events() == [RelayEvent.SENT(id=first.id)]
    assert alice.mark_sent(first.id) == MessageStatus.SENT
    assert a.outbox_len() == 0

    # Bob's delivery: decrypted, acknowledged only after the commit.
    b.receive(deliver(ALICE, wire), bob)
    [delivery] = b.drain_events()
    assert delivery == RelayEvent.DELIVERY(sender=ALICE, id=first.id, wire=first.wire)
    assert b.drain_transmit() == []
    received = bob.decrypt(delivery.sender, delivery.wire).received
    assert isinstance(received, Received.MESSAGE) and received.body == b"hello bob"
    b.committed(delivery.id)
    [ack] = b.drain_transmit()
    assert parse_ack(ack) == [first.id]

    # A second send lost with the pipe goes out again after the reconnect.
    second = alice.encrypt(BOB, b"again", None, 2000)
    a.send([BOB], second.wire)
    a.drain_transmit()
    assert a.disconnected(1_000) == 100
    assert a.state() == RelayState.DISCONNECTED(reconnect_at_ms=1_100)
    assert a.reconnect_at_ms() == 1_100
    assert not a.should_connect(1_099) and a.should_connect(1_100)
    assert a.outbox_len() == 1
    handshake(a, alice)
    [again] = a.drain_transmit()
    assert parse_send(again)[1] == second.wire
    a.receive(sent(second.id), alice)
    assert a.drain_events() == [RelayEvent.SENT(id=second.id)]
    assert a.outbox_len() == 0


def test_refusals_and_bad_frames(memory_account):
    carol = memory_account(TINY, KEY_ALICE)
    c = RelayClient(Address(user=b"carol", device=1), None, RelayBackoff())
    with pytest.raises(RelayError.NotConnected):
        c.receive(welcome(0), carol)
    with pytest.raises(RelayError.InvalidArgument) as e:
        c.send([], b"w")
    assert "recipients" in str(e.value)
    with pytest.raises(RelayError.InvalidArgument):
        c.send([Address(user=b"x" * 65, device=1)], b"w")
    with pytest.raises(RelayError.InvalidArgument):
        c.committed(bytes(15))
    handshake(c, carol)
    # A refused send leaves the outbox.
    message_id = c.send([Address(user=b"nobody", device=1)], b"opaque")
    c.drain_transmit()
    c.receive(b"\x0f\x13\x10\x14\x10" + message_id, carol)
    assert c.drain_events() == [
        RelayEvent.SEND_FAILED(id=message_id, code=RelayErrorCode.UNKNOWN_RECIPIENT)
    ]
    assert c.outbox_len() == 0
    # A malformed frame: refused, with an error frame for the relay.
    with pytest.raises(RelayError.Protocol):
        c.receive(b"\xff", carol)
    assert c.drain_transmit() == [b"\x0f\x13\x01\x14\x00"]
    # A fatal error from the relay.
    c.receive(b"\x0f\x13\x05\x14\x00", carol)
    assert c.drain_events() == [RelayEvent.CONNECTION_FAILED(code=RelayErrorCode.FLOOD)]
