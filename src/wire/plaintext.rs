//! Plaintext framing inside the AEAD. Pairwise Messages (spec §14, revision 3):
//! `pq_block || content_type (1) || body || 0x80 || 0x00*`; group messages (spec §5, §12):
//! the same without the pq_block. Both are padded to a multiple of 64 bytes.

use zeroize::{Zeroize, Zeroizing};

use crate::constants::{
    CONTENT_APPLICATION, CONTENT_RECEIPT, CONTENT_SENDER_KEY_DISTRIBUTION, CONTENT_TRANSCRIPT,
    PADDING_BLOCK,
};
use crate::error::DecryptionError;
use crate::wire::pq_block::{self, PqChunk};

/// What a message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// Application data (`0x01`).
    Application,
    /// A receipt (`0x02`).
    Receipt,
    /// A sender key distribution for a group (`0x03`, spec §12).
    Distribution,
    /// A sent transcript for the sender's own other devices (`0x04`, spec §11).
    Transcript,
}

impl ContentType {
    /// The framing byte.
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Application => CONTENT_APPLICATION,
            Self::Receipt => CONTENT_RECEIPT,
            Self::Distribution => CONTENT_SENDER_KEY_DISTRIBUTION,
            Self::Transcript => CONTENT_TRANSCRIPT,
        }
    }

    /// The content type for a framing byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            CONTENT_APPLICATION => Some(Self::Application),
            CONTENT_RECEIPT => Some(Self::Receipt),
            CONTENT_SENDER_KEY_DISTRIBUTION => Some(Self::Distribution),
            CONTENT_TRANSCRIPT => Some(Self::Transcript),
            _ => None,
        }
    }
}

/// The framed and padded length of a body of `body_len` bytes.
pub fn padded_len(body_len: usize) -> usize {
    (body_len + 2).div_ceil(PADDING_BLOCK) * PADDING_BLOCK
}

/// The padded length of a pairwise Message's plaintext: pq_block, content type, body, marker.
pub fn padded_len_pq(pq_block_len: usize, body_len: usize) -> usize {
    (pq_block_len + body_len + 2).div_ceil(PADDING_BLOCK) * PADDING_BLOCK
}

/// Frames and pads a pairwise Message's plaintext (revision 3): the pq_block first.
pub fn pad_pq(
    chunk: Option<&PqChunk>,
    content_type: ContentType,
    body: &[u8],
) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(padded_len_pq(
        pq_block::len(chunk),
        body.len(),
    )));
    pad_pq_into(&mut out, chunk, content_type, body);
    out
}

/// Appends a pairwise Message's framed and padded plaintext to `buf`.
pub(crate) fn pad_pq_into(
    buf: &mut Vec<u8>,
    chunk: Option<&PqChunk>,
    content_type: ContentType,
    body: &[u8],
) {
    let end = buf.len() + padded_len_pq(pq_block::len(chunk), body.len());
    pq_block::write(chunk, buf);
    buf.push(content_type.to_byte());
    buf.extend_from_slice(body);
    buf.push(0x80);
    buf.resize(end, 0);
}

/// A pairwise Message's plaintext, read: the pq_block's chunk, the content type byte (not
/// yet judged: the pq_block is judged first, spec §14) and the body.
pub struct PairwisePlaintext {
    /// The chunk the pq_block carries, if any.
    pub chunk: Option<PqChunk>,
    /// The content type byte.
    pub content_type: u8,
    /// The body.
    pub body: Vec<u8>,
}

impl core::fmt::Debug for PairwisePlaintext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            chunk,
            content_type,
            body,
        } = self;
        f.debug_struct("PairwisePlaintext")
            .field("chunk", chunk)
            .field("content_type", content_type)
            .field("body_len", &body.len())
            .finish()
    }
}

/// Reads a pairwise Message's plaintext: the padding is removed first, then the pq_block
/// (its structure only), then the content type byte. The session layer uses an owning form
/// of the same reading.
pub fn unpad_pq(padded: &[u8]) -> Result<(Option<PqChunk>, u8, &[u8]), DecryptionError> {
    if padded.is_empty() || padded.len() % PADDING_BLOCK != 0 {
        return Err(DecryptionError::BadPadding);
    }
    let end = padded
        .iter()
        .rposition(|&b| b != 0)
        .ok_or(DecryptionError::BadPadding)?;
    if padded.get(end) != Some(&0x80) {
        return Err(DecryptionError::BadPadding);
    }
    let framed = padded.get(..end).ok_or(DecryptionError::BadPadding)?;
    let (chunk, rest) = pq_block::parse(framed).map_err(DecryptionError::Pq)?;
    let (&content_type, body) = rest.split_first().ok_or(DecryptionError::BadPadding)?;
    Ok((chunk, content_type, body))
}

/// [`unpad_pq`] on an owned buffer, reusing it for the body; on failure it is erased.
pub(crate) fn unpad_pq_owned(mut padded: Vec<u8>) -> Result<PairwisePlaintext, DecryptionError> {
    match unpad_pq(&padded).map(|(chunk, kind, body)| (chunk, kind, body.len())) {
        Ok((chunk, content_type, len)) => {
            // The body ends at the marker; it starts after the pq_block and content type.
            let head = pq_block::len(chunk.as_ref()) + 1;
            padded.truncate(head + len);
            padded.drain(..head).for_each(drop);
            Ok(PairwisePlaintext {
                chunk,
                content_type,
                body: padded,
            })
        }
        Err(e) => {
            padded.as_mut_slice().zeroize();
            Err(e)
        }
    }
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
