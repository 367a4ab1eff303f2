"""Bob reinstalls: a new identity under the same address is refused until the app trusts
it, through the identity policy callback or trust_identity."""

from __future__ import annotations

from bluetick import AccountError, ErrorKind, IdentityPolicy
from conftest import ALICE, BOB, KEY_ALICE, SMALL, TINY
from helpers import publish, raises, send_first


class Recording(IdentityPolicy):
    def __init__(self, answer):
        self.answer = answer
        self.calls = []

    def trust(self, peer, trusted, new):
        self.calls.append((peer, trusted, new))
        return self.answer


def test_identity_change_needs_the_policy_or_explicit_trust(memory_account):
    alice = memory_account(TINY, KEY_ALICE)
    bob1, bob2 = memory_account(SMALL), memory_account(SMALL)
    key1, key2 = bob1.identity(), bob2.identity()
    relay1, relay2 = publish(bob1), publish(bob2)
    send_first(alice, BOB, relay1, b"x")
    e = raises(AccountError.UntrustedIdentity, ErrorKind.UNTRUSTED_IDENTITY, send_first, alice, BOB, relay2, b"y")
    assert "trust_identity" in str(e)
    assert alice.peer_identity(BOB) == key1

    # A policy that refuses is consulted with both keys.
    policy = Recording(False)
    alice.set_identity_policy(policy)
    raises(AccountError.UntrustedIdentity, ErrorKind.UNTRUSTED_IDENTITY, send_first, alice, BOB, relay2, b"y")
    assert policy.calls == [(BOB, key1, key2)]

    # One that accepts lets the new identity in.
    policy.answer = True
    sent = send_first(alice, BOB, relay2, b"y")
    assert len(policy.calls) == 2
    assert alice.peer_identity(BOB) == key2
    assert bob2.decrypt(ALICE, sent.wire).received.body == b"y"

    # A refusing policy again; trusting explicitly lets the old key back in.
    policy.answer = False
    raises(AccountError.UntrustedIdentity, ErrorKind.UNTRUSTED_IDENTITY, send_first, alice, BOB, relay1, b"z")
    alice.trust_identity(BOB, key1)
    sent = send_first(alice, BOB, relay1, b"z")
    assert bob1.decrypt(ALICE, sent.wire).received.body == b"z"


def test_a_policy_that_raises_refuses(memory_account):
    alice = memory_account(TINY, KEY_ALICE)
    bob1, bob2 = memory_account(SMALL), memory_account(SMALL)
    send_first(alice, BOB, publish(bob1), b"x")

    class Broken(IdentityPolicy):
        def trust(self, peer, trusted, new):
            raise KeyError("no such contact")

    alice.set_identity_policy(Broken())
    raises(AccountError.UntrustedIdentity, ErrorKind.UNTRUSTED_IDENTITY, send_first, alice, BOB, publish(bob2), b"y")


def test_a_policy_may_not_call_back_into_the_account(memory_account):
    alice = memory_account(TINY, KEY_ALICE)
    bob1, bob2 = memory_account(SMALL), memory_account(SMALL)
    send_first(alice, BOB, publish(bob1), b"x")
    seen = []

    class Reentrant(IdentityPolicy):
        def trust(self, peer, trusted, new):
            try:
                alice.trust_identity(peer, new)  # would wait for its own transaction
            except AccountError.InvalidArgument as e:
                seen.append(e)
                raise
            return True

    alice.set_identity_policy(Reentrant())
    raises(AccountError.UntrustedIdentity, ErrorKind.UNTRUSTED_IDENTITY, send_first, alice, BOB, publish(bob2), b"y")
    assert len(seen) == 1 and "may not call back" in str(seen[0])
    # The account still works afterwards.
    assert alice.peer_identity(BOB) == bob1.identity()
