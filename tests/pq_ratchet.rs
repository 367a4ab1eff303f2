//! The post-quantum ratchet (spec §14) through the public API: both sides agree on every
//! root key whatever the delivery order and losses, epochs keep completing, and a copy of a
//! side's whole state taken before an epoch completes is useless after the next mixed step,
//! even to an adversary who knows every X25519 secret.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashMap;

use bluetick::rand_core::SeedableRng;
use bluetick::wire::WireMessage;
use bluetick::{hazmat, ContentType, ErrorKind, InMemoryPreKeyStore, SessionRecord};
use common::{ChaCha20Rng, Party};
use proptest::prelude::*;

/// One side: its record, the generator its ratchet keys come from (drawn while decrypting)
/// and the one its KEM randomness comes from (drawn while encrypting), kept apart so a test
/// can give an adversary the first and not the second.
struct Side {
    identity: bluetick::IdentityKeyPair,
    prekeys: InMemoryPreKeyStore,
    record: SessionRecord,
    dh_rng: ChaCha20Rng,
    kem_rng: ChaCha20Rng,
}

impl Side {
    fn send(&mut self, body: &[u8]) -> Vec<u8> {
        self.record
            .encrypt(ContentType::Application, body, &mut self.kem_rng)
            .unwrap()
            .wire
    }

    fn receive(&mut self, wire: &[u8]) -> Result<Vec<u8>, ErrorKind> {
        self.record
            .decrypt(&self.identity, &mut self.prekeys, wire, &mut self.dh_rng)
            .map(|d| d.body)
            .map_err(|e| e.kind())
    }

    fn session(&self) -> &bluetick::Session {
        self.record.current_session().unwrap()
    }

    fn epoch(&self) -> u32 {
        self.session().pq_epoch()
    }

    fn mixed(&self) -> u32 {
        self.session().pq_last_mixed()
    }
}

/// Alice and Bob after Alice's first message reached Bob.
fn pair(seed: u64) -> (Side, Side) {
    let alice = Party::new(seed, 1);
    let bob = Party::new(seed + 1, 1);
    let bundle = bob.bundle();
    let mut a = Side {
        identity: alice.identity,
        prekeys: alice.prekeys,
        record: SessionRecord::new(),
        dh_rng: ChaCha20Rng::seed_from_u64(seed ^ 0xA1),
        kem_rng: ChaCha20Rng::seed_from_u64(seed ^ 0xA2),
    };
    let mut b = Side {
        identity: bob.identity,
        prekeys: bob.prekeys,
        record: SessionRecord::new(),
        dh_rng: ChaCha20Rng::seed_from_u64(seed ^ 0xB1),
        kem_rng: ChaCha20Rng::seed_from_u64(seed ^ 0xB2),
    };
    a.record
        .start_session(&a.identity, &bundle, &mut a.dh_rng)
        .unwrap();
    let first = a.send(b"hello");
    assert_eq!(b.receive(&first).unwrap(), b"hello");
    (a, b)
}

fn header(wire: &[u8]) -> bluetick::wire::Header {
    match WireMessage::parse(wire).unwrap() {
        WireMessage::Message(m) => m.header,
        WireMessage::PreKey(p) => p.message.header,
    }
}

/// Two sides, the messages in flight each way, and the root key each sender derived when it
/// made each of its sending chains (keyed by the chain's ratchet key).
struct World {
    sides: [Side; 2],
    in_flight: [Vec<Vec<u8>>; 2],
    chain_roots: HashMap<[u8; 32], [u8; 32]>,
    delivered: usize,
    roots_checked: usize,
    counter: u64,
}

impl World {
    fn new(seed: u64) -> Self {
        let (a, b) = pair(seed);
        Self {
            sides: [a, b],
            in_flight: [Vec::new(), Vec::new()],
            chain_roots: HashMap::new(),
            delivered: 0,
            roots_checked: 0,
            counter: 0,
        }
    }

    fn send(&mut self, from: usize) {
        self.counter += 1;
        let body = format!("message {}", self.counter).into_bytes();
        let wire = self.sides[from].send(&body);
        // The chain's root key is the sender's root when it made the chain: record it at
        // the chain's first message (the root does not move while a chain is used).
        let key = header(&wire).ratchet_key;
        let root = hazmat::root_key(self.sides[from].session());
        if let Some(known) = self.chain_roots.insert(key, root) {
            assert_eq!(known, root, "the sender's root moved within a chain");
        }
        self.in_flight[from].push(wire);
    }

    /// Delivers (or, with `lose`, drops) message `pick` (modulo) of those `from` sent.
    fn deliver(&mut self, from: usize, pick: usize, lose: bool) {
        let queue = &mut self.in_flight[from];
        if queue.is_empty() {
            return;
        }
        let wire = queue.remove(pick % queue.len());
        if lose {
            return;
        }
        let to = 1 - from;
        let (epoch_before, mixed_before) = (self.sides[to].epoch(), self.sides[to].mixed());
        // A message on a new chain: the receiver's step derives the root key the sender
        // derived for that chain (KDF_RK or KDF_RK_PQ alike).
        if let Some(root) = hazmat::receiving_root(self.sides[to].session(), &wire) {
            let key = header(&wire).ratchet_key;
            assert_eq!(
                Some(&root),
                self.chain_roots.get(&key),
                "the sides disagree on a root key"
            );
            self.roots_checked += 1;
        }
        let body = self.sides[to].receive(&wire).unwrap();
        assert!(body.starts_with(b"message "));
        self.delivered += 1;
        // Epochs and the mixed epoch only move forward.
        assert!(self.sides[to].epoch() >= epoch_before);
        assert!(self.sides[to].mixed() >= mixed_before);
        assert!(self.sides[to].mixed() < self.sides[to].epoch());
    }

    /// The highest epoch mixed by both sides.
    fn mixed_by_both(&self) -> u32 {
        self.sides[0].mixed().min(self.sides[1].mixed())
    }
}

/// One random action: who acts, and what.
#[derive(Clone, Debug)]
enum Op {
    Send(usize),
    Deliver { from: usize, pick: usize },
    Lose { from: usize, pick: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..2).prop_map(Op::Send),
        4 => (0usize..2, any::<usize>()).prop_map(|(from, pick)| Op::Deliver { from, pick }),
        1 => (0usize..2, any::<usize>()).prop_map(|(from, pick)| Op::Lose { from, pick }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Random sends, out-of-order deliveries and losses over a long conversation: every
    /// message that arrives decrypts, both sides derive the same root key for every chain,
    /// epochs only move forward, and afterwards a plain exchange completes further epochs.
    #[test]
    fn random_delivery_keeps_the_sides_agreed_and_the_epochs_advancing(
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 200..600),
    ) {
        let mut w = World::new(seed);
        for op in ops {
            match op {
                Op::Send(from) => w.send(from),
                Op::Deliver { from, pick } => w.deliver(from, pick, false),
                Op::Lose { from, pick } => w.deliver(from, pick, true),
            }
        }
        // Whatever happened, the ratchet is live: strictly alternating turns, every message
        // delivered, complete another epoch (about 73 round trips each, spec §14).
        let before = w.mixed_by_both();
        for _ in 0..200 {
            for from in [0, 1] {
                w.send(from);
                let n = w.in_flight[from].len();
                w.deliver(from, n - 1, false);
            }
            if w.mixed_by_both() >= before + 2 {
                break;
            }
        }
        prop_assert!(w.mixed_by_both() >= before + 2, "epochs stopped completing");
        prop_assert!(w.delivered > 0);
        // At least the 2 x 2 x ~73 strictly alternating turns each made a new chain.
        prop_assert!(w.roots_checked > 200);
    }
}

#[test]
fn strict_alternation_completes_an_epoch_in_about_73_round_trips() {
    let mut w = World::new(7);
    let mut round_trips = 0;
    // Alice's first message reached Bob already; she keeps sending her key in chunks.
    while w.mixed_by_both() < 3 {
        for from in [1, 0] {
            w.send(from);
            w.deliver(from, 0, false);
        }
        round_trips += 1;
        assert!(round_trips < 400, "three epochs did not complete");
    }
    // Three epochs: both parties were the E side and the C side.
    assert!(w.sides[0].epoch() >= 4 && w.sides[1].epoch() >= 4);
    eprintln!("three epochs: {round_trips} round trips");
    assert!(
        (3 * 70..=3 * 80).contains(&round_trips),
        "{round_trips} round trips for three epochs"
    );
}

/// A quantum adversary copies Bob's whole state (through its serialization) in the middle of
/// an epoch and learns every X25519 secret Bob ever makes (it holds a copy of the generator
/// Bob's ratchet keys come from), but not the KEM randomness Bob draws after the copy. It
/// follows the conversation, decrypting as Bob does, until the epoch's secret is mixed: from
/// then on it decrypts nothing Alice sends.
#[test]
fn a_state_copied_before_an_epoch_completes_decrypts_nothing_after_the_next_mixed_step() {
    let (mut alice, mut bob) = pair(11);
    // Part of epoch 1: Alice has sent some of her key's chunks, Bob has answered.
    for i in 0..5 {
        let m = alice.send(format!("early {i}").as_bytes());
        bob.receive(&m).unwrap();
        let r = bob.send(b"ok");
        alice.receive(&r).unwrap();
    }
    assert_eq!((alice.mixed(), bob.mixed()), (0, 0));

    let mut adversary = Side {
        identity: bluetick::IdentityKeyPair::from_seed(
            bluetick::Secret32::from_slice(&[9; 32]).unwrap(),
        ),
        prekeys: InMemoryPreKeyStore::new(),
        record: SessionRecord::from_bytes(&bob.record.to_bytes()).unwrap(),
        // Every X25519 key Bob makes from now on is known to the adversary...
        dh_rng: ChaCha20Rng::deserialize_state(&bob.dh_rng.serialize_state()),
        // ...but not the KEM randomness Bob draws from now on.
        kem_rng: ChaCha20Rng::seed_from_u64(0xBAD),
    };

    let mut followed = 0;
    let mut refused_after_mixing = 0;
    for i in 0..200 {
        let m = alice.send(format!("later {i}").as_bytes());
        let pe = header(&m).pq_epoch;
        let got = bob.receive(&m).unwrap();
        let copy = adversary.receive(&m);
        if pe == 0 {
            // Before the mixed step the copy keeps up: X25519 alone protects nothing here.
            assert_eq!(copy.unwrap(), got);
            followed += 1;
        } else {
            // Every message on a chain made after the mixed step is closed to it.
            assert!(copy.is_err(), "the copy decrypted message {i} after mixing");
            refused_after_mixing += 1;
        }
        let reply = bob.send(b"reply");
        // The copy sends what Bob sends (same chains, its own KEM randomness).
        let _ = adversary.send(b"reply");
        alice.receive(&reply).unwrap();
    }
    assert!(
        followed > 10,
        "the copy should follow until the epoch completes"
    );
    assert!(refused_after_mixing > 10, "the epoch never completed");
    assert!(bob.mixed() >= 1 && alice.mixed() >= 1);
    // The failures changed nothing in the copy: it is still stuck at the same place.
    let stuck = adversary.record.to_bytes().to_vec();
    let m = alice.send(b"one more");
    assert!(adversary.receive(&m).is_err());
    assert_eq!(adversary.record.to_bytes().to_vec(), stuck);
    assert_eq!(bob.receive(&m).unwrap(), b"one more");
}

/// Revision 2's 40-byte header is gone: a message cut back to it fails and changes nothing.
#[test]
fn revision_two_headers_are_not_accepted() {
    let (mut alice, mut bob) = pair(21);
    let m = alice.send(b"x");
    // A 40-byte revision-2 header: the same bytes with PE cut out fail to authenticate.
    let at = match WireMessage::parse(&m).unwrap() {
        WireMessage::PreKey(p) => p.prefix.len(),
        WireMessage::Message(_) => 0,
    };
    let mut v2 = m[..at + 1 + 40].to_vec();
    v2.extend_from_slice(&m[at + 1 + 44..]);
    let before = bob.record.to_bytes().to_vec();
    assert!(bob.receive(&v2).is_err());
    assert_eq!(bob.record.to_bytes().to_vec(), before);
    assert_eq!(bob.receive(&m).unwrap(), b"x");
}

fn forge(side: &mut Side, pq_block: &[u8], pe: Option<u32>) -> Vec<u8> {
    hazmat::encrypt_forged(
        &mut side.record,
        pq_block,
        pe,
        ContentType::Application,
        b"f",
    )
    .unwrap()
    .wire
}

fn chunk_block(kind: u8, epoch: u32, index: u8, fill: u8) -> Vec<u8> {
    let mut b = vec![kind];
    b.extend_from_slice(&epoch.to_be_bytes());
    b.push(index);
    b.extend_from_slice(&[fill; 32]);
    b
}

/// Fails `wire` at `to` with `error`, and shows the session (PQ state included) unchanged.
fn refused(to: &mut Side, wire: &[u8], error: ErrorKind) {
    let before = to.record.to_bytes().to_vec();
    assert_eq!(to.receive(wire).unwrap_err(), error);
    assert_eq!(
        to.record.to_bytes().to_vec(),
        before,
        "{error:?} changed state"
    );
}

/// Alice and Bob after a first message that carried no chunk: Alice is still `Unsampled`.
fn quiet_pair(seed: u64) -> (Side, Side) {
    let (mut a, mut b) = pair(seed);
    // Replace the session with one whose first message carried nothing.
    a.record = SessionRecord::new();
    b.record = SessionRecord::new();
    // The same Bob (same seed) with fresh prekeys.
    let bob = Party::new(seed + 1, 1);
    let bundle = bob.bundle();
    b.prekeys = bob.prekeys;
    a.record
        .start_session(&a.identity, &bundle, &mut a.dh_rng)
        .unwrap();
    let first = forge(&mut a, &[0], None);
    assert_eq!(b.receive(&first).unwrap(), b"f");
    (a, b)
}

#[test]
fn pq_rule_breaking_messages_fail_and_change_nothing() {
    let (mut alice, mut bob) = quiet_pair(31);
    // Structure (step 1).
    let m = forge(&mut bob, &[0x03], None);
    refused(&mut alice, &m, ErrorKind::UnknownPqKind);
    let m = forge(&mut bob, &[0x01, 0, 0, 0, 1], None);
    refused(&mut alice, &m, ErrorKind::ShortPqBlock);
    let m = forge(&mut bob, &chunk_block(0x01, 1, 37, 0), None);
    refused(&mut alice, &m, ErrorKind::PqIndexOutOfRange);
    let m = forge(&mut bob, &chunk_block(0x02, 1, 34, 0), None);
    refused(&mut alice, &m, ErrorKind::PqIndexOutOfRange);
    // A later epoch (step 3), a kind the side never takes (step 4), a ct chunk before the
    // key pair was drawn (step 4).
    let m = forge(&mut bob, &chunk_block(0x02, 2, 0, 0), None);
    refused(&mut alice, &m, ErrorKind::PqFutureEpoch);
    let m = forge(&mut bob, &chunk_block(0x01, 1, 0, 0), None);
    refused(&mut alice, &m, ErrorKind::PqWrongKind);
    let m = forge(&mut bob, &chunk_block(0x02, 1, 0, 0), None);
    refused(&mut alice, &m, ErrorKind::PqUnexpectedChunk);
    // PE = PEm + 2, and PE = PEm + 1 with no secret held: refused before any key is derived.
    let m = forge(&mut bob, &[0], Some(2));
    refused(&mut alice, &m, ErrorKind::InvalidPqEpoch);
    let m = forge(&mut bob, &[0], Some(1));
    refused(&mut alice, &m, ErrorKind::InvalidPqEpoch);
    // A chunk of an earlier epoch is ignored: epoch 0 never exists, so it is always earlier.
    let m = forge(&mut bob, &chunk_block(0x01, 0, 5, 0), None);
    assert_eq!(alice.receive(&m).unwrap(), b"f");
    // And genuine traffic still flows.
    let m = bob.send(b"genuine");
    assert_eq!(alice.receive(&m).unwrap(), b"genuine");
}

#[test]
fn an_ek_failing_the_fips_203_check_fails_its_last_chunk_and_changes_nothing() {
    let (mut alice, mut bob) = quiet_pair(41);
    for index in 0..36 {
        let m = forge(&mut alice, &chunk_block(0x01, 1, index, 0xFF), None);
        assert_eq!(bob.receive(&m).unwrap(), b"f");
    }
    let m = forge(&mut alice, &chunk_block(0x01, 1, 36, 0xFF), None);
    refused(&mut bob, &m, ErrorKind::InvalidPqKey);
    // The same chunk index again is ignored once held, but this one never got held.
    let m = alice.send(b"genuine");
    assert_eq!(bob.receive(&m).unwrap(), b"genuine");
}
