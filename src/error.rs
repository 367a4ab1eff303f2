//! Typed errors. Each operation has its own enum; every variant maps to one
//! [`ErrorKind`], a flat list shared with the C ABI and the test vectors.

use thiserror::Error;

/// Every kind of failure the crate reports, one value each. The C ABI maps these to status
/// codes one to one, and `vectors/invalid.json` names them by [`ErrorKind::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
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
    /// An X25519 key has small order: Diffie-Hellman with it gives all zeros.
    LowOrderKey,
    /// An X25519 public key is not canonically encoded (u >= 2^255 - 19).
    NonCanonicalKey,
    /// An ML-KEM-1024 encapsulation key fails the FIPS 203 input check.
    InvalidKemKey,
    /// A PreKeyMessage names a prekey this party does not hold.
    UnknownPreKey,
    /// A PreKeyMessage reuses a base key already accepted for the same prekeys.
    PreKeyReplay,
    /// No session with the peer could decrypt the message.
    NoSession,
    /// The message key was already used or deleted: a duplicate or a replay.
    DuplicateMessage,
    /// The message skips more keys than the limits allow.
    TooManySkipped,
    /// The AEAD tag did not verify: the message was altered or is not for this session.
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
    /// An attachment's ciphertext does not hash to the digest its pointer carries.
    DigestMismatch,
    /// An attachment decrypted to a length other than the size its pointer carries.
    SizeMismatch,
    /// An attachment is larger than the protocol allows (2^40 bytes).
    AttachmentTooLarge,
    /// Reading or writing a stream or file failed.
    Io,
    /// An application body is shorter than its 16-byte clock prefix (spec §10).
    InvalidBody,
    /// A device list's version is not newer than the newest one accepted (spec §11).
    StaleDeviceList,
    /// A device, or a device with that identity key, is not on the user's device list.
    DeviceNotListed,
    /// A pq_block has a kind byte other than 0, 1 or 2 (spec §14).
    UnknownPqKind,
    /// A pq_block ends before its 38 bytes.
    ShortPqBlock,
    /// A pq_block's chunk index is beyond the object's last chunk.
    PqIndexOutOfRange,
    /// A pq_block carries a chunk of an epoch the receiver has not reached.
    PqFutureEpoch,
    /// A pq_block carries a kind the receiver's side never takes in this epoch.
    PqWrongKind,
    /// A ciphertext chunk reached a side that has not sent its key yet.
    PqUnexpectedChunk,
    /// A complete ML-KEM-768 encapsulation key of the PQ ratchet fails the FIPS 203 check.
    InvalidPqKey,
    /// A header's `PE` is neither the last mixed epoch nor the next one with its secret held.
    InvalidPqEpoch,
    /// A sent transcript came from a device that is not a listed device of the receiving
    /// account's own user (spec §11).
    ForeignTranscript,
    /// A group message names a sender key (`distribution_id`) this device does not hold
    /// (spec §12).
    UnknownDistribution,
    /// A group message's `chain_id` differs from the one its sender key was distributed
    /// with (spec §12).
    WrongChainId,
    /// A group id is empty or longer than 64 bytes (spec §8, §12).
    InvalidGroupId,
    /// A sender-key distribution reuses a `distribution_id` this device already holds for
    /// another sender device (spec §12).
    DistributionConflict,
}

impl ErrorKind {
    /// The stable name of this kind, as used in `vectors/invalid.json`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Truncated => "Truncated",
            Self::TrailingBytes => "TrailingBytes",
            Self::UnknownMessageType => "UnknownMessageType",
            Self::UnsupportedVersion => "UnsupportedVersion",
            Self::InvalidFlag => "InvalidFlag",
            Self::CiphertextTooShort => "CiphertextTooShort",
            Self::MessageTooLong => "MessageTooLong",
            Self::InvalidValue => "InvalidValue",
            Self::InvalidIdentityKey => "InvalidIdentityKey",
            Self::BadSignature => "BadSignature",
            Self::LowOrderKey => "LowOrderKey",
            Self::NonCanonicalKey => "NonCanonicalKey",
            Self::InvalidKemKey => "InvalidKemKey",
            Self::UnknownPreKey => "UnknownPreKey",
            Self::PreKeyReplay => "PreKeyReplay",
            Self::NoSession => "NoSession",
            Self::DuplicateMessage => "DuplicateMessage",
            Self::TooManySkipped => "TooManySkipped",
            Self::AuthenticationFailed => "AuthenticationFailed",
            Self::BadPadding => "BadPadding",
            Self::UnknownContentType => "UnknownContentType",
            Self::PlaintextTooLarge => "PlaintextTooLarge",
            Self::CounterExhausted => "CounterExhausted",
            Self::UnknownReceiptKind => "UnknownReceiptKind",
            Self::InvalidIdCount => "InvalidIdCount",
            Self::NonCanonicalIds => "NonCanonicalIds",
            Self::UnknownMessageId => "UnknownMessageId",
            Self::WrongStorageKey => "WrongStorageKey",
            Self::StoreCorrupt => "StoreCorrupt",
            Self::NoAccount => "NoAccount",
            Self::AccountExists => "AccountExists",
            Self::Database => "Database",
            Self::UntrustedIdentity => "UntrustedIdentity",
            Self::AlreadyReceived => "AlreadyReceived",
            Self::UnknownMessage => "UnknownMessage",
            Self::DigestMismatch => "DigestMismatch",
            Self::SizeMismatch => "SizeMismatch",
            Self::AttachmentTooLarge => "AttachmentTooLarge",
            Self::Io => "Io",
            Self::InvalidBody => "InvalidBody",
            Self::StaleDeviceList => "StaleDeviceList",
            Self::DeviceNotListed => "DeviceNotListed",
            Self::UnknownPqKind => "UnknownPqKind",
            Self::ShortPqBlock => "ShortPqBlock",
            Self::PqIndexOutOfRange => "PqIndexOutOfRange",
            Self::PqFutureEpoch => "PqFutureEpoch",
            Self::PqWrongKind => "PqWrongKind",
            Self::PqUnexpectedChunk => "PqUnexpectedChunk",
            Self::InvalidPqKey => "InvalidPqKey",
            Self::InvalidPqEpoch => "InvalidPqEpoch",
            Self::ForeignTranscript => "ForeignTranscript",
            Self::UnknownDistribution => "UnknownDistribution",
            Self::WrongChainId => "WrongChainId",
            Self::InvalidGroupId => "InvalidGroupId",
            Self::DistributionConflict => "DistributionConflict",
        }
    }
}

/// A binary encoding could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended early.
    #[error(
        "{what} is truncated: the input ended before the structure did; pass the complete bytes"
    )]
    Truncated {
        /// The structure being read.
        what: &'static str,
    },
    /// Extra bytes followed the structure.
    #[error("{what} has trailing bytes after its end; pass exactly one encoded value")]
    TrailingBytes {
        /// The structure being read.
        what: &'static str,
    },
    /// The first byte of a wire message is unknown.
    #[error("unknown wire message type byte 0x{0:02x}; this is not a Bluetick v1 message")]
    UnknownMessageType(u8),
    /// An unsupported version of a versioned encoding.
    #[error("{what} has version {version}, which this build does not read; upgrade the SDK")]
    UnsupportedVersion {
        /// The structure being read.
        what: &'static str,
        /// The version found.
        version: u8,
    },
    /// A flag byte other than 0 or 1.
    #[error("{what} has flag byte {value}, which must be 0 or 1; the bytes are corrupt")]
    InvalidFlag {
        /// The structure being read.
        what: &'static str,
        /// The byte found.
        value: u8,
    },
    /// A ciphertext shorter than the AEAD tag.
    #[error("the ciphertext is shorter than the 16-byte tag; the message is corrupt")]
    CiphertextTooShort,
    /// A message longer than any valid one.
    #[error("the message is longer than the 16 MiB plaintext limit allows; it is rejected unread")]
    MessageTooLong,
    /// A field outside its allowed range.
    #[error("{what} is out of range; the stored bytes are corrupt")]
    InvalidValue {
        /// The field.
        what: &'static str,
    },
}

impl DecodeError {
    /// The flat kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Truncated { .. } => ErrorKind::Truncated,
            Self::TrailingBytes { .. } => ErrorKind::TrailingBytes,
            Self::UnknownMessageType(_) => ErrorKind::UnknownMessageType,
            Self::UnsupportedVersion { .. } => ErrorKind::UnsupportedVersion,
            Self::InvalidFlag { .. } => ErrorKind::InvalidFlag,
            Self::CiphertextTooShort => ErrorKind::CiphertextTooShort,
            Self::MessageTooLong => ErrorKind::MessageTooLong,
            Self::InvalidValue { .. } => ErrorKind::InvalidValue,
        }
    }
}

/// A public key or signature from a peer was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not a valid, canonical, torsion-free Ed25519 point.
    #[error("the identity key is not a valid, canonical, torsion-free Ed25519 public key; refuse this peer's data")]
    InvalidIdentityKey,
    /// A signature did not verify.
    #[error("the {what} signature does not verify under the identity key; the bundle is forged or corrupt: fetch it again")]
    BadSignature {
        /// What was signed.
        what: &'static str,
    },
    /// A low-order X25519 key.
    #[error("the {what} is a low-order X25519 key (Diffie-Hellman gives all zeros); refuse it")]
    LowOrderKey {
        /// Which key.
        what: &'static str,
    },
    /// An X25519 key that is not canonically encoded.
    #[error("the {what} is not a canonical X25519 encoding (u >= 2^255 - 19); it was altered: refuse it")]
    NonCanonicalKey {
        /// Which key.
        what: &'static str,
    },
    /// An ML-KEM encapsulation key failing the FIPS 203 check.
    #[error("the PQ prekey fails the FIPS 203 encapsulation key check; the bundle is corrupt: fetch it again")]
    InvalidKemKey,
}

impl KeyError {
    /// The flat kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidIdentityKey => ErrorKind::InvalidIdentityKey,
            Self::BadSignature { .. } => ErrorKind::BadSignature,
            Self::LowOrderKey { .. } => ErrorKind::LowOrderKey,
            Self::NonCanonicalKey { .. } => ErrorKind::NonCanonicalKey,
            Self::InvalidKemKey => ErrorKind::InvalidKemKey,
        }
    }
}

/// A prekey bundle could not be read or verified, or a session could not be started from it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The bundle's bytes are malformed.
    #[error("malformed prekey bundle: {0}")]
    Decode(#[from] DecodeError),
    /// A key or signature in the bundle was rejected.
    #[error("rejected prekey bundle: {0}")]
    Key(#[from] KeyError),
}

impl BundleError {
    /// The flat kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Decode(e) => e.kind(),
            Self::Key(e) => e.kind(),
        }
    }
}

/// Encrypting a message failed; the session is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncryptionError {
    /// There is no session with this peer.
    #[error("no session with this peer; fetch the peer's prekey bundle and start one")]
    NoSession,
    /// The body exceeds the limit.
    #[error(
        "the body is {len} bytes, over the 16 MiB limit; split it or send it as an attachment"
    )]
    PlaintextTooLarge {
        /// The body's length.
        len: usize,
    },
    /// The sending counter is exhausted.
    #[error("the sending chain's counter is exhausted; start a new session from a fresh bundle")]
    CounterExhausted,
    /// The peer's PQ ratchet key, checked when it arrived, was refused by encapsulation.
    #[error("the peer's ML-KEM-768 key of the post-quantum ratchet was refused; start a new session from a fresh bundle")]
    InvalidPqKey,
}

impl EncryptionError {
    /// The flat kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NoSession => ErrorKind::NoSession,
            Self::PlaintextTooLarge { .. } => ErrorKind::PlaintextTooLarge,
            Self::CounterExhausted => ErrorKind::CounterExhausted,
            Self::InvalidPqKey => ErrorKind::InvalidPqKey,
        }
    }
}

/// Decrypting a message failed. Whatever the cause, no state changed: the same session can
/// decrypt the next genuine message, and the failed one may be retried.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecryptionError {
    /// The message's bytes are malformed.
    #[error("malformed message: {0}")]
    Decode(#[from] DecodeError),
    /// A key in a PreKeyMessage was rejected.
    #[error("rejected PreKeyMessage: {0}")]
    Key(#[from] KeyError),
    /// The PreKeyMessage names a prekey this party does not hold.
    #[error("the PreKeyMessage uses {what} id {id}, which this device no longer holds; the sender must fetch a fresh bundle and start a new session")]
    UnknownPreKey {
        /// Which kind of prekey.
        what: &'static str,
        /// Its id.
        id: u32,
    },
    /// A replayed PreKeyMessage.
    #[error("the PreKeyMessage reuses a base key already accepted for these prekeys; it is a replay and is dropped")]
    PreKeyReplay,
    /// No session with the peer.
    #[error("no session with this peer can decrypt a Message; ask the sender to start a new session (fetch a fresh bundle)")]
    NoSession,
    /// The key for this message was used already.
    #[error("this message was already decrypted (or its key was dropped); it is a duplicate or replay and is dropped")]
    DuplicateMessage,
    /// Beyond MAX_SKIP.
    #[error("the message would skip {skipped} message keys, over the limit of {limit}; the session is too far behind: start a new one")]
    TooManySkipped {
        /// How many keys it would skip.
        skipped: u64,
        /// The limit.
        limit: u32,
    },
    /// The tag did not verify.
    #[error("the message does not authenticate: it was altered, or belongs to another session; if the peer's messages keep failing, start a new session")]
    AuthenticationFailed,
    /// Bad padding inside an authentic message.
    #[error("the plaintext's padding is malformed; the sender's implementation is faulty")]
    BadPadding,
    /// Unknown content type inside an authentic message.
    #[error("the plaintext carries unknown content type 0x{0:02x}; upgrade the SDK")]
    UnknownContentType(u8),
    /// The post-quantum ratchet refused the message (spec §14).
    #[error("the post-quantum ratchet refused the message: {0}")]
    Pq(#[from] PqError),
    /// A PreKeyMessage would start a session under another identity key than the current
    /// session's; the real session is kept.
    #[error("the PreKeyMessage comes from an identity key other than the current session's; verify the new safety number, then decrypt it again naming the new key as trusted")]
    UntrustedIdentity,
}

impl DecryptionError {
    /// The flat kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Decode(e) => e.kind(),
            Self::Key(e) => e.kind(),
            Self::UnknownPreKey { .. } => ErrorKind::UnknownPreKey,
            Self::PreKeyReplay => ErrorKind::PreKeyReplay,
            Self::NoSession => ErrorKind::NoSession,
            Self::DuplicateMessage => ErrorKind::DuplicateMessage,
            Self::TooManySkipped { .. } => ErrorKind::TooManySkipped,
            Self::AuthenticationFailed => ErrorKind::AuthenticationFailed,
            Self::BadPadding => ErrorKind::BadPadding,
            Self::UnknownContentType(_) => ErrorKind::UnknownContentType,
            Self::Pq(e) => e.kind(),
            Self::UntrustedIdentity => ErrorKind::UntrustedIdentity,
        }
    }
}

/// An authentic message breaks the post-quantum ratchet's rules (spec §14). The message
/// fails and nothing changes, the PQ state included; these come only from the peer's own
/// implementation (the relay cannot forge an authentic message), so a peer that keeps
/// sending them runs faulty or hostile software.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PqError {
    /// An unknown pq_block kind.
    #[error("the pq_block has unknown kind 0x{0:02x}; the sender's implementation is faulty or newer: upgrade the SDK")]
    UnknownPqKind(u8),
    /// A pq_block shorter than its kind needs.
    #[error("the pq_block is truncated; the sender's implementation is faulty")]
    ShortPqBlock,
    /// A chunk index beyond the object.
    #[error("the pq_block's chunk index {index} is beyond the object's {count} chunks; the sender's implementation is faulty")]
    PqIndexOutOfRange {
        /// The index found.
        index: u8,
        /// The object's number of chunks.
        count: u8,
    },
    /// A chunk of an epoch this side has not reached.
    #[error("the pq_block is for PQ epoch {epoch}, after this side's epoch {current}; the sender is out of step")]
    PqFutureEpoch {
        /// The chunk's epoch.
        epoch: u32,
        /// The receiver's epoch.
        current: u32,
    },
    /// A kind this side never takes in this epoch.
    #[error("the pq_block carries a chunk kind this side does not take in this epoch; the sender is out of step")]
    PqWrongKind,
    /// A ciphertext chunk before this side sent its key.
    #[error("the pq_block carries a ciphertext chunk before this side made its key; the sender is out of step")]
    PqUnexpectedChunk,
    /// The assembled encapsulation key fails the FIPS 203 check.
    #[error("the peer's ML-KEM-768 encapsulation key fails the FIPS 203 input check; the sender's implementation is faulty")]
    InvalidPqKey,
    /// A `PE` that is neither the last mixed epoch nor the next one with its secret held.
    #[error("the header's PQ epoch {epoch} does not follow this side's last mixed epoch {mixed}; the message is refused before any key is derived")]
    InvalidPqEpoch {
        /// The header's `PE`.
        epoch: u32,
        /// The receiver's last mixed epoch.
        mixed: u32,
    },
}

impl PqError {
    /// The flat kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::UnknownPqKind(_) => ErrorKind::UnknownPqKind,
            Self::ShortPqBlock => ErrorKind::ShortPqBlock,
            Self::PqIndexOutOfRange { .. } => ErrorKind::PqIndexOutOfRange,
            Self::PqFutureEpoch { .. } => ErrorKind::PqFutureEpoch,
            Self::PqWrongKind => ErrorKind::PqWrongKind,
            Self::PqUnexpectedChunk => ErrorKind::PqUnexpectedChunk,
            Self::InvalidPqKey => ErrorKind::InvalidPqKey,
            Self::InvalidPqEpoch { .. } => ErrorKind::InvalidPqEpoch,
        }
    }
}
