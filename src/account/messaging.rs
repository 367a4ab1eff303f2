//! Sending, receiving, receipts, statuses and the inbox.

use zeroize::Zeroizing;

use super::records::{
    acknowledge_inbox, decode_inbox, direct_conversation, group_status_key, load_clock, load_inbox,
    load_inbox_fields, load_outgoing, load_outgoing_at, retain, save_clock, save_inbox,
    save_outgoing, save_outgoing_at, save_pending, InboxRecord, Ring,
};
use super::session_rows::{LoadedSession, PeerSessions};
use super::{prekeys, Account, AccountError, Address};
use crate::bundle::PreKeyBundle;
use crate::clock::DisplayKey;
use crate::devices::DeviceError;
use crate::error::{DecryptionError, EncryptionError, KeyError};
use crate::identity::IdentityKey;
use crate::prekey_store::PreKeyUse;
use crate::receipt::{Receipt, ReceiptKind};
use crate::session::Session;
use crate::status::MessageStatus;
use crate::store::{BufferedTx, SealedTx, Table};
use crate::wire::{ApplicationBody, ContentType, Message, MessageId, PreKeyMessage, WireMessage};

/// What a session opened: the content, and the peer identity of that session.
struct Opened {
    content_type: ContentType,
    body: Vec<u8>,
    sender: IdentityKey,
}

/// An encrypted message for the relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Its id (the relay computes the same from the bytes).
    pub id: MessageId,
    /// The wire bytes.
    pub wire: Vec<u8>,
    /// The Lamport value it carries (spec §10), which places it in the conversation's
    /// display order; 0 for a receipt, which carries none.
    pub lamport: u64,
}

/// What a decrypted message carried. Its `Debug` shows a body's length, not the body.
#[derive(Clone, PartialEq, Eq)]
pub enum Received {
    /// An application message, now in the inbox until [`Account::acknowledge`].
    Message {
        /// Its id.
        id: MessageId,
        /// The Lamport value it carried: its place in the conversation (spec §10).
        lamport: u64,
        /// The sender's wall clock when it sent it (ms since the Unix epoch), to show to
        /// a person; never for ordering.
        sent_at_ms: u64,
        /// What the sender's app sent (the body without its 16-byte clock prefix).
        body: Vec<u8>,
    },
    /// A sent transcript (spec §11): a message another device of this account's own user
    /// sent to `to_user`, now in the inbox (in the conversation with `to_user`) until
    /// [`Account::acknowledge`].
    Transcript {
        /// Its id.
        id: MessageId,
        /// The user the own other device wrote to: the conversation it belongs to.
        to_user: Vec<u8>,
        /// The Lamport value it carried: its place in that conversation (spec §10).
        lamport: u64,
        /// The sending device's wall clock when it sent it (ms since the Unix epoch).
        sent_at_ms: u64,
        /// What the own other device's app sent.
        body: Vec<u8>,
    },
    /// A group message (spec §12), now in the inbox (in the group's conversation) until
    /// [`Account::acknowledge`]; or the sent transcript of one from an own other device
    /// (spec §11), then `from` is that device.
    GroupMessage {
        /// Its id (the group wire's id; a receipt names it).
        id: MessageId,
        /// The group.
        group: Vec<u8>,
        /// The device that wrote it: the one that distributed the sender key, whatever
        /// address the relay attached to the wire.
        from: Address,
        /// The Lamport value it carried: its place in the group's conversation (spec §10).
        lamport: u64,
        /// The sender's wall clock when it sent it (ms since the Unix epoch).
        sent_at_ms: u64,
        /// What the sender's app sent.
        body: Vec<u8>,
    },
    /// A sender key for a group (spec §12), stored: the peer's next group messages open.
    Distribution {
        /// The group.
        group: Vec<u8>,
    },
    /// A receipt, already applied to the statuses of the messages it names.
    Receipt {
        /// Its kind.
        kind: ReceiptKind,
        /// The sender's clock when it was made.
        timestamp_ms: u64,
        /// The messages whose status moved forward, with their new status. A receipt that
        /// arrives late or twice moves nothing and leaves this empty.
        updated: Vec<(MessageId, MessageStatus)>,
    },
}

/// The result of [`Account::decrypt`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    /// The peer it came from.
    pub from: Address,
    /// The peer's identity key.
    pub sender: IdentityKey,
    /// What it carried.
    pub received: Received,
    /// Set when this message used up one-time prekeys and fewer than the low-water mark
    /// remain: call [`Account::replenish_prekeys`] and upload the result.
    pub replenish_prekeys: bool,
}

/// A received message the app has not acknowledged yet. Its `Debug` shows the body's
/// length, not the body.
#[derive(Clone, PartialEq, Eq)]
pub struct InboxEntry {
    /// Its id.
    pub id: MessageId,
    /// The peer it came from: the sender's address.
    pub from: Address,
    /// The Lamport value it carried: its place in the conversation (spec §10).
    pub lamport: u64,
    /// The sender's wall clock when it sent it (ms since the Unix epoch), to show to a
    /// person; never for ordering.
    pub sent_at_ms: u64,
    /// For a sent transcript from an own other device (spec §11): the user it was sent
    /// to, whose conversation it belongs to; `None` for a message from a peer.
    pub transcript_to: Option<Vec<u8>>,
    /// For a group message, or the sent transcript of one (spec §12): the group, whose
    /// conversation it belongs to; `None` outside a group.
    pub group: Option<Vec<u8>>,
    /// What the sender's app sent (the body without its 16-byte clock prefix).
    pub body: Vec<u8>,
}

impl InboxEntry {
    /// Its place in the conversation's display order (spec §10).
    pub fn display_key(&self) -> DisplayKey<'_> {
        DisplayKey::new(self.lamport, &self.from)
    }
}

impl core::fmt::Debug for Received {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Message {
                id,
                lamport,
                sent_at_ms,
                body,
            } => f
                .debug_struct("Message")
                .field("id", id)
                .field("lamport", lamport)
                .field("sent_at_ms", sent_at_ms)
                .field("body_len", &body.len())
                .finish(),
            Self::Transcript {
                id,
                to_user,
                lamport,
                sent_at_ms,
                body,
            } => f
                .debug_struct("Transcript")
                .field("id", id)
                .field("to_user", &String::from_utf8_lossy(to_user))
                .field("lamport", lamport)
                .field("sent_at_ms", sent_at_ms)
                .field("body_len", &body.len())
                .finish(),
            Self::GroupMessage {
                id,
                group,
                from,
                lamport,
                sent_at_ms,
                body,
            } => f
                .debug_struct("GroupMessage")
                .field("id", id)
                .field("group", &String::from_utf8_lossy(group))
                .field("from", from)
                .field("lamport", lamport)
                .field("sent_at_ms", sent_at_ms)
                .field("body_len", &body.len())
                .finish(),
            Self::Distribution { group } => f
                .debug_struct("Distribution")
                .field("group", &String::from_utf8_lossy(group))
                .finish(),
            Self::Receipt {
                kind,
                timestamp_ms,
                updated,
            } => f
                .debug_struct("Receipt")
                .field("kind", kind)
                .field("timestamp_ms", timestamp_ms)
                .field("updated", updated)
                .finish(),
        }
    }
}

impl core::fmt::Debug for InboxEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            id,
            from,
            lamport,
            sent_at_ms,
            transcript_to,
            group,
            body,
        } = self;
        f.debug_struct("InboxEntry")
            .field("id", id)
            .field("from", from)
            .field("lamport", lamport)
            .field("sent_at_ms", sent_at_ms)
            .field(
                "transcript_to",
                &transcript_to.as_deref().map(String::from_utf8_lossy),
            )
            .field("group", &group.as_deref().map(String::from_utf8_lossy))
            .field("body_len", &body.len())
            .finish()
    }
}

pub(crate) fn check_address(peer: &Address) -> Result<(), AccountError> {
    if peer.is_valid() {
        Ok(())
    } else {
        Err(AccountError::InvalidAddress)
    }
}

impl Account {
    /// Encrypts `body` for `peer`. With a `bundle` (fetched from the relay) it starts a new
    /// session first; without one it uses the current session. The message is recorded as
    /// `Pending` until [`Account::mark_sent`].
    ///
    /// The message carries the conversation's next Lamport value (spec §10, returned in
    /// [`Outgoing::lamport`]) and `now_ms`, the caller's wall clock in milliseconds since
    /// the Unix epoch, which the receiver shows as the time it was sent; the clock is
    /// stored in the same transaction as the session.
    pub fn encrypt(
        &self,
        peer: &Address,
        body: &[u8],
        bundle: Option<&PreKeyBundle>,
        now_ms: u64,
    ) -> Result<Outgoing, AccountError> {
        check_address(peer)?;
        let _guard = self.peer_locks.lock(peer);
        let conversation = direct_conversation(&peer.user);
        self.transaction(|tx| {
            let mut clock = load_clock(tx, &conversation)?;
            let lamport = clock.send();
            let app_body = ApplicationBody {
                lamport,
                sent_at_ms: now_ms,
                data: body,
            }
            .to_bytes();
            let mut sessions = PeerSessions::load(tx, peer)?;
            let mut loaded = match bundle {
                Some(bundle) => {
                    self.check_peer(tx, peer, &bundle.identity)?;
                    let session = Session::initiate(&self.identity, bundle, &mut *tx.rng)?;
                    sessions.insert_new(tx, session)?
                }
                None => {
                    let loaded = current_session(tx, &sessions, peer)?;
                    self.require_accepted(tx, peer, &loaded.session.remote_identity)?;
                    loaded
                }
            };
            let out = match loaded.session.encrypt(
                ContentType::Application,
                &app_body,
                &mut *tx.rng,
                None,
            ) {
                Err(EncryptionError::NoSession) => {
                    return Err(AccountError::NoSession(peer.clone()))
                }
                other => other?,
            };
            sessions.commit(tx, loaded)?;
            save_clock(tx, &conversation, clock)?;
            let id = out.id();
            save_pending(tx, id.as_bytes(), peer)?;
            retain(tx, Ring::Outgoing, &id)?;
            Ok(Outgoing {
                id,
                wire: out.wire,
                lamport,
            })
        })
    }

    /// Records the relay's acknowledgement of `id`: the message is at least `Sent`.
    /// For a group message's wire (spec §12), every member device it was fanned out to
    /// is marked.
    pub fn mark_sent(&self, id: &MessageId) -> Result<MessageStatus, AccountError> {
        self.transaction(|tx| {
            if let Some(status) = super::groups::mark_group_sent(tx, id)? {
                return Ok(status);
            }
            let mut record = load_outgoing(tx, id)?.ok_or(AccountError::UnknownMessage(*id))?;
            record.status = record.status.advance(MessageStatus::Sent);
            save_outgoing(tx, id, &record)?;
            Ok(record.status)
        })
    }

    /// The status of an outgoing message.
    pub fn message_status(&self, id: &MessageId) -> Result<Option<MessageStatus>, AccountError> {
        self.transaction(|tx| Ok(load_outgoing(tx, id)?.map(|r| r.status)))
    }

    /// Decrypts a message from `peer`. The new session state and the message (into the
    /// inbox) or the receipt's status changes are committed in one transaction before this
    /// returns; only then may the app tell the relay to drop the message. A redelivery of a
    /// message still in the inbox returns it again; one already acknowledged gives
    /// [`AccountError::AlreadyReceived`]. Any error leaves everything unchanged.
    ///
    /// It takes no clock: a sender key replaced by a distribution it receives, and the
    /// replaced keys of a group message it opens, count their hour (spec §12) on the newest
    /// clock this account was given ([`Account::decrypt_at`], `set_group_members`,
    /// `send_to_group`), which is stale on a device that only receives. Prefer
    /// [`Account::decrypt_at`].
    pub fn decrypt(&self, peer: &Address, wire: &[u8]) -> Result<Incoming, AccountError> {
        self.decrypt_at(peer, wire, 0)
    }

    /// [`Account::decrypt`] at `now_ms`, the caller's wall clock in milliseconds since the
    /// Unix epoch: the clock of the sender keys' hour (spec §12). A distribution that
    /// replaces a sender's key keeps the old key's skipped message keys for one hour of
    /// this clock, and a group message under a replaced key opens only within that hour.
    /// The hour is counted on the newest of `now_ms` and the newest clock the account was
    /// given before, so a clock that goes back extends nothing. A distribution or group
    /// message that is accepted stores `now_ms` as the newest clock when it is newer (a
    /// 1:1 message, which needs no clock, writes nothing more than with `decrypt`); a
    /// refused message changes nothing, its clock included.
    pub fn decrypt_at(
        &self,
        peer: &Address,
        wire: &[u8],
        now_ms: u64,
    ) -> Result<Incoming, AccountError> {
        check_address(peer)?;
        let _guard = self.peer_locks.lock(peer);
        self.transaction(|tx| self.decrypt_in(tx, peer, wire, now_ms))
    }

    /// Decrypts many messages with one durable commit, which is what makes high inbound
    /// rates possible on a phone's storage. Each message succeeds or fails on its own, as
    /// with [`Account::decrypt`]: a failed one writes nothing. The whole batch is committed
    /// before this returns, so the relay may drop every message whose result is `Ok` (or
    /// `AlreadyReceived`). The outer `Err` is a store failure: then nothing was committed.
    ///
    /// Like [`Account::decrypt`], it takes no clock; prefer [`Account::decrypt_batch_at`].
    pub fn decrypt_batch(
        &self,
        messages: &[(Address, Vec<u8>)],
    ) -> Result<Vec<Result<Incoming, AccountError>>, AccountError> {
        self.decrypt_batch_at(messages, 0)
    }

    /// [`Account::decrypt_batch`] at `now_ms`, the caller's wall clock for every message
    /// of the batch, as [`Account::decrypt_at`] uses it.
    pub fn decrypt_batch_at(
        &self,
        messages: &[(Address, Vec<u8>)],
        now_ms: u64,
    ) -> Result<Vec<Result<Incoming, AccountError>>, AccountError> {
        let _guards = self.peer_locks.lock_all(messages.iter().map(|(p, _)| p));
        self.transaction(|tx| {
            let mut results = Vec::with_capacity(messages.len());
            for (peer, wire) in messages {
                if let Err(e) = check_address(peer) {
                    results.push(Err(e));
                    continue;
                }
                let mut buffered = BufferedTx::new(&mut *tx.raw);
                let mut item = SealedTx {
                    raw: &mut buffered,
                    keys: tx.keys,
                    rng: &mut *tx.rng,
                };
                let result = self.decrypt_in(&mut item, peer, wire, now_ms);
                match result {
                    Ok(incoming) => {
                        buffered.flush()?;
                        results.push(Ok(incoming));
                    }
                    Err(AccountError::Store(e)) => return Err(e.into()),
                    Err(e) => results.push(Err(e)),
                }
            }
            Ok(results)
        })
    }

    /// One decryption inside a transaction at `now_ms` (0: the stored clock); see
    /// [`Account::decrypt_at`].
    fn decrypt_in(
        &self,
        tx: &mut SealedTx<'_>,
        peer: &Address,
        wire: &[u8],
        now_ms: u64,
    ) -> Result<Incoming, AccountError> {
        if wire.first() == Some(&crate::constants::GROUP_MESSAGE_TYPE) {
            return self.decrypt_group_in(tx, wire, now_ms);
        }
        let id = MessageId::of(wire);
        match self.decrypt_new(tx, peer, wire, id, now_ms) {
            Err(e @ AccountError::Store(_)) => Err(e),
            // A message that does not open may be one received before: its key is used.
            // The inbox says whether it is still there, only on this path.
            Err(e) => match load_inbox(tx, &id)? {
                Some(entry) if entry.peer == *peer => {
                    let body = entry.data.ok_or(AccountError::AlreadyReceived(id))?;
                    let received = match (entry.group, entry.transcript_to) {
                        (Some(group), _) => Received::GroupMessage {
                            id,
                            group,
                            from: entry.peer,
                            lamport: entry.lamport,
                            sent_at_ms: entry.sent_at_ms,
                            body: body.to_vec(),
                        },
                        (None, Some(to_user)) => Received::Transcript {
                            id,
                            to_user,
                            lamport: entry.lamport,
                            sent_at_ms: entry.sent_at_ms,
                            body: body.to_vec(),
                        },
                        (None, None) => Received::Message {
                            id,
                            lamport: entry.lamport,
                            sent_at_ms: entry.sent_at_ms,
                            body: body.to_vec(),
                        },
                    };
                    Ok(Incoming {
                        from: peer.clone(),
                        sender: entry.sender,
                        received,
                        replenish_prekeys: false,
                    })
                }
                // A receipt leaves no inbox entry; its used key says it came before.
                _ => match e {
                    AccountError::Decryption(DecryptionError::DuplicateMessage) => {
                        Err(AccountError::AlreadyReceived(id))
                    }
                    e => Err(e),
                },
            },
            ok => ok,
        }
    }

    /// Decrypts a message not seen before at `now_ms` and commits what it carried.
    fn decrypt_new(
        &self,
        tx: &mut SealedTx<'_>,
        peer: &Address,
        wire: &[u8],
        id: MessageId,
        now_ms: u64,
    ) -> Result<Incoming, AccountError> {
        let mut sessions = PeerSessions::load(tx, peer)?;
        // For a user bound to device lists (spec §11), the key its list names for this
        // device, read before any cryptography: a device the list does not name is refused
        // here, and so is a PreKeyMessage under another key.
        let listed = self.listed_key(tx, peer)?;
        let (decrypted, new_session) =
            match WireMessage::parse(wire).map_err(DecryptionError::from)? {
                WireMessage::Message(m) => (self.open_message(tx, &mut sessions, &m)?, None),
                WireMessage::PreKey(m) => {
                    if listed.is_some_and(|k| k != m.identity_key) {
                        return Err(DeviceError::KeyChanged(peer.device).into());
                    }
                    self.open_prekey_message(tx, &mut sessions, &m)?
                }
            };
        // The session that opened it must be bound to the accepted identity.
        match listed {
            Some(k) if k != *decrypted.sender.as_bytes() => {
                return Err(DeviceError::KeyChanged(peer.device).into())
            }
            Some(_) => {}
            None => self.trust_check(tx, peer, &decrypted.sender)?,
        }
        let mut replenish = false;
        if let Some(used) = &new_session {
            prekeys::consume(tx, used)?;
            replenish = prekeys::counts(tx, &self.config)?.low;
        }
        let received = match decrypted.content_type {
            ContentType::Application => {
                let body = Zeroizing::new(decrypted.body);
                // A body without its clock fails the whole message: nothing is committed.
                let app = ApplicationBody::parse(&body)?;
                let conversation = direct_conversation(&peer.user);
                let mut clock = load_clock(tx, &conversation)?;
                let before = clock;
                clock.receive(app.lamport);
                if clock != before {
                    save_clock(tx, &conversation, clock)?;
                }
                let record = InboxRecord {
                    peer: peer.clone(),
                    sender: decrypted.sender,
                    lamport: app.lamport,
                    sent_at_ms: app.sent_at_ms,
                    transcript_to: None,
                    group: None,
                    data: Some(Zeroizing::new(app.data.to_vec())),
                };
                save_inbox(tx, &id, &record)?;
                Received::Message {
                    id,
                    lamport: app.lamport,
                    sent_at_ms: app.sent_at_ms,
                    body: app.data.to_vec(),
                }
            }
            ContentType::Receipt => {
                self.apply_receipt(tx, peer, &decrypted.sender, &decrypted.body)?
            }
            ContentType::Transcript => {
                let body = Zeroizing::new(decrypted.body);
                self.receive_transcript(tx, peer, &decrypted.sender, id, &body)?
            }
            ContentType::Distribution => {
                let body = Zeroizing::new(decrypted.body);
                self.receive_distribution(tx, peer, &decrypted.sender, &body, now_ms)?
            }
        };
        Ok(Incoming {
            from: peer.clone(),
            sender: decrypted.sender,
            received,
            replenish_prekeys: replenish,
        })
    }

    /// Opens a `Message` on the session spec §4 picks, and commits that session.
    fn open_message(
        &self,
        tx: &mut SealedTx<'_>,
        sessions: &mut PeerSessions,
        message: &Message<'_>,
    ) -> Result<Opened, AccountError> {
        let mut first_error = None;
        for position in sessions
            .message_candidates(&message.header.ratchet_key)
            .into_iter()
            .flatten()
        {
            let mut loaded = sessions.read(tx, position, true)?;
            match loaded.session.decrypt(message, &mut *tx.rng) {
                Ok((content_type, body)) => {
                    let sender = loaded.session.remote_identity;
                    sessions.commit(tx, loaded)?;
                    return Ok(Opened {
                        content_type,
                        body,
                        sender,
                    });
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or(DecryptionError::NoSession).into())
    }

    /// Opens a `PreKeyMessage`: on the session it started, found by its raw `(EK_A, IK_A)`
    /// before anything is validated, or on a new session (spec §3), whose prekeys it
    /// returns for the caller to consume.
    fn open_prekey_message(
        &self,
        tx: &mut SealedTx<'_>,
        sessions: &mut PeerSessions,
        message: &PreKeyMessage<'_>,
    ) -> Result<(Opened, Option<PreKeyUse>), AccountError> {
        let digest = Session::digest_prefix(message.prefix);
        if let Some(position) =
            sessions.find_prekey_session(&message.base_key, &message.identity_key)
        {
            let mut loaded = sessions.read(tx, position, true)?;
            // The same base key with other fields is not the message that made the session.
            if loaded.session.prekey_digest.is_some_and(|d| d != digest) {
                return Err(DecryptionError::AuthenticationFailed.into());
            }
            let opened = open_in(&mut loaded, &message.message, tx)?;
            sessions.commit(tx, loaded)?;
            return Ok((opened, None));
        }
        let sender =
            IdentityKey::from_bytes(&message.identity_key).map_err(DecryptionError::from)?;
        // X25519 ignores bit 255, so without this check a flipped bit would give a second
        // encoding of the same base key that authenticates like the original.
        if !crate::primitives::x25519::is_canonical(&message.base_key) {
            return Err(
                DecryptionError::from(KeyError::NonCanonicalKey { what: "base key" }).into(),
            );
        }
        let staged = prekeys::stage_for(tx, message)?;
        let (session, used) = Session::respond(&self.identity, &staged, message, sender, digest)?;
        let mut loaded = sessions.insert_new(tx, session)?;
        let opened = open_in(&mut loaded, &message.message, tx)?;
        sessions.commit(tx, loaded)?;
        Ok((opened, Some(used)))
    }

    fn apply_receipt(
        &self,
        tx: &mut SealedTx<'_>,
        peer: &Address,
        signer: &IdentityKey,
        body: &[u8],
    ) -> Result<Received, AccountError> {
        let receipt = Receipt::parse(body)?;
        let mut records = Vec::with_capacity(receipt.ids.len());
        for id in &receipt.ids {
            // A wire sent to this device alone, or a group message fanned out to it.
            let record = match load_outgoing(tx, id)?.filter(|r| r.peer == *peer) {
                Some(r) => Some((id.as_bytes().to_vec(), r)),
                None => {
                    let key = group_status_key(id, peer);
                    load_outgoing_at(tx, &key)?
                        .filter(|r| r.peer == *peer)
                        .map(|r| (key, r))
                }
            };
            records.push(record);
        }
        receipt.verify(signer, self.identity.public(), |id| {
            receipt
                .ids
                .iter()
                .position(|x| x == id)
                .and_then(|i| records.get(i))
                .is_some_and(Option::is_some)
        })?;
        let to = if receipt.kind.is_read() {
            MessageStatus::Read
        } else {
            MessageStatus::Delivered
        };
        let mut updated = Vec::new();
        for (id, record) in receipt.ids.iter().zip(records) {
            let Some((key, mut record)) = record else {
                continue;
            };
            let new = record.status.advance(to);
            if new != record.status {
                record.status = new;
                save_outgoing_at(tx, &key, &record)?;
                updated.push((*id, new));
            }
        }
        Ok(Received::Receipt {
            kind: receipt.kind,
            timestamp_ms: receipt.timestamp_ms,
            updated,
        })
    }

    /// Marks an inbox entry as stored by the app: its body is erased from the store, and a
    /// redelivery of the same message is recognised. Call it before telling the relay to
    /// drop the message.
    pub fn acknowledge(&self, id: &MessageId) -> Result<(), AccountError> {
        self.transaction(|tx| match acknowledge_inbox(tx, id)? {
            None => Err(AccountError::UnknownMessage(*id)),
            Some(false) => Ok(()),
            Some(true) => retain(tx, Ring::Tombstones, id),
        })
    }

    /// Received messages not yet acknowledged (after a crash, the app stores these first).
    pub fn inbox(&self) -> Result<Vec<InboxEntry>, AccountError> {
        self.transaction(|tx| read_inbox(tx, |_, _, _| true))
    }

    /// The unacknowledged messages of the conversation with the user `peer_user` (every
    /// device of that user, and the sent transcripts of the own other devices to that
    /// user, spec §11), in the display order of spec §10: ascending `(lamport, sender
    /// user id (shorter first, then bytewise), sender device id)`, the same on every
    /// device; messages that tie on all three (only possible once a clock saturates) follow
    /// their ids. A message written after its sender received another comes after it,
    /// whatever order the relay delivered them in.
    pub fn conversation_inbox(&self, peer_user: &[u8]) -> Result<Vec<InboxEntry>, AccountError> {
        check_address(&Address::new(peer_user, 0))?;
        self.transaction(|tx| {
            let mut entries = read_inbox(tx, |peer, to, group| match (group, to) {
                (Some(_), _) => false,
                (None, Some(to)) => to == peer_user,
                (None, None) => peer.user == peer_user,
            })?;
            entries.sort_by(|a, b| {
                a.display_key()
                    .cmp(&b.display_key())
                    .then_with(|| a.id.cmp(&b.id))
            });
            Ok(entries)
        })
    }

    /// The Lamport counter of the conversation with the user `peer_user` (spec §10): the
    /// value of the last message sent or the largest received, 0 before the first.
    pub fn conversation_clock(&self, peer_user: &[u8]) -> Result<u64, AccountError> {
        check_address(&Address::new(peer_user, 0))?;
        let conversation = direct_conversation(peer_user);
        self.transaction(|tx| Ok(load_clock(tx, &conversation)?.value()))
    }

    /// Encrypts a receipt for messages received from `peer`: delivery or read, signed or
    /// deniable by `kind`. Every id must be a message received from that peer.
    pub fn create_receipt(
        &self,
        peer: &Address,
        kind: ReceiptKind,
        ids: &[MessageId],
        now_ms: u64,
    ) -> Result<Outgoing, AccountError> {
        check_address(peer)?;
        let _guard = self.peer_locks.lock(peer);
        self.transaction(|tx| {
            for id in ids {
                match load_inbox_fields(tx, id)? {
                    Some(entry) if entry.peer == *peer => {}
                    _ => return Err(AccountError::UnknownMessage(*id)),
                }
            }
            let mut sessions = PeerSessions::load(tx, peer)?;
            let mut loaded = current_session(tx, &sessions, peer)?;
            let peer_key = loaded.session.remote_identity;
            self.require_accepted(tx, peer, &peer_key)?;
            let receipt = Receipt::create(&self.identity, &peer_key, kind, now_ms, ids)?;
            let out = loaded.session.encrypt(
                ContentType::Receipt,
                &receipt.to_bytes(),
                &mut *tx.rng,
                None,
            )?;
            sessions.commit(tx, loaded)?;
            Ok(Outgoing {
                id: out.id(),
                wire: out.wire,
                lamport: 0,
            })
        })
    }
}

/// The inbox entries (not tombstones) whose sender, transcript recipient and group `keep`
/// accepts.
pub(super) fn read_inbox(
    tx: &mut SealedTx<'_>,
    keep: impl Fn(&Address, Option<&[u8]>, Option<&[u8]>) -> bool,
) -> Result<Vec<InboxEntry>, AccountError> {
    let mut out = Vec::new();
    for (key, value) in tx.scan(Table::Inbox)? {
        let record = decode_inbox(&value)?;
        if !keep(
            &record.peer,
            record.transcript_to.as_deref(),
            record.group.as_deref(),
        ) {
            continue;
        }
        if let (Some(data), Ok(id)) = (record.data, <[u8; 16]>::try_from(key.as_slice())) {
            out.push(InboxEntry {
                id: MessageId(id),
                from: record.peer,
                lamport: record.lamport,
                sent_at_ms: record.sent_at_ms,
                transcript_to: record.transcript_to,
                group: record.group,
                body: data.to_vec(),
            });
        }
    }
    Ok(out)
}

/// The current session with `peer`, without its skipped keys (sending needs none).
fn current_session(
    tx: &mut SealedTx<'_>,
    sessions: &PeerSessions,
    peer: &Address,
) -> Result<LoadedSession, AccountError> {
    let position = sessions
        .current()
        .ok_or_else(|| AccountError::NoSession(peer.clone()))?;
    sessions.read(tx, position, false)
}

/// Decrypts `message` on a loaded session (nothing is written until it is committed).
fn open_in(
    loaded: &mut LoadedSession,
    message: &Message<'_>,
    tx: &mut SealedTx<'_>,
) -> Result<Opened, AccountError> {
    let (content_type, body) = loaded.session.decrypt(message, &mut *tx.rng)?;
    Ok(Opened {
        content_type,
        body,
        sender: loaded.session.remote_identity,
    })
}
