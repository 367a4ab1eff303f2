//! The errors of the generated layers: one enum per operation family ([`AccountError`] for
//! accounts, [`ProtocolError`] for the protocol layer), each variant carrying the flat
//! [`ErrorKind`] and the core crate's actionable message. Every language maps a failure the
//! same way because it is this one Rust mapping.

use bluetick::error::{BundleError, DecodeError, DecryptionError, EncryptionError, KeyError};
use bluetick::receipt::ReceiptError;
use bluetick::StoreError;

/// Every kind of failure, one value each: the core crate's `ErrorKind` (same names as in
/// `vectors/invalid.json`) plus the binding's own `InvalidArgument` and `Closed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ErrorKind {
    /// Input ended before the structure did.
    Truncated,
    /// Bytes followed the end of the structure.
    TrailingBytes,
    /// The first byte of a wire message is not a known `(version, type)`.
    UnknownMessageType,
    /// A versioned encoding carries a version this build does not read.
    UnsupportedVersion,
    /// A flag byte is neither 0 nor 1.
    InvalidFlag,
    /// A ciphertext is shorter than the AEAD tag.
    CiphertextTooShort,
    /// A message is longer than the largest allowed plaintext permits.
    MessageTooLong,
    /// A field of an encoding holds a value outside its allowed range.
    InvalidValue,
    /// An identity key is not a valid, canonical, torsion-free Ed25519 point.
    InvalidIdentityKey,
    /// A signature does not verify under the identity key.
    BadSignature,
    /// An X25519 key has small order.
    LowOrderKey,
    /// An X25519 public key is not canonically encoded.
    NonCanonicalKey,
    /// An ML-KEM-1024 encapsulation key fails the FIPS 203 input check.
    InvalidKemKey,
    /// A PreKeyMessage names a prekey this party does not hold.
    UnknownPreKey,
    /// A PreKeyMessage reuses a base key already accepted for the same prekeys.
    PreKeyReplay,
    /// No session with the peer.
    NoSession,
    /// The message key was already used or deleted: a duplicate or a replay.
    DuplicateMessage,
    /// The message skips more keys than the limits allow.
    TooManySkipped,
    /// The AEAD tag did not verify.
    AuthenticationFailed,
    /// The decrypted plaintext is not correctly padded.
    BadPadding,
    /// The decrypted plaintext carries an unknown content type.
    UnknownContentType,
    /// The plaintext is larger than the protocol allows.
    PlaintextTooLarge,
    /// A counter would overflow: the session must be replaced.
    CounterExhausted,
    /// A receipt kind byte is unknown.
    UnknownReceiptKind,
    /// A receipt acknowledges zero or more than 1024 ids.
    InvalidIdCount,
    /// Receipt ids are not strictly ascending.
    NonCanonicalIds,
    /// A receipt acknowledges an id never sent to that peer.
    UnknownMessageId,
    /// The storage key does not open the store.
    WrongStorageKey,
    /// A stored record is corrupt.
    StoreCorrupt,
    /// The store holds no account.
    NoAccount,
    /// The store already holds an account.
    AccountExists,
    /// The database failed.
    Database,
    /// A peer's identity changed and the app's policy did not trust the new one.
    UntrustedIdentity,
    /// The message was already received and stored.
    AlreadyReceived,
    /// A message id the account does not know.
    UnknownMessage,
    /// An attachment's blob does not hash to the digest its pointer carries.
    DigestMismatch,
    /// An attachment decrypted to a length other than the size its pointer carries.
    SizeMismatch,
    /// An attachment is larger than the protocol allows (2^40 bytes).
    AttachmentTooLarge,
    /// Reading or writing a stream or file failed.
    Io,
    /// An application body is shorter than its 16-byte clock prefix (spec §10): the
    /// message was refused and nothing stored.
    InvalidBody,
    /// A device list is not newer than the newest one accepted for its user.
    StaleDeviceList,
    /// A device, or a device with that identity key, is not on its user's device list.
    DeviceNotListed,
    /// A pq_block has an unknown kind byte (spec §14).
    UnknownPqKind,
    /// A pq_block ends before its 38 bytes.
    ShortPqBlock,
    /// A pq_block's chunk index is beyond its object's last chunk.
    PqIndexOutOfRange,
    /// A pq_block carries a chunk of an epoch the receiver has not reached.
    PqFutureEpoch,
    /// A pq_block carries a kind the receiver's side never takes in this epoch.
    PqWrongKind,
    /// A ciphertext chunk reached a side that has not sent its key yet.
    PqUnexpectedChunk,
    /// The peer's ML-KEM-768 key of the PQ ratchet fails the FIPS 203 check.
    InvalidPqKey,
    /// A header's PQ epoch does not follow the last one mixed.
    InvalidPqEpoch,
    /// A sent transcript came from a device that is not a listed device of the own user.
    ForeignTranscript,
    /// A group message names a sender key this device does not hold (spec §12).
    UnknownDistribution,
    /// A group message's chain id is not its sender key's (spec §12).
    WrongChainId,
    /// A group id is empty or longer than 64 bytes (spec §8, §12).
    InvalidGroupId,
    /// A sender-key distribution reuses a distribution id held for another sender device.
    DistributionConflict,
    /// An argument has the wrong length or value (checked before anything runs).
    InvalidArgument,
    /// The account was closed with `close_store`.
    Closed,
    /// A kind added to the core crate after this binding was written.
    Other,
}

impl From<bluetick::ErrorKind> for ErrorKind {
    fn from(kind: bluetick::ErrorKind) -> Self {
        use bluetick::ErrorKind as K;
        match kind {
            K::Truncated => Self::Truncated,
            K::TrailingBytes => Self::TrailingBytes,
            K::UnknownMessageType => Self::UnknownMessageType,
            K::UnsupportedVersion => Self::UnsupportedVersion,
            K::InvalidFlag => Self::InvalidFlag,
            K::CiphertextTooShort => Self::CiphertextTooShort,
            K::MessageTooLong => Self::MessageTooLong,
            K::InvalidValue => Self::InvalidValue,
            K::InvalidIdentityKey => Self::InvalidIdentityKey,
            K::BadSignature => Self::BadSignature,
            K::LowOrderKey => Self::LowOrderKey,
            K::NonCanonicalKey => Self::NonCanonicalKey,
            K::InvalidKemKey => Self::InvalidKemKey,
            K::UnknownPreKey => Self::UnknownPreKey,
            K::PreKeyReplay => Self::PreKeyReplay,
            K::NoSession => Self::NoSession,
            K::DuplicateMessage => Self::DuplicateMessage,
            K::TooManySkipped => Self::TooManySkipped,
            K::AuthenticationFailed => Self::AuthenticationFailed,
            K::BadPadding => Self::BadPadding,
            K::UnknownContentType => Self::UnknownContentType,
            K::PlaintextTooLarge => Self::PlaintextTooLarge,
            K::CounterExhausted => Self::CounterExhausted,
            K::UnknownReceiptKind => Self::UnknownReceiptKind,
            K::InvalidIdCount => Self::InvalidIdCount,
            K::NonCanonicalIds => Self::NonCanonicalIds,
            K::UnknownMessageId => Self::UnknownMessageId,
            K::WrongStorageKey => Self::WrongStorageKey,
            K::StoreCorrupt => Self::StoreCorrupt,
            K::NoAccount => Self::NoAccount,
            K::AccountExists => Self::AccountExists,
            K::Database => Self::Database,
            K::UntrustedIdentity => Self::UntrustedIdentity,
            K::AlreadyReceived => Self::AlreadyReceived,
            K::UnknownMessage => Self::UnknownMessage,
            K::DigestMismatch => Self::DigestMismatch,
            K::SizeMismatch => Self::SizeMismatch,
            K::AttachmentTooLarge => Self::AttachmentTooLarge,
            K::Io => Self::Io,
            K::InvalidBody => Self::InvalidBody,
            K::StaleDeviceList => Self::StaleDeviceList,
            K::DeviceNotListed => Self::DeviceNotListed,
            K::UnknownPqKind => Self::UnknownPqKind,
            K::ShortPqBlock => Self::ShortPqBlock,
            K::PqIndexOutOfRange => Self::PqIndexOutOfRange,
            K::PqFutureEpoch => Self::PqFutureEpoch,
            K::PqWrongKind => Self::PqWrongKind,
            K::PqUnexpectedChunk => Self::PqUnexpectedChunk,
            K::InvalidPqKey => Self::InvalidPqKey,
            K::InvalidPqEpoch => Self::InvalidPqEpoch,
            K::ForeignTranscript => Self::ForeignTranscript,
            K::UnknownDistribution => Self::UnknownDistribution,
            K::WrongChainId => Self::WrongChainId,
            K::InvalidGroupId => Self::InvalidGroupId,
            K::DistributionConflict => Self::DistributionConflict,
            _ => Self::Other,
        }
    }
}

/// An account operation failed; nothing it would have written was written. The variant is
/// the family of the failure (as the core crate's `AccountError`), `kind` the precise cause
/// and `detail` what was wrong and what to do.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum AccountError {
    /// The store failed, or the storage key is wrong.
    #[error("{detail}")]
    Store {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// The peer's bundle was rejected.
    #[error("{detail}")]
    Bundle {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// Encryption failed.
    #[error("{detail}")]
    Encryption {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// The message could not be decrypted; nothing changed.
    #[error("{detail}")]
    Decryption {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// A receipt was malformed or did not verify.
    #[error("{detail}")]
    Receipt {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// Supplied or stored bytes did not parse.
    #[error("{detail}")]
    Decode {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// A device list or a device was refused, no list is accepted for the user, or the own
    /// address is not set (spec §11).
    #[error("{detail}")]
    Device {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// No session with the peer: fetch its bundle and pass it to `encrypt`.
    #[error("{detail}")]
    NoSession {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// The peer's identity changed and the policy did not trust it.
    #[error("{detail}")]
    UntrustedIdentity {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// The message was received before and acknowledged.
    #[error("{detail}")]
    AlreadyReceived {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// A message id the account does not know.
    #[error("{detail}")]
    UnknownMessage {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// An argument was refused before anything ran (wrong length, too long an address,
    /// a closed account).
    #[error("{detail}")]
    InvalidArgument {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
}

impl AccountError {
    /// The precise cause, whatever the family.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Store { kind, .. }
            | Self::Bundle { kind, .. }
            | Self::Encryption { kind, .. }
            | Self::Decryption { kind, .. }
            | Self::Receipt { kind, .. }
            | Self::Decode { kind, .. }
            | Self::Device { kind, .. }
            | Self::NoSession { kind, .. }
            | Self::UntrustedIdentity { kind, .. }
            | Self::AlreadyReceived { kind, .. }
            | Self::UnknownMessage { kind, .. }
            | Self::InvalidArgument { kind, .. } => *kind,
        }
    }

    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        Self::InvalidArgument {
            kind: ErrorKind::InvalidArgument,
            detail: detail.into(),
        }
    }
}

impl From<bluetick::AccountError> for AccountError {
    fn from(e: bluetick::AccountError) -> Self {
        use bluetick::AccountError as E;
        let kind = ErrorKind::from(e.kind());
        let detail = e.to_string();
        match e {
            E::Store(_) => Self::Store { kind, detail },
            E::Bundle(_) => Self::Bundle { kind, detail },
            E::Encryption(_) => Self::Encryption { kind, detail },
            E::Decryption(_) => Self::Decryption { kind, detail },
            E::Receipt(_) => Self::Receipt { kind, detail },
            E::Decode(_) => Self::Decode { kind, detail },
            E::NoSession(_) => Self::NoSession { kind, detail },
            E::UntrustedIdentity(_) => Self::UntrustedIdentity { kind, detail },
            E::AlreadyReceived(_) => Self::AlreadyReceived { kind, detail },
            E::UnknownMessage(_) => Self::UnknownMessage { kind, detail },
            E::InvalidAddress => Self::InvalidArgument { kind, detail },
            // The message counts as failed, as one that does not decrypt.
            E::InvalidBody(_) | E::ForeignTranscript(_) | E::InvalidTranscript(_) => {
                Self::Decryption { kind, detail }
            }
            E::SessionNotAccepted(_) => Self::UntrustedIdentity { kind, detail },
            E::Device(_) | E::NoDeviceList(_) | E::NoOwnAddress => Self::Device { kind, detail },
            // A refused group message or distribution fails as one that does not decrypt.
            E::Group(_) | E::NotGroupMember(_) => Self::Decryption { kind, detail },
            E::UnknownGroup(_) | E::TooManyMembers(_) => Self::InvalidArgument { kind, detail },
            _ => Self::Store { kind, detail },
        }
    }
}

impl From<BundleError> for AccountError {
    fn from(e: BundleError) -> Self {
        bluetick::AccountError::from(e).into()
    }
}

impl From<bluetick::DeviceError> for AccountError {
    fn from(e: bluetick::DeviceError) -> Self {
        bluetick::AccountError::from(e).into()
    }
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        bluetick::AccountError::from(e).into()
    }
}

/// A protocol-layer operation (identities, prekeys, sessions, receipt bodies, prekey
/// uploads) failed; the objects it was called on are unchanged.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ProtocolError {
    /// Bytes did not parse.
    #[error("{detail}")]
    Decode {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// A key or signature from a peer was rejected.
    #[error("{detail}")]
    Key {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// Encryption failed.
    #[error("{detail}")]
    Encryption {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// The message could not be decrypted.
    #[error("{detail}")]
    Decryption {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// A receipt was malformed or did not verify.
    #[error("{detail}")]
    Receipt {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// An argument was refused before anything ran.
    #[error("{detail}")]
    InvalidArgument {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
}

impl ProtocolError {
    /// The precise cause, whatever the family.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Decode { kind, .. }
            | Self::Key { kind, .. }
            | Self::Encryption { kind, .. }
            | Self::Decryption { kind, .. }
            | Self::Receipt { kind, .. }
            | Self::InvalidArgument { kind, .. } => *kind,
        }
    }

    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        Self::InvalidArgument {
            kind: ErrorKind::InvalidArgument,
            detail: detail.into(),
        }
    }
}

impl From<DecodeError> for ProtocolError {
    fn from(e: DecodeError) -> Self {
        Self::Decode {
            kind: e.kind().into(),
            detail: e.to_string(),
        }
    }
}

impl From<KeyError> for ProtocolError {
    fn from(e: KeyError) -> Self {
        Self::Key {
            kind: e.kind().into(),
            detail: e.to_string(),
        }
    }
}

impl From<BundleError> for ProtocolError {
    fn from(e: BundleError) -> Self {
        let (kind, detail) = (e.kind().into(), e.to_string());
        match e {
            BundleError::Decode(_) => Self::Decode { kind, detail },
            _ => Self::Key { kind, detail },
        }
    }
}

impl From<EncryptionError> for ProtocolError {
    fn from(e: EncryptionError) -> Self {
        Self::Encryption {
            kind: e.kind().into(),
            detail: e.to_string(),
        }
    }
}

impl From<DecryptionError> for ProtocolError {
    fn from(e: DecryptionError) -> Self {
        Self::Decryption {
            kind: e.kind().into(),
            detail: e.to_string(),
        }
    }
}

impl From<ReceiptError> for ProtocolError {
    fn from(e: ReceiptError) -> Self {
        Self::Receipt {
            kind: e.kind().into(),
            detail: e.to_string(),
        }
    }
}

/// An attachment operation failed: the pointer, the blob or one of its chunks was
/// rejected, or the attachment is too large. After a failure while decrypting, discard
/// every byte already written for the attachment.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum AttachmentError {
    /// The pointer is malformed (`Truncated`, `TrailingBytes`) or names too large an
    /// attachment (`AttachmentTooLarge`).
    #[error("{detail}")]
    Pointer {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// The blob or a chunk was rejected: `AuthenticationFailed`, `Truncated`,
    /// `TrailingBytes`, `DigestMismatch`, `SizeMismatch`, or `InvalidValue` for a chunk
    /// index past the end.
    #[error("{detail}")]
    Blob {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// The plaintext grew past the 2^40-byte limit (`AttachmentTooLarge`).
    #[error("{detail}")]
    TooLarge {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
    /// An argument was refused, or the encryptor or decryptor has already finished.
    #[error("{detail}")]
    InvalidArgument {
        /// The precise cause.
        kind: ErrorKind,
        /// What was wrong and what to do.
        detail: String,
    },
}

impl AttachmentError {
    /// The precise cause, whatever the family.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Pointer { kind, .. }
            | Self::Blob { kind, .. }
            | Self::TooLarge { kind, .. }
            | Self::InvalidArgument { kind, .. } => *kind,
        }
    }

    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        Self::InvalidArgument {
            kind: ErrorKind::InvalidArgument,
            detail: detail.into(),
        }
    }
}

impl From<bluetick::attachment::AttachmentError> for AttachmentError {
    fn from(e: bluetick::attachment::AttachmentError) -> Self {
        use bluetick::attachment::AttachmentError as E;
        let (kind, detail) = (e.kind().into(), e.to_string());
        match e {
            E::PointerLength { .. } => Self::Pointer { kind, detail },
            E::TooLarge { .. } => Self::TooLarge { kind, detail },
            _ => Self::Blob { kind, detail },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_kind_keeps_its_name() {
        use bluetick::ErrorKind as K;
        let all = [
            K::Truncated,
            K::TrailingBytes,
            K::UnknownMessageType,
            K::UnsupportedVersion,
            K::InvalidFlag,
            K::CiphertextTooShort,
            K::MessageTooLong,
            K::InvalidValue,
            K::InvalidIdentityKey,
            K::BadSignature,
            K::LowOrderKey,
            K::NonCanonicalKey,
            K::InvalidKemKey,
            K::UnknownPreKey,
            K::PreKeyReplay,
            K::NoSession,
            K::DuplicateMessage,
            K::TooManySkipped,
            K::AuthenticationFailed,
            K::BadPadding,
            K::UnknownContentType,
            K::PlaintextTooLarge,
            K::CounterExhausted,
            K::UnknownReceiptKind,
            K::InvalidIdCount,
            K::NonCanonicalIds,
            K::UnknownMessageId,
            K::WrongStorageKey,
            K::StoreCorrupt,
            K::NoAccount,
            K::AccountExists,
            K::Database,
            K::UntrustedIdentity,
            K::AlreadyReceived,
            K::UnknownMessage,
            K::DigestMismatch,
            K::SizeMismatch,
            K::AttachmentTooLarge,
            K::Io,
            K::InvalidBody,
            K::StaleDeviceList,
            K::DeviceNotListed,
            K::UnknownPqKind,
            K::ShortPqBlock,
            K::PqIndexOutOfRange,
            K::PqFutureEpoch,
            K::PqWrongKind,
            K::PqUnexpectedChunk,
            K::InvalidPqKey,
            K::InvalidPqEpoch,
            K::ForeignTranscript,
            K::UnknownDistribution,
            K::WrongChainId,
            K::InvalidGroupId,
            K::DistributionConflict,
        ];
        for k in all {
            assert_eq!(format!("{:?}", ErrorKind::from(k)), k.name());
        }
    }

    #[test]
    fn bad_padding_is_a_decryption_failure_in_both_families() {
        let core = bluetick::AccountError::Decryption(DecryptionError::BadPadding);
        let a = AccountError::from(core);
        assert!(matches!(
            a,
            AccountError::Decryption {
                kind: ErrorKind::BadPadding,
                ..
            }
        ));
        let p = ProtocolError::from(DecryptionError::BadPadding);
        assert!(matches!(
            p,
            ProtocolError::Decryption {
                kind: ErrorKind::BadPadding,
                ..
            }
        ));
        assert!(p.to_string().contains("padding"));
    }
}
