//! The sender keys a device holds from the other members of its groups (spec §12): one
//! current key per `(group, sender device)`, replaced keys kept for an hour for their
//! skipped message keys, and the whole record as version-tagged bytes for storage. Time
//! comes from the caller; nothing here reads a clock.

use std::collections::{BTreeMap, VecDeque};

use zeroize::Zeroizing;

use crate::account::Address;
use crate::codec::{Reader, Writer};
use crate::constants::{
    DISTRIBUTION_ID_LEN, MAX_GROUP_STORED_SKIPPED, MAX_RETIRED_SENDER_KEYS, RETIRED_SENDER_KEY_MS,
};
use crate::error::DecodeError;
use crate::primitives::secret::Secret32;
use crate::wire::group_message::GroupMessage;
use crate::wire::MessageId;

use super::chain::{GroupMessageKey, SenderChainKey};
use super::distribution::Distribution;
use super::error::GroupError;
use super::receiver::ReceiverKey;
use super::GroupId;

/// Version byte of [`GroupKeys::to_bytes`].
const GROUP_KEYS_VERSION: u8 = 1;

/// What accepting a distribution did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DistributionOutcome {
    /// The first key of this sender device for this group.
    Added,
    /// It replaced the sender device's previous key for the group; the previous key's
    /// skipped message keys are kept for one hour.
    Replaced,
    /// This device already holds that key for that sender device: nothing changed.
    AlreadyHeld,
}

/// A decrypted group message.
#[derive(Clone, PartialEq, Eq)]
pub struct GroupDecrypted {
    /// The group.
    pub group_id: GroupId,
    /// The sender device: the one that distributed the key, whatever address the relay
    /// attached to the message.
    pub sender: Address,
    /// The message's iteration in the sender chain.
    pub iteration: u32,
    /// The application body (spec §10).
    pub body: Vec<u8>,
    /// The §5 message id of the wire.
    pub message_id: MessageId,
}

impl core::fmt::Debug for GroupDecrypted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            group_id,
            sender,
            iteration,
            body,
            message_id,
        } = self;
        f.debug_struct("GroupDecrypted")
            .field("group_id", group_id)
            .field("sender", sender)
            .field("iteration", iteration)
            .field("body_len", &body.len())
            .field("message_id", message_id)
            .finish()
    }
}

/// One held key and whose it is.
#[derive(Clone, Debug)]
struct Held {
    group_id: GroupId,
    sender: Address,
    key: ReceiverKey,
    /// When a newer key from the same sender device replaced it: this device's clock, and
    /// the order of replacements (clocks may repeat or go back; the order does not).
    replaced: Option<Replaced>,
}

/// When a key was replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Replaced {
    at_ms: u64,
    order: u64,
}

impl Held {
    /// A replaced key whose hour has passed is gone, whether or not it was erased yet.
    fn expired(&self, now_ms: u64) -> bool {
        self.replaced
            .is_some_and(|r| now_ms >= r.at_ms.saturating_add(RETIRED_SENDER_KEY_MS))
    }

    fn is_for(&self, group_id: &GroupId, sender: &Address) -> bool {
        &self.group_id == group_id && &self.sender == sender
    }
}

/// The other members' sender keys, by `distribution_id`. A failed decryption or a refused
/// distribution changes nothing.
#[derive(Clone, Debug, Default)]
pub struct GroupKeys {
    held: BTreeMap<[u8; DISTRIBUTION_ID_LEN], Held>,
}

impl GroupKeys {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many keys are held, replaced ones included.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// The `distribution_id`s of the keys held, replaced ones included.
    pub fn distribution_ids(&self) -> impl Iterator<Item = &[u8; DISTRIBUTION_ID_LEN]> {
        self.held.keys()
    }

    /// Whether the key `distribution_id` is held.
    pub fn holds(&self, distribution_id: &[u8; DISTRIBUTION_ID_LEN]) -> bool {
        self.held.contains_key(distribution_id)
    }

    /// The current key of a sender device for a group: its `distribution_id` and the next
    /// iteration it expects.
    pub fn current(
        &self,
        group_id: &GroupId,
        sender: &Address,
    ) -> Option<([u8; DISTRIBUTION_ID_LEN], u32)> {
        self.held.iter().find_map(|(id, h)| {
            let chain = h.key.chain.as_ref()?;
            (h.is_for(group_id, sender) && h.replaced.is_none()).then_some((*id, chain.iteration))
        })
    }

    /// Skipped message keys held for a key.
    pub fn skipped_count(&self, distribution_id: &[u8; DISTRIBUTION_ID_LEN]) -> usize {
        self.held
            .get(distribution_id)
            .map_or(0, |h| h.key.skipped.len())
    }

    /// Reads a distribution body (content type `0x03`) that arrived over the pairwise
    /// session with `sender`, and accepts it ([`GroupKeys::accept`]).
    pub fn process_distribution(
        &mut self,
        sender: &Address,
        body: &[u8],
        now_ms: u64,
    ) -> Result<DistributionOutcome, GroupError> {
        let d = Distribution::parse(body)?;
        self.accept(sender, &d, now_ms)
    }

    /// Accepts a distribution from `sender` (the session peer it arrived from; nothing in
    /// the body can claim another). Refuses a `distribution_id` held for another sender
    /// device or group (`DistributionConflict`) and an invalid signing key; a key already
    /// held for this sender and group changes nothing. A new key replaces the sender's
    /// current one for the group, whose skipped keys are kept for one hour of `now_ms`.
    /// Replaced keys past their hour are erased.
    pub fn accept(
        &mut self,
        sender: &Address,
        d: &Distribution,
        now_ms: u64,
    ) -> Result<DistributionOutcome, GroupError> {
        if let Some(held) = self.held.get(&d.distribution_id) {
            return if held.is_for(&d.group_id, sender) {
                Ok(DistributionOutcome::AlreadyHeld)
            } else {
                Err(GroupError::DistributionConflict)
            };
        }
        let key = ReceiverKey::from_distribution(d)?;
        // Everything is checked: from here on nothing fails.
        self.expire(now_ms);
        let mut outcome = DistributionOutcome::Added;
        let order = self.next_order();
        for held in self.held.values_mut() {
            if held.is_for(&d.group_id, sender) && held.replaced.is_none() {
                held.key.retire();
                held.replaced = Some(Replaced {
                    at_ms: now_ms,
                    order,
                });
                outcome = DistributionOutcome::Replaced;
            }
        }
        self.bound_replaced(&d.group_id, sender);
        self.held.insert(
            d.distribution_id,
            Held {
                group_id: d.group_id.clone(),
                sender: sender.clone(),
                key,
                replaced: None,
            },
        );
        Ok(outcome)
    }

    /// Keeps at most `MAX_RETIRED_SENDER_KEYS` replaced keys of one sender device for one
    /// group, erasing the earliest replaced first.
    fn bound_replaced(&mut self, group_id: &GroupId, sender: &Address) {
        loop {
            let replaced: Vec<([u8; DISTRIBUTION_ID_LEN], u64)> = self
                .held
                .iter()
                .filter(|(_, h)| h.is_for(group_id, sender))
                .filter_map(|(id, h)| h.replaced.map(|r| (*id, r.order)))
                .collect();
            if replaced.len() <= MAX_RETIRED_SENDER_KEYS {
                return;
            }
            match replaced.iter().min_by_key(|(_, order)| *order) {
                Some((id, _)) => {
                    self.held.remove(id);
                }
                None => return,
            }
        }
    }

    /// The order the next replacement gets: after every one held.
    fn next_order(&self) -> u64 {
        self.held
            .values()
            .filter_map(|h| h.replaced.map(|r| r.order.saturating_add(1)))
            .max()
            .unwrap_or(0)
    }

    /// Erases replaced keys whose hour has passed at `now_ms`; returns how many.
    pub fn expire(&mut self, now_ms: u64) -> usize {
        self.expire_ids(now_ms).len()
    }

    /// [`GroupKeys::expire`], returning the `distribution_id`s it erased (usually none, and
    /// then nothing is allocated): a store that indexes keys by `distribution_id` drops
    /// those index entries with them.
    pub fn expire_ids(&mut self, now_ms: u64) -> Vec<[u8; DISTRIBUTION_ID_LEN]> {
        let mut gone = Vec::new();
        self.held.retain(|id, h| {
            let expired = h.expired(now_ms);
            if expired {
                gone.push(*id);
            }
            !expired
        });
        gone
    }

    /// Forgets every key of a group (the device left it).
    pub fn forget_group(&mut self, group_id: &GroupId) {
        self.held.retain(|_, h| &h.group_id != group_id);
    }

    /// Forgets every key of a sender device in a group (it was removed from the group).
    pub fn forget_sender(&mut self, group_id: &GroupId, sender: &Address) {
        self.held.retain(|_, h| !h.is_for(group_id, sender));
    }

    /// Keeps only the keys (current and replaced) whose group and sender device `keep`
    /// accepts, and returns the `distribution_id`s of the keys it erased: a store that
    /// indexes keys by `distribution_id` drops those index entries with them.
    pub fn retain_senders(
        &mut self,
        mut keep: impl FnMut(&GroupId, &Address) -> bool,
    ) -> Vec<[u8; DISTRIBUTION_ID_LEN]> {
        let gone: Vec<[u8; DISTRIBUTION_ID_LEN]> = self
            .held
            .iter()
            .filter(|(_, h)| !keep(&h.group_id, &h.sender))
            .map(|(id, _)| *id)
            .collect();
        for id in &gone {
            self.held.remove(id);
        }
        gone
    }

    /// Decrypts a `GroupMessage` at `now_ms` of this device's clock: the key is found by
    /// `distribution_id` (`UnknownDistribution` if not held, or replaced more than an hour
    /// ago), the signature is verified before anything else, then the chain id, then the
    /// iteration: a stored skipped key is used and erased, an older iteration without one
    /// is a `DuplicateMessage`, a newer one stores the keys it skips (at most 2000 per
    /// message, 2000 per key, the oldest dropped first). Nothing changes on failure.
    pub fn decrypt(&mut self, wire: &[u8], now_ms: u64) -> Result<GroupDecrypted, GroupError> {
        let message = GroupMessage::parse(wire)?;
        let held = self
            .held
            .get(&message.distribution_id)
            .filter(|h| !h.expired(now_ms))
            .ok_or(GroupError::UnknownDistribution)?;
        let (body, change) = held.key.open(&message)?;
        let out = GroupDecrypted {
            group_id: held.group_id.clone(),
            sender: held.sender.clone(),
            iteration: message.iteration,
            body,
            message_id: MessageId::of(wire),
        };
        if let Some(held) = self.held.get_mut(&message.distribution_id) {
            held.key.commit(change);
        }
        Ok(out)
    }

    /// The record's bytes, for storage (secret: erased on drop). `version (1) ||
    /// count (u32) || entries`, in `distribution_id` order, each: `group id len (u8) ||
    /// group id || user len (u16) || user || device (u32) || distribution_id (16) ||
    /// chain_id (u32) || signing_public (32) || current (0/1) || [iteration (u32) ||
    /// CK (32)] when current, else [replaced_at_ms (u64) || replacement order (u64)] ||
    /// skipped count (u16) ||
    /// (iteration (u32) || MK (32)) per skipped key, oldest first`.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::new());
        out.put_u8(GROUP_KEYS_VERSION);
        out.put_u32(u32::try_from(self.held.len()).unwrap_or(u32::MAX));
        for (id, h) in &self.held {
            let group = h.group_id.as_bytes();
            out.put_u8(u8::try_from(group.len()).unwrap_or(u8::MAX));
            out.put(group);
            out.put(&h.sender.to_bytes());
            out.put(id);
            out.put_u32(h.key.chain_id);
            out.put(&h.key.signing_public);
            match (&h.key.chain, h.replaced) {
                (Some(chain), None) => {
                    out.put_u8(1);
                    out.put_u32(chain.iteration);
                    out.put(chain.key.expose());
                }
                (_, replaced) => {
                    let r = replaced.unwrap_or(Replaced { at_ms: 0, order: 0 });
                    out.put_u8(0);
                    out.put_u64(r.at_ms);
                    out.put_u64(r.order);
                }
            }
            out.put_u16(u16::try_from(h.key.skipped.len()).unwrap_or(u16::MAX));
            for k in &h.key.skipped {
                out.put_u32(k.iteration);
                out.put(k.key.expose());
            }
        }
        out
    }

    /// Reads [`GroupKeys::to_bytes`], strictly: a version other than 1, a group id outside
    /// 1..=64 bytes, an invalid signing key, more than 2000 skipped keys, a key listed twice
    /// or two current keys for one sender device and group are refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GroupError> {
        const WHAT: &str = "group keys record";
        let corrupt = |what: &'static str| GroupError::Decode(DecodeError::InvalidValue { what });
        let mut r = Reader::new(bytes, WHAT);
        let version = r.u8()?;
        if version != GROUP_KEYS_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: WHAT,
                version,
            }
            .into());
        }
        let count = r.u32()?;
        let mut held = BTreeMap::new();
        for _ in 0..count {
            let len = usize::from(r.u8()?);
            let group_id = GroupId::new(r.take(len)?)?;
            let sender = Address::read(&mut r)?;
            if !sender.is_valid() {
                return Err(corrupt("group keys record sender"));
            }
            let id = r.array::<DISTRIBUTION_ID_LEN>()?;
            let chain_id = r.u32()?;
            let signing_public = r.array::<32>()?;
            let (chain, replaced) = if r.flag()? {
                let iteration = r.u32()?;
                let ck = Secret32::from_slice(r.take(32)?).ok_or(corrupt(WHAT))?;
                (Some(SenderChainKey::new(ck, iteration)), None)
            } else {
                let at_ms = r.u64()?;
                (
                    None,
                    Some(Replaced {
                        at_ms,
                        order: r.u64()?,
                    }),
                )
            };
            let n = usize::from(r.u16()?);
            if n > MAX_GROUP_STORED_SKIPPED {
                return Err(corrupt("group keys record skipped count"));
            }
            let mut skipped = VecDeque::with_capacity(n);
            for _ in 0..n {
                let iteration = r.u32()?;
                let key = Secret32::from_slice(r.take(32)?).ok_or(corrupt(WHAT))?;
                skipped.push_back(GroupMessageKey { key, iteration });
            }
            let key = ReceiverKey::from_stored(id, chain_id, signing_public, chain, skipped)
                .ok_or(corrupt("group keys record signing key"))?;
            let entry = Held {
                group_id,
                sender,
                key,
                replaced,
            };
            if held.insert(id, entry).is_some() {
                return Err(corrupt("group keys record: a key listed twice"));
            }
        }
        r.finish()?;
        let mut current = std::collections::BTreeSet::new();
        for h in held.values() {
            if h.replaced.is_none() && !current.insert((&h.group_id, &h.sender)) {
                return Err(corrupt(
                    "group keys record: two current keys for one sender",
                ));
            }
        }
        Ok(Self { held })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::group::SenderKey;
    use crate::wire::ContentType;

    #[test]
    fn a_receipt_inside_a_group_message_is_refused_and_changes_nothing() {
        let mut rng = crate::os_rng();
        let mut key = SenderKey::generate(&mut rng, 0);
        let group = GroupId::new(b"g").unwrap();
        let alice = Address::new(b"alice".to_vec(), 1);
        let mut keys = GroupKeys::new();
        keys.accept(&alice, &key.distribution(&group), 0).unwrap();
        let receipt = key
            .encrypt_inner(ContentType::Receipt, b"receipt", None)
            .unwrap();
        let before = keys.to_bytes();
        assert_eq!(
            keys.decrypt(&receipt.wire, 0).unwrap_err(),
            GroupError::UnknownContentType(0x02)
        );
        assert_eq!(keys.to_bytes(), before);
        let next = key.encrypt(b"after").unwrap();
        assert_eq!(keys.decrypt(&next.wire, 0).unwrap().body, b"after");
    }
}
