//! Attachments (spec §13): round trips through every API, every bad input rejected with
//! its own error, nothing released past the last verified chunk, random access, and
//! property tests over truncation, reordering, duplication, bit flips and chunking.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Cursor, Read, Write};

use bluetick::attachment::{
    self, chunk_count, ciphertext_len, sealed_chunk_range, AttachmentError, AttachmentKey,
    AttachmentPointer, ChunkOpener, Decryptor, Encryptor, StreamError, CHUNK_SIZE, MAX_SIZE,
    SEALED_CHUNK_SIZE,
};
use bluetick::ErrorKind;
use proptest::prelude::*;

const KEY: [u8; 32] = [0x42; 32];

fn media(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i % 251) as u8).collect()
}

fn seal(data: &[u8]) -> (Vec<u8>, AttachmentPointer) {
    let mut blob = Vec::new();
    let pointer =
        attachment::encrypt(AttachmentKey::from_bytes(&KEY), &mut &data[..], &mut blob).unwrap();
    (blob, pointer)
}

/// Decrypts through `decrypt`, returning what was written and the result.
fn open(pointer: &AttachmentPointer, blob: &[u8]) -> (Vec<u8>, Result<(), AttachmentError>) {
    let mut out = Vec::new();
    let r = attachment::decrypt(pointer, &mut &blob[..], &mut out).map_err(|e| match e {
        StreamError::Attachment(e) => e,
        other => panic!("unexpected {other}"),
    });
    (out, r)
}

/// Decrypts through the push API with `piece`-byte inputs.
fn open_pushed(
    pointer: &AttachmentPointer,
    blob: &[u8],
    piece: usize,
) -> (Vec<u8>, Result<(), AttachmentError>) {
    let mut dec = Decryptor::new(pointer);
    let mut out = Vec::new();
    for part in blob.chunks(piece.max(1)) {
        let mut input = part;
        loop {
            match dec.push(&mut input) {
                Ok(Some(plain)) => out.extend_from_slice(plain),
                Ok(None) => break,
                Err(e) => return (out, Err(e)),
            }
        }
    }
    match dec.finish() {
        Ok(last) => {
            out.extend_from_slice(&last);
            (out, Ok(()))
        }
        Err(e) => (out, Err(e)),
    }
}

fn seal_pushed(data: &[u8], cuts: &[usize]) -> (Vec<u8>, AttachmentPointer) {
    let mut enc = Encryptor::new(AttachmentKey::from_bytes(&KEY));
    let mut blob = Vec::new();
    let mut rest = data;
    for &cut in cuts {
        let (part, tail) = rest.split_at(cut.min(rest.len()));
        rest = tail;
        let mut input = part;
        while let Some(sealed) = enc.push(&mut input).unwrap() {
            blob.extend_from_slice(sealed);
        }
    }
    let mut input = rest;
    while let Some(sealed) = enc.push(&mut input).unwrap() {
        blob.extend_from_slice(sealed);
    }
    let last = enc.finish().unwrap();
    blob.extend_from_slice(last.sealed());
    (blob, last.into_pointer())
}

fn with_pointer(p: &AttachmentPointer, size: u64, digest: [u8; 32]) -> AttachmentPointer {
    AttachmentPointer::new(AttachmentKey::from_bytes(p.key().expose()), size, digest).unwrap()
}

#[test]
fn round_trips_at_the_chunk_boundaries() {
    for size in [0, 1, 16, 65_535, 65_536, 65_537, 131_072, 200_000] {
        let data = media(size);
        let (blob, pointer) = seal(&data);
        assert_eq!(blob.len() as u64, ciphertext_len(size as u64), "{size}");
        assert_eq!(pointer.size(), size as u64);
        assert_eq!(pointer.chunk_count(), chunk_count(size as u64));
        assert_eq!(blob.len(), size + 16 * pointer.chunk_count() as usize);
        let parsed = AttachmentPointer::parse(&pointer.to_bytes()[..]).unwrap();
        assert_eq!(parsed, pointer);
        let (out, r) = open(&parsed, &blob);
        r.unwrap();
        assert_eq!(out, data, "{size}");
        let (out, r) = open_pushed(&parsed, &blob, 1000);
        r.unwrap();
        assert_eq!(out, data, "{size} pushed");
    }
}

#[test]
fn an_empty_attachment_is_one_empty_chunk() {
    let (blob, pointer) = seal(&[]);
    assert_eq!(blob.len(), 16);
    assert_eq!(pointer.chunk_count(), 1);
    let (out, r) = open(&pointer, &blob);
    r.unwrap();
    assert!(out.is_empty());
    // And no blob at all is not an empty attachment.
    assert_eq!(
        open(&pointer, &[]).1,
        Err(AttachmentError::Truncated {
            received: 0,
            expected: 16
        })
    );
}

#[test]
fn the_pointer_is_key_size_digest() {
    let (blob, pointer) = seal(&media(1000));
    let bytes = pointer.to_bytes();
    assert_eq!(bytes.len(), 72);
    assert_eq!(&bytes[..32], &KEY);
    assert_eq!(&bytes[32..40], &1000u64.to_be_bytes());
    use sha2::Digest;
    let digest: [u8; 32] = sha2::Sha256::digest(&blob).into();
    assert_eq!(&bytes[40..], &digest);
}

#[test]
fn a_pointer_of_the_wrong_length_is_a_typed_error() {
    let (_, pointer) = seal(&media(10));
    let bytes = pointer.to_bytes();
    for len in [0usize, 1, 71] {
        let e = AttachmentPointer::parse(&bytes[..len]).unwrap_err();
        assert_eq!(e, AttachmentError::PointerLength { found: len });
        assert_eq!(e.kind(), ErrorKind::Truncated);
    }
    let mut long = bytes.to_vec();
    long.push(0);
    let e = AttachmentPointer::parse(&long).unwrap_err();
    assert_eq!(e, AttachmentError::PointerLength { found: 73 });
    assert_eq!(e.kind(), ErrorKind::TrailingBytes);
}

#[test]
fn a_size_over_two_to_the_forty_is_refused() {
    let (_, pointer) = seal(&media(10));
    let mut bytes = pointer.to_bytes();
    bytes[32..40].copy_from_slice(&MAX_SIZE.to_be_bytes());
    assert_eq!(
        AttachmentPointer::parse(&bytes[..]).unwrap().size(),
        1 << 40
    );
    bytes[32..40].copy_from_slice(&(MAX_SIZE + 1).to_be_bytes());
    let e = AttachmentPointer::parse(&bytes[..]).unwrap_err();
    assert_eq!(e, AttachmentError::TooLarge { size: MAX_SIZE + 1 });
    assert_eq!(e.kind(), ErrorKind::AttachmentTooLarge);
    bytes[32..40].copy_from_slice(&u64::MAX.to_be_bytes());
    assert!(AttachmentPointer::parse(&bytes[..]).is_err());
}

#[test]
fn a_flipped_byte_in_any_chunk_fails_that_chunk_and_releases_only_the_ones_before() {
    let data = media(3 * CHUNK_SIZE + 500);
    let (blob, pointer) = seal(&data);
    for chunk in 0..4usize {
        for at in [0, 1000, SEALED_CHUNK_SIZE - 1] {
            let i = chunk * SEALED_CHUNK_SIZE + at;
            if i >= blob.len() {
                continue;
            }
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            let expected = AttachmentError::ChunkAuthentication {
                index: chunk as u64,
            };
            let (out, r) = open(&pointer, &bad);
            assert_eq!(r, Err(expected.clone()), "byte {i}");
            assert_eq!(out, data[..chunk * CHUNK_SIZE], "byte {i}");
            let (out, r) = open_pushed(&pointer, &bad, 7_777);
            assert_eq!(r, Err(expected), "byte {i} pushed");
            assert_eq!(out, data[..chunk * CHUNK_SIZE]);
        }
    }
}

#[test]
fn truncation_of_the_blob_is_reported_as_truncation() {
    let data = media(2 * CHUNK_SIZE + 100);
    let (blob, pointer) = seal(&data);
    let expected = blob.len() as u64;
    // The last chunk cut short, and the whole last chunk dropped.
    for keep in [blob.len() - 1, blob.len() - 50, 2 * SEALED_CHUNK_SIZE] {
        let (out, r) = open(&pointer, &blob[..keep]);
        assert_eq!(
            r,
            Err(AttachmentError::Truncated {
                received: keep as u64,
                expected
            })
        );
        // Non-final chunks that verified were released, never the cut one.
        assert!(out.len() <= 2 * CHUNK_SIZE);
        assert_eq!(out, data[..out.len()]);
    }
}

#[test]
fn an_extra_chunk_is_reported_as_extra_data() {
    for size in [100, CHUNK_SIZE, 2 * CHUNK_SIZE + 100] {
        let data = media(size);
        let (blob, pointer) = seal(&data);
        // A single stray byte, a copy of the final chunk, a chunk's worth of junk.
        let last_start = (pointer.chunk_count() as usize - 1) * SEALED_CHUNK_SIZE;
        for extra in [
            vec![0u8],
            blob[last_start..].to_vec(),
            vec![0x55; SEALED_CHUNK_SIZE],
        ] {
            let mut bad = blob.clone();
            bad.extend_from_slice(&extra);
            let (out, r) = open(&pointer, &bad);
            assert!(
                matches!(r, Err(AttachmentError::ExtraData { expected, .. }) if expected == blob.len() as u64),
                "{size}: {r:?}"
            );
            assert!(out.len() < size.max(1), "the final chunk is never released");
            let (_, r) = open_pushed(&pointer, &bad, 4096);
            assert!(matches!(r, Err(AttachmentError::ExtraData { .. })), "{r:?}");
        }
    }
}

#[test]
fn a_wrong_digest_fails_at_the_end_without_releasing_the_final_chunk() {
    let data = media(CHUNK_SIZE + 10);
    let (blob, pointer) = seal(&data);
    let mut digest = *pointer.digest();
    digest[31] ^= 1;
    let wrong = with_pointer(&pointer, pointer.size(), digest);
    let (out, r) = open(&wrong, &blob);
    assert_eq!(r, Err(AttachmentError::DigestMismatch));
    assert_eq!(r.unwrap_err().kind(), ErrorKind::DigestMismatch);
    assert_eq!(out, data[..CHUNK_SIZE]);
}

#[test]
fn a_wrong_size_fails_with_size_mismatch() {
    let data = media(2 * CHUNK_SIZE + 10);
    let (blob, pointer) = seal(&data);
    let real = pointer.size();
    for size in [
        0,
        1,
        real - 1,
        real + 1,
        real - 10,
        real + CHUNK_SIZE as u64,
        real - CHUNK_SIZE as u64,
        MAX_SIZE,
    ] {
        let wrong = with_pointer(&pointer, size, *pointer.digest());
        let (out, r) = open(&wrong, &blob);
        let Err(AttachmentError::SizeMismatch { expected, .. }) = r else {
            panic!("size {size}: {r:?}");
        };
        assert_eq!(expected, size);
        assert!(
            out.len() as u64 <= size,
            "never more than the pointer's size"
        );
        let (_, r2) = open_pushed(&wrong, &blob, 10_000);
        assert_eq!(r2.map_err(|e| e.kind()), Err(ErrorKind::SizeMismatch));
    }
}

#[test]
fn a_failed_decryptor_keeps_failing() {
    let (mut blob, pointer) = seal(&media(3 * CHUNK_SIZE));
    blob[5] ^= 0x80;
    let mut dec = Decryptor::new(&pointer);
    let mut input = &blob[..];
    let e = loop {
        if let Err(e) = dec.push(&mut input) {
            break e;
        }
    };
    assert_eq!(e, AttachmentError::ChunkAuthentication { index: 0 });
    let mut rest = &blob[..];
    assert_eq!(dec.push(&mut rest), Err(e.clone()));
    assert_eq!(dec.finish().unwrap_err(), e);
}

#[test]
fn the_push_encryptor_and_the_reader_agree_for_any_pieces() {
    let data = media(3 * CHUNK_SIZE + 1);
    let (blob, pointer) = seal(&data);
    for cuts in [
        vec![],
        vec![1],
        vec![CHUNK_SIZE],
        vec![CHUNK_SIZE - 1, 2, CHUNK_SIZE],
        vec![0, 0, 3 * CHUNK_SIZE],
    ] {
        let (b, p) = seal_pushed(&data, &cuts);
        assert!(b == blob, "{cuts:?}");
        assert_eq!(p, pointer);
    }
}

/// A reader that returns at most `n` bytes per call, and sometimes `Interrupted`.
struct Trickle<'a> {
    data: &'a [u8],
    n: usize,
    calls: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.calls += 1;
        if self.calls % 3 == 0 {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        let n = self.n.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn short_reads_and_interruptions_change_nothing() {
    let data = media(2 * CHUNK_SIZE + 3);
    let (blob, pointer) = seal(&data);
    let mut again = Vec::new();
    let p = attachment::encrypt(
        AttachmentKey::from_bytes(&KEY),
        &mut Trickle {
            data: &data,
            n: 1000,
            calls: 0,
        },
        &mut again,
    )
    .unwrap();
    assert!(again == blob);
    assert_eq!(p, pointer);
    let mut out = Vec::new();
    attachment::decrypt(
        &pointer,
        &mut Trickle {
            data: &blob,
            n: 4099,
            calls: 0,
        },
        &mut out,
    )
    .unwrap();
    assert!(out == data);
}

/// A writer that fails after `left` bytes.
struct Full {
    left: usize,
}

impl Write for Full {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("disk full"));
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn io_errors_are_reported_as_io() {
    let data = media(CHUNK_SIZE * 2);
    let e = attachment::encrypt(
        AttachmentKey::from_bytes(&KEY),
        &mut &data[..],
        &mut Full { left: 100 },
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    assert!(e.to_string().contains("disk full"));
}

#[test]
fn seeking_opens_any_chunk_alone_and_only_at_its_place() {
    let data = media(3 * CHUNK_SIZE + 777);
    let (blob, pointer) = seal(&data);
    let opener = ChunkOpener::new(&pointer);
    assert_eq!(opener.chunk_count(), 4);
    let mut cursor = Cursor::new(&blob);
    let mut buf = Vec::new();
    for i in (0..4u64).rev() {
        let plain = opener.read_chunk(&mut cursor, i, &mut buf).unwrap();
        let start = attachment::plaintext_offset(i) as usize;
        assert_eq!(plain, &data[start..(start + CHUNK_SIZE).min(data.len())]);
    }
    // A chunk presented at another index fails, as does the final one as non-final.
    let (o0, l0) = sealed_chunk_range(pointer.size(), 0).unwrap();
    let mut c0 = blob[o0 as usize..(o0 + l0) as usize].to_vec();
    assert_eq!(
        opener.open(1, &mut c0),
        Err(AttachmentError::ChunkAuthentication { index: 1 })
    );
    // The final chunk padded to a full chunk's length is refused for its length.
    let (o3, l3) = opener.range(3).unwrap();
    assert_eq!(l3, 777 + 16);
    let mut c3 = blob[o3 as usize..].to_vec();
    c3.resize(SEALED_CHUNK_SIZE, 0);
    assert_eq!(
        opener.open(3, &mut c3).unwrap_err().kind(),
        ErrorKind::TrailingBytes
    );
    assert_eq!(
        opener.open(2, &mut c3[..100]).unwrap_err().kind(),
        ErrorKind::Truncated
    );
    assert_eq!(
        opener.open(4, &mut c0),
        Err(AttachmentError::ChunkIndex { index: 4, count: 4 })
    );
    // A flipped byte fails and leaves the chunk as it was.
    let mut c2 = blob[2 * SEALED_CHUNK_SIZE..3 * SEALED_CHUNK_SIZE].to_vec();
    c2[9] ^= 4;
    let before = c2.clone();
    assert!(opener.open(2, &mut c2).is_err());
    assert_eq!(c2, before);
}

#[test]
fn the_final_chunk_of_a_seek_cannot_be_a_cut_off_blob() {
    // Two full chunks: the blob cut after the first chunk still has a chunk 0, but a
    // seeking reader asking for chunk 1 of the real attachment cannot be served chunk 0.
    let data = media(2 * CHUNK_SIZE);
    let (blob, pointer) = seal(&data);
    let short = with_pointer(&pointer, CHUNK_SIZE as u64, *pointer.digest());
    let opener = ChunkOpener::new(&short);
    let mut c0 = blob[..SEALED_CHUNK_SIZE].to_vec();
    // Under a pointer claiming one chunk, chunk 0 must be final: it is not.
    assert_eq!(
        opener.open(0, &mut c0),
        Err(AttachmentError::ChunkAuthentication { index: 0 })
    );
}

#[test]
fn debug_never_prints_the_key() {
    let (_, pointer) = seal(&media(10));
    let key_hex: String = KEY.iter().map(|b| format!("{b:02x}")).collect();
    let printed = [
        format!("{pointer:?}"),
        format!("{:?}", pointer.key()),
        format!("{:?}", Encryptor::new(AttachmentKey::from_bytes(&KEY))),
        format!("{:?}", Decryptor::new(&pointer)),
        format!("{:?}", ChunkOpener::new(&pointer)),
    ];
    for p in &printed {
        assert!(!p.contains(&key_hex[..8]), "{p}");
        assert!(!p.contains("66, 66"), "{p}");
    }
    assert!(printed[0].contains("size: 10"));
    assert_eq!(printed[1], "AttachmentKey(redacted)");
}

#[test]
fn generated_keys_differ_and_encrypt_differently() {
    let mut rng = bluetick::os_rng();
    let a = AttachmentKey::generate(&mut rng);
    let b = AttachmentKey::generate(&mut rng);
    assert_ne!(a, b);
    let data = media(100);
    let mut x = Vec::new();
    let mut y = Vec::new();
    attachment::encrypt(a, &mut &data[..], &mut x).unwrap();
    attachment::encrypt(b, &mut &data[..], &mut y).unwrap();
    assert_ne!(x, y);
}

// ---------------------------------------------------------------- properties

/// Sizes that cover one to three chunks and the boundaries between them.
fn size() -> impl Strategy<Value = usize> {
    prop_oneof![
        0usize..300,
        (CHUNK_SIZE - 2)..(CHUNK_SIZE + 3),
        (2 * CHUNK_SIZE - 2)..(2 * CHUNK_SIZE + 300),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn any_truncation_fails(size in size(), cut in any::<prop::sample::Index>()) {
        let (blob, pointer) = seal(&media(size));
        let keep = cut.index(blob.len());
        let (out, r) = open(&pointer, &blob[..keep]);
        prop_assert!(r.is_err());
        prop_assert!(out.len() < size.max(1));
    }

    #[test]
    fn any_single_bit_flip_fails(size in size(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let data = media(size);
        let (mut blob, pointer) = seal(&data);
        let i = at.index(blob.len());
        blob[i] ^= 1 << bit;
        let (out, r) = open(&pointer, &blob);
        prop_assert_eq!(r, Err(AttachmentError::ChunkAuthentication { index: (i / SEALED_CHUNK_SIZE) as u64 }));
        prop_assert_eq!(&out[..], &data[..(i / SEALED_CHUNK_SIZE) * CHUNK_SIZE]);
    }

    #[test]
    fn any_single_bit_flip_of_the_pointer_fails(size in size(), at in 0usize..72, bit in 0u8..8) {
        let (blob, pointer) = seal(&media(size));
        let mut bytes = pointer.to_bytes();
        bytes[at] ^= 1 << bit;
        if let Ok(p) = AttachmentPointer::parse(&bytes[..]) {
            prop_assert!(open(&p, &blob).1.is_err());
        }
    }

    #[test]
    fn any_reordering_or_duplication_of_chunks_fails(
        size in (CHUNK_SIZE + 1)..(3 * CHUNK_SIZE),
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
        duplicate in any::<bool>(),
    ) {
        let (blob, pointer) = seal(&media(size));
        let chunks: Vec<&[u8]> = blob.chunks(SEALED_CHUNK_SIZE).collect();
        let (i, j) = (a.index(chunks.len()), b.index(chunks.len()));
        let mut order: Vec<usize> = (0..chunks.len()).collect();
        if duplicate {
            order.insert(j, i);
        } else {
            prop_assume!(i != j);
            order.swap(i, j);
        }
        let bad: Vec<u8> = order.iter().flat_map(|&k| chunks[k].iter().copied()).collect();
        prop_assert!(open(&pointer, &bad).1.is_err());
        prop_assert!(open_pushed(&pointer, &bad, 3000).1.is_err());
    }

    #[test]
    fn any_chunking_of_the_input_gives_the_same_output(
        size in size(),
        cuts in prop::collection::vec(0usize..70_000, 0..6),
        piece in 1usize..70_000,
    ) {
        let data = media(size);
        let (blob, pointer) = seal(&data);
        let (b, p) = seal_pushed(&data, &cuts);
        prop_assert!(b == blob);
        prop_assert_eq!(&p, &pointer);
        let (out, r) = open_pushed(&pointer, &blob, piece);
        prop_assert_eq!(r, Ok(()));
        prop_assert!(out == data);
    }
}
