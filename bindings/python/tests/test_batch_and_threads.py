"""Many messages in one commit, each succeeding or failing on its own; several threads on
one account; close waiting for calls in flight."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from bluetick import AccountError, Address, BatchMessage, ErrorKind
from conftest import ALICE, BOB, KEY_ALICE, SMALL, TINY
from helpers import publish, send_first


def test_decrypt_batch_gives_a_result_or_an_error_per_message(memory_account):
    alice, bob = memory_account(TINY, KEY_ALICE), memory_account(SMALL)
    relay = publish(bob)
    sent = [send_first(alice, BOB, relay, b"one")]
    sent += [alice.encrypt(BOB, body, None, 0) for body in (b"two", b"three")]
    tampered = bytearray(sent[1].wire)
    tampered[-1] ^= 1
    mallory = Address(user=b"mallory", device=1)
    results = bob.decrypt_batch(
        [
            BatchMessage(peer=ALICE, wire=sent[0].wire),
            BatchMessage(peer=ALICE, wire=sent[2].wire),  # the third before the second
            BatchMessage(peer=ALICE, wire=bytes(tampered)),
            BatchMessage(peer=mallory, wire=sent[0].wire),  # a PreKeyMessage whose base key was used
            BatchMessage(peer=Address(user=b"u" * 1025, device=1), wire=sent[1].wire),
        ]
    )
    assert results[0].is_DECRYPTED() and results[0].incoming.received.body == b"one"
    assert (results[1].incoming.received.id, results[1].incoming.received.body) == (sent[2].id, b"three")
    assert type(results[2].error) is AccountError.Decryption
    assert results[2].error.kind == ErrorKind.AUTHENTICATION_FAILED
    assert results[3].error.kind == ErrorKind.PRE_KEY_REPLAY
    assert type(results[4].error) is AccountError.InvalidArgument  # an address too long
    # The failed ones changed nothing: the genuine second message still decrypts.
    assert bob.decrypt(ALICE, sent[1].wire).received.body == b"two"
    for r in results[:2]:
        bob.acknowledge(r.incoming.received.id)
    again = bob.decrypt_batch([BatchMessage(peer=ALICE, wire=sent[0].wire)])
    assert type(again[0].error) is AccountError.AlreadyReceived  # the relay may drop it
    assert bob.decrypt_batch([]) == []


def test_threads_share_one_account(memory_account):
    alice, bob = memory_account(TINY, KEY_ALICE), memory_account(SMALL)
    start = send_first(alice, BOB, publish(bob), b"start")
    assert bob.decrypt(ALICE, start.wire).received.body == b"start"

    def send_many(t):
        return [alice.encrypt(BOB, f"t{t} m{i}".encode(), None, 0) for i in range(10)]

    with ThreadPoolExecutor(4) as pool:
        per_thread = list(pool.map(send_many, range(4)))
    received = set()
    for sent in reversed(per_thread):  # later messages first
        for message in reversed(sent):
            got = bob.decrypt(ALICE, message.wire)
            assert got.received.id == message.id
            received.add(got.received.body)
    assert len(received) == 40


def test_close_lets_calls_in_flight_finish(memory_account):
    bob = memory_account(SMALL)
    alice = memory_account(TINY, KEY_ALICE)
    relay = publish(bob)
    stop = threading.Event()
    errors = []

    def worker():
        try:
            while not stop.is_set():
                alice.prekey_counts()
        except AccountError.InvalidArgument as e:  # closed: the expected way out
            if e.kind != ErrorKind.CLOSED:
                errors.append(e)
        except Exception as e:  # anything else is a failure
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    send_first(alice, BOB, relay, b"x")
    alice.close_store()
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
