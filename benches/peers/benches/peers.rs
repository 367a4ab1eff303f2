//! Bluetick against vodozemac's Olm sessions on the same workloads, in the same run:
//! session setup (both sides), steady 1 KiB encrypt and decrypt, a ping-pong round trip
//! where every message carries a DH ratchet step, decryption after skipping 40 (with and
//! without the late messages) and after skipping 1000.
//! Prints a Bluetick / vodozemac table at the end (medians of this run), then sizes.
//!
//! Both sides go from bytes to bytes: Bluetick's wire messages, Olm messages encoded with
//! `OlmMessage::to_parts` / `from_parts` (no base64). vodozemac draws its randomness from
//! `rand::rng()`, a user-space ChaCha; Bluetick here from a seeded `ChaCha20Rng`.
//!
//! Run (from the repository root):
//! `CARGO_TARGET_DIR=/tmp/bench-target cargo bench --manifest-path benches/peers/Cargo.toml`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../report/mod.rs"]
mod report;

use std::time::SystemTime;

use bluetick::rand_core::SeedableRng;
use bluetick::{
    ContentType, IdentityKeyPair, InMemoryPreKeyStore, OneTimePreKey, PqPreKey, PqPreKeyKind,
    PreKeyBundle, SessionRecord, SignedPreKey,
};
use chacha20::ChaCha20Rng;
use criterion::Criterion;
use report::{run_group, time_batched, time_iter, Outcome, Pair, Timed};
use vodozemac::olm::{Account, OlmMessage, Session, SessionConfig};
use vodozemac::Curve25519PublicKey;

// ---------------------------------------------------------------------------------------
// Bluetick parties
// ---------------------------------------------------------------------------------------

struct Party {
    identity: IdentityKeyPair,
    prekeys: InMemoryPreKeyStore,
    record: SessionRecord,
    rng: ChaCha20Rng,
}

impl Clone for Party {
    fn clone(&self) -> Self {
        Self {
            identity: self.identity.clone(),
            prekeys: self.prekeys.clone(),
            record: self.record.clone(),
            rng: ChaCha20Rng::seed_from_u64(99),
        }
    }
}

impl Party {
    fn new(seed: u64, one_time: u32) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let identity = IdentityKeyPair::generate(&mut rng);
        let mut prekeys = InMemoryPreKeyStore::new();
        prekeys.add_signed_prekey(SignedPreKey::generate(&identity, 1, &mut rng));
        prekeys.add_pq_prekey(PqPreKey::generate(
            &identity,
            1000,
            PqPreKeyKind::LastResort,
            &mut rng,
        ));
        for id in 1..=one_time {
            prekeys.add_one_time_prekey(OneTimePreKey::generate(id, &mut rng));
            prekeys.add_pq_prekey(PqPreKey::generate(
                &identity,
                id,
                PqPreKeyKind::OneTime,
                &mut rng,
            ));
        }
        Self {
            identity,
            prekeys,
            record: SessionRecord::new(),
            rng,
        }
    }

    fn bundle(&self) -> PreKeyBundle {
        self.prekeys.bundle(&self.identity).unwrap()
    }

    fn send(&mut self, body: &[u8]) -> Vec<u8> {
        self.record
            .encrypt(ContentType::Application, body)
            .unwrap()
            .wire
    }

    fn receive(&mut self, wire: &[u8]) -> Vec<u8> {
        self.record
            .decrypt(&self.identity, &mut self.prekeys, wire, &mut self.rng)
            .unwrap()
            .body
    }
}

/// After one message each way; Alice's next message carries a new ratchet key.
fn bt_established() -> (Party, Party) {
    let mut alice = Party::new(1, 0);
    let mut bob = Party::new(2, 2);
    let bundle = bob.bundle();
    alice
        .record
        .start_session(&alice.identity, &bundle, &mut alice.rng)
        .unwrap();
    let hello = alice.send(b"hello");
    bob.receive(&hello);
    let hi = bob.send(b"hi");
    alice.receive(&hi);
    (alice, bob)
}

// ---------------------------------------------------------------------------------------
// vodozemac parties
// ---------------------------------------------------------------------------------------

fn olm_copy(s: &Session) -> Session {
    Session::from_pickle(s.pickle())
}

fn olm_send(s: &mut Session, body: &[u8]) -> (usize, Vec<u8>) {
    s.encrypt(body).unwrap().to_parts()
}

fn olm_receive(s: &mut Session, (kind, bytes): &(usize, Vec<u8>)) -> Vec<u8> {
    s.decrypt(&OlmMessage::from_parts(*kind, bytes).unwrap())
        .unwrap()
}

/// Bob's account with one published one-time key, and that key.
fn olm_bob() -> (Account, Curve25519PublicKey) {
    let mut bob = Account::new();
    bob.generate_one_time_keys(1);
    let otk = *bob.one_time_keys().values().next().unwrap();
    bob.mark_keys_as_published();
    (bob, otk)
}

/// Sessions after one message each way, as for Bluetick.
fn olm_established() -> (Session, Session) {
    let alice = Account::new();
    let (mut bob, otk) = olm_bob();
    let mut a = alice
        .create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk)
        .unwrap();
    let OlmMessage::PreKey(hello) = a.encrypt(b"hello").unwrap() else {
        panic!("expected a pre-key message")
    };
    let mut b = bob
        .create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &hello)
        .unwrap()
        .session;
    let hi = olm_send(&mut b, b"hi");
    olm_receive(&mut a, &hi);
    (a, b)
}

// ---------------------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------------------

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// `n` decryptions of `wire`, each by a fresh copy of `party`.
fn bt_decrypt_fresh<'a>(party: &'a Party, wire: &'a [u8]) -> Timed<'a> {
    Box::new(move |n| {
        time_batched(
            n,
            || party.clone(),
            |p| {
                p.record
                    .decrypt(&p.identity, &mut p.prekeys, wire, &mut p.rng)
                    .unwrap()
            },
        )
    })
}

/// `n` decryptions of `message`, each by a fresh copy of `session`.
fn olm_decrypt_fresh<'a>(session: &'a Session, message: &'a (usize, Vec<u8>)) -> Timed<'a> {
    Box::new(move |n| time_batched(n, || olm_copy(session), |s| olm_receive(s, message)))
}

/// `AccountPickle` is not `Clone`; a round trip through JSON copies it.
fn clone_pickle(p: &vodozemac::olm::AccountPickle) -> vodozemac::olm::AccountPickle {
    let text = serde_json::to_string(p).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn bench_setup(c: &mut Criterion, since: SystemTime, out: &mut Vec<Outcome>) {
    let alice = Party::new(1, 0);
    let bob = Party::new(2, 2);
    let bundle = bob.bundle();
    let mut a = alice.clone();
    a.record
        .start_session(&a.identity, &bundle, &mut a.rng)
        .unwrap();
    let hello = a.send(b"hello");

    let olm_alice = Account::new();
    let (olm_bob_account, otk) = olm_bob();
    let bob_identity = olm_bob_account.curve25519_key();
    let bob_signing = olm_bob_account.ed25519_key();
    let otk_signature = olm_bob_account.sign(otk.to_base64());
    let mut olm_out = olm_alice
        .create_outbound_session(SessionConfig::version_1(), bob_identity, otk)
        .unwrap();
    let olm_hello = olm_send(&mut olm_out, b"hello");
    let olm_bob_pickle = olm_bob_account.pickle();
    let alice_identity = olm_alice.curve25519_key();

    let (alice, bob, bundle, hello, olm_alice) = (&alice, &bob, &bundle, &hello, &olm_alice);
    let (olm_hello, olm_bob_pickle) = (&olm_hello, &olm_bob_pickle);
    let bt_initiator = || -> Timed<'_> {
        let mut r = rng(30);
        Box::new(move |n| {
            time_batched(n, SessionRecord::new, |record| {
                record
                    .start_session(&alice.identity, bundle, &mut r)
                    .unwrap()
            })
        })
    };
    let olm_initiator = move |n| {
        time_iter(n, || {
            olm_alice
                .create_outbound_session(SessionConfig::version_1(), bob_identity, otk)
                .unwrap()
        })
    };
    let pairs = vec![
        Pair::new(
            "session setup, initiator",
            ("bluetick", bt_initiator()),
            ("vodozemac", Box::new(olm_initiator)),
        ),
        // Matrix clients also check the one-time key's signature before using it.
        Pair::new(
            "session setup, initiator (Olm + OTK sig check)",
            ("bluetick_again", bt_initiator()),
            (
                "vodozemac_with_otk_signature",
                Box::new(move |n| {
                    time_iter(n, || {
                        bob_signing
                            .verify(otk.to_base64().as_bytes(), &otk_signature)
                            .unwrap();
                        olm_alice
                            .create_outbound_session(SessionConfig::version_1(), bob_identity, otk)
                            .unwrap()
                    })
                }),
            ),
        ),
    ];
    run_group(c, "peer_setup_initiator", pairs, since, out);

    let pairs = vec![Pair::new(
        "session setup, responder (1st message)",
        ("bluetick", {
            let mut r = rng(31);
            Box::new(move |n| {
                time_batched(
                    n,
                    || (SessionRecord::new(), bob.prekeys.clone()),
                    |(record, prekeys)| {
                        record
                            .decrypt(&bob.identity, prekeys, hello, &mut r)
                            .unwrap()
                    },
                )
            })
        }),
        (
            "vodozemac",
            Box::new(move |n| {
                time_batched(
                    n,
                    || Account::from_pickle(clone_pickle(olm_bob_pickle)),
                    |account| {
                        let OlmMessage::PreKey(m) =
                            OlmMessage::from_parts(olm_hello.0, &olm_hello.1).unwrap()
                        else {
                            panic!("expected a pre-key message")
                        };
                        account
                            .create_inbound_session(SessionConfig::version_1(), alice_identity, &m)
                            .unwrap()
                    },
                )
            }),
        ),
    )];
    run_group(c, "peer_setup_responder", pairs, since, out);
}

fn bench_steady(c: &mut Criterion, since: SystemTime, out: &mut Vec<Outcome>) {
    let body = vec![0x42u8; 1024];

    let (mut alice, mut bob) = bt_established();
    bob.receive(&alice.send(b"first of the chain"));
    let wire = alice.clone().send(&body);

    let (mut oa, mut ob) = olm_established();
    olm_receive(&mut ob, &olm_send(&mut oa, b"first of the chain"));
    let olm_msg = olm_send(&mut olm_copy(&oa), &body);

    let mut sender = alice.record.clone();
    let mut olm_sender = olm_copy(&oa);
    let body = &body;
    let pairs = vec![Pair::new(
        "encrypt 1 KiB",
        (
            "bluetick",
            Box::new(move |n| {
                time_iter(n, || {
                    sender.encrypt(ContentType::Application, body).unwrap()
                })
            }) as Timed<'_>,
        ),
        (
            "vodozemac",
            Box::new(move |n| time_iter(n, || olm_send(&mut olm_sender, body))),
        ),
    )
    .bytes(1024)];
    run_group(c, "peer_encrypt_1KiB", pairs, since, out);

    let pairs = vec![Pair::new(
        "decrypt 1 KiB",
        ("bluetick", bt_decrypt_fresh(&bob, &wire)),
        ("vodozemac", olm_decrypt_fresh(&ob, &olm_msg)),
    )
    .bytes(1024)];
    run_group(c, "peer_decrypt_1KiB", pairs, since, out);
}

fn bench_ping_pong(c: &mut Criterion, since: SystemTime, out: &mut Vec<Outcome>) {
    let body = [0x42u8; 64];
    let (mut a, mut b) = bt_established();
    let (mut oa, mut ob) = olm_established();
    let pairs = vec![Pair::new(
        "ping-pong round trip (2 msgs, 2 DH steps)",
        (
            "bluetick",
            Box::new(move |n| {
                time_iter(n, || {
                    let m = a.send(&body);
                    b.receive(&m);
                    let r = b.send(&body);
                    a.receive(&r)
                })
            }) as Timed<'_>,
        ),
        (
            "vodozemac",
            Box::new(move |n| {
                time_iter(n, || {
                    let m = olm_send(&mut oa, &body);
                    olm_receive(&mut ob, &m);
                    let r = olm_send(&mut ob, &body);
                    olm_receive(&mut oa, &r)
                })
            }),
        ),
    )];
    run_group(c, "peer_ping_pong", pairs, since, out);
}

/// Both sides after one message of a new chain, and `skipped + 1` further messages: the
/// receiver's sessions, the late messages (oldest first) and the newest message.
struct Skipped {
    bob: Party,
    late: Vec<Vec<u8>>,
    newest: Vec<u8>,
    olm_bob: Session,
    olm_late: Vec<(usize, Vec<u8>)>,
    olm_newest: (usize, Vec<u8>),
}

fn skipped(n: usize) -> Skipped {
    let body = [0x42u8; 64];
    let (mut alice, mut bob) = bt_established();
    bob.receive(&alice.send(b"first of the chain"));
    let late = (0..n).map(|_| alice.send(&body)).collect();
    let newest = alice.send(&body);

    let (mut oa, mut ob) = olm_established();
    olm_receive(&mut ob, &olm_send(&mut oa, b"first of the chain"));
    let olm_late = (0..n).map(|_| olm_send(&mut oa, &body)).collect();
    let olm_newest = olm_send(&mut oa, &body);
    Skipped {
        bob,
        late,
        newest,
        olm_bob: ob,
        olm_late,
        olm_newest,
    }
}

fn bench_skip(c: &mut Criterion, since: SystemTime, out: &mut Vec<Outcome>) {
    // Within vodozemac's window of 40 stored keys both keep every skipped key, so the work
    // is the same: derive and store 40 keys, decrypt, then (second pair) open the 40 late
    // messages with the stored keys.
    let s40 = skipped(40);
    let s = &s40;
    let pairs = vec![
        Pair::new(
            "decrypt after skipping 40",
            ("bluetick", bt_decrypt_fresh(&s.bob, &s.newest)),
            ("vodozemac", olm_decrypt_fresh(&s.olm_bob, &s.olm_newest)),
        ),
        Pair::new(
            "skip 40, then the 40 late messages",
            (
                "bluetick_late",
                Box::new(move |n| {
                    time_batched(
                        n,
                        || s.bob.clone(),
                        |p| {
                            p.receive(&s.newest);
                            for m in &s.late {
                                p.receive(m);
                            }
                        },
                    )
                }) as Timed<'_>,
            ),
            (
                "vodozemac_late",
                Box::new(move |n| {
                    time_batched(
                        n,
                        || olm_copy(&s.olm_bob),
                        |o| {
                            olm_receive(o, &s.olm_newest);
                            for m in &s.olm_late {
                                olm_receive(o, m);
                            }
                        },
                    )
                }),
            ),
        ),
    ];
    run_group(c, "peer_skip_40", pairs, since, out);

    // Beyond 40, vodozemac derives only the chain key for all but the last 40 skipped
    // messages and can never decrypt those; protocol-v1 keeps every one (up to 2000).
    let s1000 = skipped(1000);
    let s = &s1000;
    let pairs = vec![Pair::new(
        "decrypt after skipping 1000",
        ("bluetick", bt_decrypt_fresh(&s.bob, &s.newest)),
        ("vodozemac", olm_decrypt_fresh(&s.olm_bob, &s.olm_newest)),
    )];
    run_group(c, "peer_skip_1000", pairs, since, out);
}

/// After skipping 1000, how many of the 1000 late messages each side can still open.
fn print_late_delivery() {
    let mut s = skipped(1000);
    s.bob.receive(&s.newest);
    olm_receive(&mut s.olm_bob, &s.olm_newest);
    let bt = s
        .late
        .iter()
        .filter(|m| {
            s.bob
                .record
                .decrypt(&s.bob.identity, &mut s.bob.prekeys, m, &mut s.bob.rng)
                .is_ok()
        })
        .count();
    let olm = s
        .olm_late
        .iter()
        .filter(|(kind, bytes)| {
            let m = OlmMessage::from_parts(*kind, bytes).unwrap();
            s.olm_bob.decrypt(&m).is_ok()
        })
        .count();
    println!();
    println!(
        "After skipping 1000: late messages opened: bluetick {bt} of 1000, vodozemac {olm} of 1000"
    );
}

fn print_sizes() {
    let (mut alice, mut bob) = bt_established();
    let (mut oa, mut ob) = olm_established();
    let bt_1k = alice.send(&[0x42; 1024]).len() - 1024;
    let olm_1k = olm_send(&mut oa, &[0x42; 1024]).1.len() - 1024;

    let mut fresh = Party::new(1, 0);
    fresh
        .record
        .start_session(&fresh.identity, &Party::new(2, 2).bundle(), &mut fresh.rng)
        .unwrap();
    let bt_prekey = fresh.send(b"hello").len();
    let olm_alice = Account::new();
    let (olm_bob_account, otk) = olm_bob();
    let mut olm_fresh = olm_alice
        .create_outbound_session(
            SessionConfig::version_1(),
            olm_bob_account.curve25519_key(),
            otk,
        )
        .unwrap();
    let olm_prekey = olm_send(&mut olm_fresh, b"hello").1.len();

    // Established sessions, after one more message each way.
    bob.receive(&alice.send(b"x"));
    alice.receive(&bob.send(b"y"));
    olm_receive(&mut ob, &olm_send(&mut oa, b"x"));
    olm_receive(&mut oa, &olm_send(&mut ob, b"y"));
    let bt_session = alice.record.to_bytes().len();
    let olm_session = serde_json::to_vec(&oa.pickle()).unwrap().len();
    let olm_pickle = oa.pickle().encrypt(&[0u8; 32]).len();

    println!();
    println!("Sizes, Bluetick against vodozemac (bytes)");
    println!(
        "| {:<44} | {:>8} | {:>9} |",
        "what", "bluetick", "vodozemac"
    );
    println!("| {:-<44} | {:->8} | {:->9} |", "", "", "");
    let row = |what: &str, a: usize, b: usize| println!("| {what:<44} | {a:>8} | {b:>9} |");
    row("message overhead, 1 KiB body", bt_1k, olm_1k);
    row("first (pre-key) message, 5 B body", bt_prekey, olm_prekey);
    row("established session, serialized", bt_session, olm_session);
    println!("(vodozemac's session as JSON; its encrypted pickle, base64, is {olm_pickle} bytes)");
}

fn main() {
    let since = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    let mut out = Vec::new();
    bench_setup(&mut c, since, &mut out);
    bench_steady(&mut c, since, &mut out);
    bench_ping_pong(&mut c, since, &mut out);
    bench_skip(&mut c, since, &mut out);
    c.final_summary();

    let find = |label: &str| out.iter().find(|o| o.label == label);
    if let (Some(e), Some(d)) = (find("encrypt 1 KiB"), find("decrypt 1 KiB")) {
        let both = report::sum("encrypt + decrypt 1 KiB", &[e, d]);
        out.push(both);
    }
    report::print_table(
        "Bluetick against vodozemac (criterion medians; interleaved = median ratio of alternating batches; < 1 means Bluetick is faster)",
        ("bluetick", "vodozemac"),
        &out,
    );
    print_late_delivery();
    print_sizes();
}
