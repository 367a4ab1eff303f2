"""Prekey upkeep (counts, replenish, rotation, pruning) and the relay helpers on upload
bytes (verify, take_bundle, merge)."""

from __future__ import annotations

import pytest

import bluetick
from bluetick import (
    PrekeyCounts,
    PublishedPrekeys,
    UnknownPreKeyError,
    merge_uploads,
    take_bundle,
    verify_upload,
)
from helpers import SMALL, TINY, publish, send_first


def test_relay_helpers_on_upload_bytes(memory_account):
    bob = memory_account(SMALL)
    upload = bob.prekey_upload()
    verify_upload(upload)
    remaining, bundle = take_bundle(upload)
    assert len(bundle) == 1806 and len(remaining) < len(upload)
    verify_upload(remaining)

    with pytest.raises(bluetick.TruncatedError):
        take_bundle(upload[:-1])
    with pytest.raises(bluetick.TruncatedError):
        verify_upload(b"")
    forged = bytearray(upload)
    forged[1 + 32 + 4 + 32] ^= 0x80
    with pytest.raises(bluetick.BadSignatureError):
        verify_upload(forged)
    with pytest.raises(bluetick.BadSignatureError):
        PublishedPrekeys(forged)

    # Merging a replenish upload puts the consumed one-time prekey back.
    alice = memory_account(TINY)
    sent = alice.encrypt("bob", 1, b"x", bundle=bundle)
    bob.decrypt("alice", 1, sent.wire)
    merged = merge_uploads(remaining, bob.replenish_prekeys())
    verify_upload(merged)
    assert len(merged) == len(upload)


def test_prekeys_run_low_are_replenished_and_rotated_keys_decrypt_until_pruned(
    memory_account,
):
    bob = memory_account(SMALL)
    relay = publish(bob)
    assert bob.prekey_counts() == PrekeyCounts(3, 3, False)

    replenish_seen = False
    for i in range(3):
        alice = memory_account(TINY)
        sent = send_first(alice, "bob", relay, b"x")
        got = bob.decrypt(f"alice{i}", 1, sent.wire)
        replenish_seen = replenish_seen or got.replenish_prekeys
    assert replenish_seen
    assert bob.prekey_counts() == PrekeyCounts(0, 0, True)

    # With no one-time keys left the relay hands out the last-resort PQ prekey.
    last_resort = relay.take_bundle()
    assert len(last_resort) == 1770
    in_flight = memory_account(TINY).encrypt("bob", 1, b"sent before rotation", last_resort)

    relay.merge(bob.replenish_prekeys())
    counts = bob.prekey_counts()
    assert counts.one_time_prekeys == 3 and not counts.low
    relay.merge(bob.rotate_signed_prekey(now_ms=1000))
    relay.merge(bob.rotate_last_resort_pq_prekey(now_ms=1000))
    assert bob.prune_retired_prekeys(keep_for_ms=1000, now_ms=1500) == 0
    assert bob.decrypt("late", 1, in_flight.wire).body == b"sent before rotation"

    stale = memory_account(TINY).encrypt("bob", 1, b"too late", bundle=last_resort)
    assert bob.prune_retired_prekeys(keep_for_ms=1000, now_ms=2000) == 2
    with pytest.raises(UnknownPreKeyError):
        bob.decrypt("later", 1, stale.wire)
    fresh = send_first(memory_account(TINY), "bob", relay, b"new keys")
    assert bob.decrypt("newer", 1, fresh.wire).body == b"new keys"


def test_rotation_and_pruning_default_to_now(memory_account):
    bob = memory_account(TINY)
    verify_upload(bob.rotate_signed_prekey())
    verify_upload(bob.rotate_last_resort_pq_prekey())
    assert bob.prune_retired_prekeys(keep_for_ms=10**9) == 0
    assert bob.prune_retired_prekeys(keep_for_ms=0) == 2
