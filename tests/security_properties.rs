//! The security claims of `docs/security.md`, one test each: forward secrecy,
//! post-compromise security, identity binding, prekey reuse and replay. Zeroization is in
//! `tests/secrets.rs`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use bluetick::{ErrorKind, SessionRecord};
use common::{established, Party};

/// A thief's full copy of a party: identity, prekeys and session record.
fn steal(p: &Party, seed: u64) -> Party {
    let mut thief = Party::new(seed, 0);
    thief.identity = p.identity.clone();
    thief.prekeys = p.prekeys.clone();
    thief.record = SessionRecord::from_bytes(&p.record.to_bytes()).unwrap();
    thief
}

#[test]
fn forward_secrecy_a_stolen_state_cannot_decrypt_earlier_messages() {
    let (mut alice, mut bob) = established(1);
    let mut earlier = Vec::new();
    for i in 0..5u8 {
        let m = alice.send(&[i]);
        bob.receive(&m.wire).unwrap();
        earlier.push(m);
        let r = bob.send(b"ack");
        alice.receive(&r.wire).unwrap();
    }
    let mut thief = steal(&bob, 100);
    for m in &earlier {
        let err = thief.receive(&m.wire).unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::DuplicateMessage | ErrorKind::AuthenticationFailed
            ),
            "{err:?}"
        );
    }
}

#[test]
fn forward_secrecy_holds_for_the_first_prekey_message_too() {
    let mut alice = Party::new(10, 1);
    let mut bob = Party::new(11, 1);
    alice.start(&bob.bundle());
    let first = alice.send(b"first");
    bob.receive(&first.wire).unwrap();
    // Everything Bob holds afterwards: the one-time keys it used are deleted, the base key
    // is remembered, so even a thief with a fresh record cannot open the first message.
    let mut thief = steal(&bob, 102);
    thief.record = SessionRecord::new();
    assert_eq!(
        thief.receive(&first.wire).unwrap_err().kind(),
        ErrorKind::PreKeyReplay
    );
    let mut forgetful = steal(&bob, 103);
    forgetful.record = SessionRecord::new();
    forgetful.prekeys = bluetick::InMemoryPreKeyStore::new();
    assert_eq!(
        forgetful.receive(&first.wire).unwrap_err().kind(),
        ErrorKind::UnknownPreKey
    );
}

#[test]
fn post_compromise_security_after_one_dh_round_trip() {
    let (mut alice, mut bob) = established(20);
    let mut thief = steal(&bob, 104);
    // Right after the theft the thief can read what Alice sends next (same chain).
    let before_healing = alice.send(b"still exposed");
    assert!(thief.receive(&before_healing.wire).is_ok());
    bob.receive(&before_healing.wire).unwrap();
    // One DH round trip: Bob answers with a fresh ratchet key, Alice replies.
    let r = bob.send(b"ping");
    alice.receive(&r.wire).unwrap();
    let healed = alice.send(b"after the round trip");
    // The thief saw every wire message and follows along, but cannot follow the new key.
    let _ = thief.receive(&r.wire);
    let err = thief.receive(&healed.wire).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthenticationFailed);
    assert_eq!(
        bob.receive(&healed.wire).unwrap().body,
        b"after the round trip"
    );
}

#[test]
fn identity_binding_a_message_cannot_be_retargeted_or_reattributed() {
    // Alice's message to Bob does not decrypt for Carol, who also talks to Alice.
    let (mut alice, mut bob) = established(30);
    let mut carol = Party::new(31, 1);
    let mut alice_to_carol = Party::new(0, 0);
    alice_to_carol.identity = alice.identity.clone();
    alice_to_carol.start(&carol.bundle());
    carol
        .receive(&alice_to_carol.send(b"hi carol").wire)
        .unwrap();
    let to_bob = alice.send(b"for bob only");
    assert!(carol.receive(&to_bob.wire).is_err());
    assert_eq!(
        bob.receive(&to_bob.wire).unwrap().sender,
        *alice.identity.public()
    );

    // Mallory puts his identity on Alice's first PreKeyMessage: it does not authenticate.
    let mut alice = Party::new(32, 1);
    let mut bob = Party::new(33, 1);
    let mallory = Party::new(34, 0);
    alice.start(&bob.bundle());
    let m = alice.send(b"from alice");
    let mut swapped = m.wire.clone();
    swapped[1..33].copy_from_slice(mallory.identity.public().as_bytes());
    assert_eq!(
        bob.receive(&swapped).unwrap_err().kind(),
        ErrorKind::AuthenticationFailed
    );
    assert_eq!(
        bob.receive(&m.wire).unwrap().sender,
        *alice.identity.public()
    );
}

#[test]
fn one_time_prekeys_cannot_be_reused_and_prekey_messages_cannot_be_replayed() {
    let mut bob = Party::new(40, 1);
    let bundle = bob.bundle();
    // A misbehaving relay hands the same one-time prekey to two initiators.
    let mut first = Party::new(41, 0);
    let mut second = Party::new(42, 0);
    first.start(&bundle);
    second.start(&bundle);
    let m1 = first.send(b"one");
    let m2 = second.send(b"two");
    bob.receive(&m1.wire).unwrap();
    let mut bob_for_second = Party::new(0, 0);
    bob_for_second.identity = bob.identity.clone();
    bob_for_second.prekeys = bob.prekeys.clone();
    assert_eq!(
        bob_for_second.receive(&m2.wire).unwrap_err().kind(),
        ErrorKind::UnknownPreKey
    );

    // Without one-time keys (last resort), a replayed PreKeyMessage creates no second session.
    let mut bob = Party::new(43, 0);
    let mut alice = Party::new(44, 0);
    alice.start(&bob.bundle());
    let m = alice.send(b"once");
    bob.receive(&m.wire).unwrap();
    let mut elsewhere = Party::new(0, 0);
    elsewhere.identity = bob.identity.clone();
    elsewhere.prekeys = bob.prekeys.clone();
    assert_eq!(
        elsewhere.receive(&m.wire).unwrap_err().kind(),
        ErrorKind::PreKeyReplay
    );
    assert!(elsewhere.record.current_session().is_none());
}
