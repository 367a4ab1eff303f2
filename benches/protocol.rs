//! Protocol benchmarks (issue 8): every protocol operation beside its *primitive floor*, the
//! sum of the primitive operations the step cannot avoid, computed by calling the same
//! `bluetick::primitives` wrappers the protocol uses. At the end a table gives each
//! operation as a multiple of its floor (medians of this run).
//!
//! Run: `CARGO_TARGET_DIR=/tmp/bench-target cargo bench --bench protocol`
//! (add `-- --warm-up-time 1 --measurement-time 3` for a quicker run, or a filter such as
//! `-- setup_` for some groups only). `docs/performance.md` explains every floor.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod report;

use std::hint::black_box;
use std::time::SystemTime;

use bluetick::constants::{
    EC_KEY_TYPE, FF32, KEM_CIPHERTEXT_LEN, KEM_KEY_TYPE, MESSAGE_KEYS_INFO, MESSAGE_TYPE,
    PQXDH_INFO, PQ_PREKEY_CONTEXT, RATCHET_INFO, SIGNED_PREKEY_CONTEXT, ZERO32,
};
use bluetick::primitives::secret::Secret32;
use bluetick::primitives::x25519::{self, X25519KeyPair};
use bluetick::primitives::{aead, ed25519, kdf, kem};
use bluetick::rand_core::{Rng, SeedableRng};
use bluetick::receipt::{signed_payload, Receipt, ReceiptKind};
use bluetick::wire::{MessageId, PreKeyMessage};
use bluetick::{
    ContentType, IdentityKey, IdentityKeyPair, InMemoryPreKeyStore, OneTimePreKey, PqPreKey,
    PqPreKeyKind, PreKeyBundle, PreKeyStore, SessionRecord, SignedPreKey,
};
use chacha20::ChaCha20Rng;
use criterion::Criterion;
use report::{run_group, time_batched, time_iter, Outcome, Pair, Timed};

// ---------------------------------------------------------------------------------------
// Parties
// ---------------------------------------------------------------------------------------

/// One device, as in `tests/common`: identity, prekeys, one session record, a seeded rng.
struct Party {
    identity: IdentityKeyPair,
    prekeys: InMemoryPreKeyStore,
    record: SessionRecord,
    rng: ChaCha20Rng,
}

impl Clone for Party {
    /// The generator cannot be cloned; a clone gets a fresh seeded one.
    fn clone(&self) -> Self {
        Self {
            identity: self.identity.clone(),
            prekeys: self.prekeys.clone(),
            record: self.record.clone(),
            rng: ChaCha20Rng::seed_from_u64(99),
        }
    }
}

impl Party {
    /// A signed prekey, a last-resort PQ prekey and `one_time` one-time EC and PQ prekeys.
    fn new(seed: u64, one_time: u32) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let identity = IdentityKeyPair::generate(&mut rng);
        let mut prekeys = InMemoryPreKeyStore::new();
        prekeys.add_signed_prekey(SignedPreKey::generate(&identity, 1, &mut rng));
        prekeys.add_pq_prekey(PqPreKey::generate(
            &identity,
            1000,
            PqPreKeyKind::LastResort,
            &mut rng,
        ));
        for id in 1..=one_time {
            prekeys.add_one_time_prekey(OneTimePreKey::generate(id, &mut rng));
            prekeys.add_pq_prekey(PqPreKey::generate(
                &identity,
                id,
                PqPreKeyKind::OneTime,
                &mut rng,
            ));
        }
        Self {
            identity,
            prekeys,
            record: SessionRecord::new(),
            rng,
        }
    }

    fn bundle(&self) -> PreKeyBundle {
        self.prekeys.bundle(&self.identity).expect("bundle")
    }

    fn start(&mut self, bundle: &PreKeyBundle) {
        self.record
            .start_session(&self.identity, bundle, &mut self.rng)
            .expect("start session");
    }

    fn send(&mut self, body: &[u8]) -> Vec<u8> {
        self.record
            .encrypt(ContentType::Application, body, &mut self.rng)
            .expect("encrypt")
            .wire
    }

    fn receive(&mut self, wire: &[u8]) -> Vec<u8> {
        self.record
            .decrypt(&self.identity, &mut self.prekeys, wire, &mut self.rng)
            .expect("decrypt")
            .body
    }

    /// The X25519 form of the identity key pair (`clamp(SHA-512(seed)[0..32])`, spec §2).
    fn identity_dh(&self) -> X25519KeyPair {
        let h = kdf::sha512(&[self.identity.seed().expose()]);
        let mut private: [u8; 32] = h[..32].try_into().unwrap();
        X25519KeyPair::from_private(&mut private)
    }
}

/// Alice and Bob after one message each way: Alice's next message carries a new ratchet
/// key, so Bob's decryption of it is a DH ratchet step.
fn established() -> (Party, Party) {
    let mut alice = Party::new(1, 0);
    let mut bob = Party::new(2, 2);
    alice.start(&bob.bundle());
    let hello = alice.send(b"hello");
    assert_eq!(bob.receive(&hello), b"hello");
    let hi = bob.send(b"hi");
    assert_eq!(alice.receive(&hi), b"hi");
    (alice, bob)
}

/// `(alice, bob)` where Bob has received Alice's current chain up to message 1 (exclusive):
/// Alice's next message decrypts without a DH step.
fn steady() -> (Party, Party) {
    let (mut alice, mut bob) = established();
    let a0 = alice.send(b"first of the chain");
    bob.receive(&a0);
    (alice, bob)
}

// ---------------------------------------------------------------------------------------
// Floors: the primitive operations only, through bluetick::primitives
// ---------------------------------------------------------------------------------------

fn padded_len(body: usize) -> usize {
    (body + 2).div_ceil(64) * 64
}

/// `KDF_RK`: one HKDF-SHA256 (extract + 64-byte expand).
fn kdf_rk(root: &[u8; 32], dh: &Secret32) -> ([u8; 32], [u8; 32]) {
    let mut okm = [0u8; 64];
    kdf::hkdf_sha256(root, dh.expose(), RATCHET_INFO, &mut okm);
    (okm[..32].try_into().unwrap(), okm[32..].try_into().unwrap())
}

/// `KDF_CK`: two HMAC-SHA256.
fn kdf_ck(ck: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let (mut mk, mut next) = ([0u8; 32], [0u8; 32]);
    kdf::hmac_sha256(ck, &[0x01], &mut mk);
    kdf::hmac_sha256(ck, &[0x02], &mut next);
    (mk, next)
}

/// Message key expansion: one HKDF-SHA256 (extract + 44-byte expand).
fn message_keys(mk: &[u8; 32]) -> ([u8; 32], [u8; 12]) {
    let mut okm = [0u8; 44];
    kdf::hkdf_sha256(&ZERO32, mk, MESSAGE_KEYS_INFO, &mut okm);
    (okm[..32].try_into().unwrap(), okm[32..].try_into().unwrap())
}

/// The symmetric floor of sending one message: `KDF_CK`, the expansion, AES key setup and
/// AES-256-GCM seal of the padded plaintext.
fn floor_seal(ck: &[u8; 32], aad: &[u8], padded: &[u8]) -> (Vec<u8>, [u8; 32]) {
    let (mk, next) = kdf_ck(ck);
    let (key, nonce) = message_keys(&mk);
    let mut out = Vec::with_capacity(padded.len() + 16);
    aead::seal(&key, &nonce, aad, padded, &mut out);
    (out, next)
}

/// The symmetric floor of receiving one message: `KDF_CK`, the expansion, AES key setup
/// and AES-256-GCM open.
fn floor_open(ck: &[u8; 32], aad: &[u8], ciphertext: &[u8]) -> (Vec<u8>, [u8; 32]) {
    let (mk, next) = kdf_ck(ck);
    let (key, nonce) = message_keys(&mk);
    let plain = aead::open(&key, &nonce, aad, ciphertext).expect("floor open");
    (plain, next)
}

/// `SK = HKDF(ZERO32, FF32 || DH1 || DH2 || DH3 || DH4 || SS, info, 32)`.
fn shared_key(dhs: &[&Secret32], ss: &Secret32) -> [u8; 32] {
    let mut ikm = Vec::with_capacity(32 * 6);
    ikm.extend_from_slice(&FF32);
    for dh in dhs {
        ikm.extend_from_slice(dh.expose());
    }
    ikm.extend_from_slice(ss.expose());
    let mut sk = [0u8; 32];
    kdf::hkdf_sha256(&ZERO32, &ikm, PQXDH_INFO, &mut sk);
    sk
}

/// `AD || 0x11 || header`: what every message authenticates, with revision 2's
/// `AD = IK_A || IK_B || SHA-256(EncodeKEM(PQPK_B))` (the Ed25519 identity keys).
fn message_aad(ik_a: &[u8; 32], ik_b: &[u8; 32], pq_hash: &[u8; 32], header: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(96 + 1 + header.len());
    aad.extend_from_slice(ik_a);
    aad.extend_from_slice(ik_b);
    aad.extend_from_slice(pq_hash);
    aad.push(MESSAGE_TYPE);
    aad.extend_from_slice(header);
    aad
}

fn random32(rng: &mut ChaCha20Rng) -> [u8; 32] {
    let mut b = [0u8; 32];
    rng.fill_bytes(&mut b);
    b
}

/// Everything public the initiator's floor starts from (a decoded bundle).
struct InitiatorInputs {
    identity_dh: X25519KeyPair,
    responder_key: ed25519_dalek::VerifyingKey,
    responder_ikx: [u8; 32],
    spk: [u8; 32],
    spk_signature: [u8; 64],
    pqpk: Box<[u8; 1568]>,
    pqpk_signature: [u8; 64],
    opk: [u8; 32],
}

impl InitiatorInputs {
    fn new(alice: &Party, bundle: &PreKeyBundle) -> Self {
        let (responder_key, _) = ed25519::validate_public(bundle.identity.as_bytes()).unwrap();
        Self {
            identity_dh: alice.identity_dh(),
            responder_key,
            responder_ikx: *bundle.identity.x25519(),
            spk: bundle.signed_prekey.public,
            spk_signature: bundle.signed_prekey.signature,
            pqpk: bundle.pq_prekey.public.clone(),
            pqpk_signature: bundle.pq_prekey.signature,
            opk: bundle.one_time_prekey.expect("bundle with an OPK").public,
        }
    }

    /// PQXDH steps 1 and 3-6 for a given `EK` and `m`: two Ed25519 verifications, ML-KEM
    /// encapsulation with its key check, four X25519, the HKDF of `SK` and the hash in `AD`.
    fn pqxdh(&self, ek: &X25519KeyPair, m: &Secret32) -> ([u8; 32], [u8; 32], Box<[u8; 1568]>) {
        assert!(ed25519::verify(
            &self.responder_key,
            &[SIGNED_PREKEY_CONTEXT, &[EC_KEY_TYPE], &self.spk],
            &self.spk_signature
        ));
        assert!(ed25519::verify(
            &self.responder_key,
            &[PQ_PREKEY_CONTEXT, &[KEM_KEY_TYPE], &self.pqpk[..]],
            &self.pqpk_signature
        ));
        let (ct, ss) = kem::encapsulate(&self.pqpk, m).unwrap();
        let dh1 = self.identity_dh.dh(&self.spk).unwrap();
        let dh2 = ek.dh(&self.responder_ikx).unwrap();
        let dh3 = ek.dh(&self.spk).unwrap();
        let dh4 = ek.dh(&self.opk).unwrap();
        let sk = shared_key(&[&dh1, &dh2, &dh3, &dh4], &ss);
        let pq_hash = kdf::sha256(&[&[KEM_KEY_TYPE], &self.pqpk[..]]);
        (sk, pq_hash, ct)
    }

    /// The whole floor of `start_session`: keygen of `EK`, PQXDH, keygen of the first
    /// ratchet key, one X25519 and `KDF_RK`.
    fn floor(&self, rng: &mut ChaCha20Rng) -> ([u8; 32], [u8; 32], Box<[u8; 1568]>) {
        let ek = X25519KeyPair::generate(rng);
        let m = Secret32::from_array(&mut random32(rng));
        let (sk, pq_hash, ct) = self.pqxdh(&ek, &m);
        let ratchet = X25519KeyPair::generate(rng);
        let dh = ratchet.dh(&self.spk).unwrap();
        let (root, _chain) = kdf_rk(&sk, &dh);
        (root, pq_hash, ct)
    }
}

/// Everything the responder's floor starts from: its private keys and the PreKeyMessage.
struct ResponderInputs {
    identity_dh: X25519KeyPair,
    responder_ik: [u8; 32],
    spk: SignedPreKey,
    pqpk: PqPreKey,
    opk: OneTimePreKey,
    initiator_ik: [u8; 32],
    base_key: [u8; 32],
    kem_ciphertext: Box<[u8; KEM_CIPHERTEXT_LEN]>,
    ratchet_key: [u8; 32],
    header: Vec<u8>,
    ciphertext: Vec<u8>,
}

impl ResponderInputs {
    fn new(bob: &Party, wire: &[u8]) -> Self {
        let m = PreKeyMessage::parse(wire).unwrap();
        Self {
            identity_dh: bob.identity_dh(),
            responder_ik: *bob.identity.public().as_bytes(),
            spk: bob.prekeys.signed_prekey(m.signed_prekey_id).unwrap(),
            pqpk: bob.prekeys.pq_prekey(m.pq_prekey_id).unwrap(),
            opk: bob
                .prekeys
                .one_time_prekey(m.one_time_prekey_id.unwrap())
                .unwrap(),
            initiator_ik: m.identity_key,
            base_key: m.base_key,
            kem_ciphertext: Box::new(*m.kem_ciphertext),
            ratchet_key: m.message.header.ratchet_key,
            header: m.message.header_bytes.to_vec(),
            ciphertext: m.message.ciphertext.to_vec(),
        }
    }

    /// Validation of `IK_A` (spec §2), ML-KEM decapsulation, four X25519, `SK`, the hash in
    /// `AD`; the first message's DH ratchet step (X25519, `KDF_RK`, `KDF_CK`, expansion,
    /// AES-GCM open); the new sending key (keygen, X25519, `KDF_RK`).
    fn floor(&self, rng: &mut ChaCha20Rng) -> (Vec<u8>, [u8; 32]) {
        let (_, ikx_a) = ed25519::validate_public(&self.initiator_ik).unwrap();
        let ss = self.pqpk.key_pair().decapsulate(&self.kem_ciphertext);
        let spk = self.spk.key_pair();
        let dh1 = spk.dh(&ikx_a).unwrap();
        let dh2 = self.identity_dh.dh(&self.base_key).unwrap();
        let dh3 = spk.dh(&self.base_key).unwrap();
        let dh4 = self.opk.key_pair().dh(&self.base_key).unwrap();
        let sk = shared_key(&[&dh1, &dh2, &dh3, &dh4], &ss);
        let pq_hash = kdf::sha256(&[&[KEM_KEY_TYPE], self.pqpk.key_pair().public()]);
        let aad = message_aad(
            &self.initiator_ik,
            &self.responder_ik,
            &pq_hash,
            &self.header,
        );
        let dh = spk.dh(&self.ratchet_key).unwrap();
        let (root, ck) = kdf_rk(&sk, &dh);
        let (plain, _) = floor_open(&ck, &aad, &self.ciphertext);
        let sending = X25519KeyPair::generate(rng);
        let dh = sending.dh(&self.ratchet_key).unwrap();
        let (root, _) = kdf_rk(&root, &dh);
        (plain, root)
    }
}

/// A DH ratchet step on receipt, on made-up but consistent keys.
struct StepInputs {
    own: X25519KeyPair,
    remote: [u8; 32],
    root: [u8; 32],
    aad: Vec<u8>,
    ciphertext: Vec<u8>,
}

impl StepInputs {
    fn new(rng: &mut ChaCha20Rng, body: usize) -> Self {
        let own = X25519KeyPair::generate(rng);
        let remote_pair = X25519KeyPair::generate(rng);
        let remote = *remote_pair.public();
        let root = random32(rng);
        let aad = vec![0x5a; 137];
        let (_, ck) = kdf_rk(&root, &remote_pair.dh(own.public()).unwrap());
        let (ciphertext, _) = floor_seal(&ck, &aad, &vec![0x42; padded_len(body)]);
        Self {
            own,
            remote,
            root,
            aad,
            ciphertext,
        }
    }

    /// X25519 + `KDF_RK` (receiving chain), the symmetric floor of the message, then keygen
    /// + X25519 + `KDF_RK` (sending chain).
    fn floor(&self, rng: &mut ChaCha20Rng) -> (Vec<u8>, [u8; 32]) {
        let dh = self.own.dh(&self.remote).unwrap();
        let (root, ck) = kdf_rk(&self.root, &dh);
        let (plain, _) = floor_open(&ck, &self.aad, &self.ciphertext);
        let next = X25519KeyPair::generate(rng);
        let dh = next.dh(&self.remote).unwrap();
        let (root, _) = kdf_rk(&root, &dh);
        (plain, root)
    }
}

// ---------------------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------------------

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// `n` decryptions of `wire`, each by a fresh copy of `party`.
fn decrypt_fresh<'a>(party: &'a Party, wire: &'a [u8]) -> Timed<'a> {
    Box::new(move |n| {
        time_batched(
            n,
            || party.clone(),
            |p| {
                p.record
                    .decrypt(&p.identity, &mut p.prekeys, wire, &mut p.rng)
                    .unwrap()
            },
        )
    })
}

fn bench_setup(c: &mut Criterion, since: SystemTime, out: &mut Vec<Outcome>) {
    let alice = Party::new(1, 0);
    let bob = Party::new(2, 2);
    let bundle = bob.bundle();
    let mut r = rng(10);

    // The floor computes what start_session computes.
    let initiator = InitiatorInputs::new(&alice, &bundle);
    let ek = X25519KeyPair::generate(&mut r);
    let m = Secret32::from_array(&mut random32(&mut r));
    let reference =
        bluetick::hazmat::initiate_with(&alice.identity, &bundle, ek.clone(), &m).unwrap();
    let (sk, _, ct) = initiator.pqxdh(&ek, &m);
    assert_eq!(&sk, reference.transcript.shared_key.expose());
    assert_eq!(ct, reference.kem_ciphertext);

    let mut a = alice.clone();
    a.start(&bundle);
    let hello = a.send(b"hello");
    let responder = ResponderInputs::new(&bob, &hello);
    let (plain, _) = responder.floor(&mut r);
    // Revision 3: the plaintext starts with the pq_block carrying Alice's first ek chunk.
    assert_eq!(&plain[38..45], b"\x01hello\x80");

    let (alice, bob, bundle, hello) = (&alice, &bob, &bundle, &hello);
    let (initiator, responder) = (&initiator, &responder);
    let pairs = vec![Pair::new(
        "session setup: initiator (start_session)",
        ("bluetick", {
            let mut r = rng(11);
            Box::new(move |n| {
                time_batched(n, SessionRecord::new, |record| {
                    record
                        .start_session(&alice.identity, bundle, &mut r)
                        .unwrap()
                })
            })
        }),
        ("floor", {
            let mut r = rng(12);
            Box::new(move |n| time_iter(n, || initiator.floor(&mut r)))
        }),
    )];
    run_group(c, "setup_initiator", pairs, since, out);

    let pairs = vec![Pair::new(
        "session setup: responder (1st PreKeyMessage)",
        ("bluetick", {
            let mut r = rng(13);
            Box::new(move |n| {
                time_batched(
                    n,
                    || (SessionRecord::new(), bob.prekeys.clone()),
                    |(record, prekeys)| {
                        record
                            .decrypt(&bob.identity, prekeys, hello, &mut r)
                            .unwrap()
                    },
                )
            })
        }),
        ("floor", {
            let mut r = rng(14);
            Box::new(move |n| time_iter(n, || responder.floor(&mut r)))
        }),
    )];
    run_group(c, "setup_responder", pairs, since, out);
}

const SIZES: [(usize, &str); 3] = [(64, "64B"), (1024, "1KiB"), (65536, "64KiB")];

fn bench_steady(c: &mut Criterion, since: SystemTime, out: &mut Vec<Outcome>) {
    let (alice, bob) = steady();
    let aad = vec![0x5a; 137];
    let ck = random32(&mut rng(15));
    let bodies: Vec<Vec<u8>> = SIZES.iter().map(|(n, _)| vec![0x42; *n]).collect();
    let padded: Vec<Vec<u8>> = SIZES
        .iter()
        .map(|(n, _)| vec![0x42; padded_len(*n)])
        .collect();
    let wires: Vec<Vec<u8>> = bodies.iter().map(|b| alice.clone().send(b)).collect();
    let sealed: Vec<Vec<u8>> = padded.iter().map(|p| floor_seal(&ck, &aad, p).0).collect();
    let (alice, bob, aad, ck) = (&alice, &bob, &aad, &ck);

    let mut pairs = Vec::new();
    for (i, (size, label)) in SIZES.iter().enumerate() {
        let (body, padded) = (&bodies[i], &padded[i]);
        let mut sender = alice.record.clone();
        let mut kem_rng = ChaCha20Rng::seed_from_u64(17);
        pairs.push(
            Pair::new(
                &format!("steady encrypt {label}"),
                (
                    &format!("bluetick_{label}"),
                    Box::new(move |n| {
                        time_iter(n, || {
                            sender
                                .encrypt(ContentType::Application, body, &mut kem_rng)
                                .unwrap()
                        })
                    }) as Timed<'_>,
                ),
                (
                    &format!("floor_{label}"),
                    Box::new(move |n| time_iter(n, || floor_seal(ck, aad, padded))),
                ),
            )
            .bytes(*size as u64),
        );
    }
    run_group(c, "encrypt", pairs, since, out);

    let mut pairs = Vec::new();
    for (i, (size, label)) in SIZES.iter().enumerate() {
        let sealed = &sealed[i];
        pairs.push(
            Pair::new(
                &format!("steady decrypt {label}"),
                (&format!("bluetick_{label}"), decrypt_fresh(bob, &wires[i])),
                (
                    &format!("floor_{label}"),
                    Box::new(move |n| time_iter(n, || floor_open(ck, aad, sealed))),
                ),
            )
            .bytes(*size as u64),
        );
    }
    run_group(c, "decrypt", pairs, since, out);
}

/// The post-quantum ratchet (spec §14, revision 3) against revision 2's floors, whose
/// associated data (137 bytes: AD, type, 40-byte header) and padding have no pq_block: a
/// message that carries nothing, and a whole epoch in a strictly alternating chat, whose
/// floor is revision 2's per-message floor for as many messages plus the three ML-KEM-768
/// operations of an epoch (KeyGen, Encaps, Decaps).
fn bench_pq(c: &mut Criterion, since: SystemTime, out: &mut Vec<Outcome>) {
    let (alice, bob) = steady();
    let aad = vec![0x5a; 137];
    let ck = random32(&mut rng(30));
    let body = [0x42u8; 64];
    let padded = vec![0x42; padded_len(body.len())];
    let sealed = floor_seal(&ck, &aad, &padded).0;
    // Bob is the C side of epoch 1, waiting for Alice's key: his messages carry nothing.
    let (mut b2, mut a2) = (bob.clone(), alice.clone());
    let first = b2.send(&body);
    let second = b2.send(&body);
    a2.receive(&first);
    let receiver = a2;

    // One epoch, strictly alternating, from the established pair: count its messages.
    let epoch_done = |a: &Party, b: &Party| {
        let mixed = |p: &Party| p.record.current_session().unwrap().pq_last_mixed();
        mixed(a) >= 1 && mixed(b) >= 1
    };
    let (mut a, mut b) = (alice.clone(), bob.clone());
    let mut messages = 0u32;
    while !epoch_done(&a, &b) {
        let m = a.send(&body);
        b.receive(&m);
        let r = b.send(&body);
        a.receive(&r);
        messages += 2;
    }
    eprintln!("pq: one epoch took {messages} messages, strictly alternating");
    let step = StepInputs::new(&mut rng(31), body.len());
    let kem_seed = bluetick::primitives::secret::SecretBytes::<64>::from_slice(&[7; 64]).unwrap();
    let m = Secret32::from_slice(&[9; 32]).unwrap();
    let (aad, ck, padded, sealed, step, body) = (&aad, &ck, &padded, &sealed, &step, &body);
    let (alice, bob, receiver, second) = (&alice, &bob, &receiver, &second);
    let mut sender = bob.record.clone();
    let mut kem_rng = rng(32);

    let pairs = vec![
        Pair::new(
            "pq: encrypt 64B carrying nothing",
            (
                "bluetick_pq_nothing_seal",
                Box::new(move |n| {
                    time_iter(n, || {
                        sender
                            .encrypt(ContentType::Application, body, &mut kem_rng)
                            .unwrap()
                    })
                }) as Timed<'_>,
            ),
            (
                "floor_r2_seal",
                Box::new(move |n| time_iter(n, || floor_seal(ck, aad, padded))),
            ),
        ),
        Pair::new(
            "pq: decrypt 64B carrying nothing",
            ("bluetick_pq_nothing_open", decrypt_fresh(receiver, second)),
            (
                "floor_r2_open",
                Box::new(move |n| time_iter(n, || floor_open(ck, aad, sealed))),
            ),
        ),
        Pair::new(
            &format!("pq: one epoch, alternating ({messages} msgs, 3 KEM ops)"),
            (
                "bluetick_pq_epoch",
                Box::new(move |n| {
                    time_batched(
                        n,
                        || (alice.clone(), bob.clone()),
                        |(a, b)| {
                            while !epoch_done(a, b) {
                                let m = a.send(body);
                                b.receive(&m);
                                let r = b.send(body);
                                a.receive(&r);
                            }
                        },
                    )
                }),
            ),
            ("floor_r2_epoch", {
                let mut r = rng(33);
                Box::new(move |n| {
                    time_iter(n, || {
                        for _ in 0..messages {
                            black_box(floor_seal(ck, aad, padded));
                            black_box(step.floor(&mut r));
                        }
                        let ek = bluetick::primitives::kem768::public_key(&kem_seed);
                        let (ct, _) = bluetick::primitives::kem768::encapsulate(&ek, &m).unwrap();
                        bluetick::primitives::kem768::decapsulate(&kem_seed, &ct)
                    })
                })
            }),
        ),
    ];
    run_group(c, "pq", pairs, since, out);
}

fn bench_ratchet(c: &mut Criterion, since: SystemTime, out: &mut Vec<Outcome>) {
    let (alice, bob) = established();
    let body = [0x42u8; 64];
    let step = StepInputs::new(&mut rng(16), body.len());
    let aad = vec![0x5a; 137];
    let ck = random32(&mut rng(17));
    let padded = vec![0x42; padded_len(body.len())];
    // Bob's decryption of a message under a new ratchet key: the DH ratchet step.
    let wire = alice.clone().send(&body);
    let (mut a, mut b) = (alice.clone(), bob.clone());
    let (step, aad, ck, padded) = (&step, &aad, &ck, &padded);

    let pairs = vec![
        Pair::new(
            "DH ratchet step (decrypt, 64 B)",
            ("bluetick_step", decrypt_fresh(&bob, &wire)),
            ("floor_step", {
                let mut r = rng(18);
                Box::new(move |n| time_iter(n, || step.floor(&mut r)))
            }),
        ),
        // A -> B, B -> A: every decryption is a DH ratchet step.
        Pair::new(
            "ping-pong round trip (2 msgs, 2 DH steps)",
            (
                "bluetick_ping_pong",
                Box::new(move |n| {
                    time_iter(n, || {
                        let m = a.send(&body);
                        b.receive(&m);
                        let r = b.send(&body);
                        a.receive(&r)
                    })
                }),
            ),
            ("floor_ping_pong", {
                let mut r = rng(19);
                Box::new(move |n| {
                    time_iter(n, || {
                        for _ in 0..2 {
                            black_box(floor_seal(ck, aad, padded));
                            black_box(step.floor(&mut r));
                        }
                    })
                })
            }),
        ),
    ];
    run_group(c, "ratchet", pairs, since, out);
}

fn bench_skip(c: &mut Criterion, since: SystemTime, out: &mut Vec<Outcome>) {
    let (alice, bob) = steady();
    let body = [0x42u8; 64];
    let mut sender = alice.clone();
    let skipped: Vec<Vec<u8>> = (0..1000).map(|_| sender.send(&body)).collect();
    let wire = sender.send(&body);
    let mut after = bob.clone();
    after.receive(&wire);
    let count = after.record.current_session().unwrap().skipped_key_count();
    assert_eq!(count, 1000);

    // The floor: 1000 x KDF_CK to walk the chain, then one message's symmetric floor.
    let aad = vec![0x5a; 137];
    let ck0 = random32(&mut rng(20));
    let mut ck = ck0;
    for _ in 0..1000 {
        ck = kdf_ck(&ck).1;
    }
    let padded = vec![0x42; padded_len(body.len())];
    let (ciphertext, _) = floor_seal(&ck, &aad, &padded);
    let late_key = kdf_ck(&ck0).0;
    let (late_ciphertext, _) = floor_seal(&ck0, &aad, &padded);
    let (aad, ciphertext, late_ciphertext) = (&aad, &ciphertext, &late_ciphertext);

    let pairs = vec![
        Pair::new(
            "decrypt after skipping 1000",
            ("bluetick_1000", decrypt_fresh(&bob, &wire)),
            (
                "floor_1000",
                Box::new(move |n| {
                    time_iter(n, || {
                        let mut ck = ck0;
                        for _ in 0..1000 {
                            ck = kdf_ck(&ck).1;
                        }
                        floor_open(&ck, aad, ciphertext)
                    })
                }),
            ),
        ),
        // A late message whose key is among the 1000 stored: expansion and open.
        Pair::new(
            "late message, 1000 keys stored",
            (
                "bluetick_late_of_1000",
                decrypt_fresh(&after, &skipped[500]),
            ),
            (
                "floor_late_of_1000",
                Box::new(move |n| {
                    time_iter(n, || {
                        let (key, nonce) = message_keys(&late_key);
                        aead::open(&key, &nonce, aad, late_ciphertext).unwrap()
                    })
                }),
            ),
        ),
    ];
    run_group(c, "skip", pairs, since, out);
}

/// `n` refused decryptions of `wire`, each by a fresh copy of `party`.
fn refuse_fresh<'a>(party: &'a Party, wire: &'a [u8]) -> Timed<'a> {
    Box::new(move |n| {
        time_batched(
            n,
            || party.clone(),
            |p| {
                p.record
                    .decrypt(&p.identity, &mut p.prekeys, wire, &mut p.rng)
                    .unwrap_err()
            },
        )
    })
}

/// A forged `Message` that costs its receiver the most (spec §4, revision 2): a ratchet key
/// no session knows, `PN` at the receiving chain's position and `N = MAX_SKIP`, so each
/// tried session derives 2000 keys and a DH before the tag fails.
fn forged_message(previous_count: u32) -> Vec<u8> {
    let mut wire = vec![bluetick::constants::MESSAGE_TYPE];
    wire.extend_from_slice(X25519KeyPair::generate(&mut rng(77)).public());
    wire.extend_from_slice(&previous_count.to_be_bytes());
    wire.extend_from_slice(&bluetick::constants::MAX_SKIP.to_be_bytes());
    wire.extend_from_slice(&[0x33; 64 + 16]);
    wire
}

fn bench_forged(c: &mut Criterion, since: SystemTime, out: &mut Vec<Outcome>) {
    let (_, one) = steady();
    // Bob with the current session and 40 archived ones, all from Alice restarting.
    let (mut alice, mut many) = steady();
    for i in 0..41u32 {
        alice.start(&many.bundle());
        let m = alice.send(&i.to_be_bytes());
        many.receive(&m);
    }
    assert_eq!(many.record.archived_sessions().count(), 40);
    let forged_one = forged_message(1);
    let forged_many = forged_message(1);
    let pairs = vec![Pair::new(
        "forged message: 41 sessions against 1",
        ("forged_41_sessions", refuse_fresh(&many, &forged_many)),
        ("forged_1_session", refuse_fresh(&one, &forged_one)),
    )];
    run_group(c, "forged", pairs, since, out);
}

fn bench_receipts(c: &mut Criterion, since: SystemTime, out: &mut Vec<Outcome>) {
    const TIME: u64 = 1_700_000_000_000;
    let (alice, bob) = established();
    let signer = &bob.identity;
    let peer = alice.identity.public();
    let signing = ed25519_dalek::SigningKey::from_bytes(signer.seed().expose());
    let (verifying, _) = ed25519::validate_public(signer.public().as_bytes()).unwrap();

    struct Case {
        n: usize,
        ids: Vec<MessageId>,
        body: Vec<u8>,
        payload: Vec<u8>,
        signature: [u8; 64],
    }
    let cases: Vec<Case> = [1usize, 100, 1024]
        .into_iter()
        .map(|n| {
            let ids: Vec<MessageId> = (0..n as u32)
                .map(|i| MessageId::of(&i.to_be_bytes()))
                .collect();
            let receipt = Receipt::create(signer, peer, ReceiptKind::Read, TIME, &ids).unwrap();
            let payload =
                signed_payload(signer.public(), peer, ReceiptKind::Read, TIME, &receipt.ids);
            Case {
                n,
                ids,
                body: receipt.to_bytes(),
                payload,
                signature: receipt.signature.unwrap(),
            }
        })
        .collect();
    let (signing, verifying) = (&signing, &verifying);

    let mut pairs = Vec::new();
    for case in &cases {
        let n = case.n;
        pairs.push(Pair::new(
            &format!("receipt create, {n} ids"),
            (
                &format!("create_bluetick_{n}"),
                Box::new(move |iters| {
                    time_iter(iters, || {
                        Receipt::create(signer, peer, ReceiptKind::Read, TIME, &case.ids)
                            .unwrap()
                            .to_bytes()
                    })
                }) as Timed<'_>,
            ),
            (
                &format!("create_floor_{n}"),
                Box::new(move |iters| {
                    time_iter(iters, || ed25519::sign(signing, &[&case.payload]))
                }),
            ),
        ));
        pairs.push(Pair::new(
            &format!("receipt verify, {n} ids"),
            (
                &format!("verify_bluetick_{n}"),
                Box::new(move |iters| {
                    time_iter(iters, || {
                        Receipt::parse(&case.body)
                            .unwrap()
                            .verify(signer.public(), peer, |_| true)
                            .unwrap()
                    })
                }),
            ),
            (
                &format!("verify_floor_{n}"),
                Box::new(move |iters| {
                    time_iter(iters, || {
                        assert!(ed25519::verify(
                            verifying,
                            &[&case.payload],
                            &case.signature
                        ))
                    })
                }),
            ),
        ));
    }
    run_group(c, "receipt", pairs, since, out);
}

fn bench_serde(c: &mut Criterion, since: SystemTime, out: &mut Vec<Outcome>) {
    let (alice, _) = steady();
    let (mut sender, mut skipped) = steady();
    for _ in 0..1000 {
        sender.send(b"x");
    }
    skipped.receive(&sender.send(b"x"));
    let records = [
        ("established", alice.record.clone()),
        ("skipped_1000", skipped.record.clone()),
    ];
    let bytes: Vec<_> = records.iter().map(|(_, r)| r.to_bytes()).collect();

    let mut pairs = Vec::new();
    for (i, (label, record)) in records.iter().enumerate() {
        let bytes = &bytes[i];
        pairs.push(Pair::new(
            &format!("session serialize, {label}"),
            (
                &format!("serialize_bluetick_{label}"),
                Box::new(move |n| time_iter(n, || record.to_bytes())) as Timed<'_>,
            ),
            (
                &format!("serialize_floor_{label}"),
                Box::new(move |n| time_iter(n, || black_box(&bytes[..]).to_vec())),
            ),
        ));
        // The format stores every derived value (public keys included), so loading one is
        // parsing and copying: the floor is the copy.
        pairs.push(Pair::new(
            &format!("session deserialize, {label}"),
            (
                &format!("deserialize_bluetick_{label}"),
                Box::new(move |n| time_iter(n, || SessionRecord::from_bytes(bytes).unwrap())),
            ),
            (
                &format!("deserialize_floor_{label}"),
                Box::new(move |n| time_iter(n, || black_box(&bytes[..]).to_vec())),
            ),
        ));
    }
    run_group(c, "session_serde", pairs, since, out);
}

/// The pieces the floors leave out, timed alone to explain the ratios (plain criterion).
fn bench_pieces(c: &mut Criterion) {
    let (mut alice, bob) = steady();
    let bundle = Party::new(2, 2).bundle();
    let mut r = rng(22);
    let pair = X25519KeyPair::generate(&mut r);
    let peer = *X25519KeyPair::generate(&mut r).public();
    let wire_1k = alice.send(&[0x42; 1024]);
    let wire_64k = alice.send(&[0x42; 65536]);
    let mut a = Party::new(1, 0);
    a.start(&bundle);
    let prekey_wire = a.send(b"hello");
    let pq = bundle.pq_prekey.public.clone();
    let m = Secret32::from_array(&mut random32(&mut r));
    let (ct, _) = kem::encapsulate(&pq, &m).unwrap();
    let pq_private = Party::new(2, 2).prekeys.pq_prekey(1).unwrap();
    let ik = bob.identity.public().to_bytes();
    let (vk, _) = ed25519::validate_public(&ik).unwrap();
    let spk_sig = bundle.signed_prekey.signature;
    let big = vec![0x42u8; 65536];

    let mut g = c.benchmark_group("pieces");
    g.bench_function("x25519_keygen", |b| {
        b.iter(|| X25519KeyPair::generate(&mut r))
    });
    g.bench_function("x25519_dh", |b| b.iter(|| pair.dh(&peer).unwrap()));
    g.bench_function("x25519_is_low_order", |b| {
        b.iter(|| x25519::is_low_order(black_box(&peer)))
    });
    g.bench_function("kem_validate_public", |b| {
        b.iter(|| kem::validate_public(&pq).unwrap())
    });
    g.bench_function("kem_encapsulate_with_check", |b| {
        b.iter(|| kem::encapsulate(&pq, &m).unwrap())
    });
    g.bench_function("kem_decapsulate", |b| {
        b.iter(|| pq_private.key_pair().decapsulate(&ct))
    });
    g.bench_function("ed25519_verify_spk", |b| {
        b.iter(|| {
            ed25519::verify(
                &vk,
                &[
                    SIGNED_PREKEY_CONTEXT,
                    &[EC_KEY_TYPE],
                    &bundle.signed_prekey.public,
                ],
                &spk_sig,
            )
        })
    });
    g.bench_function("ed25519_point_decompress", |b| {
        b.iter(|| ed25519_dalek::VerifyingKey::from_bytes(black_box(&ik)).unwrap())
    });
    g.bench_function("identity_key_validate", |b| {
        b.iter(|| IdentityKey::from_bytes(black_box(&ik)).unwrap())
    });
    g.bench_function("bundle_verify", |b| b.iter(|| bundle.verify().unwrap()));
    g.bench_function("hmac_sha256", |b| {
        let mut out = [0u8; 32];
        b.iter(|| kdf::hmac_sha256(&ZERO32, &[0x01], &mut out))
    });
    g.bench_function("hkdf_sha256_44", |b| b.iter(|| message_keys(&ZERO32)));
    g.bench_function("kdf_ck_two_hmacs", |b| {
        b.iter(|| kdf_ck(black_box(&ZERO32)))
    });
    // What KDF_CK costs when both HMACs share one keyed state (the key pads are hashed
    // once instead of twice): same outputs, two SHA-256 compressions fewer.
    let shared_state = |ck: &[u8; 32]| {
        use hmac::{KeyInit, Mac};
        let mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(ck).unwrap();
        let mut first = mac.clone();
        first.update(&[0x01]);
        let mut second = mac;
        second.update(&[0x02]);
        let mk: [u8; 32] = first.finalize().into_bytes().into();
        let next: [u8; 32] = second.finalize().into_bytes().into();
        (mk, next)
    };
    let probe = random32(&mut r);
    assert_eq!(shared_state(&probe), kdf_ck(&probe));
    g.bench_function("kdf_ck_one_keyed_state", |b| {
        b.iter(|| shared_state(black_box(&ZERO32)))
    });
    // What Bluetick's KDF_CK runs: the shared key schedule on SHA-256's compression
    // function, six compressions and no buffering.
    let byte_pair = |ck: &[u8; 32]| {
        let (mut mk, mut next) = ([0u8; 32], [0u8; 32]);
        kdf::hmac_sha256_byte_pair(ck, 0x01, 0x02, &mut mk, &mut next);
        (mk, next)
    };
    assert_eq!(byte_pair(&probe), kdf_ck(&probe));
    g.bench_function("kdf_ck_compression_function", |b| {
        b.iter(|| byte_pair(black_box(&ZERO32)))
    });
    // X25519: the Edwards computation the wrappers use, against x25519-dalek's ladder.
    let dh_pair = X25519KeyPair::generate(&mut r);
    let dh_peer = *X25519KeyPair::generate(&mut r).public();
    let decoded = x25519::PeerKey::new(&dh_peer);
    g.bench_function("x25519_dh_montgomery_ladder", |b| {
        b.iter(|| dh_pair.dh_ladder(black_box(&dh_peer)))
    });
    g.bench_function("x25519_dh_edwards", |b| {
        b.iter(|| dh_pair.dh(black_box(&dh_peer)).unwrap())
    });
    g.bench_function("x25519_dh_edwards_decoded_peer", |b| {
        b.iter(|| dh_pair.dh_with(black_box(&decoded)).unwrap())
    });
    g.bench_function("message_id_1KiB_message", |b| {
        b.iter(|| MessageId::of(&wire_1k))
    });
    g.bench_function("message_id_64KiB_message", |b| {
        b.iter(|| MessageId::of(&wire_64k))
    });
    g.bench_function("message_id_prekey_message", |b| {
        b.iter(|| MessageId::of(&prekey_wire))
    });
    // `[u8]::zeroize` is a memset behind an optimisation barrier; `Vec<u8>::zeroize` (and
    // so the drop of a `Zeroizing<Vec<u8>>`) writes the bytes one volatile store at a time.
    g.bench_function("zeroize_slice_64KiB", |b| {
        let mut v = big.clone();
        b.iter(|| zeroize::Zeroize::zeroize(black_box(&mut v[..])))
    });
    g.bench_function("zeroize_vec_64KiB", |b| {
        b.iter_batched_ref(
            || big.clone(),
            <Vec<u8> as zeroize::Zeroize>::zeroize,
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("copy_64KiB", |b| b.iter(|| black_box(&big[..]).to_vec()));
    g.finish();
}

fn main() {
    let since = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    let mut out = Vec::new();
    bench_setup(&mut c, since, &mut out);
    bench_steady(&mut c, since, &mut out);
    bench_ratchet(&mut c, since, &mut out);
    bench_pq(&mut c, since, &mut out);
    bench_skip(&mut c, since, &mut out);
    bench_forged(&mut c, since, &mut out);
    bench_receipts(&mut c, since, &mut out);
    bench_serde(&mut c, since, &mut out);
    bench_pieces(&mut c);
    c.final_summary();

    let find = |label: &str| out.iter().find(|o| o.label == label);
    if let (Some(e), Some(d)) = (find("steady encrypt 1KiB"), find("steady decrypt 1KiB")) {
        let both = report::sum("steady encrypt + decrypt 1KiB", &[e, d]);
        out.push(both);
    }
    report::print_table(
        "Bluetick against its primitive floor (criterion medians; interleaved = median ratio of alternating batches)",
        ("bluetick", "floor"),
        &out,
    );
}
