//! SHA-256, HMAC-SHA256 and HKDF-SHA256: the only hash-based functions the protocol uses.

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::block_api::compress256;
use sha2::{Digest, Sha256, Sha512};
use zeroize::Zeroize;

/// SHA-256 over the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// SHA-512 over the concatenation of `parts`.
pub fn sha512(parts: &[&[u8]]) -> [u8; 64] {
    let mut h = Sha512::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// HMAC-SHA256(key, data) written into `out`.
pub fn hmac_sha256(key: &[u8], data: &[u8], out: &mut [u8; 32]) {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an
    // all-zero output rather than panicking if the library ever says otherwise.
    match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            out.copy_from_slice(&mac.finalize().into_bytes());
        }
        Err(_) => out.fill(0),
    }
}

/// HKDF-SHA256 extract-then-expand into `out` (at most 8160 bytes, which every caller
/// in this crate respects by construction).
pub fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) {
    let hk = Hkdf::<Sha256>::new(Some(salt), ikm);
    if hk.expand(info, out).is_err() {
        out.fill(0);
    }
}

/// SHA-256's initial hash value (FIPS 180-4 §5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// `HMAC-SHA256(key, [a])` and `HMAC-SHA256(key, [b])` for a 32-byte key and one-byte
/// messages: `KDF_CK`, the one HMAC shape every message and every skipped key pays for.
///
/// Built on SHA-256's compression function from `sha2` (SHA-NI where the CPU has it):
/// the key schedule is shared and every block is laid out in advance, so the pair costs
/// exactly six compressions and no buffering. Checked against the `hmac` crate and
/// RFC 4231 in `tests/known_answers.rs`.
pub fn hmac_sha256_byte_pair(
    key: &[u8; 32],
    a: u8,
    b: u8,
    out_a: &mut [u8; 32],
    out_b: &mut [u8; 32],
) {
    // Independent compressions are issued next to each other (key blocks, then both inner
    // hashes, then both outer hashes) so the CPU can overlap them.
    let mut blocks = [[0u8; 64]; 2];
    let [block_a, block_b] = &mut blocks;
    // The inner and outer states after the key block, (key ^ ipad) and (key ^ opad).
    let mut inner = SHA256_IV;
    let mut outer = SHA256_IV;
    key_block(key, 0x36, block_a);
    key_block(key, 0x5c, block_b);
    compress256(&mut inner, core::slice::from_ref(block_a));
    compress256(&mut outer, core::slice::from_ref(block_b));

    // Inner hashes: one message byte after the 64-byte key block, 65 bytes in all.
    let (mut state_a, mut state_b) = (inner, inner);
    for (block, byte) in [(&mut *block_a, a), (&mut *block_b, b)] {
        block.fill(0);
        if let Some((first, rest)) = block.split_first_mut() {
            *first = byte;
            pad_and_length(rest, 65);
        }
    }
    compress256(&mut state_a, core::slice::from_ref(block_a));
    compress256(&mut state_b, core::slice::from_ref(block_b));

    // Outer hashes: the 32-byte inner digest after the key block, 96 bytes in all.
    for (block, state) in [(&mut *block_a, &state_a), (&mut *block_b, &state_b)] {
        block.fill(0);
        let (digest, rest) = block.split_at_mut(32);
        write_digest(state, digest);
        pad_and_length(rest, 96);
    }
    state_a = outer;
    state_b = outer;
    compress256(&mut state_a, core::slice::from_ref(block_a));
    compress256(&mut state_b, core::slice::from_ref(block_b));
    write_digest(&state_a, out_a);
    write_digest(&state_b, out_b);

    // The blocks held the padded key and the inner digests; the states are keyed.
    blocks.zeroize();
    state_a.zeroize();
    state_b.zeroize();
    inner.zeroize();
    outer.zeroize();
}

/// `key || zeros` (one 64-byte block), each byte XORed with `pad`.
fn key_block(key: &[u8; 32], pad: u8, block: &mut [u8; 64]) {
    block.fill(pad);
    for (b, k) in block.iter_mut().zip(key) {
        *b ^= k;
    }
}

/// SHA-256 padding after the message bytes of the last block: `rest` is the block after
/// them (zeroed), which gets `0x80` and, in its last 8 bytes, the message's length in bits
/// (FIPS 180-4 §5.1.1). `total` is at most 119 bytes here, so it fits.
fn pad_and_length(rest: &mut [u8], total: u64) {
    if let Some(b) = rest.first_mut() {
        *b = 0x80;
    }
    let at = rest.len().saturating_sub(8);
    if let Some(length) = rest.get_mut(at..) {
        length.copy_from_slice(&(total * 8).to_be_bytes());
    }
}

/// A SHA-256 state as the big-endian digest bytes.
fn write_digest(state: &[u32; 8], out: &mut [u8]) {
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
}
