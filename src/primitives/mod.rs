//! Thin wrappers over the primitive libraries, exactly as the protocol code uses them. The
//! known-answer tests (Wycheproof, RFC 7748, RFC 8032, RFC 5869) run against these.

pub mod aead;
pub mod ed25519;
pub mod kdf;
pub mod kem;
pub mod kem768;
pub mod secret;
pub mod x25519;

/// The first bytes of a public value in hex, for `Debug` output.
pub(crate) fn hex_prefix(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(18);
    for b in bytes.iter().take(8) {
        s.push_str(&format!("{b:02x}"));
    }
    s.push('…');
    s
}
