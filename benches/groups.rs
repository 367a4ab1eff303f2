//! Group benchmarks (spec §12): a sender key's encryption and a member's decryption of a
//! 1 KiB application body, each beside its *primitive floor* built from the same
//! `bluetick::primitives` wrappers the group code uses. At the end a table gives each as a
//! multiple of its floor (target: within 1.3x).
//!
//! - encrypt floor: `KDF_CK` (both HMACs), the HKDF expansion into key and nonce, AES-256-GCM
//!   over the padded plaintext, and an Ed25519 signature over the context and every byte
//!   before the signature.
//! - decrypt floor: strict Ed25519 verification of that signature, `KDF_CK`, the expansion
//!   and AES-256-GCM open.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/bench-target cargo bench --bench groups`
//! (add `-- --warm-up-time 1 --measurement-time 3` for a quicker run).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)] // the report helpers this bench does not use
mod report;

use std::hint::black_box;
use std::time::SystemTime;

use bluetick::constants::{GROUP_MESSAGE_CONTEXT, GROUP_MESSAGE_KEYS_INFO, ZERO32};
use bluetick::group::{GroupId, GroupKeys, SenderKey};
use bluetick::primitives::{aead, ed25519, kdf};
use bluetick::{Address, Secret32};
use criterion::Criterion;
use ed25519_dalek::SigningKey;
use report::{print_table, run_group, time_batched, time_iter, Outcome, Pair, Timed};

const BODY: usize = 1024;
const NOW: u64 = 1_764_000_000_000;

/// `KDF_CK` and the expansion: the message key's AES key and nonce, and the next chain key.
fn keys(ck: &[u8; 32]) -> ([u8; 32], [u8; 12], [u8; 32]) {
    let (mut mk, mut next) = ([0u8; 32], [0u8; 32]);
    kdf::hmac_sha256_byte_pair(ck, 0x01, 0x02, &mut mk, &mut next);
    let mut okm = [0u8; 44];
    kdf::hkdf_sha256(&ZERO32, &mk, GROUP_MESSAGE_KEYS_INFO, &mut okm);
    let mut key = [0u8; 32];
    let mut nonce = [0u8; 12];
    key.copy_from_slice(&okm[..32]);
    nonce.copy_from_slice(&okm[32..]);
    (key, nonce, next)
}

/// The floor of one group message: header, sealed padded plaintext, signature.
fn floor_seal(ck: &[u8; 32], signing: &SigningKey, header: &[u8; 25], padded: &[u8]) -> Vec<u8> {
    let (key, nonce, _) = keys(ck);
    let mut wire = Vec::with_capacity(25 + padded.len() + 16 + 64);
    wire.extend_from_slice(header);
    wire.extend_from_slice(padded);
    aead::seal_in_place(&key, &nonce, header, &mut wire, 25);
    let sig = ed25519::sign(signing, &[GROUP_MESSAGE_CONTEXT, &wire]);
    wire.extend_from_slice(&sig);
    wire
}

/// The floor of receiving it: verify, then derive and open.
fn floor_open(ck: &[u8; 32], verifying: &ed25519_dalek::VerifyingKey, wire: &[u8]) -> Vec<u8> {
    let (signed, sig) = wire.split_at(wire.len() - 64);
    assert!(ed25519::verify(
        verifying,
        &[GROUP_MESSAGE_CONTEXT, signed],
        sig.try_into().unwrap()
    ));
    let (key, nonce, _) = keys(ck);
    aead::open(&key, &nonce, &signed[..25], &signed[25..]).unwrap()
}

fn main() {
    let since = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    let group = GroupId::new(b"bench").unwrap();
    let body = vec![0x42u8; BODY];
    let ck = [7u8; 32];
    let seed = [8u8; 32];
    let make = || {
        SenderKey::from_parts(
            [1; 16],
            5,
            0,
            Secret32::from_slice(&ck).unwrap(),
            Secret32::from_slice(&seed).unwrap(),
            NOW,
        )
    };
    let sender = Address::new(b"alice".to_vec(), 1);
    let mut receiver = GroupKeys::new();
    receiver
        .accept(&sender, &make().distribution(&group), NOW)
        .unwrap();
    let wire = make().encrypt(&body).unwrap().wire;
    let signing = SigningKey::from_bytes(&seed);
    let verifying = signing.verifying_key();
    let header: [u8; 25] = wire[..25].try_into().unwrap();
    let mut padded = vec![0x01];
    padded.extend_from_slice(&body);
    padded.push(0x80);
    padded.resize(bluetick::wire::plaintext::padded_len(BODY), 0);
    // The floor makes the same bytes as the sender key: it does the same work.
    assert_eq!(floor_seal(&ck, &signing, &header, &padded), wire);
    assert_eq!(floor_open(&ck, &verifying, &wire), padded);

    let mut out: Vec<Outcome> = Vec::new();
    let pairs = vec![
        Pair::new(
            "group encrypt, 1 KiB body",
            ("encrypt", {
                let mut key = make();
                let body = &body;
                Box::new(move |n| time_iter(n, || key.encrypt(body).unwrap())) as Timed<'_>
            }),
            ("encrypt_floor", {
                let (signing, header, padded) = (&signing, &header, &padded);
                Box::new(move |n| time_iter(n, || floor_seal(&ck, signing, header, padded)))
                    as Timed<'_>
            }),
        ),
        Pair::new(
            "group decrypt, 1 KiB body",
            ("decrypt", {
                let (receiver, wire) = (&receiver, &wire);
                Box::new(move |n| {
                    time_batched(n, || receiver.clone(), |r| r.decrypt(wire, NOW).unwrap())
                }) as Timed<'_>
            }),
            ("decrypt_floor", {
                let (verifying, wire) = (&verifying, &wire);
                Box::new(move |n| time_iter(n, || floor_open(&ck, verifying, wire))) as Timed<'_>
            }),
        ),
    ];
    run_group(&mut c, "group", pairs, since, &mut out);
    black_box(&out);
    print_table(
        "Groups (spec §12): sender-key messages against their primitive floors",
        ("bluetick", "floor"),
        &out,
    );
}
