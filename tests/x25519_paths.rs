//! X25519 computed on the Edwards curve (the protocol's path for keys on the curve) gives
//! exactly the Montgomery ladder's result, for keys in the prime-order subgroup, keys with
//! a small-order component, u-coordinates of the twist and non-canonical encodings.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use bluetick::primitives::x25519::{PeerKey, X25519KeyPair};
use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::montgomery::MontgomeryPoint;
use proptest::prelude::*;

/// `dh_with` against the ladder: the same bytes, or `LowOrder` exactly when the ladder
/// gives zero.
fn assert_same(private: [u8; 32], public: [u8; 32]) {
    let pair = X25519KeyPair::from_private(&mut private.clone());
    let ladder = pair.dh_ladder(&public);
    let zero = ladder.expose() == &[0u8; 32];
    match pair.dh_with(&PeerKey::new(&public)) {
        Ok(got) => {
            assert!(!zero);
            assert_eq!(got.expose(), ladder.expose(), "public {public:02x?}");
        }
        Err(_) => assert!(zero, "refused a non-zero result for {public:02x?}"),
    }
    // The one-off call agrees with the prepared key.
    assert_eq!(pair.dh(&public).is_ok(), !zero);
}

fn point(seed: [u8; 32]) -> EdwardsPoint {
    EdwardsPoint::mul_base_clamped(seed)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn prime_order_keys(private in any::<[u8; 32]>(), seed in any::<[u8; 32]>()) {
        assert_same(private, point(seed).to_montgomery().0);
    }

    #[test]
    fn keys_with_a_small_order_component(
        private in any::<[u8; 32]>(),
        seed in any::<[u8; 32]>(),
        torsion in 0usize..8,
    ) {
        let p = point(seed) + EIGHT_TORSION[torsion];
        assert_same(private, p.to_montgomery().0);
    }

    #[test]
    fn arbitrary_bytes(private in any::<[u8; 32]>(), public in any::<[u8; 32]>()) {
        // About half are u-coordinates of the twist; with bit 255 free, many are
        // non-canonical too.
        assert_same(private, public);
    }
}

#[test]
fn twist_points_and_edge_encodings_take_the_ladder_and_agree() {
    let private = [0x5au8; 32];
    let mut twist = 0;
    for i in 0u8..=255 {
        let mut public = [0u8; 32];
        public[0] = i;
        public[31] = 0x40;
        if MontgomeryPoint(public).to_edwards(0).is_none() {
            twist += 1;
        }
        assert_same(private, public);
    }
    assert!(
        twist > 64,
        "expected many twist points among the probes, got {twist}"
    );
    // u = 0, 1, p − 1 (= −1, the exceptional point of the birational map), p, p + 1, 2^255 − 1.
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    let mut minus_one = p;
    minus_one[0] = 0xec;
    let mut p_plus_one = p;
    p_plus_one[0] = 0xee;
    let all_ones = [0xffu8; 32];
    let mut one = [0u8; 32];
    one[0] = 1;
    for public in [[0u8; 32], one, minus_one, p, p_plus_one, all_ones] {
        assert_same(private, public);
    }
}

#[test]
fn small_order_points_give_low_order_on_both_paths() {
    for t in EIGHT_TORSION {
        let public = t.to_montgomery().0;
        let pair = X25519KeyPair::from_private(&mut [7u8; 32]);
        assert_eq!(pair.dh_ladder(&public).expose(), &[0u8; 32]);
        assert!(pair.dh_with(&PeerKey::new(&public)).is_err());
    }
}
