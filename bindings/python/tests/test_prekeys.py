"""Prekey upkeep (counts, replenish, rotation, pruning) and the relay helpers on an upload
(verify, take_bundle, merge)."""

from __future__ import annotations

from bluetick import Address, ErrorKind, PreKeyCounts, PreKeyUpload, ProtocolError, AccountError
from conftest import ALICE, BOB, SMALL, TINY
from helpers import publish, raises, send_first


def test_relay_helpers_on_an_upload(memory_account):
    bob = memory_account(SMALL)
    upload = bob.prekey_upload()
    upload.verify()
    assert upload.identity() == bob.identity()
    assert (upload.one_time_prekey_count(), upload.one_time_pq_prekey_count()) == (3, 3)
    encoded = upload.to_bytes()
    bundle = upload.take_bundle()
    assert len(bundle) == 1806 and upload.one_time_prekey_count() == 2
    assert len(upload.to_bytes()) < len(encoded)
    upload.verify()
    raises(ProtocolError.Decode, ErrorKind.TRUNCATED, PreKeyUpload.from_bytes, encoded[:-1])
    raises(ProtocolError.Decode, ErrorKind.TRUNCATED, PreKeyUpload.from_bytes, b"")
    forged = bytearray(encoded)
    forged[1 + 32 + 4 + 32] ^= 0x80
    raises(ProtocolError.Key, ErrorKind.BAD_SIGNATURE, PreKeyUpload.from_bytes(bytes(forged)).verify)

    # Merging a replenish upload puts the consumed one-time prekey back.
    alice = memory_account(TINY)
    sent = alice.encrypt(BOB, b"x", bundle, 0)
    bob.decrypt(ALICE, sent.wire)
    upload.merge(bob.replenish_prekeys())
    upload.verify()
    assert len(upload.to_bytes()) == len(encoded)
    upload.merge(upload)  # merging with itself does not deadlock
    assert upload.one_time_prekey_count() == 6


def test_prekeys_run_low_are_replenished_and_rotated_keys_decrypt_until_pruned(memory_account):
    bob = memory_account(SMALL)
    relay = publish(bob)
    assert bob.prekey_counts() == PreKeyCounts(one_time_prekeys=3, one_time_pq_prekeys=3, low=False)
    replenish_seen = False
    for i in range(3):
        alice = memory_account(TINY)
        sent = send_first(alice, BOB, relay, b"x")
        got = bob.decrypt(Address(user=f"alice{i}".encode(), device=1), sent.wire)
        replenish_seen = replenish_seen or got.replenish_prekeys
    assert replenish_seen
    assert bob.prekey_counts() == PreKeyCounts(one_time_prekeys=0, one_time_pq_prekeys=0, low=True)
    # With no one-time keys left the relay hands out the last-resort PQ prekey.
    last_resort = relay.take_bundle()
    assert len(last_resort) == 1770
    in_flight = memory_account(TINY).encrypt(BOB, b"sent before rotation", last_resort, 0)
    relay.merge(bob.replenish_prekeys())
    counts = bob.prekey_counts()
    assert counts.one_time_prekeys == 3 and not counts.low
    relay.merge(bob.rotate_signed_prekey(1000))
    relay.merge(bob.rotate_last_resort_pq_prekey(1000))
    # Pruning is (now, keep), as in Rust: retired at 1000, kept 1000 ms.
    assert bob.prune_retired_prekeys(1500, 1000) == 0
    assert bob.decrypt(Address(user=b"late", device=1), in_flight.wire).received.body == b"sent before rotation"
    stale = memory_account(TINY).encrypt(BOB, b"too late", last_resort, 0)
    assert bob.prune_retired_prekeys(2000, 1000) == 2
    raises(AccountError.Decryption, ErrorKind.UNKNOWN_PRE_KEY, bob.decrypt, Address(user=b"later", device=1), stale.wire)
    fresh = send_first(memory_account(TINY), BOB, relay, b"new keys")
    assert bob.decrypt(Address(user=b"newer", device=1), fresh.wire).received.body == b"new keys"
