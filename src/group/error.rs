//! Why a sender key, a distribution or a group message was refused, one variant each.

use thiserror::Error;

use crate::error::{DecodeError, ErrorKind};

/// A group operation failed. Whatever the cause, no state changed: the same keys decrypt
/// the next genuine message, and a failed message may be retried.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GroupError {
    /// The bytes of a group message, a distribution or a stored record are malformed.
    #[error("malformed group data: {0}")]
    Decode(#[from] DecodeError),
    /// A group id outside 1..=64 bytes.
    #[error("a group id is 1 to 64 bytes, this one is {len}; use a shorter id")]
    InvalidGroupId {
        /// The length found.
        len: usize,
    },
    /// A distribution's signing key is not a valid Ed25519 public key.
    #[error("the distribution's signing key is not a valid, canonical, torsion-free Ed25519 public key; the sender's implementation is faulty: refuse its key")]
    InvalidSigningKey,
    /// The message names a sender key this device does not hold.
    #[error("the group message is under a sender key this device does not hold (never distributed to it, replaced more than an hour ago, or never valid); ask the sender to distribute its key again")]
    UnknownDistribution,
    /// The message names a sender key that was replaced: only its skipped keys are kept.
    #[error("the group message is under a sender key that was replaced, and its iteration {iteration} was never skipped; it cannot be decrypted any more")]
    ReplacedDistribution {
        /// The message's iteration.
        iteration: u32,
    },
    /// The signature does not verify under the sender key's signing key.
    #[error("the group message's signature does not verify under its sender key; it was forged or altered and is dropped")]
    BadSignature,
    /// The message's chain id is not the sender key's.
    #[error("the group message's chain id {found:#010x} is not its sender key's {expected:#010x}; it is dropped")]
    WrongChainId {
        /// The chain id of the stored sender key.
        expected: u32,
        /// The chain id the message carries.
        found: u32,
    },
    /// The message key for this iteration was used already, or never held.
    #[error("iteration {iteration} of this sender key was already decrypted, or is older than the key this device was given; it is a duplicate or replay and is dropped")]
    DuplicateMessage {
        /// The message's iteration.
        iteration: u32,
    },
    /// The message skips more keys than the limit allows.
    #[error("the group message would skip {skipped} message keys, over the limit of {limit}; ask the sender to distribute its key again")]
    TooManySkipped {
        /// How many keys it would skip.
        skipped: u64,
        /// The limit.
        limit: u32,
    },
    /// The AEAD tag did not verify (inside a correctly signed message).
    #[error("the group message does not authenticate under its message key; the sender's implementation is faulty")]
    AuthenticationFailed,
    /// The decrypted plaintext is not correctly padded.
    #[error("the group message's padding is malformed; the sender's implementation is faulty")]
    BadPadding,
    /// A content type other than application data (0x01) inside a group message.
    #[error("the group message carries content type 0x{0:02x}; only application data (0x01) may be sent to a group")]
    UnknownContentType(u8),
    /// The body exceeds the limit.
    #[error(
        "the body is {len} bytes, over the 16 MiB limit; split it or send it as an attachment"
    )]
    PlaintextTooLarge {
        /// The body's length.
        len: usize,
    },
    /// The sender chain's iteration counter is exhausted.
    #[error("the sender key's iteration counter is exhausted; rotate the sender key")]
    CounterExhausted,
    /// The distribution's id is held for another sender device.
    #[error("this distribution_id is already held for another sender device; the distribution is refused")]
    DistributionConflict,
}

impl GroupError {
    /// The flat kind of this error, as the C ABI and the test vectors name it.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Decode(e) => e.kind(),
            Self::InvalidGroupId { .. } => ErrorKind::InvalidGroupId,
            Self::InvalidSigningKey => ErrorKind::InvalidValue,
            Self::UnknownDistribution | Self::ReplacedDistribution { .. } => {
                ErrorKind::UnknownDistribution
            }
            Self::BadSignature => ErrorKind::BadSignature,
            Self::WrongChainId { .. } => ErrorKind::WrongChainId,
            Self::DuplicateMessage { .. } => ErrorKind::DuplicateMessage,
            Self::TooManySkipped { .. } => ErrorKind::TooManySkipped,
            Self::AuthenticationFailed => ErrorKind::AuthenticationFailed,
            Self::BadPadding => ErrorKind::BadPadding,
            Self::UnknownContentType(_) => ErrorKind::UnknownContentType,
            Self::PlaintextTooLarge { .. } => ErrorKind::PlaintextTooLarge,
            Self::CounterExhausted => ErrorKind::CounterExhausted,
            Self::DistributionConflict => ErrorKind::DistributionConflict,
        }
    }
}
