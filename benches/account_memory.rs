//! The Account's own cost, over the memory store (no disk): a 1 KiB round trip (encrypt,
//! decrypt, acknowledge) against the bare session's encrypt and decrypt, and a repeated
//! PreKeyMessage (an initiator not yet answered) against a normal Message. Interleaved
//! ratios, as in `benches/protocol.rs`. Run: `cargo bench --bench account_memory`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)] // the shared report module has helpers this bench does not use
mod report;

use std::time::SystemTime;

use bluetick::rand_core::SeedableRng;
use bluetick::{
    Account, AccountConfig, Address, ContentType, IdentityKeyPair, InMemoryPreKeyStore,
    MemoryStore, OneTimePreKey, PqPreKey, PqPreKeyKind, PreKeyUpload, Secret32, SessionRecord,
    SignedPreKey,
};
use chacha20::ChaCha20Rng;
use criterion::Criterion;
use report::{run_group, time_batched, time_iter, Pair};

const BODY: [u8; 1024] = [0x42; 1024];

struct Accounts {
    alice: Account,
    bob: Account,
    a: Address,
    b: Address,
}

/// Alice has sent Bob one message; with `answered`, Bob has replied and Alice read it.
fn accounts(answered: bool) -> Accounts {
    let key = Secret32::from_slice(&[1; 32]).unwrap();
    let config = AccountConfig {
        one_time_prekeys: 2,
        one_time_pq_prekeys: 2,
        low_water_mark: 1,
    };
    let alice = Account::create(Box::new(MemoryStore::new()), &key, config).unwrap();
    let bob = Account::create(Box::new(MemoryStore::new()), &key, config).unwrap();
    let (a, b) = (Address::new("alice", 1), Address::new("bob", 1));
    let mut upload = PreKeyUpload::from_bytes(&bob.prekey_upload().unwrap().to_bytes()).unwrap();
    let first = alice
        .encrypt(&b, b"hello", Some(&upload.take_bundle()), 0)
        .unwrap();
    bob.decrypt(&a, &first.wire).unwrap();
    if answered {
        let reply = bob.encrypt(&a, b"hi", None, 0).unwrap();
        alice.decrypt(&b, &reply.wire).unwrap();
    }
    Accounts { alice, bob, a, b }
}

/// Two bare session records after one message each way.
fn bare() -> (
    SessionRecord,
    SessionRecord,
    IdentityKeyPair,
    InMemoryPreKeyStore,
    ChaCha20Rng,
) {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let alice = IdentityKeyPair::generate(&mut rng);
    let bob = IdentityKeyPair::generate(&mut rng);
    let mut prekeys = InMemoryPreKeyStore::new();
    prekeys.add_signed_prekey(SignedPreKey::generate(&bob, 1, &mut rng));
    prekeys.add_pq_prekey(PqPreKey::generate(
        &bob,
        1,
        PqPreKeyKind::LastResort,
        &mut rng,
    ));
    prekeys.add_one_time_prekey(OneTimePreKey::generate(1, &mut rng));
    let bundle = prekeys.bundle(&bob).unwrap();
    let mut to_bob = SessionRecord::new();
    to_bob.start_session(&alice, &bundle, &mut rng).unwrap();
    let mut to_alice = SessionRecord::new();
    let hello = to_bob
        .encrypt(ContentType::Application, b"hello", &mut rng)
        .unwrap();
    to_alice
        .decrypt(&bob, &mut prekeys, &hello.wire, &mut rng)
        .unwrap();
    let hi = to_alice
        .encrypt(ContentType::Application, b"hi", &mut rng)
        .unwrap();
    let mut none = InMemoryPreKeyStore::new();
    to_bob
        .decrypt(&alice, &mut none, &hi.wire, &mut rng)
        .unwrap();
    (to_bob, to_alice, bob, prekeys, rng)
}

fn main() {
    let since = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    let mut out = Vec::new();

    let steady = accounts(true);
    let (mut to_bob, mut to_alice, bob_identity, mut bob_prekeys, mut rng) = bare();
    let mut kem_rng = ChaCha20Rng::seed_from_u64(29);
    let round_trip = Pair::new(
        "Account round trip 1KiB (encrypt, decrypt, acknowledge), memory store",
        (
            "account_round_trip",
            Box::new(|n| {
                time_iter(n, || {
                    let m = steady.alice.encrypt(&steady.b, &BODY, None, 0).unwrap();
                    steady.bob.decrypt(&steady.a, &m.wire).unwrap();
                    steady.bob.acknowledge(&m.id).unwrap();
                })
            }),
        ),
        (
            "bare_session_encrypt_decrypt",
            Box::new(move |n| {
                time_iter(n, || {
                    let m = to_bob
                        .encrypt(ContentType::Application, &BODY, &mut kem_rng)
                        .unwrap();
                    to_alice
                        .decrypt(&bob_identity, &mut bob_prekeys, &m.wire, &mut rng)
                        .unwrap()
                })
            }),
        ),
    );

    let unanswered = accounts(false);
    let answered = accounts(true);
    let repeated = Pair::new(
        "decrypt a repeated PreKeyMessage against a Message, memory store",
        (
            "account_decrypt_prekey_message",
            Box::new(|n| {
                time_batched(
                    n,
                    || {
                        unanswered
                            .alice
                            .encrypt(&unanswered.b, b"again", None, 0)
                            .unwrap()
                    },
                    |m| unanswered.bob.decrypt(&unanswered.a, &m.wire).unwrap(),
                )
            }),
        ),
        (
            "account_decrypt_message",
            Box::new(|n| {
                time_batched(
                    n,
                    || {
                        answered
                            .alice
                            .encrypt(&answered.b, b"again", None, 0)
                            .unwrap()
                    },
                    |m| answered.bob.decrypt(&answered.a, &m.wire).unwrap(),
                )
            }),
        ),
    );
    run_group(
        &mut c,
        "account_memory",
        vec![round_trip, repeated],
        since,
        &mut out,
    );
    c.final_summary();
    report::print_table(
        "The Account over the memory store against the bare session (interleaved = median ratio of alternating batches)",
        ("subject", "baseline"),
        &out,
    );
}
