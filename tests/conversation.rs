//! Conversations with random interleavings, out-of-order delivery, drops and duplicates
//! (proptest), and the skip limits of spec §4.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use bluetick::constants::{MAX_SKIP, MAX_STORED_SKIPPED};
use bluetick::ErrorKind;
use common::{established, snapshot, Party};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// Alice (true) or Bob (false) sends a message that is queued for the other.
    Send(bool),
    /// Deliver the queued message at this position (modulo the queue length) to its recipient.
    Deliver(bool, usize),
    /// Drop a queued message forever.
    Drop(bool, usize),
    /// Deliver an already delivered message again.
    Duplicate(bool, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<bool>().prop_map(Op::Send),
        4 => (any::<bool>(), any::<usize>()).prop_map(|(a, i)| Op::Deliver(a, i)),
        1 => (any::<bool>(), any::<usize>()).prop_map(|(a, i)| Op::Drop(a, i)),
        1 => (any::<bool>(), any::<usize>()).prop_map(|(a, i)| Op::Duplicate(a, i)),
    ]
}

struct World {
    alice: Party,
    bob: Party,
    /// In flight to Bob (sent by Alice) and to Alice: (wire, body).
    to_bob: Vec<(Vec<u8>, Vec<u8>)>,
    to_alice: Vec<(Vec<u8>, Vec<u8>)>,
    delivered_to_bob: Vec<Vec<u8>>,
    delivered_to_alice: Vec<Vec<u8>>,
    counter: u32,
}

impl World {
    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Send(from_alice) => {
                self.counter += 1;
                let body = format!(
                    "message {} from {}",
                    self.counter,
                    if from_alice { "alice" } else { "bob" }
                )
                .into_bytes();
                if from_alice {
                    let m = self.alice.send(&body);
                    self.to_bob.push((m.wire, body));
                } else {
                    let m = self.bob.send(&body);
                    self.to_alice.push((m.wire, body));
                }
            }
            Op::Deliver(to_alice, i) => {
                let (queue, party, delivered) = if to_alice {
                    (
                        &mut self.to_alice,
                        &mut self.alice,
                        &mut self.delivered_to_alice,
                    )
                } else {
                    (&mut self.to_bob, &mut self.bob, &mut self.delivered_to_bob)
                };
                if queue.is_empty() {
                    return;
                }
                let (wire, body) = queue.remove(i % queue.len());
                let got = party
                    .receive(&wire)
                    .expect("an untampered message decrypts");
                assert_eq!(got.body, body);
                delivered.push(wire);
            }
            Op::Drop(to_alice, i) => {
                let queue = if to_alice {
                    &mut self.to_alice
                } else {
                    &mut self.to_bob
                };
                if !queue.is_empty() {
                    let n = queue.len();
                    queue.remove(i % n);
                }
            }
            Op::Duplicate(to_alice, i) => {
                let (party, delivered) = if to_alice {
                    (&mut self.alice, &self.delivered_to_alice)
                } else {
                    (&mut self.bob, &self.delivered_to_bob)
                };
                if delivered.is_empty() {
                    return;
                }
                let wire = delivered[i % delivered.len()].clone();
                let before = snapshot(party);
                let err = party
                    .receive(&wire)
                    .expect_err("a duplicate must be rejected");
                assert!(
                    matches!(
                        err.kind(),
                        ErrorKind::DuplicateMessage | ErrorKind::AuthenticationFailed
                    ),
                    "unexpected {err:?}"
                );
                assert_eq!(
                    snapshot(party),
                    before,
                    "a rejected duplicate changed the session"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn random_interleavings_deliver_every_message_exactly_once(seed in 0u64..1_000_000, ops in proptest::collection::vec(op(), 1..80)) {
        let (alice, bob) = established(seed);
        let mut w = World { alice, bob, to_bob: vec![], to_alice: vec![], delivered_to_bob: vec![], delivered_to_alice: vec![], counter: 0 };
        for op in &ops {
            w.apply(op);
        }
        // Everything still in flight arrives, in reverse order.
        while let Some((wire, body)) = w.to_bob.pop() {
            prop_assert_eq!(w.bob.receive(&wire).unwrap().body, body);
        }
        while let Some((wire, body)) = w.to_alice.pop() {
            prop_assert_eq!(w.alice.receive(&wire).unwrap().body, body);
        }
    }
}

#[test]
fn skipping_up_to_max_skip_in_one_chain_works() {
    let (mut alice, mut bob) = established(100);
    let mut skipped = Vec::new();
    for i in 0..MAX_SKIP {
        skipped.push(alice.send(&i.to_be_bytes()));
    }
    let last = alice.send(b"after the gap");
    assert_eq!(bob.receive(&last.wire).unwrap().body, b"after the gap");
    assert_eq!(
        bob.record.current_session().unwrap().skipped_key_count(),
        MAX_SKIP as usize
    );
    // Every skipped one still decrypts, in any order.
    for (i, m) in skipped.iter().enumerate().rev() {
        assert_eq!(bob.receive(&m.wire).unwrap().body, (i as u32).to_be_bytes());
    }
    assert_eq!(bob.record.current_session().unwrap().skipped_key_count(), 0);
}

#[test]
fn skipping_past_max_skip_is_rejected_without_change() {
    let (mut alice, mut bob) = established(101);
    for _ in 0..=MAX_SKIP {
        alice.send(b"never delivered");
    }
    let too_far = alice.send(b"too far");
    let before = snapshot(&bob);
    assert_eq!(
        bob.receive(&too_far.wire).unwrap_err().kind(),
        ErrorKind::TooManySkipped
    );
    assert_eq!(snapshot(&bob), before);
}

#[test]
fn skipping_past_max_skip_across_a_ratchet_step_is_rejected() {
    let (mut alice, mut bob) = established(102);
    for _ in 0..=MAX_SKIP {
        alice.send(b"never delivered");
    }
    // Bob's next message makes Alice step her ratchet; her next message says PN = 2002.
    let b = bob.send(b"ping");
    alice.receive(&b.wire).unwrap();
    let stepped = alice.send(b"new chain");
    let before = snapshot(&bob);
    assert_eq!(
        bob.receive(&stepped.wire).unwrap_err().kind(),
        ErrorKind::TooManySkipped
    );
    assert_eq!(snapshot(&bob), before);
}

#[test]
fn keys_skipped_in_both_chains_count_together_against_max_skip() {
    let (mut alice, mut bob) = established(107);
    // Bob receives the start of Alice's current chain and answers on a new ratchet key;
    // meanwhile 1500 more messages of that chain are never delivered.
    bob.receive(&alice.send(b"start of chain").wire).unwrap();
    for _ in 0..1500 {
        alice.send(b"never delivered");
    }
    let b = bob.send(b"ping");
    alice.receive(&b.wire).unwrap();
    // Alice's answer starts a new chain with PN = 1501; 600 of it are lost too.
    for _ in 0..600 {
        alice.send(b"never delivered either");
    }
    // This one would make Bob derive 1500 + 600 keys: over the limit of one message.
    let m = alice.send(b"2100 keys away");
    let before = snapshot(&bob);
    assert_eq!(
        bob.receive(&m.wire).unwrap_err().kind(),
        ErrorKind::TooManySkipped
    );
    assert_eq!(snapshot(&bob), before);
}

#[test]
fn at_most_max_stored_skipped_keys_are_kept_oldest_dropped_first() {
    let (mut alice, mut bob) = established(103);
    // Two chains of skipped messages: 1500 in one, then 1500 in the next.
    let mut first_chain = Vec::new();
    for _ in 0..1500 {
        first_chain.push(alice.send(b"a"));
    }
    let tail = alice.send(b"end of first chain");
    bob.receive(&tail.wire).unwrap();
    let b = bob.send(b"ping");
    alice.receive(&b.wire).unwrap();
    let mut second_chain = Vec::new();
    for _ in 0..1500 {
        second_chain.push(alice.send(b"b"));
    }
    let tail = alice.send(b"end of second chain");
    bob.receive(&tail.wire).unwrap();
    assert_eq!(
        bob.record.current_session().unwrap().skipped_key_count(),
        MAX_STORED_SKIPPED
    );
    // The 1000 oldest of the first chain were dropped; the newest 500 of it remain.
    let before = snapshot(&bob);
    assert!(bob.receive(&first_chain[0].wire).is_err());
    assert_eq!(snapshot(&bob), before);
    assert!(bob.receive(&first_chain[999].wire).is_err());
    assert_eq!(bob.receive(&first_chain[1000].wire).unwrap().body, b"a");
    assert_eq!(bob.receive(&second_chain[0].wire).unwrap().body, b"b");
}

#[test]
fn alternating_senders_step_the_ratchet_every_message() {
    let (mut alice, mut bob) = established(104);
    let mut last_key = None;
    for i in 0..20u32 {
        let (from, to) = if i % 2 == 0 {
            (&mut alice, &mut bob)
        } else {
            (&mut bob, &mut alice)
        };
        let m = from.send(&i.to_be_bytes());
        let header_key = m.wire[1..33].to_vec();
        assert_ne!(
            Some(header_key.clone()),
            last_key,
            "each turn uses a new ratchet key"
        );
        last_key = Some(header_key);
        assert_eq!(to.receive(&m.wire).unwrap().body, i.to_be_bytes());
    }
}

#[test]
fn empty_and_large_bodies_round_trip() {
    let (mut alice, mut bob) = established(105);
    for len in [0usize, 1, 61, 62, 63, 64, 16 * 1024, 1 << 20] {
        let body = vec![0xA5u8; len];
        let m = alice.send(&body);
        // Padding: a 38-byte pq_block (Alice still sends her epoch-1 key in chunks: Bob
        // has sent no ciphertext chunk yet), 1 content-type byte + body + 0x80, rounded up
        // to 64, plus the 44-byte header and the tag.
        let padded = (38 + len + 2).div_ceil(64) * 64;
        assert_eq!(m.wire.len(), 1 + 44 + padded + 16);
        assert_eq!(bob.receive(&m.wire).unwrap().body, body);
    }
}

#[test]
fn a_body_over_16_mib_is_refused() {
    let (mut alice, _bob) = established(106);
    let err = alice
        .record
        .encrypt(
            bluetick::ContentType::Application,
            &vec![0u8; 16 * 1024 * 1024 + 1],
            &mut crate::common::rng(1),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PlaintextTooLarge);
}
