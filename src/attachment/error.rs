//! What can go wrong with an attachment, one variant each.

use thiserror::Error;

use crate::error::ErrorKind;

/// An attachment, its pointer or one of its chunks was rejected. After any of these, treat
/// every byte already released for the attachment as unverified and discard it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AttachmentError {
    /// The pointer is not exactly 72 bytes.
    #[error("an attachment pointer is 72 bytes, this one is {found}; pass the pointer exactly as the message carried it")]
    PointerLength {
        /// The length found.
        found: usize,
    },
    /// The attachment is over the 2^40-byte (1 TiB) limit.
    #[error("the attachment is over the 2^40-byte (1 TiB) limit ({size} bytes); refuse it")]
    TooLarge {
        /// The size given or reached.
        size: u64,
    },
    /// A chunk's tag did not verify.
    #[error("chunk {index} of the attachment does not authenticate: the blob was altered, or it is not the blob this pointer names; discard it")]
    ChunkAuthentication {
        /// The chunk, counting from 0.
        index: u64,
    },
    /// The blob ended before the attachment the pointer names did.
    #[error("the blob ended after {received} bytes, but the pointer's attachment takes {expected}: the download was cut short; fetch it again")]
    Truncated {
        /// Blob bytes received.
        received: u64,
        /// Blob bytes the pointer's size implies.
        expected: u64,
    },
    /// The blob carries data after the attachment's final chunk.
    #[error("the blob holds data past the attachment's end (at least {received} bytes where the pointer's attachment takes {expected}): it was altered; discard it")]
    ExtraData {
        /// Blob bytes received when this was seen.
        received: u64,
        /// Blob bytes the pointer's size implies.
        expected: u64,
    },
    /// Every chunk verified but the blob's SHA-256 is not the pointer's digest.
    #[error("the blob's SHA-256 is not the digest in the pointer: it is not the blob the sender uploaded; discard it")]
    DigestMismatch,
    /// Every chunk verified but the plaintext's length is not the pointer's size.
    #[error("the attachment decrypts to {found} bytes or more, but the pointer says {expected}: the pointer is wrong; discard the output")]
    SizeMismatch {
        /// The size in the pointer.
        expected: u64,
        /// The plaintext length found (so far, when detected early).
        found: u64,
    },
    /// A chunk index past the attachment's last chunk (random access).
    #[error("chunk {index} does not exist: the attachment has {count} chunks")]
    ChunkIndex {
        /// The index asked for.
        index: u64,
        /// The attachment's chunk count.
        count: u64,
    },
    /// A sealed chunk of the wrong length for its index (random access).
    #[error("sealed chunk {index} is {found} bytes, but in this attachment it is {expected}; fetch exactly the range `sealed_chunk_range` gives")]
    ChunkLength {
        /// The chunk.
        index: u64,
        /// The length it must have.
        expected: u64,
        /// The length given.
        found: u64,
    },
}

impl AttachmentError {
    /// The flat kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::PointerLength { found } => {
                if *found < crate::constants::ATTACHMENT_POINTER_LEN {
                    ErrorKind::Truncated
                } else {
                    ErrorKind::TrailingBytes
                }
            }
            Self::TooLarge { .. } => ErrorKind::AttachmentTooLarge,
            Self::ChunkAuthentication { .. } => ErrorKind::AuthenticationFailed,
            Self::Truncated { .. } => ErrorKind::Truncated,
            Self::ExtraData { .. } => ErrorKind::TrailingBytes,
            Self::DigestMismatch => ErrorKind::DigestMismatch,
            Self::SizeMismatch { .. } => ErrorKind::SizeMismatch,
            Self::ChunkIndex { .. } => ErrorKind::InvalidValue,
            Self::ChunkLength {
                expected, found, ..
            } => {
                if found < expected {
                    ErrorKind::Truncated
                } else {
                    ErrorKind::TrailingBytes
                }
            }
        }
    }
}

/// Streaming an attachment through `Read` and `Write` failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The attachment was rejected.
    #[error(transparent)]
    Attachment(#[from] AttachmentError),
    /// Reading the input or writing the output failed.
    #[error("reading or writing the attachment failed: {0}; check the file or stream and retry")]
    Io(#[from] std::io::Error),
}

impl StreamError {
    /// The flat kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Attachment(e) => e.kind(),
            Self::Io(_) => ErrorKind::Io,
        }
    }
}
