"""Bob reinstalls: a new identity under the same address is refused until the app trusts
it, through the identity policy callback or trust_identity."""

from __future__ import annotations

import pytest

from bluetick import UntrustedIdentityError
from helpers import KEY_ALICE, SMALL, TINY, publish, send_first


def test_identity_change_needs_the_policy_or_explicit_trust(memory_account):
    alice = memory_account(TINY, KEY_ALICE)
    bob1, bob2 = memory_account(SMALL), memory_account(SMALL)
    key1, key2 = bob1.identity, bob2.identity
    relay1, relay2 = publish(bob1), publish(bob2)

    send_first(alice, "bob", relay1, b"x")
    with pytest.raises(UntrustedIdentityError) as e:
        send_first(alice, "bob", relay2, b"y")
    assert e.value.status_name == "BT_UNTRUSTED_IDENTITY"
    assert alice.peer_identity("bob", 1) == key1

    # A policy that refuses is consulted with both keys.
    calls = []
    answer = False

    def policy(user, device, trusted, offered):
        calls.append((user, device, trusted, offered))
        return answer

    alice.set_identity_policy(policy)
    with pytest.raises(UntrustedIdentityError):
        send_first(alice, "bob", relay2, b"y")
    assert calls == [(b"bob", 1, key1, key2)]

    # One that accepts lets the new identity in.
    answer = True
    sent = send_first(alice, "bob", relay2, b"y")
    assert len(calls) == 2
    assert alice.peer_identity("bob", 1) == key2
    assert bob2.decrypt("alice", 1, sent.wire).body == b"y"

    # Removing the policy refuses again; trusting explicitly lets the old key back in.
    alice.set_identity_policy(None)
    with pytest.raises(UntrustedIdentityError):
        send_first(alice, "bob", relay1, b"z")
    assert len(calls) == 2
    alice.trust_identity("bob", 1, key1)
    sent = send_first(alice, "bob", relay1, b"z")
    assert bob1.decrypt("alice", 1, sent.wire).body == b"z"


def test_a_policy_that_raises_refuses_and_its_exception_is_the_cause(memory_account):
    alice = memory_account(TINY, KEY_ALICE)
    bob1, bob2 = memory_account(SMALL), memory_account(SMALL)
    send_first(alice, "bob", publish(bob1), b"x")

    def broken(user, device, trusted, offered):
        raise KeyError("no such contact")

    alice.set_identity_policy(broken)
    with pytest.raises(UntrustedIdentityError) as e:
        send_first(alice, "bob", publish(bob2), b"y")
    assert isinstance(e.value.__cause__, KeyError)


def test_a_policy_may_not_call_back_into_the_account(memory_account):
    alice = memory_account(TINY, KEY_ALICE)
    bob1, bob2 = memory_account(SMALL), memory_account(SMALL)
    send_first(alice, "bob", publish(bob1), b"x")

    def reentrant(user, device, trusted, offered):
        alice.trust_identity(user, device, offered)  # would deadlock in the library
        return True

    alice.set_identity_policy(reentrant)
    with pytest.raises(UntrustedIdentityError) as e:
        send_first(alice, "bob", publish(bob2), b"y")
    assert isinstance(e.value.__cause__, RuntimeError)
    # The account still works afterwards.
    assert alice.peer_identity("bob", 1) == bob1.identity
