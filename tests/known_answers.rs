//! External known-answer tests, run against the exact primitive wrappers the protocol code
//! uses (`bluetick::primitives`): Wycheproof for X25519, Ed25519, AES-256-GCM, HKDF-SHA256,
//! HMAC-SHA256 and ML-KEM-1024, and the published vectors of RFC 7748, RFC 8032 and RFC 5869.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use bluetick::primitives::secret::{Secret32, SecretBytes};
use bluetick::primitives::x25519::X25519KeyPair;
use bluetick::primitives::{aead, ed25519, kdf, kem};
use bluetick::IdentityKeyPair;
use wycheproof::TestResult;

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn arr<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
    b.try_into().ok()
}

/// Counts of (cases run, cases the wrapper cannot take by type, e.g. a 31-byte key).
struct Tally {
    run: usize,
    not_applicable: usize,
}

impl Tally {
    fn new() -> Self {
        Self {
            run: 0,
            not_applicable: 0,
        }
    }
    fn report(&self, what: &str, at_least: usize) {
        println!(
            "{what}: {} cases run, {} rejected by the wrapper's types",
            self.run, self.not_applicable
        );
        assert!(self.run >= at_least, "{what}: only {} cases ran", self.run);
    }
}

#[test]
fn wycheproof_x25519() {
    use wycheproof::xdh::{TestName, TestSet};
    let set = TestSet::load(TestName::X25519).unwrap();
    let mut t = Tally::new();
    for group in set.test_groups {
        for test in group.tests {
            let (Some(mut private), Some(public)) =
                (arr::<32>(&test.private_key), arr::<32>(&test.public_key))
            else {
                assert_eq!(test.result, TestResult::Invalid, "tc {}", test.tc_id);
                t.not_applicable += 1;
                continue;
            };
            t.run += 1;
            let pair = X25519KeyPair::from_private(&mut private);
            // The Montgomery ladder gives Wycheproof's value for every input, zero included.
            assert_eq!(
                pair.dh_ladder(&public).expose()[..],
                test.shared_secret[..],
                "tc {} (ladder)",
                test.tc_id
            );
            let got = pair.dh(&public);
            let zero = test.shared_secret.iter().all(|&b| b == 0);
            match (test.result, zero) {
                // The protocol refuses all-zero results (spec §1), whatever Wycheproof accepts.
                (_, true) => assert!(
                    got.is_err(),
                    "tc {} zero shared secret accepted",
                    test.tc_id
                ),
                (TestResult::Invalid, false) => assert!(got.is_err(), "tc {}", test.tc_id),
                (_, false) => assert_eq!(
                    got.unwrap().expose()[..],
                    test.shared_secret[..],
                    "tc {}",
                    test.tc_id
                ),
            }
        }
    }
    t.report("Wycheproof X25519", 500);
}

#[test]
fn wycheproof_ed25519_strict_verification() {
    use wycheproof::eddsa::{TestName, TestSet};
    let set = TestSet::load(TestName::Ed25519).unwrap();
    let mut t = Tally::new();
    for group in set.test_groups {
        let key = ed25519_dalek::VerifyingKey::from_bytes(&arr::<32>(&group.key.pk).unwrap());
        for test in group.tests {
            t.run += 1;
            let ok = match (&key, arr::<64>(&test.sig)) {
                (Ok(key), Some(sig)) => ed25519::verify(key, &[&test.msg[..]], &sig),
                _ => false,
            };
            match test.result {
                TestResult::Valid => assert!(ok, "tc {} valid signature rejected", test.tc_id),
                TestResult::Invalid => assert!(!ok, "tc {} invalid signature accepted", test.tc_id),
                TestResult::Acceptable => {}
            }
        }
    }
    t.report("Wycheproof Ed25519", 100);
}

#[test]
fn wycheproof_aes_256_gcm() {
    use wycheproof::aead::{TestName, TestSet};
    let set = TestSet::load(TestName::AesGcm).unwrap();
    let mut t = Tally::new();
    for group in set.test_groups {
        for test in group.tests {
            let (Some(key), Some(nonce)) = (arr::<32>(&test.key), arr::<12>(&test.nonce)) else {
                t.not_applicable += 1;
                continue;
            };
            if test.tag.len() != 16 {
                t.not_applicable += 1;
                continue;
            }
            t.run += 1;
            let mut sealed_input = test.ct.to_vec();
            sealed_input.extend_from_slice(&test.tag);
            let opened = aead::open(&key, &nonce, &test.aad, &sealed_input);
            match test.result {
                TestResult::Invalid => assert!(
                    opened.is_err(),
                    "tc {} forged ciphertext opened",
                    test.tc_id
                ),
                _ => {
                    assert_eq!(opened.unwrap(), test.pt.to_vec(), "tc {}", test.tc_id);
                    let mut sealed = Vec::new();
                    aead::seal(&key, &nonce, &test.aad, &test.pt, &mut sealed);
                    assert_eq!(sealed, sealed_input, "tc {}", test.tc_id);
                }
            }
        }
    }
    t.report("Wycheproof AES-256-GCM (96-bit nonce, 128-bit tag)", 50);
}

#[test]
fn wycheproof_hkdf_sha256() {
    use wycheproof::hkdf::{TestName, TestSet};
    let set = TestSet::load(TestName::HkdfSha256).unwrap();
    let mut t = Tally::new();
    for group in set.test_groups {
        for test in group.tests {
            if test.result == TestResult::Invalid {
                // Only over-long outputs (> 255 * 32 bytes), which the protocol never asks for.
                assert!(test.size > 255 * 32, "tc {}", test.tc_id);
                t.not_applicable += 1;
                continue;
            }
            t.run += 1;
            let mut okm = vec![0u8; test.size];
            kdf::hkdf_sha256(&test.salt, &test.ikm, &test.info, &mut okm);
            assert_eq!(okm, test.okm.to_vec(), "tc {}", test.tc_id);
        }
    }
    t.report("Wycheproof HKDF-SHA256", 50);
}

#[test]
fn wycheproof_hmac_sha256() {
    use wycheproof::mac::{TestName, TestSet};
    let set = TestSet::load(TestName::HmacSha256).unwrap();
    let mut t = Tally::new();
    for group in set.test_groups {
        for test in group.tests {
            t.run += 1;
            let mut mac = [0u8; 32];
            kdf::hmac_sha256(&test.key, &test.msg, &mut mac);
            let matches = test.tag.len() <= 32 && mac[..test.tag.len()] == test.tag[..];
            assert_eq!(
                matches,
                test.result != TestResult::Invalid,
                "tc {}",
                test.tc_id
            );
        }
    }
    t.report("Wycheproof HMAC-SHA256", 100);
}

/// `KDF_CK`'s HMAC, built on the SHA-256 compression function, against values computed
/// with Python's `hmac` module (key 0x00..0x1f).
#[test]
fn kdf_ck_hmac_pair_known_answers() {
    let key: [u8; 32] = core::array::from_fn(|i| i as u8);
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    kdf::hmac_sha256_byte_pair(&key, 0x01, 0x02, &mut a, &mut b);
    assert_eq!(
        hex::encode(a),
        "9b4c8120a4823a95f47cde17a244f4507244ee6e3957d1fab9fa29b44d3829b7"
    );
    assert_eq!(
        hex::encode(b),
        "4304c22c84a53755ab08ead8d97a8d429be5efa480682d7ad1da27f73e1fbe1d"
    );
    kdf::hmac_sha256_byte_pair(&key, 0xff, 0x01, &mut a, &mut b);
    assert_eq!(
        hex::encode(a),
        "1510fc6d48bfc44e1618f7ec8a2b7c04c9aa99c8a47effc5c0870cb9e2aea2c7"
    );
}

proptest::proptest! {
    /// ... and against the `hmac` crate for any key and message bytes.
    #[test]
    fn kdf_ck_hmac_pair_matches_the_hmac_crate(
        key in proptest::prelude::any::<[u8; 32]>(),
        a in proptest::prelude::any::<u8>(),
        b in proptest::prelude::any::<u8>(),
    ) {
        use hmac::{Hmac, KeyInit, Mac};
        let reference = |m: u8| -> [u8; 32] {
            let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).unwrap();
            mac.update(&[m]);
            mac.finalize().into_bytes().into()
        };
        let (mut out_a, mut out_b) = ([0u8; 32], [0u8; 32]);
        kdf::hmac_sha256_byte_pair(&key, a, b, &mut out_a, &mut out_b);
        proptest::prop_assert_eq!(out_a, reference(a));
        proptest::prop_assert_eq!(out_b, reference(b));
    }
}

#[test]
fn wycheproof_ml_kem_1024_keygen_encaps_decaps() {
    use wycheproof::mlkem::{TestName, TestSet};
    let mut t = Tally::new();

    for test in TestSet::load(TestName::MlKem1024KeyGenSeed)
        .unwrap()
        .test_groups
        .into_iter()
        .flat_map(|g| g.tests)
    {
        t.run += 1;
        let seed = SecretBytes::<64>::from_slice(test.seed.as_ref().unwrap()).unwrap();
        let pair = kem::KemKeyPair::from_seed(seed);
        assert_eq!(
            pair.public()[..],
            test.encaps_key.as_ref().unwrap()[..],
            "keygen tc {}",
            test.tc_id
        );
    }

    for test in TestSet::load(TestName::MlKem1024Encaps)
        .unwrap()
        .test_groups
        .into_iter()
        .flat_map(|g| g.tests)
    {
        let ek = test.encaps_key.as_ref().unwrap();
        let Some(ek) = arr::<1568>(ek) else {
            assert_eq!(test.result, TestResult::Invalid);
            t.not_applicable += 1;
            continue;
        };
        t.run += 1;
        let m = Secret32::from_slice(test.msg.as_ref().unwrap()).unwrap();
        match (test.result, kem::encapsulate(&ek, &m)) {
            (TestResult::Invalid, got) => assert!(
                got.is_err(),
                "encaps tc {} invalid key accepted",
                test.tc_id
            ),
            (_, Ok((ct, ss))) => {
                assert_eq!(
                    ct[..],
                    test.ct.as_ref().unwrap()[..],
                    "encaps tc {}",
                    test.tc_id
                );
                assert_eq!(
                    ss.expose()[..],
                    test.shared_secret.as_ref().unwrap()[..],
                    "encaps tc {}",
                    test.tc_id
                );
            }
            (_, Err(_)) => panic!("encaps tc {} valid key rejected", test.tc_id),
        }
    }

    for test in TestSet::load(TestName::MlKem1024)
        .unwrap()
        .test_groups
        .into_iter()
        .flat_map(|g| g.tests)
    {
        let seed = SecretBytes::<64>::from_slice(test.seed.as_ref().unwrap());
        let (Some(seed), Some(ct)) = (seed, arr::<1568>(test.ct.as_ref().unwrap())) else {
            assert_eq!(test.result, TestResult::Invalid);
            t.not_applicable += 1;
            continue;
        };
        t.run += 1;
        let pair = kem::KemKeyPair::from_seed(seed);
        if let Some(ek) = &test.encaps_key {
            assert_eq!(pair.public()[..], ek[..], "decaps tc {}", test.tc_id);
        }
        // Valid ciphertexts give K; altered ones give ML-KEM's implicit-rejection secret,
        // which Wycheproof also lists as K.
        assert_eq!(
            pair.decapsulate(&ct).expose()[..],
            test.shared_secret.as_ref().unwrap()[..],
            "decaps tc {}",
            test.tc_id
        );
    }
    t.report("Wycheproof ML-KEM-1024", 300);
}

#[test]
fn rfc7748_x25519_vectors() {
    // §5.2: two scalar multiplications.
    let cases = [
        (
            "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
        ),
        (
            "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
        ),
    ];
    for (k, u, out) in cases {
        let got = X25519KeyPair::from_private(&mut arr(&hex(k)).unwrap())
            .dh(&arr(&hex(u)).unwrap())
            .unwrap();
        assert_eq!(got.expose().to_vec(), hex(out));
    }
    // §5.2: the iterated function, 1 and 1000 iterations.
    let (mut k, mut u) = ([0u8; 32], [0u8; 32]);
    k[0] = 9;
    u[0] = 9;
    for i in 1..=1000 {
        let out = X25519KeyPair::from_private(&mut k.clone()).dh(&u).unwrap();
        u = k;
        k = *out.expose();
        if i == 1 {
            assert_eq!(
                k.to_vec(),
                hex("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")
            );
        }
    }
    assert_eq!(
        k.to_vec(),
        hex("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")
    );
    // §6.1: the Diffie-Hellman example.
    let alice = X25519KeyPair::from_private(
        &mut arr(&hex(
            "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        ))
        .unwrap(),
    );
    let bob = X25519KeyPair::from_private(
        &mut arr(&hex(
            "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
        ))
        .unwrap(),
    );
    assert_eq!(
        alice.public().to_vec(),
        hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    );
    assert_eq!(
        bob.public().to_vec(),
        hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    );
    let shared = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    assert_eq!(alice.dh(bob.public()).unwrap().expose().to_vec(), shared);
    assert_eq!(bob.dh(alice.public()).unwrap().expose().to_vec(), shared);
}

#[test]
fn rfc8032_ed25519_vectors() {
    // §7.1 tests 1-3 and SHA(abc), through the identity key pair the protocol uses.
    let cases = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
        (
            "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
            "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
        ),
    ];
    for (seed, public, msg, sig) in cases {
        let id = IdentityKeyPair::from_seed(Secret32::from_slice(&hex(seed)).unwrap());
        assert_eq!(id.public().to_bytes().to_vec(), hex(public));
        let msg = hex(msg);
        assert_eq!(id.sign(&[&msg]).to_vec(), hex(sig));
        let key = ed25519_dalek::VerifyingKey::from_bytes(&arr(&hex(public)).unwrap()).unwrap();
        assert!(ed25519::verify(&key, &[&msg], &arr(&hex(sig)).unwrap()));
    }
}

#[test]
fn rfc5869_hkdf_sha256_vectors() {
    // Appendix A, test cases 1-3 (SHA-256).
    let cases = [
        (
            "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
            "000102030405060708090a0b0c",
            "f0f1f2f3f4f5f6f7f8f9",
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        ),
        (
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f",
            "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
            "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87",
        ),
        ("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "", "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"),
    ];
    for (ikm, salt, info, okm) in cases {
        let expected = hex(okm);
        let mut out = vec![0u8; expected.len()];
        kdf::hkdf_sha256(&hex(salt), &hex(ikm), &hex(info), &mut out);
        assert_eq!(out, expected);
    }
}
