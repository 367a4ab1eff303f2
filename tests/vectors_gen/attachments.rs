//! `vectors/attachments.json` and the attachment cases of `vectors/invalid.json` (spec §9,
//! §13). Keys come from a seeded generator; every byte of ciphertext comes from the
//! crate's public attachment API.

use bluetick::attachment::{
    self, AttachmentError, AttachmentKey, AttachmentPointer, StreamError, CHUNK_SIZE,
    SEALED_CHUNK_SIZE,
};
use bluetick::constants::ATTACHMENT_INFO;
use bluetick::primitives::kdf::{hkdf_sha256, sha256};
use bluetick::ErrorKind;
use serde_json::{json, Value};

use super::rngs::RecordingRng;
use super::{h, unh};

use super::REVISION;

/// The plaintext rule of §9: byte `i` is `i mod 251`.
pub(crate) const PLAINTEXT_RULE: &str = "i mod 251";

pub(crate) fn plaintext(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i % 251) as u8).collect()
}

/// The blob and pointer for `size` bytes of the rule's plaintext under `key`.
pub(crate) fn seal(key: &[u8; 32], size: usize) -> (Vec<u8>, AttachmentPointer) {
    let mut blob = Vec::new();
    let pointer = attachment::encrypt(
        AttachmentKey::from_bytes(key),
        &mut plaintext(size).as_slice(),
        &mut blob,
    )
    .unwrap();
    (blob, pointer)
}

fn prefix_hex(chunk: &[u8]) -> Value {
    h(&chunk[..chunk.len().min(64)])
}

/// One case of attachments.json.
pub(crate) fn attachment_case(name: &str, key: &[u8; 32], size: usize) -> Value {
    let (blob, pointer) = seal(key, size);
    let mut okm = [0u8; 39];
    hkdf_sha256(&[0u8; 32], key, ATTACHMENT_INFO, &mut okm);
    let count = pointer.chunk_count() as usize;
    let mut indices: Vec<usize> = (0..count.min(3)).collect();
    if count > 3 {
        indices.push(count - 1);
    }
    let chunks: Vec<Value> = indices
        .into_iter()
        .map(|i| {
            let last = i + 1 == count;
            let mut nonce = okm[32..].to_vec();
            nonce.extend_from_slice(&(i as u32).to_be_bytes());
            nonce.push(u8::from(last));
            let start = i * SEALED_CHUNK_SIZE;
            let end = (start + SEALED_CHUNK_SIZE).min(blob.len());
            json!({
                "index": i,
                "last": last,
                "nonce": h(&nonce),
                "ciphertext_hex_prefix": prefix_hex(&blob[start..end]),
            })
        })
        .collect();
    json!({
        "name": name,
        "attachment_key": h(key),
        "size": size,
        "plaintext_rule": PLAINTEXT_RULE,
        "aes_key": h(&okm[..32]),
        "nonce_prefix": h(&okm[32..]),
        "chunk_count": count,
        "ciphertext_size": blob.len(),
        "ciphertext_sha256": h(&sha256(&[&blob])),
        "chunks": chunks,
        "pointer": h(&pointer.to_bytes()[..]),
    })
}

pub(crate) fn gen_attachments() -> Value {
    let mut rng = RecordingRng::new(0x4154_5441);
    let sizes: [(&str, usize); 8] = [
        ("empty", 0),
        ("one_byte", 1),
        ("one_byte_short_of_a_chunk", CHUNK_SIZE - 1),
        ("exactly_one_chunk", CHUNK_SIZE),
        ("one_byte_over_a_chunk", CHUNK_SIZE + 1),
        ("exactly_two_chunks", 2 * CHUNK_SIZE),
        ("three_chunks_and_a_bit", 3 * CHUNK_SIZE + 1000),
        ("one_million_bytes", 1_000_000),
    ];
    let cases: Vec<Value> = sizes
        .iter()
        .map(|(name, size)| {
            let key: [u8; 32] = rng.bytes(32).try_into().unwrap();
            attachment_case(name, &key, *size)
        })
        .collect();
    json!({ "revision": REVISION, "cases": cases })
}

// ---------------------------------------------------------------- invalid.json

/// The blob an `attachment` case describes: the genuine blob of its key, size and rule,
/// cut and spliced as its `blob` pieces say.
pub(crate) fn assemble(input: &Value) -> Vec<u8> {
    let key: [u8; 32] = unh(&input["attachment_key"]).try_into().unwrap();
    let (genuine, _) = seal(&key, input["size"].as_u64().unwrap() as usize);
    let mut blob = Vec::new();
    for piece in input["blob"].as_array().unwrap() {
        if let Some(range) = piece.get("genuine") {
            let (a, b) = (range[0].as_u64().unwrap(), range[1].as_u64().unwrap());
            blob.extend_from_slice(&genuine[a as usize..b as usize]);
        } else {
            blob.extend_from_slice(&unh(&piece["hex"]));
        }
    }
    blob
}

/// Runs an attachment case through the public API: `Err` names the rejection.
pub(crate) fn evaluate(kind: &str, input: &Value) -> Result<(), ErrorKind> {
    match kind {
        "attachment_pointer" => AttachmentPointer::parse(&unh(input))
            .map(|_| ())
            .map_err(|e| e.kind()),
        "attachment" => {
            let pointer =
                AttachmentPointer::parse(&unh(&input["pointer"])).map_err(|e| e.kind())?;
            let blob = assemble(input);
            // Both the reader path and the push path must agree.
            let mut out = Vec::new();
            let read = attachment::decrypt(&pointer, &mut blob.as_slice(), &mut out)
                .map_err(|e: StreamError| e.kind());
            let mut dec = attachment::Decryptor::new(&pointer);
            let mut input = blob.as_slice();
            let pushed: Result<(), AttachmentError> = (|| {
                while dec.push(&mut input)?.is_some() {}
                dec.finish().map(|_| ())
            })();
            assert_eq!(
                read,
                pushed.map_err(|e| e.kind()),
                "push and read paths agree"
            );
            read
        }
        other => panic!("unknown attachment kind {other}"),
    }
}

fn genuine(a: usize, b: usize) -> Value {
    json!({ "genuine": [a, b] })
}

fn hex_piece(bytes: &[u8]) -> Value {
    json!({ "hex": hex::encode(bytes) })
}

/// `(name, kind, input, error)` of every attachment case.
pub(crate) fn invalid_cases() -> Vec<(String, &'static str, Value, ErrorKind)> {
    use ErrorKind as E;
    let mut rng = RecordingRng::new(0x4154_4956);
    let key: [u8; 32] = rng.bytes(32).try_into().unwrap();
    let other_key: [u8; 32] = rng.bytes(32).try_into().unwrap();
    // Three chunks, the last one short.
    let size = 2 * CHUNK_SIZE + 1000;
    let (blob, pointer) = seal(&key, size);
    let n = blob.len();
    let s = SEALED_CHUNK_SIZE;
    let p = pointer.to_bytes().to_vec();
    let mut out = Vec::new();
    let mut case = |name: &str, pointer: &[u8], pieces: Vec<Value>, error: E| {
        out.push((
            format!("attachment_{name}"),
            "attachment",
            json!({
                "attachment_key": h(&key),
                "size": size,
                "plaintext_rule": PLAINTEXT_RULE,
                "pointer": h(pointer),
                "blob": pieces,
            }),
            error,
        ));
    };
    let flip = |at: usize, mask: u8| {
        vec![
            genuine(0, at),
            hex_piece(&[blob[at] ^ mask]),
            genuine(at + 1, n),
        ]
    };

    case(
        "flipped_byte_in_chunk_0",
        &p,
        flip(5, 0x01),
        E::AuthenticationFailed,
    );
    case(
        "flipped_byte_in_chunk_1",
        &p,
        flip(s + 30_000, 0x80),
        E::AuthenticationFailed,
    );
    case(
        "flipped_byte_in_last_chunk",
        &p,
        flip(2 * s + 10, 0x04),
        E::AuthenticationFailed,
    );
    case(
        "flipped_tag_byte_of_chunk_0",
        &p,
        flip(s - 1, 0x01),
        E::AuthenticationFailed,
    );
    case(
        "truncated_last_chunk",
        &p,
        vec![genuine(0, n - 1)],
        E::Truncated,
    );
    case(
        "last_chunk_missing",
        &p,
        vec![genuine(0, 2 * s)],
        E::Truncated,
    );
    case("empty_blob", &p, vec![], E::Truncated);
    // An extra chunk sealed under the same key as chunk 3 with the final flag: exactly
    // what a longer attachment under this key would end with.
    let (longer, _) = seal(&key, 3 * CHUNK_SIZE + 100);
    case(
        "extra_chunk",
        &p,
        vec![genuine(0, n), hex_piece(&longer[3 * s..])],
        E::TrailingBytes,
    );
    case(
        "extra_byte",
        &p,
        vec![genuine(0, n), hex_piece(&[0])],
        E::TrailingBytes,
    );
    case(
        "chunks_0_and_1_swapped",
        &p,
        vec![genuine(s, 2 * s), genuine(0, s), genuine(2 * s, n)],
        E::AuthenticationFailed,
    );
    case(
        "chunk_0_repeated",
        &p,
        vec![genuine(0, s), genuine(0, s), genuine(s, n)],
        E::AuthenticationFailed,
    );
    let mut wrong_digest = p.clone();
    wrong_digest[71] ^= 0x01;
    case(
        "wrong_digest",
        &wrong_digest,
        vec![genuine(0, n)],
        E::DigestMismatch,
    );
    for (name, wrong) in [
        ("size_one_more", size + 1),
        ("size_one_less", size - 1),
        ("size_a_chunk_less", size - CHUNK_SIZE),
        ("size_zero", 0),
    ] {
        let mut bad = p.clone();
        bad[32..40].copy_from_slice(&(wrong as u64).to_be_bytes());
        case(
            &format!("wrong_{name}"),
            &bad,
            vec![genuine(0, n)],
            E::SizeMismatch,
        );
    }
    let mut wrong_key = p.clone();
    wrong_key[..32].copy_from_slice(&other_key);
    case(
        "wrong_key",
        &wrong_key,
        vec![genuine(0, n)],
        E::AuthenticationFailed,
    );

    // Pointers.
    for (name, bytes, error) in [
        ("empty", vec![], E::Truncated),
        ("71_bytes", p[..71].to_vec(), E::Truncated),
        ("73_bytes", [&p[..], &[0u8]].concat(), E::TrailingBytes),
        ("twice", [&p[..], &p[..]].concat(), E::TrailingBytes),
    ] {
        out.push((
            format!("attachment_pointer_{name}"),
            "attachment_pointer",
            h(&bytes),
            error,
        ));
    }
    let mut huge = p.clone();
    huge[32..40].copy_from_slice(&((1u64 << 40) + 1).to_be_bytes());
    out.push((
        "attachment_pointer_size_over_2_40".to_owned(),
        "attachment_pointer",
        h(&huge),
        E::AttachmentTooLarge,
    ));
    out
}
