//! The cost of the C ABI over the Rust call, for a 1 KiB message: the same Account
//! operations (encrypt, then decrypt and acknowledge on the peer) through
//! `bluetick::Account` and through `bt_account_*`, in memory so the store's disk time does
//! not hide the difference. Measured twice: in the steady state (Bob has replied, so Alice
//! sends Messages) and on the first flight (Bob has not replied yet, so every message is a
//! PreKeyMessage that reaches its existing session). Run:
//! `cargo bench -p bluetick-ffi --bench abi`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use bluetick::{Account, AccountConfig, Address, MemoryStore, PreKeyUpload, Secret32};
use bluetick_ffi::*;
use criterion::{criterion_group, criterion_main, Criterion};

const BODY: usize = 1024;

fn rust_pair(answered: bool) -> (Account, Account) {
    let key = Secret32::from_slice(&[1; 32]).unwrap();
    let config = AccountConfig {
        one_time_prekeys: 1,
        one_time_pq_prekeys: 1,
        low_water_mark: 1,
    };
    let alice = Account::create(Box::new(MemoryStore::new()), &key, config).unwrap();
    let bob = Account::create(Box::new(MemoryStore::new()), &key, config).unwrap();
    let mut upload = PreKeyUpload::from_bytes(&bob.prekey_upload().unwrap().to_bytes()).unwrap();
    let m = alice
        .encrypt(
            &Address::new("bob", 1),
            b"hi",
            Some(&upload.take_bundle()),
            0,
        )
        .unwrap();
    bob.decrypt(&Address::new("alice", 1), &m.wire).unwrap();
    if answered {
        let r = bob
            .encrypt(&Address::new("alice", 1), b"hi", None, 0)
            .unwrap();
        alice.decrypt(&Address::new("bob", 1), &r.wire).unwrap();
    }
    (alice, bob)
}

/// Two accounts through the C ABI, with a session from Alice to Bob (answered by Bob when
/// `answered`).
fn c_pair(answered: bool) -> (*mut bt_account, *mut bt_account) {
    let key = [1u8; 32];
    let (mut alice, mut bob) = (core::ptr::null_mut(), core::ptr::null_mut());
    let empty = || bt_buffer {
        ptr: core::ptr::null_mut(),
        len: 0,
    };
    let (mut upload, mut rest, mut bundle, mut wire) = (empty(), empty(), empty(), empty());
    let mut id = [0u8; 16];
    // SAFETY: valid inputs and writable outs; every buffer is freed once.
    unsafe {
        assert_eq!(
            bt_account_create_memory(key.as_ptr(), 32, core::ptr::null(), &mut alice),
            bt_status::BT_OK
        );
        assert_eq!(
            bt_account_create_memory(key.as_ptr(), 32, core::ptr::null(), &mut bob),
            bt_status::BT_OK
        );
        assert_eq!(bt_account_prekey_upload(bob, &mut upload), bt_status::BT_OK);
        assert_eq!(
            bt_prekey_upload_take_bundle(upload.ptr, upload.len, &mut rest, &mut bundle),
            bt_status::BT_OK
        );
        let mut lamport = 0u64;
        let status = bt_account_encrypt(
            alice,
            b"bob".as_ptr(),
            3,
            1,
            b"hi".as_ptr(),
            2,
            bundle.ptr,
            bundle.len,
            0,
            id.as_mut_ptr(),
            &mut wire,
            &mut lamport,
        );
        assert_eq!(status, bt_status::BT_OK);
        let mut incoming = core::mem::zeroed::<bt_incoming>();
        assert_eq!(
            bt_account_decrypt(
                bob,
                b"alice".as_ptr(),
                5,
                1,
                wire.ptr,
                wire.len,
                &mut incoming
            ),
            bt_status::BT_OK
        );
        bt_incoming_free(&mut incoming);
        for b in [&mut upload, &mut rest, &mut bundle, &mut wire] {
            bt_buffer_free(b);
        }
    }
    if answered {
        c_send(bob, b"alice", alice, b"bob", b"hi");
    }
    (alice, bob)
}

fn rust_round(alice: &Account, bob: &Account, body: &[u8]) {
    let m = alice
        .encrypt(&Address::new("bob", 1), body, None, 0)
        .unwrap();
    let got = bob.decrypt(&Address::new("alice", 1), &m.wire).unwrap();
    bob.acknowledge(&m.id).unwrap();
    std::hint::black_box(got);
}

fn c_round(alice: *const bt_account, bob: *const bt_account, body: &[u8]) {
    c_send(alice, b"bob", bob, b"alice", body);
}

/// `from` encrypts `body` for `to`, which decrypts and acknowledges it.
fn c_send(
    from: *const bt_account,
    to_user: &[u8],
    to: *const bt_account,
    from_user: &[u8],
    body: &[u8],
) {
    let (alice, bob) = (from, to);
    let mut wire = bt_buffer {
        ptr: core::ptr::null_mut(),
        len: 0,
    };
    let mut id = [0u8; 16];
    let mut lamport = 0u64;
    // SAFETY: live handles, valid inputs, writable outs; buffers freed once.
    unsafe {
        let s = bt_account_encrypt(
            alice,
            to_user.as_ptr(),
            to_user.len(),
            1,
            body.as_ptr(),
            body.len(),
            core::ptr::null(),
            0,
            0,
            id.as_mut_ptr(),
            &mut wire,
            &mut lamport,
        );
        assert_eq!(s, bt_status::BT_OK);
        let mut incoming = core::mem::zeroed::<bt_incoming>();
        assert_eq!(
            bt_account_decrypt(
                bob,
                from_user.as_ptr(),
                from_user.len(),
                1,
                wire.ptr,
                wire.len,
                &mut incoming
            ),
            bt_status::BT_OK
        );
        assert_eq!(
            bt_account_acknowledge(bob, incoming.id.as_ptr()),
            bt_status::BT_OK
        );
        bt_incoming_free(&mut incoming);
        bt_buffer_free(&mut wire);
    }
}

fn bench(c: &mut Criterion) {
    let body = vec![0x5a; BODY];
    for (name, answered) in [("steady", true), ("first_flight", false)] {
        let (ra, rb) = rust_pair(answered);
        let (ca, cb) = c_pair(answered);
        let mut g = c.benchmark_group(format!(
            "abi_1KiB_encrypt_decrypt_acknowledge_memory_{name}"
        ));
        g.sample_size(30).measurement_time(Duration::from_secs(4));
        g.bench_function("rust", |b| b.iter(|| rust_round(&ra, &rb, &body)));
        g.bench_function("c_abi", |b| b.iter(|| c_round(ca, cb, &body)));
        g.finish();

        // The ratio from one interleaved direct run, for docs/performance.md.
        let n = 3000;
        let (mut rust, mut cabi) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..n / 100 {
            let t = Instant::now();
            for _ in 0..100 {
                rust_round(&ra, &rb, &body);
            }
            rust += t.elapsed();
            let t = Instant::now();
            for _ in 0..100 {
                c_round(ca, cb, &body);
            }
            cabi += t.elapsed();
        }
        println!(
            "C ABI over Rust, 1 KiB encrypt+decrypt+acknowledge, {name}: rust {:.1} us, c_abi {:.1} us, overhead {:+.1}%",
            rust.as_secs_f64() * 1e6 / f64::from(n),
            cabi.as_secs_f64() * 1e6 / f64::from(n),
            (cabi.as_secs_f64() / rust.as_secs_f64() - 1.0) * 100.0
        );
        // SAFETY: handles from c_pair, freed once, no longer used.
        unsafe {
            bt_account_free(ca);
            bt_account_free(cb);
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
