//! Persistence for the [`crate::account::Account`]: a small transactional key-value
//! interface that backends implement ([`SqliteStore`], [`MemoryStore`]), and the sealing
//! layer above it that encrypts every record with the app's storage key.
//!
//! Backends see only blinded row keys and sealed values: a row key is
//! `HMAC(index key, table || 0x00 || key)[0..16]`, and a value is
//! `nonce (12) || AES-256-GCM(key_len (u16) || key || value)` with associated data
//! `"Bluetick_Store_v1" || table || 0x00 || row key`, so a record cannot be moved to another
//! table or key, and a wrong storage key or a corrupted file is detected, never misread.

mod buffered;
mod memory;
mod row_cache;
mod sealed;
mod sqlite;

pub(crate) use buffered::BufferedTx;
pub use memory::MemoryStore;
pub use sealed::{open_record, seal_record, Record};
pub(crate) use sealed::{SealedTx, Shared, StorageKeys};
pub use sqlite::SqliteStore;

use thiserror::Error;

use crate::error::ErrorKind;

/// The tables of an account's store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// Identity, counters and the storage-key check record.
    Meta,
    /// Signed prekeys by id.
    SignedPreKeys,
    /// PQ prekeys by id.
    PqPreKeys,
    /// One-time prekeys by id.
    OneTimePreKeys,
    /// Base keys accepted per (signed prekey id, PQ prekey id).
    BaseKeys,
    /// Per peer address, the index of its sessions (current first, then archived).
    Sessions,
    /// One session (without its skipped keys) by peer address and slot.
    SessionStates,
    /// The skipped keys of one ratchet key, by peer address, slot and ratchet key.
    SkippedKeys,
    /// Trusted identity keys by peer address.
    PeerIdentities,
    /// Outgoing message statuses by message id.
    Outgoing,
    /// Received messages not yet acknowledged by the app, and tombstones of acknowledged ones.
    Inbox,
    /// Rings of message ids bounding how many outgoing statuses and tombstones are kept.
    Retention,
    /// Per conversation, its Lamport counter (spec §10).
    Conversations,
    /// Pinned user identities by user id (spec §11).
    UserIdentities,
    /// The newest accepted device list by user id (spec §11).
    DeviceLists,
    /// Logical messages (spec §11) by logical id: their wires and recipients.
    LogicalMessages,
    /// Per group (spec §12): its member users, the devices holding this device's current
    /// sender key, and that sender key.
    Groups,
    /// Per group (spec §12): the sender keys received from the other member devices.
    GroupKeys,
    /// Per group message sent, by its wire id: the logical message it belongs to.
    GroupSends,
}

impl Table {
    /// Every table.
    pub const ALL: [Self; 19] = [
        Self::Meta,
        Self::SignedPreKeys,
        Self::PqPreKeys,
        Self::OneTimePreKeys,
        Self::BaseKeys,
        Self::Sessions,
        Self::SessionStates,
        Self::SkippedKeys,
        Self::PeerIdentities,
        Self::Outgoing,
        Self::Inbox,
        Self::Retention,
        Self::Conversations,
        Self::UserIdentities,
        Self::DeviceLists,
        Self::LogicalMessages,
        Self::Groups,
        Self::GroupKeys,
        Self::GroupSends,
    ];

    /// The number of tables.
    pub(crate) const COUNT: usize = Self::ALL.len();

    /// The table's position in [`Table::ALL`], for per-table arrays (no hashing).
    pub(crate) fn index(self) -> usize {
        match self {
            Self::Meta => 0,
            Self::SignedPreKeys => 1,
            Self::PqPreKeys => 2,
            Self::OneTimePreKeys => 3,
            Self::BaseKeys => 4,
            Self::Sessions => 5,
            Self::SessionStates => 6,
            Self::SkippedKeys => 7,
            Self::PeerIdentities => 8,
            Self::Outgoing => 9,
            Self::Inbox => 10,
            Self::Retention => 11,
            Self::Conversations => 12,
            Self::UserIdentities => 13,
            Self::DeviceLists => 14,
            Self::LogicalMessages => 15,
            Self::Groups => 16,
            Self::GroupKeys => 17,
            Self::GroupSends => 18,
        }
    }

    /// The table's name, bound into every record's associated data.
    pub fn name(self) -> &'static str {
        match self {
            Self::Meta => "meta",
            Self::SignedPreKeys => "signed_prekeys",
            Self::PqPreKeys => "pq_prekeys",
            Self::OneTimePreKeys => "one_time_prekeys",
            Self::BaseKeys => "base_keys",
            Self::Sessions => "sessions",
            Self::SessionStates => "session_states",
            Self::SkippedKeys => "skipped_keys",
            Self::PeerIdentities => "peer_identities",
            Self::Outgoing => "outgoing",
            Self::Inbox => "inbox",
            Self::Retention => "retention",
            Self::Conversations => "conversations",
            Self::UserIdentities => "user_identities",
            Self::DeviceLists => "device_lists",
            Self::LogicalMessages => "logical_messages",
            Self::Groups => "groups",
            Self::GroupKeys => "group_keys",
            Self::GroupSends => "group_sends",
        }
    }
}

/// A storage failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The storage key does not open this store.
    #[error("the storage key does not open this store; pass the key the account was created with")]
    WrongKey,
    /// A record failed authentication or is malformed.
    #[error("a record in table {table} is corrupt (it fails authentication or does not parse); restore the store from a backup")]
    Corrupt {
        /// The table.
        table: &'static str,
    },
    /// The store was written in an account format this version does not read.
    #[error("this store holds an account in format {found}, which this version does not read (it reads format {supported}); create a new account, or open the store with the version that wrote it")]
    UnsupportedFormat {
        /// The format found.
        found: u8,
        /// The format this version reads.
        supported: u8,
    },
    /// No account exists in this store.
    #[error("this store holds no account; create one first")]
    NoAccount,
    /// An account already exists in this store.
    #[error("this store already holds an account; open it instead")]
    AccountExists,
    /// The database failed.
    #[error("the database failed: {0}; check the path, permissions and free space")]
    Database(String),
    /// The operation gave up before committing; nothing was written.
    #[error("the operation was abandoned before committing; nothing was written")]
    Aborted,
}

impl StoreError {
    /// The flat kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::WrongKey => ErrorKind::WrongStorageKey,
            Self::Corrupt { .. } | Self::UnsupportedFormat { .. } => ErrorKind::StoreCorrupt,
            Self::NoAccount => ErrorKind::NoAccount,
            Self::AccountExists => ErrorKind::AccountExists,
            Self::Database(_) | Self::Aborted => ErrorKind::Database,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Database(e.to_string())
    }
}

/// A raw row: `(blinded key, sealed value)`.
pub type Row = (Vec<u8>, Vec<u8>);

/// One write transaction over raw (already blinded and sealed) rows.
pub trait RawTransaction {
    /// The value at `(table, key)`.
    fn get(&mut self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Sets `(table, key)` to `value`.
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError>;
    /// Removes `(table, key)`.
    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StoreError>;
    /// Every row of `table`.
    fn scan(&mut self, table: Table) -> Result<Vec<Row>, StoreError>;

    /// Calls `f` with the value at `(table, key)`. The sealing layer reads every row
    /// through this: a backend that holds its rows in memory overrides it to lend the
    /// value instead of copying it.
    fn get_with(
        &mut self,
        table: Table,
        key: &[u8],
        f: &mut dyn FnMut(Option<&[u8]>),
    ) -> Result<(), StoreError> {
        let value = self.get(table, key)?;
        f(value.as_deref());
        Ok(())
    }

    /// [`RawTransaction::put`] of a value the backend may keep without copying it.
    fn put_vec(&mut self, table: Table, key: &[u8], value: Vec<u8>) -> Result<(), StoreError> {
        self.put(table, key, &value)
    }
}

/// A backend: runs a closure inside one write transaction, committing only if it succeeds.
/// Implementations must be safe to share between threads; the SQLite one is also safe to
/// share between processes.
pub trait Store: Send + Sync {
    /// Runs `f` in a write transaction; commits on `Ok`, rolls back on `Err`.
    fn write(
        &self,
        f: &mut dyn FnMut(&mut dyn RawTransaction) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
}

impl<S: Store + ?Sized> Store for std::sync::Arc<S> {
    fn write(
        &self,
        f: &mut dyn FnMut(&mut dyn RawTransaction) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        (**self).write(f)
    }
}
