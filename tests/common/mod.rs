//! Shared helpers for the integration tests: a seeded generator and a party that holds an
//! identity, its prekeys and one session record per peer.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use bluetick::rand_core::SeedableRng;
use bluetick::{
    ContentType, Decrypted, DecryptionError, IdentityKeyPair, InMemoryPreKeyStore, OneTimePreKey,
    OutgoingMessage, PqPreKey, PqPreKeyKind, PreKeyBundle, SessionRecord, SignedPreKey,
};
pub(crate) use chacha20::ChaCha20Rng;

pub(crate) fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// One device: identity, prekeys and its record of sessions with one peer.
pub(crate) struct Party {
    pub(crate) identity: IdentityKeyPair,
    pub(crate) prekeys: InMemoryPreKeyStore,
    pub(crate) record: SessionRecord,
    pub(crate) rng: ChaCha20Rng,
}

impl Party {
    /// A party with one signed prekey, a last-resort PQ prekey, `one_time` one-time EC
    /// prekeys and `one_time` one-time PQ prekeys.
    pub(crate) fn new(seed: u64, one_time: u32) -> Self {
        let mut rng = rng(seed);
        let identity = IdentityKeyPair::generate(&mut rng);
        let mut prekeys = InMemoryPreKeyStore::new();
        prekeys.add_signed_prekey(SignedPreKey::generate(&identity, 1, &mut rng));
        prekeys.add_pq_prekey(PqPreKey::generate(
            &identity,
            1000,
            PqPreKeyKind::LastResort,
            &mut rng,
        ));
        for id in 0..one_time {
            prekeys.add_one_time_prekey(OneTimePreKey::generate(id + 1, &mut rng));
            prekeys.add_pq_prekey(PqPreKey::generate(
                &identity,
                id + 1,
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

    pub(crate) fn bundle(&self) -> PreKeyBundle {
        self.prekeys.bundle(&self.identity).expect("bundle")
    }

    pub(crate) fn start(&mut self, peer_bundle: &PreKeyBundle) {
        self.record
            .start_session(&self.identity, peer_bundle, &mut self.rng)
            .expect("start session");
    }

    pub(crate) fn send(&mut self, body: &[u8]) -> OutgoingMessage {
        self.record
            .encrypt(ContentType::Application, body, &mut self.rng)
            .expect("encrypt")
    }

    pub(crate) fn receive(&mut self, wire: &[u8]) -> Result<Decrypted, DecryptionError> {
        self.record
            .decrypt(&self.identity, &mut self.prekeys, wire, &mut self.rng)
    }
}

/// Alice and Bob with a session in both directions (one message each way delivered).
pub(crate) fn established(seed: u64) -> (Party, Party) {
    let mut alice = Party::new(seed, 2);
    let mut bob = Party::new(seed + 1, 2);
    let bundle = bob.bundle();
    alice.start(&bundle);
    let m = alice.send(b"hello");
    assert_eq!(bob.receive(&m.wire).unwrap().body, b"hello");
    let r = bob.send(b"hi");
    assert_eq!(alice.receive(&r.wire).unwrap().body, b"hi");
    (alice, bob)
}

/// The bytes of a record, to prove a failed operation changed nothing.
pub(crate) fn snapshot(p: &Party) -> Vec<u8> {
    p.record.to_bytes().to_vec()
}
