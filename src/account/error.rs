//! The errors of account operations.

use thiserror::Error;

use super::Address;
use crate::devices::DeviceError;
use crate::error::{BundleError, DecodeError, DecryptionError, EncryptionError, ErrorKind};
use crate::group::GroupError;
use crate::receipt::ReceiptError;
use crate::store::StoreError;
use crate::wire::{InvalidBody, MessageId};

/// An account operation failed; nothing it would have written was written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AccountError {
    /// The store failed, or the storage key is wrong.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The peer's bundle was rejected.
    #[error("bundle: {0}")]
    Bundle(#[from] BundleError),
    /// Encryption failed.
    #[error("encrypt: {0}")]
    Encryption(#[from] EncryptionError),
    /// The message could not be decrypted.
    #[error("decrypt: {0}")]
    Decryption(#[from] DecryptionError),
    /// A receipt was malformed or did not verify.
    #[error("receipt: {0}")]
    Receipt(#[from] ReceiptError),
    /// Stored or supplied bytes did not parse.
    #[error("decode: {0}")]
    Decode(#[from] DecodeError),
    /// No session with the peer: fetch its bundle and pass it to `encrypt`.
    #[error(
        "no session with {0}; fetch the peer's prekey bundle from the relay and pass it to encrypt"
    )]
    NoSession(Address),
    /// The peer's identity changed and the policy did not trust it.
    #[error("the identity key of {0} changed and is not trusted; verify the new safety number with the user, then call trust_identity")]
    UntrustedIdentity(Address),
    /// The message was received before and acknowledged.
    #[error("message {0} was already received and acknowledged; tell the relay to drop it")]
    AlreadyReceived(MessageId),
    /// A message id the account does not know.
    #[error("message {0} is unknown to this account (never sent to or received from that peer)")]
    UnknownMessage(MessageId),
    /// An address's user id is too long.
    #[error("the address user id is longer than 1024 bytes")]
    InvalidAddress,
    /// An application message decrypted to a body without its clock (spec §10): the
    /// message counts as failed and nothing was stored.
    #[error("{0}")]
    InvalidBody(#[from] InvalidBody),
    /// A device list or a device was refused (spec §11): a stale or badly signed list, a
    /// device the accepted list does not name, or a device key it names otherwise.
    #[error("device list: {0}")]
    Device(#[from] DeviceError),
    /// The operation needs this account's own address: call `set_own_address` first.
    #[error(
        "this account's own address (user id and device id) is not set; call set_own_address first"
    )]
    NoOwnAddress,
    /// No device list was accepted for the user: fetch the user's signed list from the
    /// relay and pass it to `accept_device_list`.
    #[error("no device list is accepted for user {}; fetch the user's signed device list from the relay and pass it to accept_device_list", String::from_utf8_lossy(.0))]
    NoDeviceList(Vec<u8>),
    /// A sent transcript came from a device that is not a listed device of this account's
    /// own user (spec §11): refused, nothing stored.
    #[error("a sent transcript came from {0}, which is not a listed device of this account's own user; it is refused")]
    ForeignTranscript(Address),
    /// The session with a device was made with an identity key that is no longer the one
    /// accepted for it (spec §11): nothing is sent on it or accepted from it.
    #[error("the session with {0} was made with an identity key that is no longer accepted for that device; fetch its bundle and start a new session")]
    SessionNotAccepted(Address),
    /// A sent transcript from an own device has a malformed body: refused, nothing stored.
    #[error("a sent transcript is malformed: {0}")]
    InvalidTranscript(&'static str),
    /// A sender key, a group message or a distribution was refused (spec §12).
    #[error("group: {0}")]
    Group(#[from] GroupError),
    /// The group is unknown to this account: call `set_group_members` first.
    #[error("group {} is unknown to this account; call set_group_members first", String::from_utf8_lossy(.0))]
    UnknownGroup(Vec<u8>),
    /// A distribution or a group message came from a device that is not a listed device of
    /// a member user of the group (spec §12): refused, nothing stored.
    #[error("{0} is not a listed device of a member of the group; its distribution or message is refused")]
    NotGroupMember(Address),
    /// A group was given more member users than it may have.
    #[error("a group has at most 1024 users, the own user included, so 1023 others; this one names {0}: split it")]
    TooManyMembers(usize),
}

impl AccountError {
    /// The flat kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Store(e) => e.kind(),
            Self::Bundle(e) => e.kind(),
            Self::Encryption(e) => e.kind(),
            Self::Decryption(e) => e.kind(),
            Self::Receipt(e) => e.kind(),
            Self::Decode(e) => e.kind(),
            Self::NoSession(_) => ErrorKind::NoSession,
            Self::UntrustedIdentity(_) => ErrorKind::UntrustedIdentity,
            Self::AlreadyReceived(_) => ErrorKind::AlreadyReceived,
            Self::UnknownMessage(_) => ErrorKind::UnknownMessage,
            Self::InvalidAddress => ErrorKind::InvalidValue,
            Self::InvalidBody(e) => e.kind(),
            Self::Device(e) => e.kind(),
            Self::NoOwnAddress => ErrorKind::InvalidValue,
            Self::NoDeviceList(_) => ErrorKind::DeviceNotListed,
            Self::ForeignTranscript(_) => ErrorKind::ForeignTranscript,
            Self::SessionNotAccepted(_) => ErrorKind::UntrustedIdentity,
            Self::InvalidTranscript(_) => ErrorKind::InvalidValue,
            Self::Group(e) => e.kind(),
            Self::UnknownGroup(_) => ErrorKind::InvalidValue,
            Self::NotGroupMember(_) => ErrorKind::DeviceNotListed,
            Self::TooManyMembers(_) => ErrorKind::InvalidValue,
        }
    }
}
