//! Where the relay keeps what must survive a restart: the offline queue and the
//! directory (address bindings, prekeys, certificates, device lists). One trait, two
//! backends: the embedded SQLite one (the default, one node) and NATS JetStream (several
//! nodes sharing one NATS server or cluster).
//!
//! The methods are blocking: the server calls them on tokio's blocking pool (the NATS
//! backend runs its calls on the relay's runtime from there). Each one is atomic on its
//! own, except that the NATS backend stores a send to many devices copy by copy: a failure
//! midway leaves some copies, and the device's resend, deduplicated by message id, stores
//! the rest.

pub mod nats;
pub mod sqlite;

use std::sync::Arc;

use bluetick::{Address, MessageId};
use thiserror::Error;
use tokio::sync::Notify;

pub use nats::{NatsBackend, NatsConfig};
pub use sqlite::SqliteBackend;

/// Keeps a device's cross-node wake-ups coming until dropped (see
/// [`RelayBackend::watch`]).
pub type Watch = Box<dyn Send + Sync>;

/// A backend failure. The relay answers the request with `Internal` and keeps serving.
#[derive(Debug, Error)]
pub enum BackendError {
    /// The database failed.
    #[error("relay storage failed: {0}")]
    Storage(#[from] rusqlite::Error),
    /// Stored data does not parse (a damaged database).
    #[error("relay storage holds a damaged {0} record")]
    Corrupt(&'static str),
    /// The NATS server failed or could not be reached; the relay answers `Internal` and
    /// the client's resend succeeds once NATS is back.
    #[error("NATS failed: {0}")]
    Nats(String),
}

/// What binding an address to an identity key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// The address was free and is now bound to the key.
    New,
    /// The address was already bound to the same key.
    Same,
    /// The address is bound to another key: refuse the device.
    Other,
    /// The user already has as many devices as allowed.
    TooManyDevices,
}

/// Why a send was not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnqueueError {
    /// A recipient is not bound to any identity.
    UnknownRecipient(Address),
    /// A recipient's queue is at its count or byte limit.
    QueueFull(Address),
    /// The backend failed.
    Backend(String),
}

/// Per-device queue limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    /// Messages waiting per device.
    pub max_count: u64,
    /// Bytes of wires waiting per device.
    pub max_bytes: u64,
    /// Age after which an unacknowledged message is dropped, and after which the record
    /// of an acknowledged id (kept so a late resend is not stored again) is erased.
    pub max_age_ms: u64,
}

impl Default for QueueLimits {
    /// 10,000 messages, 64 MiB, 30 days.
    fn default() -> Self {
        Self {
            max_count: 10_000,
            max_bytes: 64 * 1024 * 1024,
            max_age_ms: 30 * 24 * 3600 * 1000,
        }
    }
}

/// One queued message for a device.
#[derive(Clone, PartialEq, Eq)]
pub struct Queued {
    /// Its position in the device's queue (increasing).
    pub seq: u64,
    /// Its id.
    pub id: MessageId,
    /// The authenticated sender.
    pub sender: Address,
    /// The opaque wire.
    pub wire: Vec<u8>,
}

impl core::fmt::Debug for Queued {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Queued(#{}, {:?}, from {}, {} B)",
            self.seq,
            self.id,
            self.sender,
            self.wire.len()
        )
    }
}

/// The relay's durable state. See the module documentation.
pub trait RelayBackend: Send + Sync + 'static {
    /// Binds `address` to `identity` if it is free (trust on first use); says whether it
    /// is bound to this key or another. At most `max_devices` addresses per user.
    fn bind(
        &self,
        address: &Address,
        identity: &[u8; 32],
        max_devices: usize,
    ) -> Result<Binding, BackendError>;

    /// The identity key bound to `address`.
    fn identity(&self, address: &Address) -> Result<Option<[u8; 32]>, BackendError>;

    /// The bound device ids of `user`, ascending.
    fn devices(&self, user: &[u8]) -> Result<Vec<u32>, BackendError>;

    /// Adds a verified prekey upload of `address` to what is stored: its signed and
    /// last-resort prekeys replace the old ones, its one-time keys are added (at most
    /// `max_one_time` of each kind are kept, the oldest dropped first).
    fn store_prekeys(
        &self,
        address: &Address,
        upload: bluetick::PreKeyUpload,
        max_one_time: usize,
    ) -> Result<(), BackendError>;

    /// Hands out a bundle of `address`, consuming one one-time prekey of each kind if any
    /// is left. `None` when nothing was uploaded.
    fn take_bundle(&self, address: &Address) -> Result<Option<Vec<u8>>, BackendError>;

    /// Stores a verified device certificate of `address`.
    fn store_certificate(&self, address: &Address, certificate: &[u8]) -> Result<(), BackendError>;

    /// The stored certificate of `address`.
    fn certificate(&self, address: &Address) -> Result<Option<Vec<u8>>, BackendError>;

    /// The stored device list of `user`.
    fn device_list(&self, user: &[u8]) -> Result<Option<Vec<u8>>, BackendError>;

    /// Replaces the device list of `user` if the stored one is still `expected` (the list
    /// the caller verified the new one against); returns whether it was replaced.
    fn replace_device_list(
        &self,
        user: &[u8],
        expected: Option<&[u8]>,
        list: &[u8],
    ) -> Result<bool, BackendError>;

    /// Stores `wire` for every recipient, once per `(recipient, id)` whatever the number of
    /// resends (including after the recipient acknowledged it, within the age limit).
    fn enqueue(
        &self,
        sender: &Address,
        recipients: &[Address],
        id: &MessageId,
        wire: &[u8],
        now_ms: u64,
        limits: &QueueLimits,
    ) -> Result<(), EnqueueError>;

    /// Up to `limit` unacknowledged messages of `recipient` after position `after`, oldest
    /// first, younger than the age limit.
    fn pending(
        &self,
        recipient: &Address,
        after: u64,
        limit: usize,
        now_ms: u64,
        limits: &QueueLimits,
    ) -> Result<Vec<Queued>, BackendError>;

    /// The device committed these messages: erase their wires. Returns how many it had.
    fn acknowledge(&self, recipient: &Address, ids: &[MessageId]) -> Result<usize, BackendError>;

    /// Number of unacknowledged messages waiting for `recipient`.
    fn queued(&self, recipient: &Address) -> Result<u64, BackendError>;

    /// Drops messages and acknowledged ids older than the age limit. Returns how many.
    fn expire(&self, now_ms: u64, limits: &QueueLimits) -> Result<usize, BackendError>;

    /// Calls `wake.notify_one()` whenever another relay node stores a message for
    /// `address`, until the returned guard is dropped. A single-node backend has no other
    /// node and returns `None`: the server wakes its own pipes.
    fn watch(&self, address: &Address, wake: Arc<Notify>) -> Result<Option<Watch>, BackendError> {
        let _ = (address, wake);
        Ok(None)
    }
}

/// Keeps the last `max` of `v`.
fn trim_front<T>(v: &mut Vec<T>, max: usize) {
    if v.len() > max {
        let excess = v.len() - max;
        v.drain(..excess);
    }
}
