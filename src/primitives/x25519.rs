//! X25519 (RFC 7748) key pairs and Diffie-Hellman that refuses all-zero results.
//!
//! The scalar multiplication runs on the birationally equivalent Edwards curve whenever the
//! peer's u-coordinate maps to a point on it (every honest public key does): curve25519-dalek's
//! windowed Edwards multiplication, vectorised with AVX2 where the CPU has it, costs less
//! than its Montgomery ladder, and a [`PeerKey`] keeps the decoded point so several
//! Diffie-Hellmans with one peer key decode it once. The result is X25519's by definition:
//! the u-coordinate of `clamp(k)·P`, computed with the unreduced clamped scalar so that
//! points with a small-order component give the same answer. A u-coordinate of the twist
//! takes the ladder. Which way is taken depends only on the public key.

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::montgomery::MontgomeryPoint;
use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroize;

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
        self.dh_with(&PeerKey::new(peer))
    }

    /// `X25519(self, peer)` with a peer key decoded once for several Diffie-Hellmans,
    /// rejecting an all-zero result.
    pub fn dh_with(&self, peer: &PeerKey) -> Result<Secret32, LowOrder> {
        let out = match &peer.edwards {
            Some(point) => {
                let mut scalar = self.secret.to_bytes();
                let mut product = point.mul_clamped(scalar);
                scalar.zeroize();
                let mut u = product.to_montgomery();
                product.zeroize();
                Secret32::from_array(&mut u.0)
            }
            None => self.dh_ladder(&peer.bytes),
        };
        if bool::from(out.expose().ct_eq(&ZERO32)) {
            return Err(LowOrder);
        }
        Ok(out)
    }

    /// `X25519(self, peer)` by x25519-dalek's Montgomery ladder, all-zero results included:
    /// the reference the Edwards computation is tested against.
    pub fn dh_ladder(&self, peer: &[u8; 32]) -> Secret32 {
        let shared = self.secret.diffie_hellman(&PublicKey::from(*peer));
        Secret32::from_slice(shared.as_bytes()).unwrap_or_else(Secret32::zeroed)
    }
}

/// A peer's X25519 public key, decoded once to the Edwards point with its u-coordinate
/// (`None` for a u-coordinate of the twist, which the Montgomery ladder handles).
#[derive(Clone)]
pub struct PeerKey {
    bytes: [u8; 32],
    edwards: Option<EdwardsPoint>,
}

impl PeerKey {
    /// Decodes `public` (one field inversion and one square root).
    pub fn new(public: &[u8; 32]) -> Self {
        // Either sign works: X25519 uses only the u-coordinate, and u(k·P) = u(k·(−P)).
        Self {
            bytes: *public,
            edwards: MontgomeryPoint(*public).to_edwards(0),
        }
    }

    /// The public key's bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
}

impl core::fmt::Debug for PeerKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PeerKey")
            .field("public", &super::hex_prefix(&self.bytes))
            .finish_non_exhaustive()
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
