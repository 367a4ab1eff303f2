//! The account's prekeys: generation, what to upload to the relay, replenishment, rotation
//! with a grace period for messages in flight, and their lookup during PQXDH.

use super::records::{get_u32, next_counter, put_u32};
use super::{Account, AccountConfig, AccountError};
use crate::bundle::PreKeyBundle;
use crate::codec::{Reader, Writer};
use crate::constants::KEM_PUBLIC_KEY_LEN;
use crate::error::{DecodeError, KeyError};
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::prekey::{
    OneTimePreKey, OneTimePreKeyPublic, PqPreKey, PqPreKeyKind, PqPreKeyPublic, SignedPreKey,
    SignedPreKeyPublic,
};
use crate::prekey_store::{InMemoryPreKeyStore, PreKeyUse};
use crate::store::{SealedTx, StoreError, Table};
use crate::wire::PreKeyMessage;

const NEXT_SIGNED: &[u8] = b"next_signed_prekey_id";
const NEXT_PQ: &[u8] = b"next_pq_prekey_id";
const NEXT_ONE_TIME: &[u8] = b"next_one_time_prekey_id";
const CURRENT_SIGNED: &[u8] = b"current_signed_prekey_id";
const CURRENT_LAST_RESORT: &[u8] = b"current_last_resort_pq_prekey_id";

/// What a device uploads to the relay: its identity, current signed prekey and last-resort
/// PQ prekey, and one-time prekeys. The relay hands each one-time key out once
/// ([`PreKeyUpload::take_bundle`] does that for a relay written in Rust).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreKeyUpload {
    /// `IK`.
    pub identity: IdentityKey,
    /// The current signed prekey.
    pub signed_prekey: SignedPreKeyPublic,
    /// The current last-resort PQ prekey.
    pub last_resort_pq_prekey: PqPreKeyPublic,
    /// One-time X25519 prekeys.
    pub one_time_prekeys: Vec<OneTimePreKeyPublic>,
    /// One-time ML-KEM prekeys.
    pub one_time_pq_prekeys: Vec<PqPreKeyPublic>,
}

/// How many one-time prekeys the account still holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreKeyCounts {
    /// One-time X25519 prekeys.
    pub one_time_prekeys: u32,
    /// One-time ML-KEM prekeys.
    pub one_time_pq_prekeys: u32,
    /// Whether either is below the configured low-water mark: call
    /// [`Account::replenish_prekeys`] and upload the result.
    pub low: bool,
}

const UPLOAD_VERSION: u8 = 0x01;

impl PreKeyUpload {
    /// `0x01 || IK || SPK id, key, sig || last-resort id, key, sig || n (u16) || (id, key)* ||
    /// m (u16) || (id, key, sig)*`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.put_u8(UPLOAD_VERSION);
        out.put(self.identity.as_bytes());
        out.put_u32(self.signed_prekey.id);
        out.put(&self.signed_prekey.public);
        out.put(&self.signed_prekey.signature);
        put_pq(&mut out, &self.last_resort_pq_prekey);
        out.put_u16(u16::try_from(self.one_time_prekeys.len()).unwrap_or(u16::MAX));
        for k in self.one_time_prekeys.iter().take(usize::from(u16::MAX)) {
            out.put_u32(k.id);
            out.put(&k.public);
        }
        out.put_u16(u16::try_from(self.one_time_pq_prekeys.len()).unwrap_or(u16::MAX));
        for k in self.one_time_pq_prekeys.iter().take(usize::from(u16::MAX)) {
            put_pq(&mut out, k);
        }
        out
    }

    /// Strictly reads [`PreKeyUpload::to_bytes`]; [`PreKeyUpload::verify`] checks signatures.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, "prekey upload");
        let version = r.u8()?;
        if version != UPLOAD_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: "prekey upload",
                version,
            });
        }
        let identity =
            IdentityKey::from_bytes(&r.array()?).map_err(|_| DecodeError::InvalidValue {
                what: "prekey upload identity key",
            })?;
        let signed_prekey = SignedPreKeyPublic {
            id: r.u32()?,
            public: r.array()?,
            signature: r.array()?,
        };
        let last_resort_pq_prekey = read_pq(&mut r)?;
        let n = r.u16()?;
        let mut one_time_prekeys = Vec::with_capacity(usize::from(n));
        for _ in 0..n {
            one_time_prekeys.push(OneTimePreKeyPublic {
                id: r.u32()?,
                public: r.array()?,
            });
        }
        let m = r.u16()?;
        let mut one_time_pq_prekeys = Vec::new();
        for _ in 0..m {
            one_time_pq_prekeys.push(read_pq(&mut r)?);
        }
        r.finish()?;
        Ok(Self {
            identity,
            signed_prekey,
            last_resort_pq_prekey,
            one_time_prekeys,
            one_time_pq_prekeys,
        })
    }

    /// Checks every signature and key, as a relay or a peer would before use.
    pub fn verify(&self) -> Result<(), KeyError> {
        self.signed_prekey.verify(&self.identity)?;
        self.last_resort_pq_prekey.verify(&self.identity)?;
        for k in &self.one_time_pq_prekeys {
            k.verify(&self.identity)?;
        }
        Ok(())
    }

    /// A bundle as the relay hands it out, consuming one one-time prekey of each kind if
    /// any is left (the last-resort PQ prekey otherwise).
    pub fn take_bundle(&mut self) -> PreKeyBundle {
        let pq_prekey = if self.one_time_pq_prekeys.is_empty() {
            self.last_resort_pq_prekey.clone()
        } else {
            self.one_time_pq_prekeys.remove(0)
        };
        let one_time_prekey =
            (!self.one_time_prekeys.is_empty()).then(|| self.one_time_prekeys.remove(0));
        PreKeyBundle {
            identity: self.identity,
            signed_prekey: self.signed_prekey,
            pq_prekey,
            one_time_prekey,
        }
    }

    /// Applies a later upload from the same device: its signed and last-resort prekeys
    /// replace these, its one-time prekeys are added.
    pub fn merge(&mut self, newer: PreKeyUpload) {
        self.identity = newer.identity;
        self.signed_prekey = newer.signed_prekey;
        self.last_resort_pq_prekey = newer.last_resort_pq_prekey;
        self.one_time_prekeys.extend(newer.one_time_prekeys);
        self.one_time_pq_prekeys.extend(newer.one_time_pq_prekeys);
    }
}

fn put_pq(out: &mut Vec<u8>, k: &PqPreKeyPublic) {
    out.put_u32(k.id);
    out.put(&k.public[..]);
    out.put(&k.signature);
}

fn read_pq(r: &mut Reader<'_>) -> Result<PqPreKeyPublic, DecodeError> {
    Ok(PqPreKeyPublic {
        id: r.u32()?,
        public: Box::new(r.array::<KEM_PUBLIC_KEY_LEN>()?),
        signature: r.array()?,
    })
}

// Stored records: `retired_ms (u64, 0 while current) || key bytes` for signed and PQ
// prekeys; plain key bytes for one-time prekeys.

fn corrupt(table: Table) -> AccountError {
    StoreError::Corrupt {
        table: table.name(),
    }
    .into()
}

fn with_retired(retired_ms: u64, key: &[u8]) -> zeroize::Zeroizing<Vec<u8>> {
    let mut v = zeroize::Zeroizing::new(Vec::with_capacity(8 + key.len()));
    v.put_u64(retired_ms);
    v.put(key);
    v
}

fn split_retired(table: Table, bytes: &[u8]) -> Result<(u64, &[u8]), AccountError> {
    let (head, rest) = bytes
        .split_first_chunk::<8>()
        .ok_or_else(|| corrupt(table))?;
    Ok((u64::from_be_bytes(*head), rest))
}

fn load_signed(
    tx: &mut SealedTx<'_>,
    id: u32,
) -> Result<Option<(u64, SignedPreKey)>, AccountError> {
    let Some(bytes) = tx.get(Table::SignedPreKeys, &id.to_be_bytes())? else {
        return Ok(None);
    };
    let (retired, key) = split_retired(Table::SignedPreKeys, &bytes)?;
    let key = SignedPreKey::from_stored_bytes(key).map_err(|_| corrupt(Table::SignedPreKeys))?;
    Ok(Some((retired, key)))
}

fn load_pq(tx: &mut SealedTx<'_>, id: u32) -> Result<Option<(u64, PqPreKey)>, AccountError> {
    let Some(bytes) = tx.get(Table::PqPreKeys, &id.to_be_bytes())? else {
        return Ok(None);
    };
    let (retired, key) = split_retired(Table::PqPreKeys, &bytes)?;
    let key = PqPreKey::from_bytes(key).map_err(|_| corrupt(Table::PqPreKeys))?;
    Ok(Some((retired, key)))
}

fn new_signed(
    tx: &mut SealedTx<'_>,
    identity: &IdentityKeyPair,
) -> Result<SignedPreKey, AccountError> {
    let id = next_counter(tx, NEXT_SIGNED)?;
    let key = SignedPreKey::generate(identity, id, &mut *tx.rng);
    tx.put(
        Table::SignedPreKeys,
        &id.to_be_bytes(),
        &with_retired(0, &key.to_stored_bytes()),
    )?;
    put_u32(tx, CURRENT_SIGNED, id)?;
    Ok(key)
}

fn new_pq(
    tx: &mut SealedTx<'_>,
    identity: &IdentityKeyPair,
    kind: PqPreKeyKind,
) -> Result<PqPreKey, AccountError> {
    let id = next_counter(tx, NEXT_PQ)?;
    let key = PqPreKey::generate(identity, id, kind, &mut *tx.rng);
    tx.put(
        Table::PqPreKeys,
        &id.to_be_bytes(),
        &with_retired(0, &key.to_bytes()),
    )?;
    if kind == PqPreKeyKind::LastResort {
        put_u32(tx, CURRENT_LAST_RESORT, id)?;
    }
    Ok(key)
}

fn new_one_time(tx: &mut SealedTx<'_>) -> Result<OneTimePreKey, AccountError> {
    let id = next_counter(tx, NEXT_ONE_TIME)?;
    let key = OneTimePreKey::generate(id, &mut *tx.rng);
    tx.put(Table::OneTimePreKeys, &id.to_be_bytes(), &key.to_bytes())?;
    Ok(key)
}

/// The current signed and last-resort prekeys.
fn current(tx: &mut SealedTx<'_>) -> Result<(SignedPreKey, PqPreKey), AccountError> {
    let spk_id = get_u32(tx, CURRENT_SIGNED)?.ok_or_else(|| corrupt(Table::Meta))?;
    let pq_id = get_u32(tx, CURRENT_LAST_RESORT)?.ok_or_else(|| corrupt(Table::Meta))?;
    let (_, spk) = load_signed(tx, spk_id)?.ok_or_else(|| corrupt(Table::SignedPreKeys))?;
    let (_, pq) = load_pq(tx, pq_id)?.ok_or_else(|| corrupt(Table::PqPreKeys))?;
    Ok((spk, pq))
}

fn upload_of(
    identity: &IdentityKeyPair,
    spk: &SignedPreKey,
    pq: &PqPreKey,
    ot: &[OneTimePreKey],
    ot_pq: &[PqPreKey],
) -> PreKeyUpload {
    PreKeyUpload {
        identity: *identity.public(),
        signed_prekey: spk.public(),
        last_resort_pq_prekey: pq.public(),
        one_time_prekeys: ot.iter().map(OneTimePreKey::public).collect(),
        one_time_pq_prekeys: ot_pq.iter().map(PqPreKey::public).collect(),
    }
}

/// The prekeys of a new account.
pub(crate) fn initialise(
    tx: &mut SealedTx<'_>,
    identity: &IdentityKeyPair,
    config: &AccountConfig,
) -> Result<(), AccountError> {
    new_signed(tx, identity)?;
    new_pq(tx, identity, PqPreKeyKind::LastResort)?;
    for _ in 0..config.one_time_prekeys {
        new_one_time(tx)?;
    }
    for _ in 0..config.one_time_pq_prekeys {
        new_pq(tx, identity, PqPreKeyKind::OneTime)?;
    }
    Ok(())
}

/// Ids of the one-time prekeys held: `(EC ids, PQ ids)`.
fn one_time_ids(tx: &mut SealedTx<'_>) -> Result<(Vec<u32>, Vec<u32>), AccountError> {
    let ec = tx
        .scan(Table::OneTimePreKeys)?
        .into_iter()
        .map(|(k, _)| {
            k.try_into()
                .map(u32::from_be_bytes)
                .map_err(|_| corrupt(Table::OneTimePreKeys))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut pq = Vec::new();
    for (k, v) in tx.scan(Table::PqPreKeys)? {
        let id = u32::from_be_bytes(k.try_into().map_err(|_| corrupt(Table::PqPreKeys))?);
        // Record: retired (8) || id (4) || kind (1) || ...
        if v.get(12) == Some(&0) {
            pq.push(id);
        }
    }
    Ok((ec, pq))
}

pub(crate) fn counts(
    tx: &mut SealedTx<'_>,
    config: &AccountConfig,
) -> Result<PreKeyCounts, AccountError> {
    let (ec, pq) = one_time_ids(tx)?;
    let one_time_prekeys = u32::try_from(ec.len()).unwrap_or(u32::MAX);
    let one_time_pq_prekeys = u32::try_from(pq.len()).unwrap_or(u32::MAX);
    Ok(PreKeyCounts {
        one_time_prekeys,
        one_time_pq_prekeys,
        low: one_time_prekeys < config.low_water_mark
            || one_time_pq_prekeys < config.low_water_mark,
    })
}

/// Loads the prekeys a PreKeyMessage names into a scratch store for the session layer.
pub(crate) fn stage_for(
    tx: &mut SealedTx<'_>,
    message: &PreKeyMessage<'_>,
) -> Result<InMemoryPreKeyStore, AccountError> {
    let mut staged = InMemoryPreKeyStore::new();
    if let Some((_, k)) = load_signed(tx, message.signed_prekey_id)? {
        staged.add_signed_prekey(k);
    }
    if let Some((_, k)) = load_pq(tx, message.pq_prekey_id)? {
        staged.add_pq_prekey(k);
    }
    if let Some(id) = message.one_time_prekey_id {
        if let Some(bytes) = tx.get(Table::OneTimePreKeys, &id.to_be_bytes())? {
            staged.add_one_time_prekey(
                OneTimePreKey::from_bytes(&bytes).map_err(|_| corrupt(Table::OneTimePreKeys))?,
            );
        }
    }
    if tx
        .get(
            Table::BaseKeys,
            &base_key_row(
                message.signed_prekey_id,
                message.pq_prekey_id,
                &message.base_key,
            ),
        )?
        .is_some()
    {
        staged.mark_base_key_seen(
            message.signed_prekey_id,
            message.pq_prekey_id,
            message.base_key,
        );
    }
    Ok(staged)
}

fn base_key_row(spk: u32, pq: u32, base_key: &[u8; 32]) -> Vec<u8> {
    let mut v = Vec::with_capacity(40);
    v.put_u32(spk);
    v.put_u32(pq);
    v.put(base_key);
    v
}

/// Deletes the one-time keys a new session used and remembers its base key.
pub(crate) fn consume(tx: &mut SealedTx<'_>, used: &PreKeyUse) -> Result<(), AccountError> {
    if let Some(id) = used.one_time_prekey_id {
        tx.delete(Table::OneTimePreKeys, &id.to_be_bytes())?;
    }
    if used.pq_prekey_kind == PqPreKeyKind::OneTime {
        tx.delete(Table::PqPreKeys, &used.pq_prekey_id.to_be_bytes())?;
    }
    tx.put(
        Table::BaseKeys,
        &base_key_row(used.signed_prekey_id, used.pq_prekey_id, &used.base_key),
        &[],
    )?;
    Ok(())
}

impl Account {
    /// Everything to publish: identity, current signed and last-resort prekeys, and every
    /// one-time prekey held.
    pub fn prekey_upload(&self) -> Result<PreKeyUpload, AccountError> {
        self.transaction(|tx| {
            let (spk, pq) = current(tx)?;
            let (ec_ids, pq_ids) = one_time_ids(tx)?;
            let mut ot = Vec::new();
            for id in ec_ids {
                if let Some(b) = tx.get(Table::OneTimePreKeys, &id.to_be_bytes())? {
                    ot.push(
                        OneTimePreKey::from_bytes(&b)
                            .map_err(|_| corrupt(Table::OneTimePreKeys))?,
                    );
                }
            }
            let mut ot_pq = Vec::new();
            for id in pq_ids {
                if let Some((_, k)) = load_pq(tx, id)? {
                    ot_pq.push(k);
                }
            }
            Ok(upload_of(&self.identity, &spk, &pq, &ot, &ot_pq))
        })
    }

    /// How many one-time prekeys are left, and whether to replenish.
    pub fn prekey_counts(&self) -> Result<PreKeyCounts, AccountError> {
        self.transaction(|tx| counts(tx, &self.config))
    }

    /// Generates one-time prekeys up to the configured counts; the returned upload carries
    /// only the new ones (with the current signed and last-resort prekeys).
    pub fn replenish_prekeys(&self) -> Result<PreKeyUpload, AccountError> {
        self.transaction(|tx| {
            let c = counts(tx, &self.config)?;
            let mut ot = Vec::new();
            for _ in c.one_time_prekeys..self.config.one_time_prekeys {
                ot.push(new_one_time(tx)?);
            }
            let mut ot_pq = Vec::new();
            for _ in c.one_time_pq_prekeys..self.config.one_time_pq_prekeys {
                ot_pq.push(new_pq(tx, &self.identity, PqPreKeyKind::OneTime)?);
            }
            let (spk, pq) = current(tx)?;
            Ok(upload_of(&self.identity, &spk, &pq, &ot, &ot_pq))
        })
    }

    /// Makes a new signed prekey current. The previous one stays (retired at `now_ms`) so
    /// PreKeyMessages in flight still decrypt, until [`Account::prune_retired_prekeys`].
    pub fn rotate_signed_prekey(&self, now_ms: u64) -> Result<PreKeyUpload, AccountError> {
        self.transaction(|tx| {
            let (old, pq) = current(tx)?;
            tx.put(
                Table::SignedPreKeys,
                &old.id().to_be_bytes(),
                &with_retired(now_ms.max(1), &old.to_stored_bytes()),
            )?;
            let spk = new_signed(tx, &self.identity)?;
            Ok(upload_of(&self.identity, &spk, &pq, &[], &[]))
        })
    }

    /// Makes a new last-resort PQ prekey current; the previous one is retired at `now_ms`.
    pub fn rotate_last_resort_pq_prekey(&self, now_ms: u64) -> Result<PreKeyUpload, AccountError> {
        self.transaction(|tx| {
            let (spk, old) = current(tx)?;
            tx.put(
                Table::PqPreKeys,
                &old.id().to_be_bytes(),
                &with_retired(now_ms.max(1), &old.to_bytes()),
            )?;
            let pq = new_pq(tx, &self.identity, PqPreKeyKind::LastResort)?;
            Ok(upload_of(&self.identity, &spk, &pq, &[], &[]))
        })
    }

    /// Deletes signed and last-resort prekeys retired at least `keep_for_ms` before
    /// `now_ms`; returns how many were deleted.
    pub fn prune_retired_prekeys(
        &self,
        now_ms: u64,
        keep_for_ms: u64,
    ) -> Result<usize, AccountError> {
        self.transaction(|tx| {
            let mut deleted = 0;
            let mut signed_ids = Vec::new();
            for table in [Table::SignedPreKeys, Table::PqPreKeys] {
                for (key, value) in tx.scan(table)? {
                    let (retired, _) = split_retired(table, &value)?;
                    if retired != 0 && retired.saturating_add(keep_for_ms) <= now_ms {
                        tx.delete(table, &key)?;
                        deleted += 1;
                        if table == Table::SignedPreKeys {
                            signed_ids.push(key);
                        }
                    }
                }
            }
            // Accepted base keys go with their signed prekey (spec §3): a PreKeyMessage
            // naming it can no longer start a session, so none can be a replay.
            if !signed_ids.is_empty() {
                for (key, _) in tx.scan(Table::BaseKeys)? {
                    if signed_ids.iter().any(|id| key.starts_with(id)) {
                        tx.delete(Table::BaseKeys, &key)?;
                    }
                }
            }
            Ok(deleted)
        })
    }
}
