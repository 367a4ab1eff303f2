//! Safety numbers: 60 digits, equal on both sides, independent of order, and different for
//! different identities.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use bluetick::{IdentityKeyPair, SafetyNumber, Secret32};

fn identity(seed: u8) -> IdentityKeyPair {
    IdentityKeyPair::from_seed(Secret32::from_slice(&[seed; 32]).unwrap())
}

#[test]
fn sixty_digits_equal_on_both_sides() {
    let (a, b) = (identity(1), identity(2));
    let ab = SafetyNumber::new(a.public(), b.public());
    let ba = SafetyNumber::new(b.public(), a.public());
    assert_eq!(ab, ba);
    assert_eq!(ab.digits().len(), 60);
    assert!(ab.digits().bytes().all(|c| c.is_ascii_digit()));
    assert_eq!(ab.to_string().split(' ').count(), 12);
}

#[test]
fn a_different_identity_gives_a_different_number() {
    let (a, b, c) = (identity(1), identity(2), identity(3));
    let ab = SafetyNumber::new(a.public(), b.public());
    let ac = SafetyNumber::new(a.public(), c.public());
    assert_ne!(ab, ac);
    // A's half is shared, the other half differs.
    assert!(
        ab.digits()[..30] == ac.digits()[..30]
            || ab.digits()[30..] == ac.digits()[30..]
            || ab.digits()[..30] == ac.digits()[30..]
            || ab.digits()[30..] == ac.digits()[..30]
    );
}

#[test]
fn the_derivation_is_pinned() {
    // Recomputed here from the documented derivation with the sha2 crate directly.
    use sha2::{Digest, Sha512};
    let a = identity(1);
    let ik = a.public().to_bytes();
    let mut h: Vec<u8> = Sha512::new()
        .chain_update([0u8, 0u8])
        .chain_update(b"Bluetick_SafetyNumber_v1")
        .chain_update(ik)
        .finalize()
        .to_vec();
    for _ in 1..5200 {
        h = Sha512::new()
            .chain_update(&h)
            .chain_update(ik)
            .finalize()
            .to_vec();
    }
    let half: String = h[..30]
        .chunks(5)
        .map(|c| {
            format!(
                "{:05}",
                c.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)) % 100_000
            )
        })
        .collect();
    let n = SafetyNumber::new(a.public(), a.public());
    assert_eq!(n.digits(), format!("{half}{half}"));
}
