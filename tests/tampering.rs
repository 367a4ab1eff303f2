//! Every single-byte change of a message is rejected and leaves the session byte-for-byte
//! unchanged; malformed messages give typed errors, never a panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use bluetick::wire::{Message, PreKeyMessage, WireMessage};
use bluetick::{DecodeError, ErrorKind};
use common::{established, snapshot, Party};

/// Byte 32 of a PreKeyMessage holds the sign bit of the sender's Ed25519 identity, which
/// revision 1 left unbound; revision 2 binds it in the associated data, so no flip is left
/// out of the every-byte tests below (and one test checks that flip on its own).
fn assert_every_byte_flip_rejected(receiver: &mut Party, wire: &[u8]) {
    let before = snapshot(receiver);
    let prekeys_before = (
        receiver.prekeys.one_time_prekey_count(),
        receiver.prekeys.one_time_pq_prekey_count(),
    );
    for i in 0..wire.len() {
        for flip in [0x01u8, 0x80] {
            let mut t = wire.to_vec();
            t[i] ^= flip;
            assert!(
                receiver.receive(&t).is_err(),
                "flip {flip:#x} at byte {i} was accepted"
            );
            assert_eq!(
                snapshot(receiver),
                before,
                "flip at byte {i} changed the session"
            );
        }
    }
    assert_eq!(
        (
            receiver.prekeys.one_time_prekey_count(),
            receiver.prekeys.one_time_pq_prekey_count()
        ),
        prekeys_before
    );
}

#[test]
fn every_byte_flip_of_a_message_is_rejected_and_changes_nothing() {
    let (mut alice, mut bob) = established(200);
    let m = alice.send(b"do not touch");
    assert_every_byte_flip_rejected(&mut bob, &m.wire);
    assert_eq!(bob.receive(&m.wire).unwrap().body, b"do not touch");
}

#[test]
fn every_byte_flip_of_a_message_with_a_ratchet_step_is_rejected() {
    let (mut alice, mut bob) = established(201);
    let m = bob.send(b"step");
    alice.receive(&m.wire).unwrap();
    let m = alice.send(b"new chain"); // carries a new ratchet key for Bob
    assert_every_byte_flip_rejected(&mut bob, &m.wire);
    assert_eq!(bob.receive(&m.wire).unwrap().body, b"new chain");
}

#[test]
fn every_byte_flip_of_a_first_prekey_message_is_rejected_and_creates_nothing() {
    let mut alice = Party::new(202, 1);
    let mut bob = Party::new(203, 1);
    alice.start(&bob.bundle());
    let m = alice.send(b"first");
    assert_every_byte_flip_rejected(&mut bob, &m.wire);
    assert!(bob.record.current_session().is_none());
    assert_eq!(bob.receive(&m.wire).unwrap().body, b"first");
}

#[test]
fn flipping_the_identity_sign_bit_of_a_first_prekey_message_is_refused() {
    // Revision 1 bound only the identity's Montgomery form, the same for `IK` and `-IK`, so
    // this flip decrypted as coming from `-IK_A` and then made the genuine message a replay.
    // Revision 2 binds the Ed25519 keys: the flip fails, changes nothing, and the genuine
    // PreKeyMessage is accepted afterwards.
    let mut alice = Party::new(210, 1);
    let mut bob = Party::new(211, 1);
    alice.start(&bob.bundle());
    let m = alice.send(b"first");
    let mut t = m.wire.clone();
    t[32] ^= 0x80;
    let before = snapshot(&bob);
    let prekeys = bob.prekeys.one_time_prekey_count();
    assert_eq!(
        bob.receive(&t).unwrap_err().kind(),
        ErrorKind::AuthenticationFailed
    );
    assert_eq!(snapshot(&bob), before);
    assert_eq!(bob.prekeys.one_time_prekey_count(), prekeys);
    let got = bob.receive(&m.wire).unwrap();
    assert_eq!(got.body, b"first");
    assert_eq!(got.sender, *alice.identity.public());
}

#[test]
fn truncations_and_extensions_are_rejected_with_typed_errors() {
    let (mut alice, mut bob) = established(204);
    let m = alice.send(b"length");
    let before = snapshot(&bob);
    for len in 0..m.wire.len() {
        let err = bob.receive(&m.wire[..len]).unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::Truncated
                    | ErrorKind::CiphertextTooShort
                    | ErrorKind::AuthenticationFailed
            ),
            "len {len}: {err:?}"
        );
    }
    let mut longer = m.wire.clone();
    longer.push(0);
    assert_eq!(
        bob.receive(&longer).unwrap_err().kind(),
        ErrorKind::AuthenticationFailed
    );
    assert_eq!(snapshot(&bob), before);
}

#[test]
fn parsers_reject_malformed_input() {
    assert_eq!(
        WireMessage::parse(&[]).unwrap_err(),
        DecodeError::Truncated {
            what: "wire message"
        }
    );
    for first in [0x00u8, 0x10, 0x13, 0x21, 0x22, 0xff] {
        assert_eq!(
            WireMessage::parse(&[first; 100]).unwrap_err(),
            DecodeError::UnknownMessageType(first)
        );
    }
    let mut short = vec![0x11];
    short.extend_from_slice(&[0u8; 40 + 15]);
    assert_eq!(
        Message::parse(&short).unwrap_err(),
        DecodeError::CiphertextTooShort
    );

    let mut pk = vec![0x12];
    pk.extend_from_slice(&[0u8; 72]);
    pk.push(2); // has_OPK must be 0 or 1
    pk.extend_from_slice(&[0u8; 2000]);
    assert_eq!(
        PreKeyMessage::parse(&pk).unwrap_err().kind(),
        ErrorKind::InvalidFlag
    );
}

#[test]
fn over_long_message_is_rejected_before_decryption() {
    let mut wire = vec![0x11];
    wire.extend_from_slice(&[0u8; 44]);
    wire.resize(1 + 44 + 16 * 1024 * 1024 + 64 + 16 + 1, 0);
    assert_eq!(
        Message::parse(&wire).unwrap_err(),
        DecodeError::MessageTooLong
    );
}

#[test]
fn duplicate_and_replayed_messages_are_rejected_without_change() {
    let (mut alice, mut bob) = established(205);
    let a = alice.send(b"a");
    let b = alice.send(b"b");
    bob.receive(&b.wire).unwrap();
    bob.receive(&a.wire).unwrap(); // from the skipped keys
    let before = snapshot(&bob);
    assert_eq!(
        bob.receive(&a.wire).unwrap_err().kind(),
        ErrorKind::DuplicateMessage
    );
    assert_eq!(
        bob.receive(&b.wire).unwrap_err().kind(),
        ErrorKind::DuplicateMessage
    );
    assert_eq!(snapshot(&bob), before);
}

#[test]
fn a_message_cannot_be_redirected_to_another_peer() {
    // Carol has a session with Bob too; Alice's message to Bob must not decrypt in it.
    let (mut alice, mut bob) = established(206);
    let mut carol = Party::new(207, 1);
    carol.start(&bob.bundle());
    let c = carol.send(b"carol");
    let mut bob_for_carol = Party::new(0, 0);
    bob_for_carol.identity = bob.identity.clone();
    bob_for_carol.prekeys = bob.prekeys.clone();
    bob_for_carol.receive(&c.wire).unwrap();
    let to_bob = alice.send(b"for bob's session with alice");
    let before = snapshot(&bob_for_carol);
    assert!(bob_for_carol.receive(&to_bob.wire).is_err());
    assert_eq!(snapshot(&bob_for_carol), before);
    assert!(bob.receive(&to_bob.wire).is_ok());
}
