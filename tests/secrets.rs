//! Secrets are erased on drop and never printed by `Debug`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use bluetick::primitives::x25519::X25519KeyPair;
use bluetick::{
    IdentityKeyPair, OneTimePreKey, PqPreKey, PqPreKeyKind, Secret32, SecretBytes, SignedPreKey,
};
use common::{established, rng};
use zeroize::{Zeroize, ZeroizeOnDrop};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// No 8-byte window of `secret` may appear, as hex or as a decimal byte list, in `text`.
fn assert_not_leaked(text: &str, secret: &[u8], what: &str) {
    let h = hex(secret);
    // Every 8-byte window, the last one included.
    for i in 0..=secret.len().saturating_sub(8) {
        assert!(
            !text.contains(&h[2 * i..2 * i + 16]),
            "{what} leaked as hex in {text}"
        );
    }
    let decimal = format!("{:?}", &secret[..8]);
    assert!(
        !text.contains(&decimal[1..decimal.len() - 1]),
        "{what} leaked as bytes in {text}"
    );
}

#[test]
fn debug_output_of_key_types_contains_no_secret() {
    let mut r = rng(1);
    let identity = IdentityKeyPair::generate(&mut r);
    let seed = identity.seed().expose().to_vec();
    let text = format!("{identity:?} {:#?}", identity);
    assert_not_leaked(&text, &seed, "identity seed");

    let spk = SignedPreKey::generate(&identity, 1, &mut r);
    let spk_private = spk.key_pair().private_bytes().expose().to_vec();
    assert_not_leaked(&format!("{spk:?}"), &spk_private, "signed prekey");

    let opk = OneTimePreKey::generate(1, &mut r);
    let opk_private = opk.key_pair().private_bytes().expose().to_vec();
    assert_not_leaked(&format!("{opk:?}"), &opk_private, "one-time prekey");

    let pq = PqPreKey::generate(&identity, 1, PqPreKeyKind::OneTime, &mut r);
    let pq_seed = pq.key_pair().seed().expose().to_vec();
    assert_not_leaked(&format!("{pq:?}"), &pq_seed, "PQ prekey seed");
    let kem_text = format!("{:?} {:#?}", pq.key_pair(), pq.key_pair());
    assert_not_leaked(&kem_text, &pq_seed, "ML-KEM key pair seed");
    // The seed's two halves are d and z of FIPS 203; z is also the tail of the expanded
    // decapsulation key, so neither half may show.
    assert_not_leaked(
        &kem_text,
        &pq_seed[32..],
        "ML-KEM implicit-rejection value z",
    );

    let secret = Secret32::from_slice(&[7u8; 32]).unwrap();
    assert_eq!(format!("{secret:?}"), "SecretBytes<32>(redacted)");
}

#[test]
fn debug_output_of_sessions_contains_no_key_material() {
    let (alice, _bob) = established(2);
    let text = format!("{:?} {:#?}", alice.record, alice.record);
    // Secrets at their documented offsets in the serialization (src/session_serialization.rs)
    // of a session with no pending PreKeyMessage and no digest: RK, DHs private, CKs, CKr.
    let bytes = alice.record.to_bytes();
    // The 96-byte AD of revision 2 puts the flags and keys two bytes before revision 1's.
    assert_eq!(
        (bytes[194], bytes[195], bytes[292], bytes[325], bytes[362]),
        (0, 0, 1, 1, 1)
    );
    for (what, range) in [
        ("root key", 196..228),
        ("ratchet private key", 228..260),
        ("sending chain key", 326..358),
        ("receiving chain key", 363..395),
    ] {
        assert_not_leaked(&text, &bytes[range], what);
    }
    assert!(text.contains("redacted"));
}

#[test]
fn secret_types_erase_themselves_on_drop() {
    fn erases_on_drop<T: ZeroizeOnDrop>() {}
    erases_on_drop::<Secret32>();
    erases_on_drop::<SecretBytes<64>>();
    // The X25519 private key inside every key pair (x25519-dalek, `zeroize` feature on).
    erases_on_drop::<x25519_dalek::StaticSecret>();
    erases_on_drop::<ed25519_dalek::SigningKey>();
    erases_on_drop::<bluetick::primitives::kem::KemKeyPair>();

    let mut s = SecretBytes::<32>::from_slice(&[0xAB; 32]).unwrap();
    s.zeroize();
    assert_eq!(s.expose(), &[0u8; 32]);

    let mut src = [9u8; 32];
    let taken = Secret32::from_array(&mut src);
    assert_eq!(src, [0u8; 32], "the caller's copy was not erased");
    assert_eq!(taken.expose(), &[9u8; 32]);

    let mut private = [5u8; 32];
    let _pair = X25519KeyPair::from_private(&mut private);
    assert_eq!(
        private, [0u8; 32],
        "the caller's private key copy was not erased"
    );
}

#[test]
fn secrets_compare_in_constant_time_and_by_value() {
    use subtle::ConstantTimeEq;
    let a = Secret32::from_slice(&[1u8; 32]).unwrap();
    let b = Secret32::from_slice(&[1u8; 32]).unwrap();
    let c = Secret32::from_slice(&[2u8; 32]).unwrap();
    assert!(bool::from(a.ct_eq(&b)));
    assert!(!bool::from(a.ct_eq(&c)));
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn message_content_and_message_keys_are_not_in_debug_output() {
    let (mut alice, mut bob) = established(3);
    let secret_text = b"the launch code is 0000";
    let (out, trace) = alice
        .record
        .encrypt_with_trace(
            bluetick::ContentType::Application,
            secret_text,
            &mut alice.rng,
        )
        .unwrap();
    let trace_text = format!("{trace:?}");
    assert_not_leaked(&trace_text, &trace.message_key, "message key");
    assert!(!trace_text.contains("launch"));
    let got = bob.receive(&out.wire).unwrap();
    let text = format!("{got:?} {:?}", got.clone());
    assert!(
        !text.contains("launch") && !text.contains(&format!("{:?}", &secret_text[..8])),
        "{text}"
    );

    let key = Secret32::from_slice(&[1; 32]).unwrap();
    let a = bluetick::Account::create(
        Box::new(bluetick::MemoryStore::new()),
        &key,
        Default::default(),
    )
    .unwrap();
    let b = bluetick::Account::create(
        Box::new(bluetick::MemoryStore::new()),
        &key,
        Default::default(),
    )
    .unwrap();
    let (aa, ba) = (
        bluetick::Address::new("a", 1),
        bluetick::Address::new("b", 1),
    );
    let mut upload = b.prekey_upload().unwrap();
    let m = a
        .encrypt(&ba, secret_text, Some(&upload.take_bundle()), 0)
        .unwrap();
    let incoming = b.decrypt(&aa, &m.wire).unwrap();
    let text = format!("{incoming:?} {:?} {a:?}", b.inbox().unwrap());
    assert!(
        !text.contains("launch") && !text.contains(&format!("{:?}", &secret_text[..8])),
        "{text}"
    );
    assert!(text.contains("body_len: 23"), "{text}");
}
