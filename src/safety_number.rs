//! Safety numbers: 60 digits that two users compare to check each other's identity keys.
//!
//! Derivation (this crate's own; the spec leaves it to the implementation):
//!
//! 1. For each identity key `IK`: `h = SHA-512(0x00 || 0x00 || "Bluetick_SafetyNumber_v1" || IK)`,
//!    then 5199 more times `h = SHA-512(h || IK)`. The iterations make it 5200 times as costly
//!    to search for a second key whose number matches in part.
//! 2. The first 30 bytes of `h` are six 5-byte big-endian integers; each, modulo 100000,
//!    gives 5 decimal digits: 30 digits per key.
//! 3. The safety number is the two 30-digit strings, the smaller first, so both sides
//!    compute the same 60 digits whatever the order of the keys.

use crate::constants::SAFETY_NUMBER_CONTEXT;
use crate::identity::IdentityKey;
use crate::primitives::kdf::sha512;

const ITERATIONS: usize = 5200;

/// A 60-digit safety number.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct SafetyNumber(String);

fn half(identity: &IdentityKey) -> String {
    let ik = identity.as_bytes();
    let mut h = sha512(&[&[0x00, 0x00], SAFETY_NUMBER_CONTEXT, ik]);
    for _ in 1..ITERATIONS {
        h = sha512(&[&h, ik]);
    }
    let mut digits = String::with_capacity(30);
    for chunk in h.chunks_exact(5).take(6) {
        let value = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        digits.push_str(&format!("{:05}", value % 100_000));
    }
    digits
}

impl SafetyNumber {
    /// The safety number of two identities; the same whichever is given first.
    pub fn new(a: &IdentityKey, b: &IdentityKey) -> Self {
        let (x, y) = (half(a), half(b));
        Self(if x <= y { x + &y } else { y + &x })
    }

    /// The 60 digits.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Display for SafetyNumber {
    /// Twelve groups of five digits separated by spaces.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let groups: Vec<&str> = self
            .0
            .as_bytes()
            .chunks(5)
            .map(|c| core::str::from_utf8(c).unwrap_or(""))
            .collect();
        f.write_str(&groups.join(" "))
    }
}
