//! Plaintext framing inside the AEAD (spec §5):
//! `content_type (1) || body || 0x80 || 0x00*`, padded to a multiple of 64 bytes.

use zeroize::{Zeroize, Zeroizing};

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

/// The framed and padded length of a body of `body_len` bytes.
pub fn padded_len(body_len: usize) -> usize {
    (body_len + 2).div_ceil(PADDING_BLOCK) * PADDING_BLOCK
}

/// Frames and pads `body`.
pub fn pad(content_type: ContentType, body: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(padded_len(body.len())));
    pad_into(&mut out, content_type, body);
    out
}

/// Appends the framed and padded `body` to `buf` (which is then encrypted in place).
pub(crate) fn pad_into(buf: &mut Vec<u8>, content_type: ContentType, body: &[u8]) {
    let end = buf.len() + padded_len(body.len());
    buf.push(content_type.to_byte());
    buf.extend_from_slice(body);
    buf.push(0x80);
    buf.resize(end, 0);
}

/// [`unpad`] on an owned buffer, reusing it for the body; on failure it is erased.
pub(crate) fn unpad_owned(mut padded: Vec<u8>) -> Result<(ContentType, Vec<u8>), DecryptionError> {
    match unpad(&padded).map(|(kind, body)| (kind, body.len())) {
        Ok((kind, len)) => {
            // Keep `body`, which starts after the content type byte.
            padded.truncate(len + 1);
            padded.remove(0);
            Ok((kind, padded))
        }
        Err(e) => {
            padded.as_mut_slice().zeroize();
            Err(e)
        }
    }
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
