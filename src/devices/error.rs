//! Why a device certificate or list is refused.

use thiserror::Error;

use crate::error::ErrorKind;

/// A device certificate or device list that does not parse or verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DeviceError {
    /// The bytes ended inside the structure.
    #[error("device certificate or list is truncated; pass the complete bytes")]
    Truncated,
    /// Bytes followed the signature.
    #[error("device certificate or list has trailing bytes after its signature")]
    TrailingBytes,
    /// The user id is empty or longer than 64 bytes.
    #[error("user id must be 1 to 64 bytes")]
    InvalidUserId,
    /// The list names no device, or more than 16.
    #[error("a device list names 1 to 16 devices")]
    InvalidDeviceCount,
    /// The list names a device id twice.
    #[error("a device list names device {0} twice")]
    DuplicateDevice(u32),
    /// A device identity key is not a valid Ed25519 point.
    #[error("a device identity key is not a valid, canonical, torsion-free Ed25519 point")]
    InvalidIdentityKey,
    /// The list's first entry is not the user identity that signs it.
    #[error("the device list's first entry is not the user identity (the primary device)")]
    PrimaryMismatch,
    /// The signature does not verify under the user identity.
    #[error("the signature does not verify under the user identity; the data was altered or signed by another user")]
    BadSignature,
    /// The list's version is not above the newest one seen.
    #[error("device list version {found} is not newer than version {newest}; keep the newer list")]
    StaleVersion {
        /// The version of the refused list.
        found: u64,
        /// The newest version already accepted.
        newest: u64,
    },
    /// The device is not on the list: a relay may not add a device to a user.
    #[error("device {0} is not on the user's device list; accept it only from a newer signed list that names it")]
    NotListed(u32),
    /// The list names the device with another identity key: a changed device key needs a
    /// new signed list.
    #[error("device {0} presents an identity key other than the one its user's device list names; wait for a newer signed list")]
    KeyChanged(u32),
}

impl DeviceError {
    /// The flat kind of this error, as the C ABI and the test vectors name it.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Truncated => ErrorKind::Truncated,
            Self::TrailingBytes => ErrorKind::TrailingBytes,
            Self::InvalidUserId | Self::InvalidDeviceCount | Self::DuplicateDevice(_) => {
                ErrorKind::InvalidValue
            }
            Self::InvalidIdentityKey => ErrorKind::InvalidIdentityKey,
            // A list led by another key is the word of another user identity: that goes
            // through the identity policy, as a changed identity does.
            Self::PrimaryMismatch => ErrorKind::UntrustedIdentity,
            Self::BadSignature => ErrorKind::BadSignature,
            Self::StaleVersion { .. } => ErrorKind::StaleDeviceList,
            Self::NotListed(_) | Self::KeyChanged(_) => ErrorKind::DeviceNotListed,
        }
    }
}
