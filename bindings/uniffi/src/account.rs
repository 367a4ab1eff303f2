//! The `Account` object: every public operation of `bluetick::Account`, under the same
//! names and in the same argument order. It crosses as a shared object (it is
//! `Send + Sync`), so one account may be used from many threads at once.

use std::cell::Cell;
use std::sync::{Arc, RwLock};

use bluetick::{MemoryStore, PreKeyBundle, Secret32, SqliteStore, Store};
use zeroize::Zeroizing;

use crate::error::{AccountError, ErrorKind};
use crate::prekey_upload::PreKeyUpload;
use crate::types::{
    account_ids, identity_key, message_id, AccountConfig, Address, BatchMessage, BatchOutcome,
    DeviceEntry, DeviceListChange, DeviceStatus, GroupSend, InboxEntry, Incoming, LogicalMessage,
    MessageStatus, Outgoing, PreKeyCounts, ReceiptKind,
};

thread_local! {
    /// Set while an identity policy runs on this thread.
    static IN_POLICY: Cell<bool> = const { Cell::new(false) };
}

/// Decides whether to trust a peer's new identity key when it differs from the one trusted
/// so far. Implemented by the app; called on the thread of the `encrypt` or `decrypt` that
/// met the new key, inside its store transaction, so it must answer quickly.
#[uniffi::export(callback_interface)]
pub trait IdentityPolicy: Send + Sync {
    /// `(peer, previously trusted key, new key) -> trust?`. An error means "do not trust".
    fn trust(&self, peer: Address, trusted: Vec<u8>, new: Vec<u8>) -> Result<bool, PolicyError>;
}

/// An identity policy failed; the new key is not trusted.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum PolicyError {
    /// The app's policy raised an error.
    #[error("the identity policy failed: {detail}")]
    Failed {
        /// What failed.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for PolicyError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Failed { detail: e.reason }
    }
}

/// A device's account: identity, prekeys, sessions, receipts and statuses, in a sealed
/// store. Every operation runs in one store transaction: all of it is committed, or nothing.
/// Thread-safe. Operations on SQLite and those running PQXDH (the first `encrypt` to a peer,
/// `decrypt` of a PreKeyMessage, prekey generation) block for milliseconds: keep them off
/// a UI thread.
#[derive(uniffi::Object)]
pub struct Account {
    inner: RwLock<Option<Arc<bluetick::Account>>>,
}

impl core::fmt::Debug for Account {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { inner } = self;
        f.debug_struct("Account").field("inner", inner).finish()
    }
}

fn storage_key(key: Vec<u8>) -> Result<Secret32, AccountError> {
    let key = Zeroizing::new(key);
    Secret32::from_slice(&key).ok_or_else(|| {
        AccountError::invalid(format!(
            "the storage key is {} bytes; it must be 32 (from the Keychain or Keystore)",
            key.len()
        ))
    })
}

fn sqlite(path: &str) -> Result<Box<dyn Store>, AccountError> {
    Ok(Box::new(SqliteStore::open(path)?))
}

fn peer(a: &Address) -> bluetick::Address {
    a.into()
}

fn one_id(id: &[u8]) -> Result<bluetick::MessageId, AccountError> {
    message_id(id, "the message id").map_err(AccountError::invalid)
}

fn wrap(account: bluetick::Account) -> Arc<Account> {
    Arc::new(Account {
        inner: RwLock::new(Some(Arc::new(account))),
    })
}

#[uniffi::export]
impl Account {
    /// Creates an account in a new SQLite database at `path` (a file that holds no account):
    /// a new identity and prekeys. `storage_key` (32 bytes, from the Keychain or Keystore)
    /// seals every record.
    #[uniffi::constructor]
    pub fn create_sqlite(
        path: String,
        storage_key: Vec<u8>,
        config: AccountConfig,
    ) -> Result<Arc<Self>, AccountError> {
        let key = self::storage_key(storage_key)?;
        Ok(wrap(bluetick::Account::create(
            sqlite(&path)?,
            &key,
            config.into(),
        )?))
    }

    /// Opens the account in the SQLite database at `path`. A wrong storage key gives
    /// `Store` with kind `WrongStorageKey`.
    #[uniffi::constructor]
    pub fn open_sqlite(
        path: String,
        storage_key: Vec<u8>,
        config: AccountConfig,
    ) -> Result<Arc<Self>, AccountError> {
        let key = self::storage_key(storage_key)?;
        Ok(wrap(bluetick::Account::open(
            sqlite(&path)?,
            &key,
            config.into(),
        )?))
    }

    /// Creates an account in memory (tests, bots): gone when the object is.
    #[uniffi::constructor]
    pub fn create_memory(
        storage_key: Vec<u8>,
        config: AccountConfig,
    ) -> Result<Arc<Self>, AccountError> {
        let key = self::storage_key(storage_key)?;
        Ok(wrap(bluetick::Account::create(
            Box::new(MemoryStore::new()),
            &key,
            config.into(),
        )?))
    }

    /// Closes the store now (the database file is released); later calls fail with
    /// `InvalidArgument` of kind `Closed`. Calls already running finish first. Closing
    /// twice is harmless.
    pub fn close_store(&self) {
        if let Ok(mut inner) = self.inner.write() {
            *inner = None;
        }
    }

    /// This account's 32-byte identity key.
    pub fn identity(&self) -> Result<Vec<u8>, AccountError> {
        Ok(self.inner()?.identity().to_bytes().to_vec())
    }

    /// Sets the policy consulted when a peer's identity key differs from the trusted one.
    /// Without one, a changed identity is refused until `trust_identity`.
    pub fn set_identity_policy(&self, policy: Box<dyn IdentityPolicy>) -> Result<(), AccountError> {
        self.inner()?
            .set_identity_policy(Box::new(move |peer, trusted, new| {
                // The policy runs inside the store transaction: a call back into an account
                // from it would wait for that transaction forever, so it is refused.
                IN_POLICY.with(|p| p.set(true));
                let trust = policy.trust(
                    peer.clone().into(),
                    trusted.to_bytes().to_vec(),
                    new.to_bytes().to_vec(),
                );
                IN_POLICY.with(|p| p.set(false));
                trust.unwrap_or(false)
            }));
        Ok(())
    }

    /// Checks every record of the store: a record whose key or value was damaged is a
    /// `Store` error of kind `StoreCorrupt` naming its table, instead of reading later as a
    /// missing record. Opening an account runs the same check. Reads the whole store: keep
    /// it off a UI thread.
    pub fn verify_store(&self) -> Result<(), AccountError> {
        Ok(self.inner()?.verify_store()?)
    }

    /// Trusts `key` (32 bytes) for `peer`, for example after the users compared safety
    /// numbers.
    pub fn trust_identity(&self, peer: Address, key: Vec<u8>) -> Result<(), AccountError> {
        let key = identity_key(&key, "the identity key")
            .map_err(|(kind, detail)| AccountError::InvalidArgument { kind, detail })?;
        Ok(self.inner()?.trust_identity(&self::peer(&peer), &key)?)
    }

    /// The identity key trusted for `peer`, if any.
    pub fn peer_identity(&self, peer: Address) -> Result<Option<Vec<u8>>, AccountError> {
        Ok(self
            .inner()?
            .peer_identity(&self::peer(&peer))?
            .map(|k| k.to_bytes().to_vec()))
    }

    /// The safety number (digits) of this account and `peer`, if the peer is known.
    pub fn safety_number(&self, peer: Address) -> Result<Option<String>, AccountError> {
        Ok(self
            .inner()?
            .safety_number(&self::peer(&peer))?
            .map(|n| n.digits().to_owned()))
    }

    /// Encrypts `body` for `peer`. With a `bundle` (its bytes, from the relay) a new session
    /// starts first (PQXDH); without one the current session is used. The message is
    /// `Pending` until `mark_sent`. It carries the conversation's next Lamport value
    /// (returned in `lamport`) and `now_ms`, the caller's wall clock in ms since the Unix
    /// epoch, which the receiver shows as the time it was sent (spec §10).
    pub fn encrypt(
        &self,
        peer: Address,
        body: Vec<u8>,
        bundle: Option<Vec<u8>>,
        now_ms: u64,
    ) -> Result<Outgoing, AccountError> {
        let bundle = bundle
            .map(|b| PreKeyBundle::from_bytes(&b))
            .transpose()
            .map_err(AccountError::from)?;
        Ok(self
            .inner()?
            .encrypt(&self::peer(&peer), &body, bundle.as_ref(), now_ms)?
            .into())
    }

    /// Records the relay's acknowledgement of `id`: the message is at least `Sent`.
    pub fn mark_sent(&self, id: Vec<u8>) -> Result<MessageStatus, AccountError> {
        Ok(self.inner()?.mark_sent(&one_id(&id)?)?.into())
    }

    /// The status of an outgoing message, if the id is one.
    pub fn message_status(&self, id: Vec<u8>) -> Result<Option<MessageStatus>, AccountError> {
        Ok(self.inner()?.message_status(&one_id(&id)?)?.map(Into::into))
    }

    /// Decrypts a message from `peer`, committing the new state and the inbox entry (or the
    /// receipt's status changes) before it returns; only then tell the relay to drop it. Any
    /// error leaves everything unchanged. It takes no clock: a group sender key it replaces
    /// counts its hour (spec §12) on the newest clock the account was given, stale on a
    /// device that only receives; prefer `decrypt_at`.
    pub fn decrypt(&self, peer: Address, wire: Vec<u8>) -> Result<Incoming, AccountError> {
        Ok(self.inner()?.decrypt(&self::peer(&peer), &wire)?.into())
    }

    /// `decrypt` at `now_ms`, the app's wall clock in milliseconds since the Unix epoch:
    /// the clock of the group sender keys' hour (spec §12). A replaced key's skipped keys
    /// open for one hour of the newest clock the account was given (this one included), so
    /// a clock that goes back extends nothing; after the hour its messages are
    /// `UnknownDistribution`, and nothing changes.
    pub fn decrypt_at(
        &self,
        peer: Address,
        wire: Vec<u8>,
        now_ms: u64,
    ) -> Result<Incoming, AccountError> {
        Ok(self
            .inner()?
            .decrypt_at(&self::peer(&peer), &wire, now_ms)?
            .into())
    }

    /// Decrypts many messages with one durable commit. Each succeeds or fails on its own;
    /// the error of the call itself is a store failure, and then nothing was committed.
    /// Like `decrypt`, it takes no clock; prefer `decrypt_batch_at`.
    pub fn decrypt_batch(
        &self,
        messages: Vec<BatchMessage>,
    ) -> Result<Vec<BatchOutcome>, AccountError> {
        self.decrypt_batch_at(messages, 0)
    }

    /// `decrypt_batch` at `now_ms`, the app's wall clock for every message of the batch,
    /// as `decrypt_at` uses it.
    pub fn decrypt_batch_at(
        &self,
        messages: Vec<BatchMessage>,
        now_ms: u64,
    ) -> Result<Vec<BatchOutcome>, AccountError> {
        let messages: Vec<_> = messages
            .into_iter()
            .map(|m| (self::peer(&m.peer), m.wire))
            .collect();
        Ok(self
            .inner()?
            .decrypt_batch_at(&messages, now_ms)?
            .into_iter()
            .map(|r| match r {
                Ok(incoming) => BatchOutcome::Decrypted {
                    incoming: incoming.into(),
                },
                Err(e) => BatchOutcome::Failed { error: e.into() },
            })
            .collect())
    }

    /// Marks an inbox entry as stored by the app (its body is erased from the store).
    pub fn acknowledge(&self, id: Vec<u8>) -> Result<(), AccountError> {
        Ok(self.inner()?.acknowledge(&one_id(&id)?)?)
    }

    /// Received messages not yet acknowledged.
    pub fn inbox(&self) -> Result<Vec<InboxEntry>, AccountError> {
        Ok(self.inner()?.inbox()?.into_iter().map(Into::into).collect())
    }

    /// The unacknowledged messages of the conversation with the user `peer_user` (every
    /// device of that user), in the display order of spec §10: ascending `(lamport, sender
    /// user id (shorter first, then bytewise), sender device)`, the same on every device,
    /// whatever order the relay delivered them in.
    pub fn conversation_inbox(&self, peer_user: Vec<u8>) -> Result<Vec<InboxEntry>, AccountError> {
        Ok(self
            .inner()?
            .conversation_inbox(&peer_user)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The Lamport counter of the conversation with the user `peer_user` (spec §10): the
    /// value of the last message sent or the largest received, 0 before the first.
    pub fn conversation_clock(&self, peer_user: Vec<u8>) -> Result<u64, AccountError> {
        Ok(self.inner()?.conversation_clock(&peer_user)?)
    }

    /// Encrypts a receipt of `kind` for messages received from `peer` (16-byte ids).
    pub fn create_receipt(
        &self,
        peer: Address,
        kind: ReceiptKind,
        ids: Vec<Vec<u8>>,
        now_ms: u64,
    ) -> Result<Outgoing, AccountError> {
        let ids = account_ids(&ids)?;
        Ok(self
            .inner()?
            .create_receipt(&self::peer(&peer), kind.into(), &ids, now_ms)?
            .into())
    }

    /// Everything to publish: identity, current signed and last-resort prekeys, and every
    /// one-time prekey held.
    pub fn prekey_upload(&self) -> Result<Arc<PreKeyUpload>, AccountError> {
        Ok(PreKeyUpload::wrap(self.inner()?.prekey_upload()?))
    }

    /// How many one-time prekeys are left, and whether to replenish.
    pub fn prekey_counts(&self) -> Result<PreKeyCounts, AccountError> {
        Ok(self.inner()?.prekey_counts()?.into())
    }

    /// Generates one-time prekeys up to the configured counts; the upload carries only the
    /// new ones.
    pub fn replenish_prekeys(&self) -> Result<Arc<PreKeyUpload>, AccountError> {
        Ok(PreKeyUpload::wrap(self.inner()?.replenish_prekeys()?))
    }

    /// Makes a new signed prekey current; the previous one is retired at `now_ms`.
    pub fn rotate_signed_prekey(&self, now_ms: u64) -> Result<Arc<PreKeyUpload>, AccountError> {
        Ok(PreKeyUpload::wrap(
            self.inner()?.rotate_signed_prekey(now_ms)?,
        ))
    }

    /// Makes a new last-resort PQ prekey current; the previous one is retired at `now_ms`.
    pub fn rotate_last_resort_pq_prekey(
        &self,
        now_ms: u64,
    ) -> Result<Arc<PreKeyUpload>, AccountError> {
        Ok(PreKeyUpload::wrap(
            self.inner()?.rotate_last_resort_pq_prekey(now_ms)?,
        ))
    }

    /// Deletes signed and last-resort prekeys retired at least `keep_for_ms` before
    /// `now_ms`; returns how many were deleted.
    pub fn prune_retired_prekeys(
        &self,
        now_ms: u64,
        keep_for_ms: u64,
    ) -> Result<u64, AccountError> {
        let n = self.inner()?.prune_retired_prekeys(now_ms, keep_for_ms)?;
        Ok(u64::try_from(n).unwrap_or(u64::MAX))
    }

    /// Sets this device's own address (a user id of 1 to 64 bytes and its device id);
    /// sending to users and accepting sent transcripts need it (spec §11).
    pub fn set_own_address(&self, address: Address) -> Result<(), AccountError> {
        Ok(self.inner()?.set_own_address(&peer(&address))?)
    }

    /// This device's own address, once set.
    pub fn own_address(&self) -> Result<Option<Address>, AccountError> {
        Ok(self.inner()?.own_address()?.map(Into::into))
    }

    /// Accepts a user's signed device list (its bytes), the own user's included: the first
    /// list of a user pins its user identity; a list signed by another identity goes
    /// through the identity policy; a lower version (or the same with other contents) is
    /// `StaleDeviceList` and changes nothing. Sessions with removed devices and devices
    /// whose key changed are archived.
    pub fn accept_device_list(&self, list: Vec<u8>) -> Result<DeviceListChange, AccountError> {
        let list = bluetick::DeviceList::from_bytes(&list)?;
        Ok(self.inner()?.accept_device_list(&list)?.into())
    }

    /// As the primary: certifies `identity` (32 bytes) as device `device` of the own user;
    /// returns the certificate's bytes.
    pub fn certify_device(
        &self,
        device: u32,
        identity: Vec<u8>,
        issued_at_ms: u64,
    ) -> Result<Vec<u8>, AccountError> {
        let key = identity_key(&identity, "the device identity key")
            .map_err(|(kind, detail)| AccountError::InvalidArgument { kind, detail })?;
        Ok(self
            .inner()?
            .certify_device(device, &key, issued_at_ms)?
            .to_bytes())
    }

    /// As the primary: signs the own user's device list of `version` (this account first,
    /// then `companions`), accepts it as the own user's list and returns its bytes.
    pub fn sign_device_list(
        &self,
        version: u64,
        companions: Vec<DeviceEntry>,
    ) -> Result<Vec<u8>, AccountError> {
        let mut devices = Vec::with_capacity(companions.len());
        for c in companions {
            let key = identity_key(&c.identity, "a companion's identity key")
                .map_err(|(kind, detail)| AccountError::InvalidArgument { kind, detail })?;
            devices.push((c.device, key));
        }
        Ok(self
            .inner()?
            .sign_device_list(version, &devices)?
            .to_bytes())
    }

    /// The newest device list accepted for `user` (its bytes), if any.
    pub fn device_list(&self, user: Vec<u8>) -> Result<Option<Vec<u8>>, AccountError> {
        Ok(self.inner()?.device_list(&user)?.map(|l| l.to_bytes()))
    }

    /// The user identity (32 bytes) pinned for `user`, if any.
    pub fn user_identity(&self, user: Vec<u8>) -> Result<Option<Vec<u8>>, AccountError> {
        Ok(self
            .inner()?
            .user_identity(&user)?
            .map(|k| k.to_bytes().to_vec()))
    }

    /// Trusts `key` (32 bytes) as the user identity of `user` after the people compared
    /// `user_safety_number`; replacing another archives the sessions of its devices.
    pub fn trust_user_identity(&self, user: Vec<u8>, key: Vec<u8>) -> Result<(), AccountError> {
        let key = identity_key(&key, "the user identity key")
            .map_err(|(kind, detail)| AccountError::InvalidArgument { kind, detail })?;
        Ok(self.inner()?.trust_user_identity(&user, &key)?)
    }

    /// The safety number (digits) of this account's user and `user`, over user
    /// identities, once `user`'s identity is pinned.
    pub fn user_safety_number(&self, user: Vec<u8>) -> Result<Option<String>, AccountError> {
        Ok(self
            .inner()?
            .user_safety_number(&user)?
            .map(|n| n.digits().to_owned()))
    }

    /// Starts a session with `peer` from its bundle (bytes from the relay) without sending.
    pub fn start_session(&self, peer: Address, bundle: Vec<u8>) -> Result<(), AccountError> {
        let bundle = PreKeyBundle::from_bytes(&bundle).map_err(AccountError::from)?;
        Ok(self.inner()?.start_session(&self::peer(&peer), &bundle)?)
    }

    /// The devices a send to `user` would reach that lack a usable session: fetch their
    /// bundles and call `start_session`.
    pub fn devices_without_session(&self, user: Vec<u8>) -> Result<Vec<Address>, AccountError> {
        Ok(self
            .inner()?
            .devices_without_session(&user)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Sends `body` to `user` (spec §11): a wire per device of its list and a sent
    /// transcript per other own device, one Lamport step, one transaction.
    pub fn send_to_user(
        &self,
        user: Vec<u8>,
        body: Vec<u8>,
        now_ms: u64,
    ) -> Result<LogicalMessage, AccountError> {
        Ok(self.inner()?.send_to_user(&user, &body, now_ms)?.into())
    }

    /// The status of a logical message (spec §11), if the id is one.
    pub fn logical_status(&self, id: Vec<u8>) -> Result<Option<MessageStatus>, AccountError> {
        Ok(self.inner()?.logical_status(&one_id(&id)?)?.map(Into::into))
    }

    /// Sets the member users of `group` (spec §12); each needs an accepted device list,
    /// and the own user is a member without being named. A removed device makes this
    /// device's sender key rotate before its next group message, and the keys received
    /// from devices no longer in the group are erased.
    pub fn set_group_members(
        &self,
        group: Vec<u8>,
        members: Vec<Vec<u8>>,
        now_ms: u64,
    ) -> Result<(), AccountError> {
        Ok(self.inner()?.set_group_members(&group, &members, now_ms)?)
    }

    /// The member users of `group` as last set (the own user not among them).
    pub fn group_members(&self, group: Vec<u8>) -> Result<Vec<Vec<u8>>, AccountError> {
        Ok(self.inner()?.group_members(&group)?)
    }

    /// The devices a send to `group` may need a session with that lack one.
    pub fn group_devices_without_session(
        &self,
        group: Vec<u8>,
    ) -> Result<Vec<Address>, AccountError> {
        Ok(self
            .inner()?
            .group_devices_without_session(&group)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Deletes everything this device keeps for `group` (spec §12), in one transaction: its
    /// members, this device's sender key, the keys received from the other member devices
    /// and the group's clock. Afterwards its wires are refused as for a group never had,
    /// and `set_group_members` makes it again with a new sender key; its unacknowledged
    /// inbox entries stay until `acknowledge`. An unknown group changes nothing.
    pub fn forget_group(&self, group: Vec<u8>) -> Result<(), AccountError> {
        Ok(self.inner()?.forget_group(&group)?)
    }

    /// Sends `body` to `group` (spec §12): one group wire for the relay's fan-out, the
    /// pairwise distributions and transcripts it needs, one Lamport step, one transaction.
    pub fn send_to_group(
        &self,
        group: Vec<u8>,
        body: Vec<u8>,
        now_ms: u64,
    ) -> Result<GroupSend, AccountError> {
        Ok(self.inner()?.send_to_group(&group, &body, now_ms)?.into())
    }

    /// The unacknowledged messages of `group`, in the display order of spec §10.
    pub fn group_inbox(&self, group: Vec<u8>) -> Result<Vec<InboxEntry>, AccountError> {
        Ok(self
            .inner()?
            .group_inbox(&group)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The Lamport counter of `group`'s conversation (spec §10).
    pub fn group_clock(&self, group: Vec<u8>) -> Result<u64, AccountError> {
        Ok(self.inner()?.group_clock(&group)?)
    }

    /// The per-device statuses of a logical message, if the id is one.
    pub fn message_info(&self, id: Vec<u8>) -> Result<Option<Vec<DeviceStatus>>, AccountError> {
        Ok(self
            .inner()?
            .message_info(&one_id(&id)?)?
            .map(|v| v.into_iter().map(Into::into).collect()))
    }
}

impl Account {
    /// The account, unless closed. A clone of the `Arc`, so `close_store` waits for no one.
    pub(crate) fn inner(&self) -> Result<Arc<bluetick::Account>, AccountError> {
        let closed = || AccountError::InvalidArgument {
            kind: ErrorKind::Closed,
            detail: "the account was closed; open it again to use it".into(),
        };
        if IN_POLICY.with(Cell::get) {
            return Err(AccountError::invalid(
                "an identity policy may not call back into an account; return the answer and act after the call",
            ));
        }
        match self.inner.read() {
            Ok(inner) => inner.clone().ok_or_else(closed),
            Err(_) => Err(closed()),
        }
    }
}
