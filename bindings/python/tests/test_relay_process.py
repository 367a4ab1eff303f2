"""The relay client against the real relay: a ``bluetick-relay`` process on 127.0.0.1, the
app owning the socket. The WebSocket is a minimal client written here on the standard
library (RFC 6455: the upgrade, masked binary frames out, whole binary messages in), so the
suite needs no package beyond pytest. The relay verifies each authentication signature the
account made through the binding, pushes to an online device and queues for an offline one.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest
from conftest import ALICE, BOB, KEY_ALICE, KEY_BOB, SMALL

from bluetick import MessageStatus, RelayBackoff, RelayClient

REPO = Path(__file__).resolve().parents[3]


def relay_binary() -> Path:
    """``BLUETICK_RELAY_BIN``, else the release build in the cargo target folder (built by
    the workspace's tests; built here when missing)."""
    configured = os.environ.get("BLUETICK_RELAY_BIN")
    if configured:
        return Path(configured)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    binary = target / "release" / "bluetick-relay"
    if not binary.exists():
        cargo = shutil.which("cargo")
        if cargo is None:
            pytest.fail(f"no relay at {binary} and no cargo to build it: set BLUETICK_RELAY_BIN")
        subprocess.run([cargo, "build", "--quiet", "--release", "-p", "bluetick-relay"], cwd=REPO, check=True)
    return binary


@pytest.fixture
def relay_url(tmp_path):
    proc = subprocess.Popen(
        [str(relay_binary()), "--listen", "127.0.0.1:0", "--db", str(tmp_path / "relay.db"), "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on ws://"), line
        yield line.removeprefix("listening on ws://")
    finally:
        proc.terminate()
        proc.wait(timeout=5)


class Pipe:
    """One WebSocket to the relay: ``send`` a binary message, ``recv`` the next whole one."""

    def __init__(self, hostport: str):
        host, port = hostport.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET / HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            assert chunk, "the relay closed during the upgrade"
            head += chunk
        assert head.startswith(b"HTTP/1.1 101"), head

    def _exact(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            assert chunk, "the relay closed the connection"
            out += chunk
        return out

    def _frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = struct.pack(">BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            head = struct.pack(">BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack(">BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send(self, message: bytes) -> None:
        self._frame(0x2, message)

    def recv(self) -> bytes:
        message = b""
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack(">H", self._exact(2))
            elif n == 127:
                (n,) = struct.unpack(">Q", self._exact(8))
            payload = self._exact(n)
            opcode = b0 & 0x0F
            if opcode == 0x9:  # ping
                self._frame(0xA, payload)
                continue
            assert opcode in (0x0, 0x2), f"unexpected opcode {opcode}"
            message += payload
            if b0 & 0x80:
                return message

    def close(self) -> None:
        try:
            self._frame(0x8, struct.pack(">H", 1000))
        finally:
            self.sock.close()


class Device:
    """An app: its account, its relay client and the socket it owns."""

    def __init__(self, account, address, url):
        self.account = account
        self.client = RelayClient(address, None, RelayBackoff(base_ms=50, max_ms=1_000, jitter_ms=0))
        self.url = url
        self.pipe = None
        self.events = []

    def flush(self):
        for frame in self.client.drain_transmit():
            self.pipe.send(frame)
        self.events += self.client.drain_events()

    def next(self, matches):
        """Feeds frames from the socket until an event matches; returns it."""
        deadline = time.monotonic() + 10
        while True:
            for event in self.events:
                if matches(event):
                    self.events.remove(event)
                    return event
            assert time.monotonic() < deadline, f"no matching event in 10 s; had {self.events}"
            self.client.receive(self.pipe.recv(), self.account)
            self.flush()

    def connect(self):
        self.pipe = Pipe(self.url)
        self.client.connected()
        return self.next(lambda e: e.is_READY())

    def disconnect(self):
        self.pipe.close()
        self.pipe = None
        self.client.disconnected(int(time.monotonic() * 1000))


def test_a_conversation_through_the_relay_process(relay_url, memory_account):
    alice = Device(memory_account(SMALL, KEY_ALICE), ALICE, relay_url)
    bob = Device(memory_account(SMALL, KEY_BOB), BOB, relay_url)

    # The relay checks each authentication signature.
    assert bob.connect().queued == 0
    upload = bob.client.upload_prekeys(bob.account.prekey_upload().to_bytes())
    bob.flush()
    bob.next(lambda e: e.is_DONE() and e.request == upload)
    alice.connect()

    fetch = alice.client.fetch_bundle(BOB)
    alice.flush()
    bundle = alice.next(lambda e: e.is_BUNDLE() and e.request == fetch)
    first = alice.account.encrypt(BOB, b"hello bob", bundle.bundle, 1000)
    alice.client.send([BOB], first.wire)
    alice.flush()
    alice.next(lambda e: e.is_SENT() and e.id == first.id)
    assert alice.account.mark_sent(first.id) == MessageStatus.SENT

    got = bob.next(lambda e: e.is_DELIVERY())
    assert got.id == first.id and got.sender == ALICE
    message = bob.account.decrypt(got.sender, got.wire).received
    assert message.body == b"hello bob"
    bob.account.acknowledge(message.id)
    bob.client.committed(got.id)
    bob.flush()

    # Bob offline: the next message waits at the relay; Alice's outbox goes out after her
    # own reconnect.
    bob.disconnect()
    alice.disconnect()
    second = alice.account.encrypt(BOB, b"while you were away", None, 2000)
    alice.client.send([BOB], second.wire)
    assert alice.client.outbox_len() == 1
    alice.connect()
    alice.next(lambda e: e.is_SENT() and e.id == second.id)
    assert alice.client.outbox_len() == 0

    assert bob.connect().queued >= 1
    later = bob.next(lambda e: e.is_DELIVERY() and e.id == second.id)
    assert bob.account.decrypt(later.sender, later.wire).received.body == b"while you were away"
    bob.client.committed(later.id)
    bob.flush()
    alice.pipe.close()
    bob.pipe.close()
