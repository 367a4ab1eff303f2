//! Prekey bundles: exact encoding, and every kind of bad bundle rejected with a typed error
//! before anything is stored.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use bluetick::{ErrorKind, IdentityKey, PreKeyBundle, SessionRecord};
use common::Party;

/// Small-order X25519 points (RFC 7748 and the usual blocklist).
const LOW_ORDER_X25519: [[u8; 32]; 2] = [[0u8; 32], {
    let mut one = [0u8; 32];
    one[0] = 1;
    one
}];

fn start(bundle: &PreKeyBundle) -> Result<(), ErrorKind> {
    let mut alice = Party::new(900, 0);
    let mut record = SessionRecord::new();
    let result = record
        .start_session(&alice.identity, bundle, &mut alice.rng)
        .map_err(|e| e.kind());
    if result.is_err() {
        assert!(
            record.current_session().is_none(),
            "a rejected bundle created a session"
        );
    }
    result
}

#[test]
fn bundle_encoding_round_trips_with_exact_lengths() {
    let bob = Party::new(1, 1);
    let with_opk = bob.bundle();
    assert_eq!(with_opk.to_bytes().len(), 1806);
    assert_eq!(
        PreKeyBundle::from_bytes(&with_opk.to_bytes()).unwrap(),
        with_opk
    );
    let mut without = with_opk.clone();
    without.one_time_prekey = None;
    assert_eq!(without.to_bytes().len(), 1770);
    assert_eq!(
        PreKeyBundle::from_bytes(&without.to_bytes()).unwrap(),
        without
    );
    assert!(start(&with_opk).is_ok());
}

#[test]
fn wrong_lengths_versions_and_flags_are_rejected() {
    let bytes = Party::new(2, 1).bundle().to_bytes();
    for len in [0, 1, 33, 1769, 1770, 1805] {
        let err = PreKeyBundle::from_bytes(&bytes[..len]).unwrap_err().kind();
        assert_eq!(err, ErrorKind::Truncated, "length {len}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        PreKeyBundle::from_bytes(&longer).unwrap_err().kind(),
        ErrorKind::TrailingBytes
    );
    let mut v = bytes.clone();
    v[0] = 2;
    assert_eq!(
        PreKeyBundle::from_bytes(&v).unwrap_err().kind(),
        ErrorKind::UnsupportedVersion
    );
    let mut f = bytes.clone();
    f[1769] = 2;
    assert_eq!(
        PreKeyBundle::from_bytes(&f).unwrap_err().kind(),
        ErrorKind::InvalidFlag
    );
}

#[test]
fn forged_signatures_are_rejected() {
    let bundle = Party::new(3, 1).bundle();
    let mut spk = bundle.clone();
    spk.signed_prekey.signature[5] ^= 1;
    assert_eq!(start(&spk), Err(ErrorKind::BadSignature));
    let mut pq = bundle.clone();
    pq.pq_prekey.signature[60] ^= 1;
    assert_eq!(start(&pq), Err(ErrorKind::BadSignature));
    // A key swapped under a valid signature.
    let mut swapped = bundle.clone();
    swapped.signed_prekey.public[0] ^= 1;
    assert_eq!(start(&swapped), Err(ErrorKind::BadSignature));
    // Another identity's keys under Bob's identity.
    let mallory = Party::new(4, 1).bundle();
    let mut mixed = bundle.clone();
    mixed.signed_prekey = mallory.signed_prekey;
    assert_eq!(start(&mixed), Err(ErrorKind::BadSignature));
    let mut mixed = bundle;
    mixed.pq_prekey = mallory.pq_prekey;
    assert_eq!(start(&mixed), Err(ErrorKind::BadSignature));
}

#[test]
fn low_order_and_non_canonical_prekeys_are_rejected() {
    let bob = Party::new(5, 1);
    let bundle = bob.bundle();
    for bad in LOW_ORDER_X25519 {
        let mut b = bundle.clone();
        b.one_time_prekey.as_mut().unwrap().public = bad;
        assert_eq!(start(&b), Err(ErrorKind::LowOrderKey));
    }
    let mut b = bundle;
    b.one_time_prekey.as_mut().unwrap().public[31] |= 0x80;
    assert_eq!(start(&b), Err(ErrorKind::NonCanonicalKey));
}

#[test]
fn invalid_kem_key_is_rejected_even_when_signed() {
    // Bob's own (valid) signature over a PQ key that fails the FIPS 203 check: set the
    // first 12-bit coefficient to 0xFFF >= q.
    let bob = Party::new(6, 1);
    let mut bundle = bob.bundle();
    bundle.pq_prekey.public[0] = 0xff;
    bundle.pq_prekey.public[1] |= 0x0f;
    bundle.pq_prekey.signature = bob.identity.sign(&[
        bluetick::constants::PQ_PREKEY_CONTEXT,
        &[bluetick::constants::KEM_KEY_TYPE],
        &bundle.pq_prekey.public[..],
    ]);
    assert_eq!(start(&bundle), Err(ErrorKind::InvalidKemKey));
}

#[test]
fn invalid_identity_keys_are_rejected() {
    // Small order: the identity (0, 1) and a point of order 2 (0, -1).
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert_eq!(
        IdentityKey::from_bytes(&identity).unwrap_err().kind(),
        ErrorKind::InvalidIdentityKey
    );
    let mut minus_one = [0xffu8; 32];
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    assert_eq!(
        IdentityKey::from_bytes(&minus_one).unwrap_err().kind(),
        ErrorKind::InvalidIdentityKey
    );
    // Non-canonical: y = p + 1 encodes the same point as y = 1.
    let mut non_canonical = [0xffu8; 32];
    non_canonical[0] = 0xee;
    non_canonical[31] = 0x7f;
    assert_eq!(
        IdentityKey::from_bytes(&non_canonical).unwrap_err().kind(),
        ErrorKind::InvalidIdentityKey
    );
    // A valid key plus a point of order 8 is on the curve but not torsion-free.
    let valid = *Party::new(7, 0).identity.public();
    assert!(IdentityKey::from_bytes(valid.as_bytes()).is_ok());
    let point = curve25519_dalek::edwards::CompressedEdwardsY(valid.to_bytes())
        .decompress()
        .unwrap();
    let torsion = curve25519_dalek::constants::EIGHT_TORSION[1];
    let with_torsion = (point + torsion).compress().to_bytes();
    assert_eq!(
        IdentityKey::from_bytes(&with_torsion).unwrap_err().kind(),
        ErrorKind::InvalidIdentityKey
    );
    let mut bytes = Party::new(7, 0).bundle().to_bytes();
    bytes[1..33].copy_from_slice(&identity);
    assert_eq!(
        PreKeyBundle::from_bytes(&bytes).unwrap_err().kind(),
        ErrorKind::InvalidIdentityKey
    );
}

#[test]
fn the_small_order_table_agrees_with_the_definition() {
    use bluetick::primitives::x25519::{is_canonical, is_low_order, low_order_by_multiplication};
    let mut candidates: Vec<[u8; 32]> = Vec::new();
    // The table's own entries, and their non-canonical twins (+p, with bit 255 set).
    let p_minus_1 = {
        let mut b = [0xffu8; 32];
        b[0] = 0xec;
        b[31] = 0x7f;
        b
    };
    candidates.push([0; 32]);
    let mut one = [0u8; 32];
    one[0] = 1;
    candidates.push(one);
    candidates.push(p_minus_1);
    for mut c in candidates.clone() {
        c[31] |= 0x80;
        candidates.push(c);
    }
    // Every small-order point, from curve25519-dalek's torsion subgroup (independent of
    // the table), and their non-canonical twins.
    for t in curve25519_dalek::constants::EIGHT_TORSION {
        let u = t.to_montgomery().to_bytes();
        candidates.push(u);
        let mut twin = u;
        twin[31] |= 0x80;
        candidates.push(twin);
    }
    // Random keys.
    let mut rng = common::rng(7);
    for _ in 0..64 {
        candidates.push(*bluetick::primitives::x25519::X25519KeyPair::generate(&mut rng).public());
    }
    for b in 0..=255u8 {
        let mut c = [b; 32];
        c[31] &= 0x7f;
        candidates.push(c);
    }
    let mut low = 0;
    for c in &candidates {
        assert_eq!(
            is_low_order(c),
            low_order_by_multiplication(c),
            "{c:02x?} canonical={}",
            is_canonical(c)
        );
        low += usize::from(is_low_order(c));
    }
    assert!(low >= 6);
}
