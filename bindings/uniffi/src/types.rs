//! The records and enums that cross the boundary, with their conversions from the core
//! crate's types. Keys, ids and encodings cross as bytes.

use bluetick::{MessageId, Received as CoreReceived};

use crate::error::{AccountError, ErrorKind, ProtocolError};

/// Length of a message id.
pub(crate) const MESSAGE_ID_LEN: usize = 16;
/// Length of an identity key.
pub(crate) const KEY_LEN: usize = 32;

/// Where a peer device is: the app's user id (any bytes, up to 1024) and a device number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, uniffi::Record)]
pub struct Address {
    /// The app's user identifier.
    pub user: Vec<u8>,
    /// The device number within that user.
    pub device: u32,
}

impl From<&Address> for bluetick::Address {
    fn from(a: &Address) -> Self {
        bluetick::Address::new(a.user.clone(), a.device)
    }
}

impl From<bluetick::Address> for Address {
    fn from(a: bluetick::Address) -> Self {
        Self {
            user: a.user,
            device: a.device,
        }
    }
}

/// How many prekeys an account keeps published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AccountConfig {
    /// One-time X25519 prekeys to keep on the relay.
    #[uniffi(default = 50)]
    pub one_time_prekeys: u32,
    /// One-time ML-KEM prekeys to keep on the relay.
    #[uniffi(default = 50)]
    pub one_time_pq_prekeys: u32,
    /// Below this many of either kind, operations report that the app should replenish.
    #[uniffi(default = 10)]
    pub low_water_mark: u32,
}

impl From<AccountConfig> for bluetick::AccountConfig {
    fn from(c: AccountConfig) -> Self {
        Self {
            one_time_prekeys: c.one_time_prekeys,
            one_time_pq_prekeys: c.one_time_pq_prekeys,
            low_water_mark: c.low_water_mark,
        }
    }
}

/// An encrypted message (or receipt) for the relay.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Outgoing {
    /// Its 16-byte id (the relay computes the same from the bytes).
    pub id: Vec<u8>,
    /// The wire bytes.
    pub wire: Vec<u8>,
    /// The Lamport value it carries (spec §10): its place in the conversation's display
    /// order; 0 for what carries no clock (a receipt, a bare session's message).
    pub lamport: u64,
}

impl From<bluetick::Outgoing> for Outgoing {
    fn from(o: bluetick::Outgoing) -> Self {
        Self {
            id: o.id.0.to_vec(),
            wire: o.wire,
            lamport: o.lamport,
        }
    }
}

/// The status of an outgoing message; it only moves forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum MessageStatus {
    /// Encrypted, not yet accepted by the relay.
    Pending,
    /// Accepted by the relay (one grey tick).
    Sent,
    /// Delivered to the peer's device (two grey ticks).
    Delivered,
    /// Read by the peer (two blue ticks).
    Read,
}

impl From<bluetick::MessageStatus> for MessageStatus {
    fn from(s: bluetick::MessageStatus) -> Self {
        match s {
            bluetick::MessageStatus::Pending => Self::Pending,
            bluetick::MessageStatus::Sent => Self::Sent,
            bluetick::MessageStatus::Delivered => Self::Delivered,
            bluetick::MessageStatus::Read => Self::Read,
        }
    }
}

/// What a receipt acknowledges, and whether it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ReceiptKind {
    /// Signed delivery receipt (`0x01`).
    Delivered,
    /// Signed read receipt (`0x02`).
    Read,
    /// Deniable delivery receipt (`0x81`), authenticated by the session alone.
    DeniableDelivered,
    /// Deniable read receipt (`0x82`).
    DeniableRead,
}

impl From<ReceiptKind> for bluetick::ReceiptKind {
    fn from(k: ReceiptKind) -> Self {
        match k {
            ReceiptKind::Delivered => Self::Delivered,
            ReceiptKind::Read => Self::Read,
            ReceiptKind::DeniableDelivered => Self::DeniableDelivered,
            ReceiptKind::DeniableRead => Self::DeniableRead,
        }
    }
}

impl From<bluetick::ReceiptKind> for ReceiptKind {
    fn from(k: bluetick::ReceiptKind) -> Self {
        match k {
            bluetick::ReceiptKind::Delivered => Self::Delivered,
            bluetick::ReceiptKind::Read => Self::Read,
            bluetick::ReceiptKind::DeniableDelivered => Self::DeniableDelivered,
            bluetick::ReceiptKind::DeniableRead => Self::DeniableRead,
        }
    }
}

/// The content type inside a session message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ContentType {
    /// Application data (`0x01`).
    Application,
    /// A receipt (`0x02`).
    Receipt,
    /// A group sender key distribution (`0x03`, spec §12).
    Distribution,
    /// A sent transcript for the sender's own other devices (`0x04`, spec §11).
    Transcript,
}

impl From<ContentType> for bluetick::ContentType {
    fn from(c: ContentType) -> Self {
        match c {
            ContentType::Application => Self::Application,
            ContentType::Receipt => Self::Receipt,
            ContentType::Distribution => Self::Distribution,
            ContentType::Transcript => Self::Transcript,
        }
    }
}

impl From<bluetick::ContentType> for ContentType {
    fn from(c: bluetick::ContentType) -> Self {
        match c {
            bluetick::ContentType::Application => Self::Application,
            bluetick::ContentType::Receipt => Self::Receipt,
            bluetick::ContentType::Distribution => Self::Distribution,
            bluetick::ContentType::Transcript => Self::Transcript,
        }
    }
}

/// The kind of a PQ prekey.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum PqPreKeyKind {
    /// Deleted after the first session that uses it.
    OneTime,
    /// Used when no one-time PQ prekey is left; kept until rotated.
    LastResort,
}

impl From<PqPreKeyKind> for bluetick::PqPreKeyKind {
    fn from(k: PqPreKeyKind) -> Self {
        match k {
            PqPreKeyKind::OneTime => Self::OneTime,
            PqPreKeyKind::LastResort => Self::LastResort,
        }
    }
}

/// A message whose status a receipt moved forward, with its new status.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct StatusUpdate {
    /// The message's 16-byte id.
    pub id: Vec<u8>,
    /// Its new status.
    pub status: MessageStatus,
}

/// What a decrypted message carried.
#[derive(Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Received {
    /// An application message, now in the inbox until `acknowledge`.
    Message {
        /// Its 16-byte id.
        id: Vec<u8>,
        /// The Lamport value it carried: its place in the conversation (spec §10).
        lamport: u64,
        /// The sender's wall clock when it sent it (ms since the Unix epoch), to show to a
        /// person; never for ordering.
        sent_at_ms: u64,
        /// What the sender's app sent (without the 16-byte clock prefix).
        body: Vec<u8>,
    },
    /// A sent transcript (spec §11): a message another device of the own user sent to
    /// `to_user`, now in the inbox (in the conversation with `to_user`) until `acknowledge`.
    Transcript {
        /// Its 16-byte id.
        id: Vec<u8>,
        /// The user the own other device wrote to.
        to_user: Vec<u8>,
        /// The Lamport value it carried (spec §10).
        lamport: u64,
        /// The sending device's wall clock when it sent it (ms since the Unix epoch).
        sent_at_ms: u64,
        /// What the own other device's app sent.
        body: Vec<u8>,
    },
    /// A group message (spec §12), or the sent transcript of one from an own other device,
    /// now in the inbox (in the group's conversation) until `acknowledge`.
    GroupMessage {
        /// Its 16-byte id (the group wire's id; receipts name it).
        id: Vec<u8>,
        /// The group.
        group: Vec<u8>,
        /// The device that wrote it (whatever address the relay attached).
        from: Address,
        /// The Lamport value it carried (spec §10).
        lamport: u64,
        /// The sender's wall clock when it sent it (ms since the Unix epoch).
        sent_at_ms: u64,
        /// What the sender's app sent.
        body: Vec<u8>,
    },
    /// A group sender key (spec §12), stored.
    Distribution {
        /// The group.
        group: Vec<u8>,
    },
    /// A receipt, already applied to the statuses of the messages it names.
    Receipt {
        /// Its kind.
        kind: ReceiptKind,
        /// The sender's clock when it was made (ms since the Unix epoch).
        timestamp_ms: u64,
        /// The messages whose status moved forward (empty for a late or repeated receipt).
        updated: Vec<StatusUpdate>,
    },
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
                .field("to_user", to_user)
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
                .field("group", group)
                .field("from", from)
                .field("lamport", lamport)
                .field("sent_at_ms", sent_at_ms)
                .field("body_len", &body.len())
                .finish(),
            Self::Distribution { group } => f
                .debug_struct("Distribution")
                .field("group", group)
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

impl From<CoreReceived> for Received {
    fn from(r: CoreReceived) -> Self {
        match r {
            CoreReceived::Message {
                id,
                lamport,
                sent_at_ms,
                body,
            } => Self::Message {
                id: id.0.to_vec(),
                lamport,
                sent_at_ms,
                body,
            },
            CoreReceived::Transcript {
                id,
                to_user,
                lamport,
                sent_at_ms,
                body,
            } => Self::Transcript {
                id: id.0.to_vec(),
                to_user,
                lamport,
                sent_at_ms,
                body,
            },
            CoreReceived::GroupMessage {
                id,
                group,
                from,
                lamport,
                sent_at_ms,
                body,
            } => Self::GroupMessage {
                id: id.0.to_vec(),
                group,
                from: from.into(),
                lamport,
                sent_at_ms,
                body,
            },
            CoreReceived::Distribution { group } => Self::Distribution { group },
            CoreReceived::Receipt {
                kind,
                timestamp_ms,
                updated,
            } => Self::Receipt {
                kind: kind.into(),
                timestamp_ms,
                updated: updated
                    .into_iter()
                    .map(|(id, status)| StatusUpdate {
                        id: id.0.to_vec(),
                        status: status.into(),
                    })
                    .collect(),
            },
        }
    }
}

/// A decrypted message, committed to the store before it is returned.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Incoming {
    /// The peer it came from.
    pub from: Address,
    /// The peer's 32-byte identity key.
    pub sender: Vec<u8>,
    /// What it carried.
    pub received: Received,
    /// Set when one-time prekeys ran low: call `replenish_prekeys` and upload the result.
    pub replenish_prekeys: bool,
}

impl From<bluetick::Incoming> for Incoming {
    fn from(i: bluetick::Incoming) -> Self {
        Self {
            from: i.from.into(),
            sender: i.sender.to_bytes().to_vec(),
            received: i.received.into(),
            replenish_prekeys: i.replenish_prekeys,
        }
    }
}

/// A received message the app has not acknowledged yet.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct InboxEntry {
    /// Its 16-byte id.
    pub id: Vec<u8>,
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
    /// For a group message or the sent transcript of one (spec §12): the group; `None`
    /// outside a group.
    pub group: Option<Vec<u8>>,
    /// What the sender's app sent (without the 16-byte clock prefix).
    pub body: Vec<u8>,
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
            .field("transcript_to", transcript_to)
            .field("group", group)
            .field("body_len", &body.len())
            .finish()
    }
}

impl From<bluetick::InboxEntry> for InboxEntry {
    fn from(e: bluetick::InboxEntry) -> Self {
        Self {
            id: e.id.0.to_vec(),
            from: e.from.into(),
            lamport: e.lamport,
            sent_at_ms: e.sent_at_ms,
            transcript_to: e.transcript_to,
            group: e.group,
            body: e.body,
        }
    }
}

/// One message of a `decrypt_batch`: who sent it and its wire bytes.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct BatchMessage {
    /// The peer it came from.
    pub peer: Address,
    /// Its wire bytes.
    pub wire: Vec<u8>,
}

/// The result of one message of a `decrypt_batch`.
#[derive(Debug, uniffi::Enum)]
pub enum BatchOutcome {
    /// Decrypted and committed.
    Decrypted {
        /// As `decrypt` returns it.
        incoming: Incoming,
    },
    /// Refused; this message changed nothing.
    Failed {
        /// Why, as `decrypt` would have raised it.
        error: AccountError,
    },
}

/// How many one-time prekeys the account still holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PreKeyCounts {
    /// One-time X25519 prekeys.
    pub one_time_prekeys: u32,
    /// One-time ML-KEM prekeys.
    pub one_time_pq_prekeys: u32,
    /// Whether either is below the low-water mark: replenish and upload.
    pub low: bool,
}

impl From<bluetick::PreKeyCounts> for PreKeyCounts {
    fn from(c: bluetick::PreKeyCounts) -> Self {
        Self {
            one_time_prekeys: c.one_time_prekeys,
            one_time_pq_prekeys: c.one_time_pq_prekeys,
            low: c.low,
        }
    }
}

/// What `Session.decrypt` returns.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct Decrypted {
    /// Application data or a receipt.
    pub content_type: ContentType,
    /// The body.
    pub body: Vec<u8>,
    /// The sender's 32-byte identity key.
    pub sender: Vec<u8>,
    /// How many bytes of scripted randomness the call used.
    pub randomness_used: u64,
}

impl core::fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            content_type,
            body,
            sender,
            randomness_used,
        } = self;
        f.debug_struct("Decrypted")
            .field("content_type", content_type)
            .field("body_len", &body.len())
            .field("sender", sender)
            .field("randomness_used", randomness_used)
            .finish()
    }
}

/// A verified receipt's kind and the signer's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct VerifiedReceipt {
    /// Its kind.
    pub kind: ReceiptKind,
    /// The signer's clock when it was made (ms since the Unix epoch).
    pub timestamp_ms: u64,
}

/// A 16-byte message id, or an error naming the argument.
pub(crate) fn message_id(bytes: &[u8], what: &str) -> Result<MessageId, String> {
    <[u8; MESSAGE_ID_LEN]>::try_from(bytes)
        .map(MessageId)
        .map_err(|_| {
            format!(
                "{what} is {} bytes; a message id is {MESSAGE_ID_LEN} bytes",
                bytes.len()
            )
        })
}

/// A list of message ids for the account layer.
pub(crate) fn account_ids(ids: &[Vec<u8>]) -> Result<Vec<MessageId>, AccountError> {
    ids.iter()
        .map(|i| message_id(i, "a message id").map_err(AccountError::invalid))
        .collect()
}

/// A list of message ids for the protocol layer.
pub(crate) fn protocol_ids(ids: &[Vec<u8>], what: &str) -> Result<Vec<MessageId>, ProtocolError> {
    ids.iter()
        .map(|i| message_id(i, what).map_err(ProtocolError::invalid))
        .collect()
}

/// A 32-byte identity key, or the kind and message of why not.
pub(crate) fn identity_key(
    bytes: &[u8],
    what: &str,
) -> Result<bluetick::IdentityKey, (ErrorKind, String)> {
    let array = <[u8; KEY_LEN]>::try_from(bytes).map_err(|_| {
        (
            ErrorKind::InvalidIdentityKey,
            format!(
                "{what} is {} bytes; an identity key is {KEY_LEN} bytes",
                bytes.len()
            ),
        )
    })?;
    bluetick::IdentityKey::from_bytes(&array).map_err(|e| (e.kind().into(), format!("{what}: {e}")))
}

/// What accepting a device list changed (spec §11), by device id.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct DeviceListChange {
    /// Devices the new list names and the previous did not (all of them for a first list).
    pub added: Vec<u32>,
    /// Devices the previous list named and the new one does not: sent nothing more.
    pub removed: Vec<u32>,
    /// Devices named with another key: their old sessions are archived.
    pub changed: Vec<u32>,
}

impl From<bluetick::DeviceListChange> for DeviceListChange {
    fn from(c: bluetick::DeviceListChange) -> Self {
        Self {
            added: c.added,
            removed: c.removed,
            changed: c.changed,
        }
    }
}

/// A companion device for `sign_device_list`: its id and 32-byte identity key.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct DeviceEntry {
    /// The device id.
    pub device: u32,
    /// Its 32-byte identity key.
    pub identity: Vec<u8>,
}

/// One wire of a logical message, for the relay.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceWire {
    /// The device it is for.
    pub to: Address,
    /// Its 16-byte message id: pass it to `mark_sent` when the relay acknowledges it.
    pub id: Vec<u8>,
    /// The wire bytes.
    pub wire: Vec<u8>,
    /// Set for a sent transcript to an own other device.
    pub transcript: bool,
}

impl core::fmt::Debug for DeviceWire {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            to,
            id,
            wire,
            transcript,
        } = self;
        f.debug_struct("DeviceWire")
            .field("to", to)
            .field("id", id)
            .field("wire_len", &wire.len())
            .field("transcript", transcript)
            .finish()
    }
}

/// One send to a user (spec §11): one id for the app, a wire per device.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct LogicalMessage {
    /// Its 16-byte id, for `logical_status` and `message_info`.
    pub id: Vec<u8>,
    /// The Lamport value it carries (spec §10).
    pub lamport: u64,
    /// One wire per recipient device, then one sent transcript per own other device.
    pub wires: Vec<DeviceWire>,
}

impl From<bluetick::LogicalMessage> for LogicalMessage {
    fn from(m: bluetick::LogicalMessage) -> Self {
        Self {
            id: m.id.0.to_vec(),
            lamport: m.lamport,
            wires: m
                .wires
                .into_iter()
                .map(|w| DeviceWire {
                    to: w.to.into(),
                    id: w.id.0.to_vec(),
                    wire: w.wire,
                    transcript: w.transcript,
                })
                .collect(),
        }
    }
}

/// One send to a group (spec §12): one id for the app, one group wire for the relay's
/// fan-out, and the pairwise wires it needs.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct GroupSend {
    /// Its 16-byte id, for `logical_status` and `message_info`.
    pub id: Vec<u8>,
    /// The Lamport value it carries (spec §10).
    pub lamport: u64,
    /// The group message wire, for every device of `recipients`.
    pub group_wire: Vec<u8>,
    /// The group wire's 16-byte id (for `mark_sent`; receipts name it).
    pub group_wire_id: Vec<u8>,
    /// The member devices the group wire is for.
    pub recipients: Vec<Address>,
    /// Pairwise sender key distributions, to deliver before the group wire.
    pub distributions: Vec<DeviceWire>,
    /// Pairwise sent transcripts to the own other devices.
    pub transcripts: Vec<DeviceWire>,
}

fn device_wires(wires: Vec<bluetick::DeviceWire>) -> Vec<DeviceWire> {
    wires
        .into_iter()
        .map(|w| DeviceWire {
            to: w.to.into(),
            id: w.id.0.to_vec(),
            wire: w.wire,
            transcript: w.transcript,
        })
        .collect()
}

impl From<bluetick::GroupSend> for GroupSend {
    fn from(m: bluetick::GroupSend) -> Self {
        Self {
            id: m.id.0.to_vec(),
            lamport: m.lamport,
            group_wire: m.group_wire,
            group_wire_id: m.group_wire_id.0.to_vec(),
            recipients: m.recipients.into_iter().map(Into::into).collect(),
            distributions: device_wires(m.distributions),
            transcripts: device_wires(m.transcripts),
        }
    }
}

/// The status of one wire of a logical message ("message info").
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct DeviceStatus {
    /// The device the wire went to.
    pub to: Address,
    /// The wire's 16-byte message id.
    pub id: Vec<u8>,
    /// The wire's status.
    pub status: MessageStatus,
    /// Set for a sent transcript, which does not count toward the logical status.
    pub transcript: bool,
}

impl From<bluetick::DeviceStatus> for DeviceStatus {
    fn from(s: bluetick::DeviceStatus) -> Self {
        Self {
            to: s.to.into(),
            id: s.id.0.to_vec(),
            status: s.status.into(),
            transcript: s.transcript,
        }
    }
}
