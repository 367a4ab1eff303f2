//! The attachment decryptor (spec §13) on any blob, any claimed size and digest, and any
//! way of cutting the blob into pushes: it never panics, its push and `Read` paths agree,
//! it releases no more than the claimed size, and it succeeds only on exactly the blob
//! that sealing its output gives. Random access agrees chunk by chunk.
//!
//! Input: claimed size (u64, big-endian) || claimed SHA-256 (32) || push step (1) || blob.
//! The key is fixed, so seeds are genuine blobs under it (see `seed-corpus.py`) and the
//! fuzzer explores cuts, splices and extensions of them.
#![no_main]

use bluetick::attachment::{self, AttachmentKey, AttachmentPointer, ChunkOpener, Decryptor};
use libfuzzer_sys::fuzz_target;

const KEY: [u8; 32] = [7; 32];

fuzz_target!(|data: &[u8]| {
    if data.len() < 41 {
        return;
    }
    let (head, blob) = data.split_at(41);
    let size = u64::from_be_bytes(head[..8].try_into().unwrap_or_default());
    let digest: [u8; 32] = head[8..40].try_into().unwrap_or_default();
    let step = 1 + usize::from(head[40]) * 521;
    let Ok(pointer) = AttachmentPointer::new(AttachmentKey::from_bytes(&KEY), size, digest) else {
        assert!(size > attachment::MAX_SIZE);
        return;
    };

    // The Read path.
    let mut out = Vec::new();
    let read = attachment::decrypt(&pointer, &mut &blob[..], &mut out).map_err(|e| e.kind());
    assert!(out.len() as u64 <= size);

    // The push path, in pieces of `step` bytes.
    let mut dec = Decryptor::new(&pointer);
    let mut pushed_out = Vec::new();
    let mut pushed = Ok(());
    'feed: for piece in blob.chunks(step) {
        let mut input = piece;
        loop {
            match dec.push(&mut input) {
                Ok(Some(plain)) => pushed_out.extend_from_slice(plain),
                Ok(None) => break,
                Err(e) => {
                    pushed = Err(e.kind());
                    break 'feed;
                }
            }
        }
    }
    if pushed.is_ok() {
        match dec.finish() {
            Ok(last) => pushed_out.extend_from_slice(&last),
            Err(e) => pushed = Err(e.kind()),
        }
    }
    assert_eq!(read, pushed);
    assert!(pushed_out == out);

    if read.is_ok() {
        // Only the genuine blob of this output opens.
        assert_eq!(out.len() as u64, size);
        let mut again = Vec::new();
        let p = attachment::encrypt(AttachmentKey::from_bytes(&KEY), &mut &out[..], &mut again);
        assert!(p.is_ok_and(|p| p == pointer));
        assert!(again == blob);
        // And every chunk opens alone, giving the same bytes.
        let opener = ChunkOpener::new(&pointer);
        let mut cursor = std::io::Cursor::new(blob);
        let mut buf = Vec::new();
        for i in 0..opener.chunk_count() {
            let plain = opener.read_chunk(&mut cursor, i, &mut buf);
            let start = attachment::plaintext_offset(i) as usize;
            assert!(plain.is_ok_and(|p| out.get(start..start + p.len()) == Some(p)));
        }
    }
});
