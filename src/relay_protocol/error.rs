//! Errors of the relay protocol: what a frame parse reports, and the codes an error frame
//! carries.

use thiserror::Error;

/// Why bytes are not a valid frame. Parsing never panics; every failure is one of these.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The frame has no bytes at all.
    #[error("empty relay frame; a frame starts with its type byte")]
    Empty,
    /// The frame is larger than the limit.
    #[error(
        "relay frame of {len} bytes exceeds the {max}-byte limit; split the data or send less"
    )]
    Oversize {
        /// The frame's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The first byte names no frame type.
    #[error("unknown relay frame type 0x{0:02x}; this peer speaks another protocol version")]
    UnknownFrameType(u8),
    /// The frame ended inside a field.
    #[error("relay frame truncated in {what}; pass the complete frame")]
    Truncated {
        /// The field being read.
        what: &'static str,
    },
    /// A field token other than the one the layout requires at this place.
    #[error("relay frame has field token 0x{found:02x} where 0x{expected:02x} ({what}) belongs")]
    UnexpectedField {
        /// The field the layout requires.
        what: &'static str,
        /// Its token.
        expected: u8,
        /// The token found.
        found: u8,
    },
    /// Bytes followed the last field.
    #[error("relay frame has trailing bytes after its last field")]
    TrailingBytes,
    /// A field's value is outside its allowed range.
    #[error("relay frame field {what} is out of range")]
    InvalidValue {
        /// The field.
        what: &'static str,
    },
}

/// What an error frame reports. Codes below `0x10` are fatal: the relay closes the
/// connection after sending them. The others answer one request or one send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The frame could not be parsed.
    Malformed,
    /// The frame exceeded the size limit.
    Oversize,
    /// A request arrived before the device authenticated.
    Unauthenticated,
    /// The authentication signature is wrong, or the address is bound to another identity.
    AuthenticationFailed,
    /// Too many frames in too short a time.
    Flood,
    /// A frame that this side never receives (a relay frame sent by a device, say).
    UnexpectedFrame,
    /// The relay is shutting down or failed internally; reconnect later.
    Unavailable,
    /// A recipient of a send is not a device the relay knows.
    UnknownRecipient,
    /// A recipient's offline queue is full (count or bytes); send later.
    QueueFull,
    /// The relay holds no prekeys for the address.
    NoBundle,
    /// Too many bundle fetches by this device; wait before fetching again.
    RateLimited,
    /// The prekey upload does not parse, verify, or match the authenticated identity.
    InvalidUpload,
    /// The device list does not parse or verify under the user identity.
    InvalidDeviceList,
    /// The device list's version is not higher than the stored one.
    StaleDeviceList,
    /// The device's certificate does not parse or verify.
    InvalidCertificate,
    /// The request concerns another user.
    Forbidden,
    /// The relay's storage failed for this request; try again.
    Internal,
}

impl ErrorCode {
    /// Every code, for tests and documentation.
    pub const ALL: [ErrorCode; 17] = [
        Self::Malformed,
        Self::Oversize,
        Self::Unauthenticated,
        Self::AuthenticationFailed,
        Self::Flood,
        Self::UnexpectedFrame,
        Self::Unavailable,
        Self::UnknownRecipient,
        Self::QueueFull,
        Self::NoBundle,
        Self::RateLimited,
        Self::InvalidUpload,
        Self::InvalidDeviceList,
        Self::StaleDeviceList,
        Self::InvalidCertificate,
        Self::Forbidden,
        Self::Internal,
    ];

    /// The code's byte.
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Malformed => 0x01,
            Self::Oversize => 0x02,
            Self::Unauthenticated => 0x03,
            Self::AuthenticationFailed => 0x04,
            Self::Flood => 0x05,
            Self::UnexpectedFrame => 0x06,
            Self::Unavailable => 0x07,
            Self::UnknownRecipient => 0x10,
            Self::QueueFull => 0x11,
            Self::NoBundle => 0x12,
            Self::RateLimited => 0x13,
            Self::InvalidUpload => 0x14,
            Self::InvalidDeviceList => 0x15,
            Self::StaleDeviceList => 0x16,
            Self::InvalidCertificate => 0x17,
            Self::Forbidden => 0x18,
            Self::Internal => 0x19,
        }
    }

    /// The code for a byte, if it names one.
    pub fn from_byte(b: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.to_byte() == b)
    }

    /// Whether the relay closes the connection after this error.
    pub fn is_fatal(self) -> bool {
        self.to_byte() < 0x10
    }
}

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self, f)
    }
}
