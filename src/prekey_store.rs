//! Where a responder finds its private prekeys during PQXDH, and how it records what a new
//! session used: the trait the session layer calls, and an in-memory implementation.

use std::collections::{BTreeMap, HashSet};

use crate::bundle::PreKeyBundle;
use crate::identity::IdentityKeyPair;
use crate::prekey::{OneTimePreKey, PqPreKey, PqPreKeyKind, SignedPreKey};

/// The prekeys a new session used, reported once its first message has decrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PreKeyUse {
    /// The signed prekey id.
    pub signed_prekey_id: u32,
    /// The PQ prekey id.
    pub pq_prekey_id: u32,
    /// Whether that PQ prekey was one-time (and must now be deleted) or last-resort.
    pub pq_prekey_kind: PqPreKeyKind,
    /// The one-time prekey id, which must now be deleted.
    pub one_time_prekey_id: Option<u32>,
    /// The initiator's base key `EK_A`, remembered to reject replays.
    pub base_key: [u8; 32],
}

/// A responder's private prekeys. Lookups return owned keys so that a store may load them
/// from disk; [`PreKeyStore::consume`] is called only after a new session's first message
/// decrypted (spec §3).
pub trait PreKeyStore {
    /// The signed prekey with `id`, if still held.
    fn signed_prekey(&self, id: u32) -> Option<SignedPreKey>;
    /// The PQ prekey with `id`, if still held.
    fn pq_prekey(&self, id: u32) -> Option<PqPreKey>;
    /// The one-time prekey with `id`, if still held.
    fn one_time_prekey(&self, id: u32) -> Option<OneTimePreKey>;
    /// Whether `base_key` was already accepted for this `(SPK id, PQPK id)` pair.
    fn base_key_seen(&self, signed_prekey_id: u32, pq_prekey_id: u32, base_key: &[u8; 32]) -> bool;
    /// Deletes the one-time keys that `used` names and remembers its base key.
    fn consume(&mut self, used: &PreKeyUse);
}

/// Prekeys held in memory, for tests, tools and the test-vector generator.
#[derive(Clone, Debug, Default)]
pub struct InMemoryPreKeyStore {
    signed: BTreeMap<u32, SignedPreKey>,
    pq: BTreeMap<u32, PqPreKey>,
    one_time: BTreeMap<u32, OneTimePreKey>,
    seen: HashSet<(u32, u32, [u8; 32])>,
}

impl InMemoryPreKeyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a signed prekey.
    pub fn add_signed_prekey(&mut self, key: SignedPreKey) {
        self.signed.insert(key.id(), key);
    }

    /// Adds (or replaces) a PQ prekey.
    pub fn add_pq_prekey(&mut self, key: PqPreKey) {
        self.pq.insert(key.id(), key);
    }

    /// Adds (or replaces) a one-time prekey.
    pub fn add_one_time_prekey(&mut self, key: OneTimePreKey) {
        self.one_time.insert(key.id(), key);
    }

    /// Removes a signed prekey (after rotation, once messages in flight have arrived).
    pub fn remove_signed_prekey(&mut self, id: u32) {
        self.signed.remove(&id);
        self.seen.retain(|(spk, _, _)| *spk != id);
    }

    /// Records that `base_key` was accepted for `(signed_prekey_id, pq_prekey_id)`.
    pub fn mark_base_key_seen(
        &mut self,
        signed_prekey_id: u32,
        pq_prekey_id: u32,
        base_key: [u8; 32],
    ) {
        self.seen.insert((signed_prekey_id, pq_prekey_id, base_key));
    }

    /// Number of one-time EC prekeys left.
    pub fn one_time_prekey_count(&self) -> usize {
        self.one_time.len()
    }

    /// Number of one-time PQ prekeys left.
    pub fn one_time_pq_prekey_count(&self) -> usize {
        self.pq
            .values()
            .filter(|k| k.kind() == PqPreKeyKind::OneTime)
            .count()
    }

    /// A bundle as a relay would hand it out: the newest signed prekey, the lowest-id
    /// one-time PQ prekey (else the newest last-resort one) and the lowest-id one-time
    /// prekey, if any. `None` if there is no signed or PQ prekey. Nothing is consumed here:
    /// the relay hands each one-time key out once.
    pub fn bundle(&self, identity: &IdentityKeyPair) -> Option<PreKeyBundle> {
        let signed = self.signed.values().next_back()?;
        let pq = self
            .pq
            .values()
            .find(|k| k.kind() == PqPreKeyKind::OneTime)
            .or_else(|| {
                self.pq
                    .values()
                    .rev()
                    .find(|k| k.kind() == PqPreKeyKind::LastResort)
            })?;
        Some(PreKeyBundle {
            identity: *identity.public(),
            signed_prekey: signed.public(),
            pq_prekey: pq.public(),
            one_time_prekey: self.one_time.values().next().map(OneTimePreKey::public),
        })
    }
}

impl PreKeyStore for InMemoryPreKeyStore {
    fn signed_prekey(&self, id: u32) -> Option<SignedPreKey> {
        self.signed.get(&id).cloned()
    }

    fn pq_prekey(&self, id: u32) -> Option<PqPreKey> {
        self.pq.get(&id).cloned()
    }

    fn one_time_prekey(&self, id: u32) -> Option<OneTimePreKey> {
        self.one_time.get(&id).cloned()
    }

    fn base_key_seen(&self, signed_prekey_id: u32, pq_prekey_id: u32, base_key: &[u8; 32]) -> bool {
        self.seen
            .contains(&(signed_prekey_id, pq_prekey_id, *base_key))
    }

    fn consume(&mut self, used: &PreKeyUse) {
        if let Some(id) = used.one_time_prekey_id {
            self.one_time.remove(&id);
        }
        if used.pq_prekey_kind == PqPreKeyKind::OneTime {
            self.pq.remove(&used.pq_prekey_id);
        }
        self.seen
            .insert((used.signed_prekey_id, used.pq_prekey_id, used.base_key));
    }
}
