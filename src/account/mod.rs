//! The `Account`: the layer apps call. It owns an identity, its prekeys, its sessions, its
//! receipts and message statuses, persisted in a sealed store, and is safe to share between
//! threads. Every operation runs in one write transaction of the store: it reads what it
//! needs, does the cryptography, and commits everything it changed at once, or nothing.

mod address;
mod devices;
mod error;
mod groups;
mod logical;
mod messaging;
mod peer_locks;
mod prekeys;
mod records;
mod session_rows;

use std::sync::{Mutex, RwLock};

use rand_core::CryptoRng;

pub use address::{Address, MAX_USER_LEN};
pub use devices::DeviceListChange;
pub use error::AccountError;
pub use groups::GroupSend;
pub use logical::{DeviceStatus, DeviceWire, LogicalMessage};
pub use messaging::{InboxEntry, Incoming, Outgoing, Received};
pub use prekeys::{PreKeyCounts, PreKeyUpload};

use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::primitives::secret::Secret32;
use crate::safety_number::SafetyNumber;
use crate::store::{SealedTx, StorageKeys, Store, StoreError, Table};

/// Decides whether to trust a peer's new identity key when it differs from the one stored:
/// `(address, previously trusted key, new key) -> trust?`.
pub type IdentityPolicy = dyn Fn(&Address, &IdentityKey, &IdentityKey) -> bool + Send + Sync;

/// How many prekeys an account keeps published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountConfig {
    /// One-time X25519 prekeys to keep on the relay.
    pub one_time_prekeys: u32,
    /// One-time ML-KEM prekeys to keep on the relay.
    pub one_time_pq_prekeys: u32,
    /// Below this many of either kind, operations report that the app should replenish.
    pub low_water_mark: u32,
}

impl Default for AccountConfig {
    fn default() -> Self {
        Self {
            one_time_prekeys: 50,
            one_time_pq_prekeys: 50,
            low_water_mark: 10,
        }
    }
}

enum RngSource {
    Os,
    Given(Mutex<Box<dyn CryptoRng + Send>>),
}

/// The store with its sealing keys and the generator: everything a transaction needs.
struct Vault {
    store: Box<dyn Store>,
    keys: StorageKeys,
    rng: RngSource,
}

/// A device's account. `Send + Sync`: share it (in an `Arc`) between threads; operations
/// on one peer are serialized inside, and the store serializes commits.
pub struct Account {
    vault: Vault,
    identity: IdentityKeyPair,
    config: AccountConfig,
    peer_locks: peer_locks::PeerLocks,
    policy: RwLock<Option<Box<IdentityPolicy>>>,
}

impl core::fmt::Debug for Account {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Account")
            .field("identity", self.identity.public())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

const IDENTITY_KEY: &[u8] = b"identity";
const CHECK_KEY: &[u8] = b"check";
/// The check record names the account format: 4 stores a peer's sessions as rows, each
/// with its post-quantum ratchet state (spec §14, session record version 3) and that
/// state's large fields in a row of their own, keeps a Lamport clock per conversation and
/// each inbox entry's clock (spec §10), and the users' identities, device lists, logical
/// messages and sent transcripts (spec §11).
const CHECK_VALUE: &[u8] = b"Bluetick account store v4";
const FORMAT: u8 = 4;
/// Earlier formats, refused by name: 1 (a peer's record as one blob), 2 (session rows
/// without the PQ ratchet or the clocks), 3 (a session's large fields inside its row, inbox
/// rows without the transcript field, no user identities or device lists). No protocol
/// revision had users, so none is migrated.
const OLDER_CHECK_VALUES: [(&[u8], u8); 3] = [
    (b"Bluetick account store v1", 1),
    (b"Bluetick account store v2", 2),
    (b"Bluetick account store v3", 3),
];

impl Account {
    /// Creates an account in an empty store: a new identity, a signed prekey, a last-resort
    /// PQ prekey and the configured one-time prekeys, all from the operating system's
    /// generator. `storage_key` (32 bytes, from the Keychain or Keystore) seals the store.
    pub fn create(
        store: Box<dyn Store>,
        storage_key: &Secret32,
        config: AccountConfig,
    ) -> Result<Self, AccountError> {
        Self::load(store, storage_key, config, RngSource::Os, create_identity)
    }

    /// [`Account::create`] with a given generator, for deterministic tests and tools: the
    /// account draws its keys and ratchet steps from it for every later operation. Store
    /// nonces never come from it (the store has a generator of its own), but a generator
    /// replayed across runs repeats every key it gives: never use one in an app.
    pub fn create_with_rng(
        store: Box<dyn Store>,
        storage_key: &Secret32,
        config: AccountConfig,
        rng: Box<dyn CryptoRng + Send>,
    ) -> Result<Self, AccountError> {
        Self::load(
            store,
            storage_key,
            config,
            RngSource::Given(Mutex::new(rng)),
            create_identity,
        )
    }

    /// Opens the account in `store`. A wrong storage key gives
    /// [`StoreError::WrongKey`]; a corrupted record gives [`StoreError::Corrupt`].
    pub fn open(
        store: Box<dyn Store>,
        storage_key: &Secret32,
        config: AccountConfig,
    ) -> Result<Self, AccountError> {
        Self::load(store, storage_key, config, RngSource::Os, read_identity)
    }

    /// [`Account::open`] with a given generator, for tests and tools only (see
    /// [`Account::create_with_rng`]).
    pub fn open_with_rng(
        store: Box<dyn Store>,
        storage_key: &Secret32,
        config: AccountConfig,
        rng: Box<dyn CryptoRng + Send>,
    ) -> Result<Self, AccountError> {
        Self::load(
            store,
            storage_key,
            config,
            RngSource::Given(Mutex::new(rng)),
            read_identity,
        )
    }

    /// Creates or opens: `identity` runs in the first transaction and yields the identity.
    fn load(
        store: Box<dyn Store>,
        storage_key: &Secret32,
        config: AccountConfig,
        rng: RngSource,
        identity: fn(&mut SealedTx<'_>, &AccountConfig) -> Result<IdentityKeyPair, AccountError>,
    ) -> Result<Self, AccountError> {
        let vault = Vault {
            store,
            keys: StorageKeys::derive(storage_key),
            rng,
        };
        let identity = vault.transaction(|tx| identity(tx, &config))?;
        Ok(Self {
            vault,
            identity,
            config,
            peer_locks: peer_locks::PeerLocks::new(),
            policy: RwLock::new(None),
        })
    }

    /// Checks every record of the store: a record whose key or value was damaged (on disk,
    /// or by a tool) gives [`StoreError::Corrupt`] naming its table, rather than reading as
    /// a missing record later. [`Account::open`] runs the same check; call this to check a
    /// long-open account. It reads the whole store.
    pub fn verify_store(&self) -> Result<(), AccountError> {
        self.transaction(verify_rows)
    }

    /// This account's identity key.
    pub fn identity(&self) -> &IdentityKey {
        self.identity.public()
    }

    /// The identity key pair, for signatures made under a context of their own (the
    /// relay authentication in `relay_protocol::auth`).
    pub(crate) fn identity_key_pair(&self) -> &IdentityKeyPair {
        &self.identity
    }

    /// Sets the policy consulted when a peer's identity key differs from the trusted one.
    /// Without a policy, a changed identity is not trusted until [`Account::trust_identity`].
    ///
    /// **The policy is not stored**: it lives as long as this `Account` value. Set it again
    /// after every [`Account::open`], before the first encrypt or decrypt, or a changed
    /// identity is refused (the safe default) where the app meant to accept it.
    pub fn set_identity_policy(&self, policy: Box<IdentityPolicy>) {
        if let Ok(mut p) = self.policy.write() {
            *p = Some(policy);
        }
    }

    /// Trusts `key` for `peer` (for example after the users compared safety numbers). A
    /// current session made with another key is archived: nothing is sent on it again, and
    /// messages from it are refused unless the policy trusts its key again. For a user
    /// whose user identity is pinned (spec §11), the device list decides instead: see
    /// [`Account::trust_user_identity`].
    pub fn trust_identity(&self, peer: &Address, key: &IdentityKey) -> Result<(), AccountError> {
        messaging::check_address(peer)?;
        let _guard = self.peer_locks.lock(peer);
        self.transaction(|tx| {
            tx.put(Table::PeerIdentities, &peer.to_bytes(), key.as_bytes())?;
            let mut sessions = session_rows::PeerSessions::load(tx, peer)?;
            if sessions
                .current_identity()
                .is_some_and(|current| current != key.as_bytes())
            {
                sessions.archive_current(tx)?;
            }
            Ok(())
        })
    }

    /// The identity key trusted for `peer`, if any.
    pub fn peer_identity(&self, peer: &Address) -> Result<Option<IdentityKey>, AccountError> {
        messaging::check_address(peer)?;
        self.transaction(|tx| records::peer_identity(tx, peer))
    }

    /// The safety number of this account and `peer`, if the peer's identity is known.
    pub fn safety_number(&self, peer: &Address) -> Result<Option<SafetyNumber>, AccountError> {
        Ok(self
            .peer_identity(peer)?
            .map(|k| SafetyNumber::new(self.identity.public(), &k)))
    }

    fn transaction<T>(
        &self,
        f: impl FnMut(&mut SealedTx<'_>) -> Result<T, AccountError>,
    ) -> Result<T, AccountError> {
        self.vault.transaction(f)
    }

    fn trust_check(
        &self,
        tx: &mut SealedTx<'_>,
        peer: &Address,
        key: &IdentityKey,
    ) -> Result<(), AccountError> {
        // The common case, the same key again, needs no decoding.
        if tx
            .get_shared(Table::PeerIdentities, &peer.to_bytes())?
            .is_some_and(|stored| stored.as_slice() == key.as_bytes())
        {
            return Ok(());
        }
        match records::peer_identity(tx, peer)? {
            Some(known) if known == *key => Ok(()),
            Some(known) => {
                if !self.policy_trusts(peer, &known, key) {
                    return Err(AccountError::UntrustedIdentity(peer.clone()));
                }
                tx.put(Table::PeerIdentities, &peer.to_bytes(), key.as_bytes())?;
                Ok(())
            }
            None => {
                // Trust on first use; the app can compare safety numbers later.
                tx.put(Table::PeerIdentities, &peer.to_bytes(), key.as_bytes())?;
                Ok(())
            }
        }
    }
}

impl Vault {
    /// Runs `f` in one write transaction of the store, with the sealing layer and the
    /// generator; commits if `f` succeeds, and writes nothing if it fails.
    fn transaction<T>(
        &self,
        mut f: impl FnMut(&mut SealedTx<'_>) -> Result<T, AccountError>,
    ) -> Result<T, AccountError> {
        let mut out = None;
        let mut failure = None;
        let result = self.store.write(&mut |raw| {
            let mut run = |rng: &mut (dyn CryptoRng + Send)| {
                let mut tx = SealedTx {
                    raw: &mut *raw,
                    keys: &self.keys,
                    rng,
                };
                f(&mut tx)
            };
            let r = match &self.rng {
                RngSource::Os => run(&mut crate::rng::os_rng()),
                RngSource::Given(m) => match m.lock() {
                    Ok(mut g) => run(&mut **g),
                    Err(_) => Err(StoreError::Database("generator lock poisoned".into()).into()),
                },
            };
            match r {
                Ok(v) => {
                    out = Some(v);
                    Ok(())
                }
                Err(AccountError::Store(e)) => Err(e),
                Err(e) => {
                    failure = Some(e);
                    Err(StoreError::Aborted)
                }
            }
        });
        match (result, failure, out) {
            (_, Some(e), _) => Err(e),
            (Err(e), None, _) => Err(e.into()),
            (Ok(()), None, Some(v)) => Ok(v),
            (Ok(()), None, None) => Err(StoreError::Aborted.into()),
        }
    }
}

/// A new identity and prekeys in an empty store.
fn create_identity(
    tx: &mut SealedTx<'_>,
    config: &AccountConfig,
) -> Result<IdentityKeyPair, AccountError> {
    if !tx.raw.scan(Table::Meta)?.is_empty() {
        return Err(StoreError::AccountExists.into());
    }
    let identity = IdentityKeyPair::generate(&mut *tx.rng);
    tx.put(Table::Meta, CHECK_KEY, CHECK_VALUE)?;
    tx.put(Table::Meta, IDENTITY_KEY, identity.seed().expose())?;
    prekeys::initialise(tx, &identity, config)?;
    Ok(identity)
}

/// The stored identity, after checking that the storage key opens the store.
fn read_identity(
    tx: &mut SealedTx<'_>,
    _: &AccountConfig,
) -> Result<IdentityKeyPair, AccountError> {
    match tx.get(Table::Meta, CHECK_KEY) {
        Ok(Some(v)) if v.as_slice() == CHECK_VALUE => {}
        Ok(Some(v)) => {
            // A check record that opens but names another format was written by an
            // older build; anything else means the key is wrong.
            let older = OLDER_CHECK_VALUES.iter().find(|(c, _)| *c == v.as_slice());
            return Err(match older {
                Some((_, found)) => StoreError::UnsupportedFormat {
                    found: *found,
                    supported: FORMAT,
                },
                None => StoreError::WrongKey,
            }
            .into());
        }
        // A record there that does not open under this key means another key sealed it.
        Ok(None) if tx.raw.scan(Table::Meta)?.is_empty() => {
            return Err(StoreError::NoAccount.into())
        }
        Ok(None) | Err(StoreError::Corrupt { .. }) => return Err(StoreError::WrongKey.into()),
        Err(e) => return Err(e.into()),
    }
    let seed = tx
        .get(Table::Meta, IDENTITY_KEY)?
        .ok_or(StoreError::Corrupt { table: "meta" })?;
    let seed = Secret32::from_slice(&seed).ok_or(StoreError::Corrupt { table: "meta" })?;
    verify_rows(tx)?;
    Ok(IdentityKeyPair::from_seed(seed))
}

/// Opens every record: each is bound to the row it is stored under (the row key is in its
/// associated data), so a damaged key or value is [`StoreError::Corrupt`] here instead of
/// reading later as a record that is not there.
fn verify_rows(tx: &mut SealedTx<'_>) -> Result<(), AccountError> {
    for table in Table::ALL {
        tx.scan(table)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn a_store_of_an_older_format_is_refused_with_its_format() -> Result<(), AccountError> {
        let key = Secret32::from_slice(&[3; 32]).ok_or(AccountError::InvalidAddress)?;
        let store = Arc::new(MemoryStore::new());
        let config = AccountConfig::default();
        let account = Account::create(Box::new(Arc::clone(&store)), &key, config)?;
        account.verify_store()?;
        for (check, found) in OLDER_CHECK_VALUES {
            account.transaction(|tx| Ok(tx.put(Table::Meta, CHECK_KEY, check)?))?;
            let reopened = Account::open(Box::new(Arc::clone(&store)), &key, config);
            assert!(
                matches!(
                    reopened,
                    Err(AccountError::Store(StoreError::UnsupportedFormat { found: f, supported }))
                        if (f, supported) == (found, FORMAT)
                ),
                "format {found} opened as {reopened:?}"
            );
        }
        Ok(())
    }
}
