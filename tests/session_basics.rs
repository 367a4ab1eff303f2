//! PQXDH and session start: PreKeyMessages until a reply, prekeys consumed only after the
//! first message decrypts, repeated PreKeyMessages routed to their session, replays refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use bluetick::constants::{MESSAGE_TYPE, PREKEY_MESSAGE_TYPE};
use bluetick::{ErrorKind, PreKeyBundle, SessionRecord};
use common::{established, snapshot, Party};

#[test]
fn initiator_sends_prekey_messages_until_a_reply_decrypts() {
    let mut alice = Party::new(1, 1);
    let mut bob = Party::new(2, 1);
    alice.start(&bob.bundle());
    let m1 = alice.send(b"one");
    let m2 = alice.send(b"two");
    assert_eq!(m1.wire[0], PREKEY_MESSAGE_TYPE);
    assert_eq!(m2.wire[0], PREKEY_MESSAGE_TYPE);
    assert!(alice.record.current_session().unwrap().awaiting_reply());

    assert_eq!(bob.receive(&m2.wire).unwrap().body, b"two");
    assert_eq!(bob.receive(&m1.wire).unwrap().body, b"one");
    let reply = bob.send(b"reply");
    assert_eq!(reply.wire[0], MESSAGE_TYPE);
    alice.receive(&reply.wire).unwrap();
    assert!(!alice.record.current_session().unwrap().awaiting_reply());
    assert_eq!(alice.send(b"three").wire[0], MESSAGE_TYPE);
}

#[test]
fn one_time_prekeys_are_consumed_only_after_the_first_message_decrypts() {
    let mut alice = Party::new(3, 1);
    let mut bob = Party::new(4, 1);
    assert_eq!(bob.prekeys.one_time_prekey_count(), 1);
    assert_eq!(bob.prekeys.one_time_pq_prekey_count(), 1);
    alice.start(&bob.bundle());
    let m = alice.send(b"first");

    let mut tampered = m.wire.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(
        bob.receive(&tampered).unwrap_err().kind(),
        ErrorKind::AuthenticationFailed
    );
    assert_eq!(
        bob.prekeys.one_time_prekey_count(),
        1,
        "failed decryption consumed a prekey"
    );
    assert!(
        bob.record.current_session().is_none(),
        "failed decryption created a session"
    );

    let got = bob.receive(&m.wire).unwrap();
    let used = got.new_session.expect("a new session");
    assert_eq!(used.one_time_prekey_id, Some(1));
    assert_eq!(bob.prekeys.one_time_prekey_count(), 0);
    assert_eq!(bob.prekeys.one_time_pq_prekey_count(), 0);
}

#[test]
fn session_without_one_time_prekeys_uses_the_last_resort_pq_prekey() {
    let mut alice = Party::new(5, 0);
    let mut bob = Party::new(6, 0);
    let bundle = bob.bundle();
    assert!(bundle.one_time_prekey.is_none());
    assert_eq!(bundle.pq_prekey.id, 1000);
    alice.start(&bundle);
    let m = alice.send(b"no opk");
    assert_eq!(bob.receive(&m.wire).unwrap().body, b"no opk");
    assert_eq!(
        bob.prekeys.bundle(&bob.identity).unwrap().pq_prekey.id,
        1000,
        "last resort kept"
    );
}

#[test]
fn repeated_prekey_message_reaches_its_session_and_is_a_duplicate_once_used() {
    let mut alice = Party::new(7, 1);
    let mut bob = Party::new(8, 1);
    alice.start(&bob.bundle());
    let m1 = alice.send(b"one");
    let m2 = alice.send(b"two");
    bob.receive(&m1.wire).unwrap();
    // m2 carries the same PQXDH fields; it reaches the session m1 created.
    let got = bob.receive(&m2.wire).unwrap();
    assert!(got.new_session.is_none());
    assert_eq!(got.body, b"two");
    let before = snapshot(&bob);
    assert_eq!(
        bob.receive(&m1.wire).unwrap_err().kind(),
        ErrorKind::DuplicateMessage
    );
    assert_eq!(snapshot(&bob), before);
}

#[test]
fn prekey_message_replayed_into_a_fresh_record_is_rejected_as_replay() {
    // Bob's record of the peer is lost (or the attacker replays to another record): the
    // base key was already accepted for these prekeys, so no second session is created.
    let mut alice = Party::new(9, 0);
    let mut bob = Party::new(10, 0);
    alice.start(&bob.bundle());
    let m = alice.send(b"once");
    bob.receive(&m.wire).unwrap();
    bob.record = SessionRecord::new();
    assert_eq!(
        bob.receive(&m.wire).unwrap_err().kind(),
        ErrorKind::PreKeyReplay
    );
    assert!(bob.record.current_session().is_none());
}

#[test]
fn prekey_message_with_altered_fields_for_an_existing_session_is_refused() {
    let mut alice = Party::new(11, 1);
    let mut bob = Party::new(12, 1);
    alice.start(&bob.bundle());
    let m1 = alice.send(b"one");
    let m2 = alice.send(b"two");
    bob.receive(&m1.wire).unwrap();
    // Flip a byte of the KEM ciphertext in m2: same base key and identity, other fields.
    let mut altered = m2.wire.clone();
    altered[80] ^= 0x40;
    let before = snapshot(&bob);
    assert_eq!(
        bob.receive(&altered).unwrap_err().kind(),
        ErrorKind::AuthenticationFailed
    );
    assert_eq!(snapshot(&bob), before);
    assert_eq!(bob.receive(&m2.wire).unwrap().body, b"two");
}

#[test]
fn unknown_prekey_ids_are_reported() {
    let mut alice = Party::new(13, 1);
    let mut bob = Party::new(14, 1);
    let mut bundle = bob.bundle();
    bundle.one_time_prekey = None;
    alice.start(&bundle);
    let m = alice.send(b"x");
    // Bob removed the signed prekey the message names.
    bob.prekeys.remove_signed_prekey(1);
    assert_eq!(
        bob.receive(&m.wire).unwrap_err().kind(),
        ErrorKind::UnknownPreKey
    );
}

#[test]
fn new_prekey_message_archives_the_old_session_and_late_messages_still_decrypt() {
    let (mut alice, mut bob) = established(20);
    let late = alice.send(b"late from the first session");
    // Alice starts over (for example after reinstalling her session state).
    let bundle: PreKeyBundle = bob.bundle();
    alice.start(&bundle);
    let fresh = alice.send(b"second session");
    let got = bob.receive(&fresh.wire).unwrap();
    assert!(got.new_session.is_some());
    assert_eq!(bob.record.archived_sessions().count(), 1);
    // The late message belongs to the archived session and still decrypts; that session
    // becomes current again.
    assert_eq!(
        bob.receive(&late.wire).unwrap().body,
        b"late from the first session"
    );
    assert_eq!(bob.record.archived_sessions().count(), 1);
    // Replies from Bob now go in the first session, which Alice archived: she still reads them.
    let reply = bob.send(b"reply");
    assert_eq!(alice.receive(&reply.wire).unwrap().body, b"reply");
}

#[test]
fn at_most_forty_sessions_are_archived() {
    let mut bob = Party::new(30, 0);
    let bundle = bob.bundle();
    let mut alice = Party::new(31, 0);
    for i in 0..45u32 {
        alice.start(&bundle);
        let m = alice.send(&i.to_be_bytes());
        bob.receive(&m.wire).unwrap();
    }
    assert_eq!(bob.record.archived_sessions().count(), 40);
}

#[test]
fn message_ids_come_from_the_wire_bytes_and_the_sender_is_reported() {
    let (mut alice, mut bob) = established(40);
    let m = alice.send(b"id");
    let other = alice.send(b"id");
    assert_eq!(m.id(), bluetick::MessageId::of(&m.wire));
    assert_ne!(
        m.id(),
        other.id(),
        "two sends of one body have different ids"
    );
    let got = bob.receive(&m.wire).unwrap();
    assert_eq!(got.sender, *alice.identity.public());
}

#[test]
fn older_archived_sessions_take_no_new_ratchet_step() {
    let (mut alice, mut bob) = established(50);
    // Bob learns Alice's current chain from its second message; the first stays skipped.
    let late = alice.send(b"late, on a chain Bob knows");
    bob.receive(&alice.send(b"second").wire).unwrap();
    alice.receive(&bob.send(b"reply").wire).unwrap();
    // Alice's first session as it is now: its next message starts a chain Bob never saw.
    let mut first = alice.record.clone();
    for i in 0..2u8 {
        alice.start(&bob.bundle());
        bob.receive(&alice.send(&[i]).wire).unwrap();
    }
    let position = bob
        .record
        .archived_sessions()
        .position(|s| s.base_key() == first.current_session().unwrap().base_key());
    assert_eq!(position, Some(1));

    // Only the current and the most recently archived session may take a new ratchet step:
    // the first session is further back, so the message is refused and nothing changes.
    let stepped = first
        .encrypt(
            bluetick::ContentType::Application,
            b"new chain, old session",
            &mut common::rng(7),
        )
        .unwrap();
    let before = snapshot(&bob);
    assert!(bob.receive(&stepped.wire).is_err());
    assert_eq!(snapshot(&bob), before);
    // A message on a chain that session knows still reaches it.
    assert_eq!(
        bob.receive(&late.wire).unwrap().body,
        b"late, on a chain Bob knows"
    );
}

#[test]
fn the_most_recently_archived_session_may_take_a_new_ratchet_step() {
    let (mut alice, mut bob) = established(51);
    let mut first = alice.record.clone();
    alice.start(&bob.bundle());
    bob.receive(&alice.send(b"second").wire).unwrap();
    // The first session is Bob's most recently archived one: a new chain there is accepted
    // (a simultaneous start by both sides leaves exactly this).
    let m = first
        .encrypt(
            bluetick::ContentType::Application,
            b"first session, new chain",
            &mut common::rng(7),
        )
        .unwrap();
    assert_eq!(
        bob.receive(&m.wire).unwrap().body,
        b"first session, new chain"
    );
}
