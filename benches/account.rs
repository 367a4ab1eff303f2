//! Account-level cost with the SQLite store and durable commits (WAL, synchronous=FULL):
//! encrypt, decrypt one message per commit, and `decrypt_batch` with one commit per batch.
//! Prints messages per second for each. Run: `cargo bench --bench account`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use bluetick::{Account, AccountConfig, Address, PreKeyUpload, Secret32, SqliteStore};
use criterion::{criterion_group, criterion_main, Criterion};

const BODY: usize = 1024;

struct Pair {
    _dir: tempfile::TempDir,
    alice: Account,
    bob: Account,
    a: Address,
    b: Address,
}

fn pair() -> Pair {
    let dir = tempfile::tempdir().unwrap();
    let key = Secret32::from_slice(&[1; 32]).unwrap();
    let config = AccountConfig {
        one_time_prekeys: 2,
        one_time_pq_prekeys: 2,
        low_water_mark: 1,
    };
    let alice = Account::create(
        Box::new(SqliteStore::open(dir.path().join("a.db")).unwrap()),
        &key,
        config,
    )
    .unwrap();
    let bob = Account::create(
        Box::new(SqliteStore::open(dir.path().join("b.db")).unwrap()),
        &key,
        config,
    )
    .unwrap();
    let (a, b) = (Address::new("alice", 1), Address::new("bob", 1));
    let mut upload = PreKeyUpload::from_bytes(&bob.prekey_upload().unwrap().to_bytes()).unwrap();
    let first = alice
        .encrypt(&b, b"hello", Some(&upload.take_bundle()), 0)
        .unwrap();
    bob.decrypt(&a, &first.wire).unwrap();
    let reply = bob.encrypt(&a, b"hi", None, 0).unwrap();
    alice.decrypt(&b, &reply.wire).unwrap();
    Pair {
        _dir: dir,
        alice,
        bob,
        a,
        b,
    }
}

fn per_second(label: &str, n: u64, elapsed: Duration) {
    println!(
        "{label}: {:.0} messages/s",
        n as f64 / elapsed.as_secs_f64()
    );
}

fn bench(c: &mut Criterion) {
    // Separate pairs: messages encrypted and never decrypted would otherwise pile up past
    // MAX_SKIP for the decryption benches.
    let sender_only = pair();
    let p = pair();
    let body = vec![0x5a; BODY];
    let mut g = c.benchmark_group("account_sqlite_1KiB");
    g.sample_size(20).measurement_time(Duration::from_secs(4));

    g.bench_function("encrypt_durable", |bench| {
        bench.iter(|| {
            sender_only
                .alice
                .encrypt(&sender_only.b, &body, None, 0)
                .unwrap()
        });
    });

    g.bench_function("decrypt_durable_one_commit_each", |bench| {
        bench.iter_custom(|iters| {
            let wires: Vec<_> = (0..iters)
                .map(|_| p.alice.encrypt(&p.b, &body, None, 0).unwrap().wire)
                .collect();
            let start = Instant::now();
            for w in &wires {
                p.bob.decrypt(&p.a, w).unwrap();
            }
            start.elapsed()
        });
    });

    for batch in [100usize, 1000] {
        g.bench_function(format!("decrypt_batch_{batch}_per_message"), |bench| {
            bench.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let items: Vec<_> = (0..batch)
                        .map(|_| {
                            (
                                p.a.clone(),
                                p.alice.encrypt(&p.b, &body, None, 0).unwrap().wire,
                            )
                        })
                        .collect();
                    let start = Instant::now();
                    let results = p.bob.decrypt_batch(&items).unwrap();
                    total += start.elapsed() / batch as u32;
                    assert!(results.iter().all(Result::is_ok));
                }
                total
            });
        });
    }
    g.finish();

    // Throughput figures from one direct run each, for docs/performance.md.
    let n = 500u64;
    let wires: Vec<_> = (0..n)
        .map(|_| p.alice.encrypt(&p.b, &body, None, 0).unwrap().wire)
        .collect();
    let start = Instant::now();
    for w in &wires {
        p.bob.decrypt(&p.a, w).unwrap();
    }
    per_second(
        "throughput decrypt, one durable commit per message",
        n,
        start.elapsed(),
    );
    let items: Vec<_> = (0..2000)
        .map(|_| {
            (
                p.a.clone(),
                p.alice.encrypt(&p.b, &body, None, 0).unwrap().wire,
            )
        })
        .collect();
    let start = Instant::now();
    for chunk in items.chunks(500) {
        p.bob.decrypt_batch(chunk).unwrap();
    }
    per_second(
        "throughput decrypt_batch of 500, one durable commit per batch",
        2000,
        start.elapsed(),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
