//! The cost of one logical message (spec §11): `send_to_user` to a user with 3 devices
//! while the sender has 2 other devices (5 wires: 3 messages and 2 sent transcripts, one
//! transaction), against `encrypt` to one device, which a fan-out without logical
//! messages would call 5 times (5 transactions). In memory (the cryptography and record
//! handling) and with the SQLite store and durable commits.
//! Run: `cargo bench --bench multidevice -- --warm-up-time 1 --measurement-time 3`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use bluetick::{
    Account, AccountConfig, Address, IdentityKey, MemoryStore, PreKeyUpload, Secret32, SqliteStore,
    Store,
};
use criterion::{criterion_group, criterion_main, Criterion};

const BODY: usize = 1024;

fn config() -> AccountConfig {
    AccountConfig {
        one_time_prekeys: 2,
        one_time_pq_prekeys: 2,
        low_water_mark: 1,
    }
}

fn bundle_of(account: &Account) -> bluetick::PreKeyBundle {
    PreKeyUpload::from_bytes(&account.prekey_upload().unwrap().to_bytes())
        .unwrap()
        .take_bundle()
}

/// A user of `n` devices; returns the accounts and the list, signed by the first.
fn user(name: &str, n: u32) -> (Vec<Account>, bluetick::DeviceList) {
    let key = Secret32::from_slice(&[2; 32]).unwrap();
    let devices: Vec<Account> = (1..=n)
        .map(|d| {
            let a = Account::create(Box::new(MemoryStore::new()), &key, config()).unwrap();
            a.set_own_address(&Address::new(name, d)).unwrap();
            a
        })
        .collect();
    let companions: Vec<(u32, IdentityKey)> = (2..=n)
        .zip(&devices[1..])
        .map(|(d, a)| (d, *a.identity()))
        .collect();
    let list = devices[0].sign_device_list(1, &companions).unwrap();
    (devices, list)
}

/// The sender (device 1 of a user of 3 devices, in `store`) with sessions with Bob's 3
/// devices and its 2 other devices, and with one single-device peer `carol.1`.
fn sender(store: Box<dyn Store>) -> Account {
    let key = Secret32::from_slice(&[1; 32]).unwrap();
    let alice = Account::create(store, &key, config()).unwrap();
    alice.set_own_address(&Address::new("alice", 1)).unwrap();
    let (companions, _) = user("alice", 3);
    let own: Vec<(u32, IdentityKey)> = vec![
        (2, *companions[1].identity()),
        (3, *companions[2].identity()),
    ];
    alice.sign_device_list(1, &own).unwrap();
    let (bob, bob_list) = user("bob", 3);
    alice.accept_device_list(&bob_list).unwrap();
    for (d, b) in (1..=3).zip(&bob) {
        alice
            .start_session(&Address::new("bob", d), &bundle_of(b))
            .unwrap();
    }
    for d in 2..=3u32 {
        let c = &companions[usize::try_from(d - 1).unwrap()];
        alice
            .start_session(&Address::new("alice", d), &bundle_of(c))
            .unwrap();
    }
    assert!(alice.devices_without_session(b"bob").unwrap().is_empty());
    let (carol, _) = user("carol", 1);
    alice
        .start_session(&Address::new("carol", 1), &bundle_of(&carol[0]))
        .unwrap();
    alice
}

fn bench(c: &mut Criterion) {
    let body = vec![0x5a; BODY];
    let carol = Address::new("carol", 1);
    let dir = tempfile::tempdir().unwrap();
    let stores: [(&str, Box<dyn Store>); 2] = [
        ("memory", Box::new(MemoryStore::new())),
        (
            "sqlite",
            Box::new(SqliteStore::open(dir.path().join("alice.db")).unwrap()),
        ),
    ];
    for (name, store) in stores {
        let alice = sender(store);
        let mut g = c.benchmark_group(format!("multidevice_{name}_1KiB"));
        g.sample_size(20);
        g.bench_function("encrypt_1_device", |b| {
            b.iter(|| alice.encrypt(&carol, &body, None, 0).unwrap())
        });
        g.bench_function("send_to_user_3_plus_2_devices", |b| {
            b.iter(|| {
                let m = alice.send_to_user(b"bob", &body, 0).unwrap();
                assert_eq!(m.wires.len(), 5);
                m
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
