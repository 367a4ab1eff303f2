//! SHA-256, HMAC-SHA256 and HKDF-SHA256: the only hash-based functions the protocol uses.

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256, Sha512};

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

/// `HMAC(key, a)` and `HMAC(key, b)` from one key schedule.
pub fn hmac_sha256_pair(
    key: &[u8],
    a: &[u8],
    b: &[u8],
    out_a: &mut [u8; 32],
    out_b: &mut [u8; 32],
) {
    match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mac) => {
            let mut first = mac.clone();
            first.update(a);
            out_a.copy_from_slice(&first.finalize().into_bytes());
            let mut second = mac;
            second.update(b);
            out_b.copy_from_slice(&second.finalize().into_bytes());
        }
        Err(_) => {
            out_a.fill(0);
            out_b.fill(0);
        }
    }
}
