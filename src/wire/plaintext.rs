//! Plaintext framing inside the AEAD (spec §5):
//! `content_type (1) || body || 0x80 || 0x00*`, padded to a multiple of 64 bytes.

use zeroize::Zeroizing;

use crate::constants::{CONTENT_APPLICATION, CONTENT_RECEIPT, PADDING_BLOCK};
use crate::error::DecryptionError;

/// What a message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// Application data (`0x01`).
    Application,
    /// A receipt (`0x02`).
    Receipt,
}

impl ContentType {
    /// The framing byte.
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Application => CONTENT_APPLICATION,
            Self::Receipt => CONTENT_RECEIPT,
        }
    }

    /// The content type for a framing byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            CONTENT_APPLICATION => Some(Self::Application),
            CONTENT_RECEIPT => Some(Self::Receipt),
            _ => None,
        }
    }
}

/// Frames and pads `body`.
pub fn pad(content_type: ContentType, body: &[u8]) -> Zeroizing<Vec<u8>> {
    let len = (body.len() + 2).div_ceil(PADDING_BLOCK) * PADDING_BLOCK;
    let mut out = Zeroizing::new(Vec::with_capacity(len));
    out.push(content_type.to_byte());
    out.extend_from_slice(body);
    out.push(0x80);
    out.resize(len, 0);
    out
}

/// Reads the framing: the content type and the body.
pub fn unpad(padded: &[u8]) -> Result<(ContentType, &[u8]), DecryptionError> {
    if padded.is_empty() || padded.len() % PADDING_BLOCK != 0 {
        return Err(DecryptionError::BadPadding);
    }
    let end = padded
        .iter()
        .rposition(|&b| b != 0)
        .ok_or(DecryptionError::BadPadding)?;
    // The last non-zero byte must be the 0x80 marker, after the content type.
    if end == 0 || padded.get(end) != Some(&0x80) {
        return Err(DecryptionError::BadPadding);
    }
    let (&kind, rest) = padded.split_first().ok_or(DecryptionError::BadPadding)?;
    let content_type =
        ContentType::from_byte(kind).ok_or(DecryptionError::UnknownContentType(kind))?;
    let body = rest.get(..end - 1).ok_or(DecryptionError::BadPadding)?;
    Ok((content_type, body))
}
