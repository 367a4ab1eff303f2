//! X25519 (RFC 7748) key pairs and Diffie-Hellman that refuses all-zero results.

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey, StaticSecret};

use super::secret::Secret32;
use crate::constants::ZERO32;

/// Diffie-Hellman gave 32 zero bytes: the peer key has small order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowOrder;

/// An X25519 key pair. The private key is erased on drop; the public key is computed once.
#[derive(Clone)]
pub struct X25519KeyPair {
    secret: StaticSecret,
    public: [u8; 32],
}

impl X25519KeyPair {
    /// A key pair from 32 private bytes (clamped by X25519 itself). The caller's copy is erased.
    pub fn from_private(private: &mut [u8; 32]) -> Self {
        let secret = StaticSecret::from(*private);
        zeroize::Zeroize::zeroize(private);
        let public = PublicKey::from(&secret).to_bytes();
        Self { secret, public }
    }

    /// A key pair from 32 bytes drawn from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut private = [0u8; 32];
        rng.fill_bytes(&mut private);
        Self::from_private(&mut private)
    }

    /// A key pair from a private key and the public key stored with it, without recomputing
    /// the public key (for records this crate wrote and the store authenticated).
    pub(crate) fn from_parts(private: &mut [u8; 32], public: [u8; 32]) -> Self {
        let secret = StaticSecret::from(*private);
        zeroize::Zeroize::zeroize(private);
        Self { secret, public }
    }

    /// The public key.
    pub fn public(&self) -> &[u8; 32] {
        &self.public
    }

    /// The private key bytes, for serialization.
    pub fn private_bytes(&self) -> Secret32 {
        let mut b = self.secret.to_bytes();
        Secret32::from_array(&mut b)
    }

    /// `X25519(self, peer)`, rejecting an all-zero result.
    pub fn dh(&self, peer: &[u8; 32]) -> Result<Secret32, LowOrder> {
        let shared = self.secret.diffie_hellman(&PublicKey::from(*peer));
        let out = Secret32::from_slice(shared.as_bytes()).ok_or(LowOrder)?;
        if bool::from(out.expose().ct_eq(&ZERO32)) {
            return Err(LowOrder);
        }
        Ok(out)
    }
}

impl core::fmt::Debug for X25519KeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { secret: _, public } = self;
        f.debug_struct("X25519KeyPair")
            .field("public", &super::hex_prefix(public))
            .finish_non_exhaustive()
    }
}

/// Whether `public` is a small-order point (X25519 with it gives all zeros for any key).
pub fn is_low_order(public: &[u8; 32]) -> bool {
    if is_canonical(public) {
        // Canonical encodings have exactly these small-order u-coordinates: 0, 1, p - 1 and
        // the two points of order 8 (as libsodium's blocklist lists them).
        return SMALL_ORDER.contains(public);
    }
    low_order_by_multiplication(public)
}

/// The u-coordinates of the small-order points of Curve25519, canonically encoded.
const SMALL_ORDER: [[u8; 32]; 5] = [
    [0; 32],
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x00,
    ],
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
        0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
        0x11, 0x57,
    ],
];

/// Whether X25519 with `public` gives all zeros: the definition, at the cost of one
/// scalar multiplication.
pub fn low_order_by_multiplication(public: &[u8; 32]) -> bool {
    // Clamped scalars are multiples of the cofactor, so any of them maps a small-order
    // point to zero; the scalar's value does not matter.
    let probe = StaticSecret::from([0x42u8; 32]);
    let shared = probe.diffie_hellman(&PublicKey::from(*public));
    bool::from(shared.as_bytes().ct_eq(&ZERO32))
}

/// Whether `public` is the canonical encoding of a u-coordinate: below `p = 2^255 - 19`,
/// so bit 255 is clear. X25519 ignores bit 255 and reduces mod p, so a non-canonical key
/// is a second encoding of another key; honest implementations never produce one.
pub fn is_canonical(public: &[u8; 32]) -> bool {
    // Compare little-endian `public` with p = 0x7fff..ffed, from the top byte down.
    const P: [u8; 32] = {
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        p
    };
    for i in (0..32).rev() {
        let (a, b) = (
            public.get(i).copied().unwrap_or(0xff),
            P.get(i).copied().unwrap_or(0),
        );
        if a != b {
            return a < b;
        }
    }
    false
}
