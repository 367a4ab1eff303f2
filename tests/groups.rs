//! Groups with sender keys (spec §12): round trips in any order, rotation that locks out a
//! removed device, late joiners that read nothing earlier, refusals that change nothing,
//! bounded skipped keys, and a 50-member group where every device reads every message once.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use bluetick::constants::{
    MAX_GROUP_SKIP, MAX_GROUP_STORED_SKIPPED, RETIRED_SENDER_KEY_MS, SENDER_KEY_MAX_AGE_MS,
    SENDER_KEY_MAX_MESSAGES,
};
use bluetick::group::{
    Distribution, DistributionOutcome, GroupError, GroupId, GroupKeys, RotationReason, SenderKey,
};
use bluetick::rand_core::{Rng, SeedableRng};
use bluetick::wire::GroupMessage;
use bluetick::{Address, DecodeError, ErrorKind, MessageId, Secret32};
use chacha20::ChaCha20Rng;

const T0: u64 = 1_764_000_000_000;

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn group() -> GroupId {
    GroupId::new(b"family").unwrap()
}

fn addr(user: &str, device: u32) -> Address {
    Address::new(user.as_bytes().to_vec(), device)
}

fn body(i: usize) -> Vec<u8> {
    // An application body starts with its 16-byte clock (spec §10); this layer carries it
    // as bytes.
    let mut b = (i as u64).to_be_bytes().to_vec();
    b.extend_from_slice(&T0.to_be_bytes());
    b.extend_from_slice(format!("message {i}").as_bytes());
    b
}

/// A receiver that got `key`'s distribution from `sender`.
fn receiver_of(key: &SenderKey, sender: &Address) -> GroupKeys {
    let mut keys = GroupKeys::new();
    let d = key.distribution(&group()).to_bytes();
    assert_eq!(
        keys.process_distribution(sender, &d, T0).unwrap(),
        DistributionOutcome::Added
    );
    keys
}

/// Refuses `wire` with `kind` and checks the record's bytes did not change.
fn refused_unchanged(keys: &mut GroupKeys, wire: &[u8], now: u64, kind: ErrorKind) -> GroupError {
    let before = keys.to_bytes();
    let err = keys.decrypt(wire, now).unwrap_err();
    assert_eq!(err.kind(), kind, "{err}");
    assert_eq!(
        keys.to_bytes(),
        before,
        "a refused message changed the keys"
    );
    err
}

#[test]
fn messages_decrypt_in_order_and_out_of_order_once_each() {
    let mut r = rng(1);
    let alice = addr("alice", 1);
    let mut key = SenderKey::generate(&mut r, T0);
    let mut bob = receiver_of(&key, &alice);
    let sent: Vec<_> = (0..6).map(|i| key.encrypt(&body(i)).unwrap()).collect();
    for (i, s) in sent.iter().enumerate() {
        assert_eq!(s.iteration, i as u32);
        assert_eq!(s.message_id, MessageId::of(&s.wire));
    }
    for i in [0usize, 3, 1, 5, 2, 4] {
        let got = bob.decrypt(&sent[i].wire, T0).unwrap();
        assert_eq!(got.body, body(i));
        assert_eq!(got.sender, alice);
        assert_eq!(got.group_id, group());
        assert_eq!(got.iteration, i as u32);
        assert_eq!(got.message_id, sent[i].message_id);
    }
    let did = *key.distribution_id();
    assert_eq!(bob.skipped_count(&did), 0);
    for s in &sent {
        refused_unchanged(&mut bob, &s.wire, T0, ErrorKind::DuplicateMessage);
    }
    assert_eq!(bob.current(&group(), &alice), Some((did, 6)));
}

#[test]
fn the_wire_has_the_spec_layout() {
    let mut r = rng(2);
    let mut key = SenderKey::generate(&mut r, T0);
    let s = key.encrypt(&body(0)).unwrap();
    let m = GroupMessage::parse(&s.wire).unwrap();
    assert_eq!(s.wire[0], 0x13);
    assert_eq!(&s.wire[1..17], key.distribution_id());
    assert_eq!(m.chain_id, key.chain_id());
    assert_eq!(m.iteration, 0);
    // header 25, padded plaintext 64, tag 16, signature 64
    assert_eq!(s.wire.len(), 25 + 64 + 16 + 64);
    assert_eq!(m.ciphertext.len(), 80);
    assert_eq!(m.signed, &s.wire[..s.wire.len() - 64]);
}

#[test]
fn a_removed_device_reads_nothing_under_the_rotated_key() {
    let mut r = rng(3);
    let alice = addr("alice", 1);
    let mut old = SenderKey::generate(&mut r, T0);
    let mut bob = receiver_of(&old, &alice);
    let mut carol = receiver_of(&old, &alice);
    let before_removal = old.encrypt(&body(0)).unwrap();
    assert!(carol.decrypt(&before_removal.wire, T0).is_ok());
    assert!(bob.decrypt(&before_removal.wire, T0).is_ok());

    // Carol is removed: Alice must rotate before her next message, and sends the new key
    // to Bob only.
    old.mark_membership_changed();
    assert_eq!(
        old.rotation_due(T0),
        Some(RotationReason::MembershipChanged)
    );
    let mut new = SenderKey::generate(&mut r, T0 + 1);
    assert_ne!(new.distribution_id(), old.distribution_id());
    let d = new.distribution(&group()).to_bytes();
    assert_eq!(
        bob.process_distribution(&alice, &d, T0 + 1).unwrap(),
        DistributionOutcome::Replaced
    );
    for i in 1..5 {
        let s = new.encrypt(&body(i)).unwrap();
        assert_eq!(bob.decrypt(&s.wire, T0 + 2).unwrap().body, body(i));
        let err = refused_unchanged(&mut carol, &s.wire, T0 + 2, ErrorKind::UnknownDistribution);
        assert_eq!(err, GroupError::UnknownDistribution);
    }
}

#[test]
fn a_late_joiner_reads_nothing_sent_before_it_got_the_key() {
    let mut r = rng(4);
    let alice = addr("alice", 1);
    let mut key = SenderKey::generate(&mut r, T0);
    let early: Vec<_> = (0..5).map(|i| key.encrypt(&body(i)).unwrap()).collect();
    // Dave joins: he gets the key at its current iteration.
    let mut dave = receiver_of(&key, &alice);
    let later = key.encrypt(&body(5)).unwrap();
    for s in &early {
        refused_unchanged(&mut dave, &s.wire, T0, ErrorKind::DuplicateMessage);
    }
    assert_eq!(dave.decrypt(&later.wire, T0).unwrap().body, body(5));
    for s in &early {
        refused_unchanged(&mut dave, &s.wire, T0, ErrorKind::DuplicateMessage);
    }
}

#[test]
fn every_flipped_bit_is_refused_and_changes_nothing() {
    let mut r = rng(5);
    let alice = addr("alice", 1);
    let mut key = SenderKey::generate(&mut r, T0);
    let mut bob = receiver_of(&key, &alice);
    let s = key.encrypt(&body(1)).unwrap();
    let before = bob.to_bytes();
    for i in 0..s.wire.len() {
        for flip in [0x01u8, 0x80] {
            let mut t = s.wire.clone();
            t[i] ^= flip;
            assert!(bob.decrypt(&t, T0).is_err(), "flip at byte {i} accepted");
            assert_eq!(bob.to_bytes(), before, "flip at byte {i} changed the keys");
        }
    }
    // A flip in the chain id or iteration is caught by the signature before anything else.
    let mut t = s.wire.clone();
    t[20] ^= 1;
    refused_unchanged(&mut bob, &t, T0, ErrorKind::BadSignature);
    assert_eq!(bob.decrypt(&s.wire, T0).unwrap().body, body(1));
}

#[test]
fn a_forged_signature_changes_nothing() {
    let mut r = rng(6);
    let alice = addr("alice", 1);
    let mut key = SenderKey::generate(&mut r, T0);
    let mut bob = receiver_of(&key, &alice);
    // Mallory knows the chain key (she is a member) but not Alice's signing key: she makes
    // a key with Alice's distribution id and chain, signed by her own signing key.
    let chain_key = Distribution::parse(&key.distribution(&group()).to_bytes()).unwrap();
    let mut forged_key = SenderKey::from_parts(
        *key.distribution_id(),
        key.chain_id(),
        key.iteration(),
        Secret32::from_slice(&chain_key_bytes(&chain_key)).unwrap(),
        Secret32::from_slice(&[7u8; 32]).unwrap(),
        T0,
    );
    let forged = forged_key.encrypt(&body(9)).unwrap();
    refused_unchanged(&mut bob, &forged.wire, T0, ErrorKind::BadSignature);
    // The genuine message at that iteration still decrypts.
    let genuine = key.encrypt(&body(0)).unwrap();
    assert_eq!(bob.decrypt(&genuine.wire, T0).unwrap().body, body(0));
}

/// The chain key a distribution body carries (bytes after the group id, id, chain id and
/// iteration).
fn chain_key_bytes(d: &Distribution) -> Vec<u8> {
    let bytes = d.to_bytes();
    let at = 1 + d.group_id.as_bytes().len() + 16 + 8;
    bytes[at..at + 32].to_vec()
}

#[test]
fn a_wrong_chain_id_changes_nothing() {
    let mut r = rng(7);
    let alice = addr("alice", 1);
    let seed = [9u8; 32];
    let mut key = SenderKey::from_parts(
        [1; 16],
        0x0102_0304,
        0,
        Secret32::from_slice(&[2; 32]).unwrap(),
        Secret32::from_slice(&seed).unwrap(),
        T0,
    );
    let mut bob = receiver_of(&key, &alice);
    // The sender's own key (signing key and chain) under another chain id: the signature
    // verifies, the chain id does not match.
    let mut other = SenderKey::from_parts(
        [1; 16],
        0x0102_0305,
        0,
        Secret32::from_slice(&[2; 32]).unwrap(),
        Secret32::from_slice(&seed).unwrap(),
        T0,
    );
    let wrong = other.encrypt(&body(0)).unwrap();
    let err = refused_unchanged(&mut bob, &wrong.wire, T0, ErrorKind::WrongChainId);
    assert_eq!(
        err,
        GroupError::WrongChainId {
            expected: 0x0102_0304,
            found: 0x0102_0305
        }
    );
    let _ = r.next_u32();
    assert_eq!(
        bob.decrypt(&key.encrypt(&body(0)).unwrap().wire, T0)
            .unwrap()
            .body,
        body(0)
    );
}

#[test]
fn a_replayed_iteration_and_an_unknown_distribution_change_nothing() {
    let mut r = rng(8);
    let alice = addr("alice", 1);
    let mut key = SenderKey::generate(&mut r, T0);
    let mut bob = receiver_of(&key, &alice);
    let s = (0..3)
        .map(|i| key.encrypt(&body(i)).unwrap())
        .collect::<Vec<_>>();
    bob.decrypt(&s[2].wire, T0).unwrap();
    bob.decrypt(&s[0].wire, T0).unwrap();
    let err = refused_unchanged(&mut bob, &s[0].wire, T0, ErrorKind::DuplicateMessage);
    assert_eq!(err, GroupError::DuplicateMessage { iteration: 0 });
    refused_unchanged(&mut bob, &s[2].wire, T0, ErrorKind::DuplicateMessage);
    // Iteration 1 was skipped and is still there.
    assert_eq!(bob.decrypt(&s[1].wire, T0).unwrap().body, body(1));

    let mut stranger = SenderKey::generate(&mut r, T0);
    let unknown = stranger.encrypt(&body(0)).unwrap();
    refused_unchanged(&mut bob, &unknown.wire, T0, ErrorKind::UnknownDistribution);
    // Garbage and truncations are typed refusals, not panics, and change nothing.
    let w = &s[0].wire;
    for (cut, kind) in [
        (0, ErrorKind::Truncated),
        (1, ErrorKind::Truncated),
        (25, ErrorKind::Truncated),
        (25 + 63, ErrorKind::Truncated),
        (25 + 15 + 64, ErrorKind::CiphertextTooShort),
        (w.len() - 1, ErrorKind::BadSignature),
    ] {
        refused_unchanged(&mut bob, &w[..cut], T0, kind);
    }
}

#[test]
fn parse_errors_are_typed() {
    assert_eq!(
        GroupMessage::parse(&[]).unwrap_err(),
        DecodeError::Truncated {
            what: "group message"
        }
    );
    for first in [0x11u8, 0x12, 0x03, 0x23, 0xff] {
        assert_eq!(
            GroupMessage::parse(&[first; 200]).unwrap_err(),
            DecodeError::UnknownMessageType(first)
        );
    }
    // Header and signature with a 15-byte ciphertext: shorter than the tag.
    let mut short = vec![0x13];
    short.extend_from_slice(&[0u8; 24 + 15 + 64]);
    assert_eq!(
        GroupMessage::parse(&short).unwrap_err(),
        DecodeError::CiphertextTooShort
    );
    let mut cut = vec![0x13];
    cut.extend_from_slice(&[0u8; 24 + 63]);
    assert_eq!(
        GroupMessage::parse(&cut).unwrap_err().kind(),
        ErrorKind::Truncated
    );
    // The pairwise parser does not take a group message.
    let mut ok = vec![0x13];
    ok.extend_from_slice(&[0u8; 24 + 16 + 64]);
    assert!(GroupMessage::parse(&ok).is_ok());
    assert_eq!(
        bluetick::wire::WireMessage::parse(&ok).unwrap_err(),
        DecodeError::UnknownMessageType(0x13)
    );
}

#[test]
fn distribution_bodies_parse_strictly() {
    let mut r = rng(9);
    let key = SenderKey::generate(&mut r, T0);
    let good = key.distribution(&group()).to_bytes().to_vec();
    assert_eq!(good.len(), 1 + 6 + 16 + 4 + 4 + 32 + 32);
    let d = Distribution::parse(&good).unwrap();
    assert_eq!(d.group_id, group());
    assert_eq!(&d.distribution_id, key.distribution_id());
    assert_eq!(d.chain_id, key.chain_id());
    assert_eq!(d.iteration, 0);
    assert_eq!(&d.signing_public, key.signing_public());
    assert_eq!(d.to_bytes().to_vec(), good);

    let kind = |b: &[u8]| Distribution::parse(b).unwrap_err().kind();
    assert_eq!(kind(&[]), ErrorKind::Truncated);
    assert_eq!(kind(&good[..good.len() - 1]), ErrorKind::Truncated);
    let mut long = good.clone();
    long.push(0);
    assert_eq!(kind(&long), ErrorKind::TrailingBytes);
    let mut empty_id = good.clone();
    empty_id[0] = 0;
    assert_eq!(kind(&empty_id), ErrorKind::InvalidGroupId);
    let mut over = vec![65u8];
    over.extend_from_slice(&[b'g'; 65]);
    over.extend_from_slice(&good[7..]);
    assert_eq!(kind(&over), ErrorKind::InvalidGroupId);
    let max = GroupId::new(&[b'g'; 64]).unwrap();
    let b = key.distribution(&max).to_bytes();
    assert_eq!(Distribution::parse(&b).unwrap().group_id, max);
    assert_eq!(
        GroupId::new(&[]).unwrap_err().kind(),
        ErrorKind::InvalidGroupId
    );
    assert_eq!(
        GroupId::new(&[0; 65]).unwrap_err().kind(),
        ErrorKind::InvalidGroupId
    );

    // An invalid signing key (a small-order point) is refused when accepted, unchanged.
    let mut bad_key = good.clone();
    let n = bad_key.len();
    bad_key[n - 32..].copy_from_slice(&[0u8; 32]);
    bad_key[n - 32] = 1; // the identity point
    let mut keys = GroupKeys::new();
    let err = keys
        .process_distribution(&addr("alice", 1), &bad_key, T0)
        .unwrap_err();
    assert_eq!(err, GroupError::InvalidSigningKey);
    assert!(keys.is_empty());
}

#[test]
fn a_distribution_id_held_for_another_sender_is_refused() {
    let mut r = rng(10);
    let alice = addr("alice", 1);
    let key = SenderKey::generate(&mut r, T0);
    let mut bob = receiver_of(&key, &alice);
    let d = key.distribution(&group()).to_bytes();
    let before = bob.to_bytes();
    for other in [addr("alice", 2), addr("mallory", 1)] {
        let err = bob.process_distribution(&other, &d, T0).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::DistributionConflict);
        assert_eq!(bob.to_bytes(), before);
    }
    // The same key for another group is refused too: a distribution id names one key.
    let other_group = key.distribution(&GroupId::new(b"work").unwrap()).to_bytes();
    assert_eq!(
        bob.process_distribution(&alice, &other_group, T0)
            .unwrap_err()
            .kind(),
        ErrorKind::DistributionConflict
    );
    // The same key again from the same device changes nothing.
    assert_eq!(
        bob.process_distribution(&alice, &d, T0).unwrap(),
        DistributionOutcome::AlreadyHeld
    );
    assert_eq!(bob.to_bytes(), before);
}

#[test]
fn skipped_keys_are_bounded() {
    let mut r = rng(11);
    let alice = addr("alice", 1);
    let mut key = SenderKey::generate(&mut r, T0);
    let did = *key.distribution_id();
    let mut bob = receiver_of(&key, &alice);
    let first = key.encrypt(&body(0)).unwrap();
    // Skipping exactly MAX_GROUP_SKIP keys (iterations 0 to 1999) is allowed ...
    for _ in 1..MAX_GROUP_SKIP {
        key.encrypt(b"").unwrap();
    }
    let at_limit = key.encrypt(&body(1)).unwrap();
    assert_eq!(at_limit.iteration, MAX_GROUP_SKIP);
    // ... one more is not (from another receiver at iteration 0).
    let mut fresh = GroupKeys::new();
    let mut key0 = SenderKey::generate(&mut rng(11), T0);
    fresh
        .process_distribution(&alice, &key0.distribution(&group()).to_bytes(), T0)
        .unwrap();
    for _ in 0..=MAX_GROUP_SKIP {
        key0.encrypt(b"").unwrap();
    }
    let too_far = key0.encrypt(&body(2)).unwrap();
    let err = refused_unchanged(&mut fresh, &too_far.wire, T0, ErrorKind::TooManySkipped);
    assert_eq!(
        err,
        GroupError::TooManySkipped {
            skipped: u64::from(MAX_GROUP_SKIP) + 1,
            limit: MAX_GROUP_SKIP
        }
    );

    assert_eq!(bob.decrypt(&at_limit.wire, T0).unwrap().body, body(1));
    assert_eq!(bob.skipped_count(&did), MAX_GROUP_SKIP as usize);
    // Another jump: the store keeps the newest 2000, the oldest dropped first.
    for _ in 0..10 {
        key.encrypt(b"").unwrap();
    }
    let next = key.encrypt(&body(3)).unwrap();
    bob.decrypt(&next.wire, T0).unwrap();
    assert_eq!(bob.skipped_count(&did), MAX_GROUP_STORED_SKIPPED);
    // Iteration 0 was skipped at first, then dropped as the oldest: a duplicate now.
    refused_unchanged(&mut bob, &first.wire, T0, ErrorKind::DuplicateMessage);
}

#[test]
fn a_replaced_key_keeps_its_skipped_keys_for_one_hour() {
    let mut r = rng(12);
    let alice = addr("alice", 1);
    let mut old = SenderKey::generate(&mut r, T0);
    let mut bob = receiver_of(&old, &alice);
    let s: Vec<_> = (0..4).map(|i| old.encrypt(&body(i)).unwrap()).collect();
    bob.decrypt(&s[3].wire, T0).unwrap(); // 0, 1, 2 skipped
    let after_rotation = old.encrypt(&body(4)).unwrap();

    let new = SenderKey::generate(&mut r, T0);
    let replaced_at = T0 + 1000;
    bob.process_distribution(&alice, &new.distribution(&group()).to_bytes(), replaced_at)
        .unwrap();
    // Within the hour: skipped keys of the old key still open late messages ...
    assert_eq!(
        bob.decrypt(&s[0].wire, replaced_at + 10).unwrap().body,
        body(0)
    );
    // ... but the old chain no longer moves.
    let err = refused_unchanged(
        &mut bob,
        &after_rotation.wire,
        replaced_at + 10,
        ErrorKind::UnknownDistribution,
    );
    assert_eq!(err, GroupError::ReplacedDistribution { iteration: 4 });
    // After the hour the old key is gone, whether or not it was erased yet.
    let late = replaced_at + RETIRED_SENDER_KEY_MS;
    refused_unchanged(&mut bob, &s[1].wire, late, ErrorKind::UnknownDistribution);
    assert_eq!(bob.len(), 2);
    assert_eq!(bob.expire(late - 1), 0);
    assert_eq!(bob.expire(late), 1);
    assert_eq!(bob.len(), 1);
    assert_eq!(
        bob.current(&group(), &alice),
        Some((*new.distribution_id(), 0))
    );
}

#[test]
fn replaced_keys_per_sender_are_bounded() {
    let mut r = rng(13);
    let alice = addr("alice", 1);
    let mut bob = GroupKeys::new();
    let mut keys = Vec::new();
    for _ in 0..10u64 {
        let k = SenderKey::generate(&mut r, T0);
        // All at the same clock reading: the replacement order decides, not the clock.
        bob.process_distribution(&alice, &k.distribution(&group()).to_bytes(), T0)
            .unwrap();
        keys.push(k);
    }
    let kept = bluetick::constants::MAX_RETIRED_SENDER_KEYS;
    assert_eq!(bob.len(), 1 + kept);
    // The last `kept` replaced keys are held (a message they never skipped is refused as
    // replaced); the earlier ones are erased (unknown).
    for (i, k) in keys.iter_mut().enumerate().take(9) {
        let wire = k.encrypt(&body(i)).unwrap().wire;
        let err = bob.decrypt(&wire, T0).unwrap_err();
        if i >= 9 - kept {
            assert_eq!(
                err,
                GroupError::ReplacedDistribution { iteration: 0 },
                "key {i}"
            );
        } else {
            assert_eq!(err, GroupError::UnknownDistribution, "key {i}");
        }
    }
    // The order survives the record: one more replacement erases the oldest kept key.
    let mut back = GroupKeys::from_bytes(&bob.to_bytes()).unwrap();
    let k = SenderKey::generate(&mut r, T0);
    back.process_distribution(&alice, &k.distribution(&group()).to_bytes(), T0)
        .unwrap();
    let oldest_kept = keys[9 - kept].encrypt(&body(0)).unwrap().wire;
    assert_eq!(
        back.decrypt(&oldest_kept, T0).unwrap_err(),
        GroupError::UnknownDistribution
    );
    let next_oldest = keys[10 - kept].encrypt(&body(0)).unwrap().wire;
    assert_eq!(
        back.decrypt(&next_oldest, T0).unwrap_err(),
        GroupError::ReplacedDistribution { iteration: 1 }
    );
}

#[test]
fn a_sender_whose_keys_are_let_go_loses_current_and_replaced_keys_alone() {
    let mut r = rng(17);
    let (alice, bob) = (addr("alice", 1), addr("bob", 1));
    let other = GroupId::new(b"other").unwrap();
    let mut keys = GroupKeys::new();
    let mut alice_old = SenderKey::generate(&mut r, T0);
    let mut alice_new = SenderKey::generate(&mut r, T0);
    let mut alice_other = SenderKey::generate(&mut r, T0);
    let mut bob_key = SenderKey::generate(&mut r, T0);
    for (from, key, g) in [
        (&alice, &alice_old, group()),
        (&alice, &alice_new, group()),
        (&alice, &alice_other, other.clone()),
        (&bob, &bob_key, group()),
    ] {
        keys.process_distribution(from, &key.distribution(&g).to_bytes(), T0)
            .unwrap();
    }
    assert_eq!(keys.len(), 4);
    // Alice's keys in `group()` go, her replaced one too; her key in `other` and Bob's stay.
    let mut gone = keys.retain_senders(|g, sender| !(g == &group() && sender == &alice));
    gone.sort();
    let mut expected = vec![*alice_old.distribution_id(), *alice_new.distribution_id()];
    expected.sort();
    assert_eq!(gone, expected);
    assert_eq!(keys.len(), 2);
    for k in [&mut alice_old, &mut alice_new] {
        let wire = k.encrypt(&body(1)).unwrap().wire;
        refused_unchanged(&mut keys, &wire, T0, ErrorKind::UnknownDistribution);
    }
    for k in [&mut alice_other, &mut bob_key] {
        let wire = k.encrypt(&body(2)).unwrap().wire;
        assert_eq!(keys.decrypt(&wire, T0).unwrap().body, body(2));
    }
    // Nothing more to let go: nothing changes.
    let before = keys.to_bytes();
    assert!(keys
        .retain_senders(|g, sender| !(g == &group() && sender == &alice))
        .is_empty());
    assert_eq!(keys.to_bytes(), before);
}

#[test]
fn records_round_trip_and_refuse_corruption() {
    let mut r = rng(14);
    let mut bob = GroupKeys::new();
    let mut keys = Vec::new();
    for (i, who) in ["alice", "carol", "dave"].iter().enumerate() {
        let mut k = SenderKey::generate(&mut r, T0);
        bob.process_distribution(&addr(who, 1), &k.distribution(&group()).to_bytes(), T0)
            .unwrap();
        let s: Vec<_> = (0..3).map(|j| k.encrypt(&body(j)).unwrap()).collect();
        bob.decrypt(&s[2].wire, T0).unwrap();
        keys.push((k, s, i));
    }
    // Alice rotates: her old key is kept as replaced.
    let alice_new = SenderKey::generate(&mut r, T0);
    bob.process_distribution(
        &addr("alice", 1),
        &alice_new.distribution(&group()).to_bytes(),
        T0 + 5,
    )
    .unwrap();
    let bytes = bob.to_bytes();
    let mut back = GroupKeys::from_bytes(&bytes).unwrap();
    assert_eq!(back.to_bytes(), bytes);
    // The restored record decrypts what the original would.
    let (_, s, _) = &keys[1];
    assert_eq!(back.decrypt(&s[0].wire, T0).unwrap().body, body(0));
    let (_, s, _) = &keys[0];
    assert_eq!(back.decrypt(&s[1].wire, T0 + 6).unwrap().body, body(1));

    for cut in 0..bytes.len() {
        assert!(
            GroupKeys::from_bytes(&bytes[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    let mut v2 = bytes.to_vec();
    v2[0] = 2;
    assert_eq!(
        GroupKeys::from_bytes(&v2).unwrap_err().kind(),
        ErrorKind::UnsupportedVersion
    );
    let mut extra = bytes.to_vec();
    extra.push(0);
    assert_eq!(
        GroupKeys::from_bytes(&extra).unwrap_err().kind(),
        ErrorKind::TrailingBytes
    );

    let (mut k, _, _) = keys.remove(2);
    k.mark_membership_changed();
    let kb = k.to_bytes();
    let k2 = SenderKey::from_bytes(&kb).unwrap();
    assert_eq!(k2.to_bytes(), kb);
    assert_eq!(k2.iteration(), 3);
    assert_eq!(k2.rotation_due(T0), Some(RotationReason::MembershipChanged));
    for cut in 0..kb.len() {
        assert!(SenderKey::from_bytes(&kb[..cut]).is_err());
    }
}

#[test]
fn rotation_is_due_on_membership_age_and_count() {
    let mut r = rng(15);
    let mut key = SenderKey::generate(&mut r, T0);
    assert_eq!(key.rotation_due(T0), None);
    assert_eq!(key.rotation_due(T0 + SENDER_KEY_MAX_AGE_MS - 1), None);
    assert_eq!(
        key.rotation_due(T0 + SENDER_KEY_MAX_AGE_MS),
        Some(RotationReason::Age)
    );
    // A clock that went back does not make a key look fresh forever, nor old.
    assert_eq!(key.rotation_due(T0 - 1), None);
    for _ in 0..SENDER_KEY_MAX_MESSAGES - 1 {
        key.encrypt(b"").unwrap();
    }
    assert_eq!(key.rotation_due(T0), None);
    key.encrypt(b"").unwrap();
    assert_eq!(key.messages_sent(), SENDER_KEY_MAX_MESSAGES);
    assert_eq!(key.rotation_due(T0), Some(RotationReason::MessageCount));
    key.mark_membership_changed();
    assert_eq!(
        key.rotation_due(T0),
        Some(RotationReason::MembershipChanged)
    );

    let mut last = SenderKey::from_parts(
        [3; 16],
        1,
        u32::MAX - 1,
        Secret32::from_slice(&[4; 32]).unwrap(),
        Secret32::from_slice(&[5; 32]).unwrap(),
        T0,
    );
    let mut bob = receiver_of(&last, &addr("alice", 1));
    let s = last.encrypt(&body(0)).unwrap();
    assert_eq!(bob.decrypt(&s.wire, T0).unwrap().body, body(0));
    assert_eq!(
        last.rotation_due(T0),
        Some(RotationReason::CounterExhausted)
    );
    assert_eq!(
        last.encrypt(&body(1)).unwrap_err().kind(),
        ErrorKind::CounterExhausted
    );
}

#[test]
fn debug_output_reveals_no_secret() {
    let key = SenderKey::from_parts(
        [0xab; 16],
        7,
        3,
        Secret32::from_slice(&[0x5a; 32]).unwrap(),
        Secret32::from_slice(&[0x6b; 32]).unwrap(),
        T0,
    );
    let d = key.distribution(&group());
    let mut keys = GroupKeys::new();
    keys.accept(&addr("alice", 1), &d, T0).unwrap();
    for text in [format!("{key:?}"), format!("{d:?}"), format!("{keys:?}")] {
        assert!(!text.contains("5a5a"), "{text}");
        assert!(!text.contains("6b6b"), "{text}");
        assert!(!text.contains("90, 90"), "{text}");
    }
}

/// A 50-member group, 2 devices each: a few devices send, every other device gets every
/// distribution over its pairwise session and then the messages in an order of its own;
/// each decrypts every message exactly once.
#[test]
fn fifty_members_with_two_devices_each_read_every_message_once_in_any_order() {
    let mut r = rng(16);
    let devices: Vec<Address> = (0..50)
        .flat_map(|u| (1..=2).map(move |d| addr(&format!("user{u:02}"), d)))
        .collect();
    assert_eq!(devices.len(), 100);
    let senders = [0usize, 17, 42, 73, 99];
    let mut sender_keys: Vec<SenderKey> = senders
        .iter()
        .map(|_| SenderKey::generate(&mut r, T0))
        .collect();
    let mut receivers: Vec<GroupKeys> = (0..devices.len()).map(|_| GroupKeys::new()).collect();
    for (k, &s) in sender_keys.iter().zip(&senders) {
        let d = k.distribution(&group()).to_bytes();
        for (i, rec) in receivers.iter_mut().enumerate() {
            if i != s {
                rec.process_distribution(&devices[s], &d, T0).unwrap();
            }
        }
    }
    // 20 messages, interleaved among the senders.
    let mut sent = Vec::new();
    for n in 0..20 {
        let which = (r.next_u32() as usize) % senders.len();
        let out = sender_keys[which].encrypt(&body(n)).unwrap();
        sent.push((senders[which], out, body(n)));
    }
    for (i, rec) in receivers.iter_mut().enumerate() {
        let mut order: Vec<usize> = (0..sent.len()).collect();
        // Fisher-Yates with the seeded generator: every device its own order.
        for j in (1..order.len()).rev() {
            order.swap(j, (r.next_u32() as usize) % (j + 1));
        }
        let mut read = vec![0u32; sent.len()];
        for &m in &order {
            let (from, out, b) = &sent[m];
            if *from == i {
                continue;
            }
            let got = rec.decrypt(&out.wire, T0).unwrap();
            assert_eq!(&got.body, b);
            assert_eq!(&got.sender, &devices[*from]);
            assert_eq!(got.message_id, out.message_id);
            read[m] += 1;
            // A redelivery is refused and changes nothing.
            assert_eq!(
                rec.decrypt(&out.wire, T0).unwrap_err().kind(),
                ErrorKind::DuplicateMessage
            );
        }
        for (m, count) in read.iter().enumerate() {
            let expected = u32::from(sent[m].0 != i);
            assert_eq!(*count, expected, "device {i} message {m}");
        }
        // Every skipped key was used: nothing is left behind.
        for k in &sender_keys {
            assert_eq!(rec.skipped_count(k.distribution_id()), 0);
        }
    }
}

mod model {
    //! Random schedules of sends, deliveries, redeliveries, tampered copies and rotations
    //! against a simple model: a genuine message decrypts exactly once while its key is
    //! held (and, for a replaced key, only if it was skipped before the rotation), and
    //! every refusal leaves the keys byte for byte as they were.
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Send,
        Deliver(usize),
        Tamper(usize, usize),
        Rotate,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Send),
            5 => any::<usize>().prop_map(Op::Deliver),
            1 => (any::<usize>(), any::<usize>()).prop_map(|(m, at)| Op::Tamper(m, at)),
            1 => Just(Op::Rotate),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn random_schedules_match_the_model(ops in proptest::collection::vec(op(), 1..120), seed in any::<u64>()) {
            let mut r = rng(seed);
            let alice = addr("alice", 1);
            let mut key = SenderKey::generate(&mut r, T0);
            let mut bob = receiver_of(&key, &alice);
            // Every sent wire with its body, key generation and iteration.
            let mut sent: Vec<(Vec<u8>, Vec<u8>, usize, u32)> = Vec::new();
            let mut generation = 0usize;
            // Per generation: the next iteration Bob expects (None once replaced) and the
            // iterations skipped and not yet read.
            let mut next: Vec<Option<u32>> = vec![Some(0)];
            let mut skipped: Vec<Vec<u32>> = vec![Vec::new()];
            for op in ops {
                match op {
                    Op::Send => {
                        let b = body(sent.len());
                        let out = key.encrypt(&b).unwrap();
                        sent.push((out.wire, b, generation, out.iteration));
                    }
                    Op::Rotate => {
                        key = SenderKey::generate(&mut r, T0);
                        let d = key.distribution(&group()).to_bytes();
                        bob.process_distribution(&alice, &d, T0).unwrap();
                        next[generation] = None;
                        generation += 1;
                        next.push(Some(0));
                        skipped.push(Vec::new());
                        // Only the last MAX_RETIRED_SENDER_KEYS replaced keys are kept.
                        let kept = bluetick::constants::MAX_RETIRED_SENDER_KEYS;
                        if generation > kept {
                            skipped[generation - kept - 1].clear();
                        }
                    }
                    Op::Deliver(m) | Op::Tamper(m, _) if sent.is_empty() => { let _ = m; }
                    Op::Tamper(m, at) => {
                        let (wire, _, _, _) = &sent[m % sent.len()];
                        let mut t = wire.clone();
                        let at = at % t.len();
                        t[at] ^= 0x10;
                        let before = bob.to_bytes();
                        prop_assert!(bob.decrypt(&t, T0).is_err());
                        prop_assert_eq!(bob.to_bytes(), before);
                    }
                    Op::Deliver(m) => {
                        let (wire, b, g, it) = sent[m % sent.len()].clone();
                        let expect_ok = match next[g] {
                            Some(n) if it >= n => {
                                skipped[g].extend(n..it);
                                next[g] = Some(it + 1);
                                true
                            }
                            _ => match skipped[g].iter().position(|&s| s == it) {
                                Some(p) => { skipped[g].remove(p); true }
                                None => false,
                            },
                        };
                        let before = bob.to_bytes();
                        match bob.decrypt(&wire, T0) {
                            Ok(got) => {
                                prop_assert!(expect_ok, "message {} decrypted again", m % sent.len());
                                prop_assert_eq!(got.body, b);
                            }
                            Err(e) => {
                                prop_assert!(!expect_ok, "genuine message refused: {}", e);
                                prop_assert_eq!(bob.to_bytes(), before);
                            }
                        }
                    }
                }
            }
        }
    }
}
