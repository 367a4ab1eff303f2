//! The Account's own cost, over the memory store (no disk): a 1 KiB round trip (encrypt,
//! decrypt, acknowledge) against the bare session's encrypt and decrypt, and a repeated
//! PreKeyMessage (an initiator not yet answered) against a normal Message. Interleaved
//! ratios, as in `benches/protocol.rs`. Run: `cargo bench --bench account_memory`.
//!
//! A third pair measures the floor under the round trip: the bare session plus only the
//! work no account over a sealed store can skip: the two message ids (SHA-256 of the wire,
//! spec §5) and one AES-256-GCM seal of each record the round trip writes, at the sizes the
//! Account writes them (recorded from a real round trip, not assumed).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)] // the shared report module has helpers this bench does not use
mod report;

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};

use bluetick::rand_core::SeedableRng;
use bluetick::store::{RawTransaction, Row, Table};
use bluetick::wire::MessageId;
use bluetick::{
    Account, AccountConfig, Address, ContentType, IdentityKeyPair, InMemoryPreKeyStore,
    MemoryStore, OneTimePreKey, PqPreKey, PqPreKeyKind, PreKeyUpload, Secret32, SessionRecord,
    SignedPreKey, Store, StoreError,
};
use chacha20::ChaCha20Rng;
use criterion::Criterion;
use report::{run_group, time_batched, time_iter, Pair, Timed};

const BODY: [u8; 1024] = [0x42; 1024];

/// A memory store that records the size of every sealed value written while `on` is set.
#[derive(Default)]
struct Recording {
    inner: MemoryStore,
    on: Mutex<bool>,
    /// Per transaction, the length of each sealed value it wrote.
    sizes: Mutex<Vec<Vec<usize>>>,
}

struct RecordingTx<'a> {
    inner: &'a mut dyn RawTransaction,
    sizes: Vec<usize>,
}

impl RawTransaction for RecordingTx<'_> {
    fn get(&mut self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(table, key)
    }
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.sizes.push(value.len());
        self.inner.put(table, key, value)
    }
    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StoreError> {
        self.inner.delete(table, key)
    }
    fn scan(&mut self, table: Table) -> Result<Vec<Row>, StoreError> {
        self.inner.scan(table)
    }
}

impl Store for Recording {
    fn write(
        &self,
        f: &mut dyn FnMut(&mut dyn RawTransaction) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut sizes = Vec::new();
        self.inner.write(&mut |raw| {
            let mut tx = RecordingTx {
                inner: raw,
                sizes: Vec::new(),
            };
            let r = f(&mut tx);
            sizes = tx.sizes;
            r
        })?;
        if *self.on.lock().unwrap() {
            self.sizes.lock().unwrap().push(sizes);
        }
        Ok(())
    }
}

/// Per transaction (encrypt, decrypt, acknowledge), the plaintext length of every record
/// one steady round trip seals (a sealed value is `nonce (12) || ciphertext || tag (16)`),
/// from a round trip through Accounts over recording stores, after a few to settle the
/// rings and clocks.
fn sealed_record_sizes() -> Vec<Vec<usize>> {
    let (alice_store, bob_store) = (
        Arc::new(Recording::default()),
        Arc::new(Recording::default()),
    );
    let Accounts { alice, bob, a, b } = accounts_over(
        Box::new(Arc::clone(&alice_store)),
        Box::new(Arc::clone(&bob_store)),
        true,
    );
    for round in 0..6 {
        // The fifth round trip is recorded: rings mid-page, the clocks moving.
        let record = round == 4;
        *alice_store.on.lock().unwrap() = record;
        *bob_store.on.lock().unwrap() = record;
        let m = alice.encrypt(&b, &BODY, None, 0).unwrap();
        bob.decrypt(&a, &m.wire).unwrap();
        bob.acknowledge(&m.id).unwrap();
    }
    let mut sizes = alice_store.sizes.lock().unwrap().clone();
    sizes.extend(bob_store.sizes.lock().unwrap().iter().cloned());
    sizes
        .into_iter()
        .map(|tx| tx.into_iter().map(|n| n.saturating_sub(12 + 16)).collect())
        .collect()
}

/// The bare session's 1 KiB encrypt and decrypt, on a pair of its own.
fn bare_round_trip() -> Timed<'static> {
    let (mut to_bob, mut to_alice, bob_identity, mut bob_prekeys, mut rng) = bare();
    let mut kem_rng = ChaCha20Rng::seed_from_u64(29);
    Box::new(move |n| {
        time_iter(n, || {
            let m = to_bob
                .encrypt(ContentType::Application, &BODY, &mut kem_rng)
                .unwrap();
            to_alice
                .decrypt(&bob_identity, &mut bob_prekeys, &m.wire, &mut rng)
                .unwrap()
        })
    })
}

/// The bare round trip plus two message ids over its wire and one seal of each length in
/// `records`, each under a fresh nonce with the store's kind of associated data; against
/// the bare round trip alone.
fn floor_pair(label: String, id: &str, records: &[usize]) -> Pair<'static> {
    let (mut to_bob, mut to_alice, identity, mut prekeys, mut rng) = bare();
    let mut kem_rng = ChaCha20Rng::seed_from_u64(31);
    let seal_key = Aes256Gcm::new(&[7u8; 32].into());
    let mut records: Vec<Vec<u8>> = records.iter().map(|n| vec![0x5a; *n]).collect();
    let mut counter = 0u64;
    Pair::new(
        &label,
        (
            id,
            Box::new(move |n| {
                time_iter(n, || {
                    let m = to_bob
                        .encrypt(ContentType::Application, &BODY, &mut kem_rng)
                        .unwrap();
                    let sent = MessageId::of(&m.wire);
                    to_alice
                        .decrypt(&identity, &mut prekeys, &m.wire, &mut rng)
                        .unwrap();
                    let received = MessageId::of(&m.wire);
                    for record in &mut records {
                        counter += 1;
                        let mut nonce = [0u8; 12];
                        nonce[..8].copy_from_slice(&counter.to_be_bytes());
                        let tag = seal_key
                            .encrypt_inout_detached(
                                &Nonce::from(nonce),
                                b"Bluetick_Store_v1session_states\0row key 16 bytes",
                                record.as_mut_slice().into(),
                            )
                            .unwrap();
                        std::hint::black_box(tag);
                    }
                    (sent, received)
                })
            }),
        ),
        (&format!("{id}_bare_session"), bare_round_trip()),
    )
}

struct Accounts {
    alice: Account,
    bob: Account,
    a: Address,
    b: Address,
}

/// Alice has sent Bob one message; with `answered`, Bob has replied and Alice read it.
fn accounts(answered: bool) -> Accounts {
    accounts_over(
        Box::new(MemoryStore::new()),
        Box::new(MemoryStore::new()),
        answered,
    )
}

/// [`accounts`] over the given stores.
fn accounts_over(alice: Box<dyn Store>, bob: Box<dyn Store>, answered: bool) -> Accounts {
    let key = Secret32::from_slice(&[1; 32]).unwrap();
    let config = AccountConfig {
        one_time_prekeys: 2,
        one_time_pq_prekeys: 2,
        low_water_mark: 1,
    };
    let alice = Account::create(alice, &key, config).unwrap();
    let bob = Account::create(bob, &key, config).unwrap();
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
        ("bare_session_encrypt_decrypt", bare_round_trip()),
    );

    // The floor: the same bare round trip, plus two message ids over its wire and one seal
    // per record the Account writes; and the floor a store would have if it sealed each
    // transaction's records as one.
    let sizes = sealed_record_sizes();
    let per_record: Vec<usize> = sizes.iter().flatten().copied().collect();
    let per_transaction: Vec<usize> = sizes.iter().map(|tx| tx.iter().sum()).collect();
    let total: usize = per_record.iter().sum();
    let floor = floor_pair(
        format!(
            "floor: bare session + 2 message ids + the {} record seals of a round trip ({total} B), against the bare session",
            per_record.len()
        ),
        "floor_per_record",
        &per_record,
    );
    let floor_one_seal = floor_pair(
        format!(
            "floor if each transaction were one sealed record: bare session + 2 message ids + {} seals ({total} B)",
            per_transaction.len()
        ),
        "floor_per_transaction",
        &per_transaction,
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
        vec![round_trip, repeated, floor, floor_one_seal],
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
