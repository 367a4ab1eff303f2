"""Many messages in one commit, each succeeding or failing on its own; several threads on
one account; close waiting for calls in flight."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bluetick import (
    AlreadyReceivedError,
    AuthenticationFailedError,
    InvalidArgumentError,
    Message,
    PreKeyReplayError,
)
from helpers import KEY_ALICE, SMALL, TINY, publish, send_first


def test_decrypt_batch_gives_a_result_or_an_error_per_message(memory_account):
    alice, bob = memory_account(TINY, KEY_ALICE), memory_account(SMALL)
    relay = publish(bob)
    sent = [send_first(alice, "bob", relay, b"one")]
    sent += [alice.encrypt("bob", 1, body) for body in (b"two", b"three")]
    tampered = bytearray(sent[1].wire)
    tampered[-1] ^= 1

    results = bob.decrypt_batch(
        [
            ("alice", 1, sent[0].wire),
            ("alice", 1, sent[2].wire),  # the third before the second
            ("alice", 1, tampered),
            ("mallory", 1, sent[2].wire),  # a PreKeyMessage whose base key was used
        ]
    )
    assert isinstance(results[0], Message) and results[0].body == b"one"
    assert (results[1].id, results[1].body) == (sent[2].id, b"three")
    assert type(results[2]) is AuthenticationFailedError
    assert type(results[3]) is PreKeyReplayError
    # The failed one changed nothing: the genuine second message still decrypts.
    assert bob.decrypt("alice", 1, sent[1].wire).body == b"two"

    for message in results[:2]:
        bob.acknowledge(message.id)
    again = bob.decrypt_batch([("alice", 1, sent[0].wire)])
    assert type(again[0]) is AlreadyReceivedError  # the relay may drop it
    assert bob.decrypt_batch([]) == []

    # An argument error fails the whole batch: nothing committed, and it is raised.
    with pytest.raises(InvalidArgumentError):
        bob.decrypt_batch([("alice", 1, sent[1].wire), ("u" * 1025, 1, sent[1].wire)])


def test_threads_share_one_account(memory_account):
    alice, bob = memory_account(TINY, KEY_ALICE), memory_account(SMALL)
    start = send_first(alice, "bob", publish(bob), b"start")
    assert bob.decrypt("alice", 1, start.wire).body == b"start"

    def send_many(t):
        return [alice.encrypt("bob", 1, f"t{t} m{i}".encode()) for i in range(10)]

    with ThreadPoolExecutor(4) as pool:
        per_thread = list(pool.map(send_many, range(4)))
    received = set()
    for sent in reversed(per_thread):  # later messages first
        for message in reversed(sent):
            got = bob.decrypt("alice", 1, message.wire)
            assert got.id == message.id
            received.add(got.body)
    assert len(received) == 40


def test_close_waits_for_calls_in_flight(memory_account):
    bob = memory_account(SMALL)
    alice = memory_account(TINY, KEY_ALICE)
    relay = publish(bob)
    stop = threading.Event()
    errors = []

    def worker():
        try:
            while not stop.is_set():
                alice.prekey_counts()
        except ValueError:  # ClosedError once closed: the expected way out
            pass
        except Exception as e:  # anything else is a failure
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    send_first(alice, "bob", relay, b"x")
    alice.close()
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
