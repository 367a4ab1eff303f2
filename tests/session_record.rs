//! The session record's serialization: exact round trips, mid-conversation included, and
//! strict rejection of corrupt bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use bluetick::{ErrorKind, SessionRecord};
use common::{established, Party};

fn reload(p: &mut Party) {
    let bytes = p.record.to_bytes();
    // Written into one allocation of exactly its length: no grown-out-of buffer holding
    // a copy of the keys was freed on the way.
    assert_eq!(bytes.capacity(), bytes.len());
    p.record = SessionRecord::from_bytes(&bytes).unwrap();
    assert_eq!(
        *p.record.to_bytes(),
        *bytes,
        "serialization does not round-trip exactly"
    );
}

#[test]
fn record_round_trips_in_the_middle_of_a_conversation() {
    let (mut alice, mut bob) = established(300);
    let mut held_back = Vec::new();
    for round in 0..6u32 {
        for i in 0..5u32 {
            let m = alice.send(&(round * 10 + i).to_be_bytes());
            if i % 2 == 0 {
                held_back.push((m.wire, (round * 10 + i).to_be_bytes()));
            } else {
                assert_eq!(
                    bob.receive(&m.wire).unwrap().body,
                    (round * 10 + i).to_be_bytes()
                );
            }
        }
        reload(&mut alice);
        reload(&mut bob);
        let r = bob.send(b"ack");
        reload(&mut bob);
        assert_eq!(alice.receive(&r.wire).unwrap().body, b"ack");
    }
    assert!(bob.record.current_session().unwrap().skipped_key_count() > 0);
    reload(&mut bob);
    for (wire, body) in held_back {
        assert_eq!(bob.receive(&wire).unwrap().body, body);
        reload(&mut bob);
    }
}

#[test]
fn pending_initiator_and_archived_sessions_round_trip() {
    let mut alice = Party::new(301, 1);
    let mut bob = Party::new(302, 1);
    alice.start(&bob.bundle());
    reload(&mut alice);
    let m = alice.send(b"after reload");
    assert_eq!(m.wire[0], 0x12, "still a PreKeyMessage after reload");
    bob.receive(&m.wire).unwrap();
    alice.start(&bob.bundle());
    let m2 = alice.send(b"second");
    bob.receive(&m2.wire).unwrap();
    assert_eq!(bob.record.archived_sessions().count(), 1);
    reload(&mut bob);
    reload(&mut alice);
    assert_eq!(bob.record.archived_sessions().count(), 1);
}

#[test]
fn fresh_responder_session_is_at_most_512_bytes() {
    let mut alice = Party::new(303, 1);
    let mut bob = Party::new(304, 1);
    alice.start(&bob.bundle());
    bob.receive(&alice.send(b"x").wire).unwrap();
    let len = bob.record.to_bytes().len();
    assert!(len <= 512, "fresh session record is {len} bytes");
}

#[test]
fn corrupt_records_are_rejected_with_typed_errors_never_a_panic() {
    let (_alice, bob) = established(305);
    let bytes = bob.record.to_bytes();
    for len in 0..bytes.len() {
        let err = SessionRecord::from_bytes(&bytes[..len]).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::Truncated | ErrorKind::InvalidFlag | ErrorKind::InvalidValue
        ));
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        SessionRecord::from_bytes(&longer).unwrap_err().kind(),
        ErrorKind::TrailingBytes
    );
    // Version 1 (revision 1's 98-byte AD), version 2 (revision 2, without the PQ ratchet)
    // and unknown versions are refused.
    for version in [1u8, 2, 4] {
        let mut other = bytes.clone();
        other[0] = version;
        assert_eq!(
            SessionRecord::from_bytes(&other).unwrap_err().kind(),
            ErrorKind::UnsupportedVersion
        );
    }
    // Any byte change parses to an error or to a record (secrets are not self-checking);
    // none panics.
    for i in 0..bytes.len() {
        let mut t = bytes.clone();
        t[i] ^= 0xff;
        let _ = SessionRecord::from_bytes(&t);
    }
}

#[test]
fn record_bytes_whose_public_keys_do_not_belong_to_their_keys_are_refused() {
    let (_alice, bob) = established(60);
    let bytes = bob.record.to_bytes().to_vec();
    assert!(SessionRecord::from_bytes(&bytes).is_ok());
    // Layout of the current session: version, flag, remote IK (32) at 2, its X25519 form
    // (32) at 34, AD (96), base key (32), no pending prefix (flag), a digest (flag + 32),
    // RK (32), then the DHs private (32) and public (32) keys.
    let dhs_public = 2 + 32 + 32 + 96 + 32 + 1 + 1 + 32 + 32 + 32;
    for (what, at) in [
        ("identity", 2),
        ("identity X25519 form", 34),
        ("ratchet public key", dhs_public),
    ] {
        let mut tampered = bytes.clone();
        tampered[at] ^= 0x01;
        assert!(
            SessionRecord::from_bytes(&tampered).is_err(),
            "a changed {what} was accepted"
        );
    }
}

#[test]
fn a_prekey_message_from_another_identity_is_refused_unless_trusted() {
    let (mut alice, mut bob) = established(900);
    // Mallory holds Bob's bundle and sends a PreKeyMessage on the record Bob keeps for
    // Alice (a relay that rewrites the sender address): refused, the real session stays.
    let mut mallory = Party::new(950, 0);
    mallory.start(&bob.bundle());
    let forged = mallory.send(b"it is me, Alice");
    let before = common::snapshot(&bob);
    let err = bob.receive(&forged.wire).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UntrustedIdentity, "{err}");
    assert_eq!(common::snapshot(&bob), before);
    assert_eq!(bob.record.remote_identity(), Some(alice.identity.public()));
    let m = alice.send(b"still me");
    assert_eq!(bob.receive(&m.wire).unwrap().body, b"still me");
    // Trusting another key does not let this one through.
    let other = Party::new(960, 0);
    let err = bob
        .record
        .decrypt_trusting(
            &bob.identity,
            &mut bob.prekeys,
            &forged.wire,
            &mut bob.rng,
            other.identity.public(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UntrustedIdentity);
    // Once the app trusts Mallory's key (a new device of Alice, say), the message starts
    // the new current session and the old one is archived.
    let got = bob
        .record
        .decrypt_trusting(
            &bob.identity,
            &mut bob.prekeys,
            &forged.wire,
            &mut bob.rng,
            mallory.identity.public(),
        )
        .unwrap();
    assert_eq!(got.body, b"it is me, Alice");
    assert_eq!(
        bob.record.remote_identity(),
        Some(mallory.identity.public())
    );
    assert_eq!(bob.record.archived_sessions().count(), 1);
}
