//! Attachment throughput (spec §13): a 64 MiB attachment encrypted and decrypted through
//! the `Read`/`Write` API, each beside its floor, AES-256-GCM over the same bytes in the
//! same 64 KiB chunks plus SHA-256 over the blob, both with the crate's own primitives. At
//! the end a table gives GB/s and each as a multiple of its floor (target: within 1.2x).
//!
//! Run: `CARGO_TARGET_DIR=/tmp/bench-target cargo bench --bench attachments`
//! (add `-- --warm-up-time 1 --measurement-time 3` for a quicker run). Peak memory for a
//! 1 GiB file streamed file to file is the example `attachment_memory`.
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

use bluetick::attachment::{self, AttachmentKey, CHUNK_SIZE, SEALED_CHUNK_SIZE};
use bluetick::primitives::aead::AeadKey;
use bluetick::primitives::kdf::sha256;
use criterion::Criterion;
use report::{print_table, run_group, time_batched, time_iter, Outcome, Pair, Timed};

const SIZE: usize = 64 << 20;
const KEY: [u8; 32] = [9; 32];

fn media() -> Vec<u8> {
    (0..SIZE).map(|i| (i % 251) as u8).collect()
}

/// The floor of sealing: AES-256-GCM in place over each 64 KiB chunk (tags appended in
/// their slots), then SHA-256 over the whole blob.
fn floor_seal(aead: &AeadKey, blob: &mut [u8]) -> [u8; 32] {
    for (i, chunk) in blob.chunks_mut(SEALED_CHUNK_SIZE).enumerate() {
        let (body, tag_slot) = chunk.split_at_mut(chunk.len() - 16);
        let mut nonce = [0u8; 12];
        nonce[7..11].copy_from_slice(&(i as u32).to_be_bytes());
        tag_slot.copy_from_slice(&aead.seal_in_place(&nonce, &[], body).unwrap());
    }
    sha256(&[blob])
}

/// The floor of opening: SHA-256 over the blob, then AES-256-GCM open in place per chunk.
fn floor_open(aead: &AeadKey, blob: &mut [u8]) -> [u8; 32] {
    let digest = sha256(&[blob]);
    for (i, chunk) in blob.chunks_mut(SEALED_CHUNK_SIZE).enumerate() {
        let (body, tag) = chunk.split_at_mut(chunk.len() - 16);
        let mut nonce = [0u8; 12];
        nonce[7..11].copy_from_slice(&(i as u32).to_be_bytes());
        aead.open_in_place(&nonce, &[], body, &(&*tag).try_into().unwrap())
            .unwrap();
    }
    digest
}

/// The plaintext laid out in sealed-chunk slots, ready for `floor_seal`.
fn slotted(plain: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; attachment::ciphertext_len(plain.len() as u64) as usize];
    for (dst, src) in out
        .chunks_mut(SEALED_CHUNK_SIZE)
        .zip(plain.chunks(CHUNK_SIZE))
    {
        dst[..src.len()].copy_from_slice(src);
    }
    out
}

fn main() {
    let since = SystemTime::now();
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    let plain = media();
    let mut blob = Vec::new();
    let pointer = attachment::encrypt(
        AttachmentKey::from_bytes(&KEY),
        &mut plain.as_slice(),
        &mut blob,
    )
    .unwrap();
    let aead = AeadKey::new(&KEY);
    let floor_blob = {
        let mut b = slotted(&plain);
        floor_seal(&aead, &mut b);
        b
    };
    let plain_slots = slotted(&plain);

    let mut out: Vec<Outcome> = Vec::new();
    let pairs = vec![
        Pair::new(
            "encrypt 64 MiB (Read -> Write)",
            ("encrypt", {
                let plain = &plain;
                Box::new(move |n| {
                    time_iter(n, || {
                        attachment::encrypt(
                            AttachmentKey::from_bytes(&KEY),
                            &mut plain.as_slice(),
                            &mut std::io::sink(),
                        )
                        .unwrap()
                    })
                }) as Timed<'_>
            }),
            ("encrypt_floor", {
                let (aead, plain_slots) = (&aead, &plain_slots);
                Box::new(move |n| time_batched(n, || plain_slots.clone(), |b| floor_seal(aead, b)))
                    as Timed<'_>
            }),
        )
        .bytes(SIZE as u64),
        Pair::new(
            "decrypt 64 MiB (Read -> Write, digest and size checked)",
            ("decrypt", {
                let (pointer, blob) = (&pointer, &blob);
                Box::new(move |n| {
                    time_iter(n, || {
                        attachment::decrypt(pointer, &mut blob.as_slice(), &mut std::io::sink())
                            .unwrap()
                    })
                }) as Timed<'_>
            }),
            ("decrypt_floor", {
                let (aead, floor_blob) = (&aead, &floor_blob);
                Box::new(move |n| time_batched(n, || floor_blob.clone(), |b| floor_open(aead, b)))
                    as Timed<'_>
            }),
        )
        .bytes(SIZE as u64),
    ];
    run_group(&mut c, "attachment", pairs, since, &mut out);
    black_box(&out);

    print_table(
        "Attachments, 64 MiB: Bluetick against AES-256-GCM + SHA-256 over the same bytes",
        ("bluetick", "floor"),
        &out,
    );
    println!();
    for o in &out {
        if let Some((s, b)) = o.criterion {
            let gbps = |ns: f64| SIZE as f64 / ns;
            println!(
                "{}: {:.2} GB/s (floor {:.2} GB/s)",
                o.label,
                gbps(s),
                gbps(b)
            );
        }
    }
}
