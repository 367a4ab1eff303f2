//! `Message` (spec §5, §14): `0x11 || header (44) || AES-256-GCM(key, nonce, padded_plaintext, aad)`.

use crate::codec::{Reader, Writer};
use crate::constants::{
    HEADER_LEN, MAX_PLAINTEXT, MESSAGE_TYPE, PADDING_BLOCK, PQ_BLOCK_LEN, TAG_LEN,
};
use crate::error::DecodeError;

use super::header::Header;

/// The longest ciphertext a valid message can carry: the largest padded plaintext (with a
/// 38-byte pq_block, spec §14) plus the tag.
pub(crate) const MAX_CIPHERTEXT: usize =
    (PQ_BLOCK_LEN + MAX_PLAINTEXT + 2).div_ceil(PADDING_BLOCK) * PADDING_BLOCK + TAG_LEN;

/// A parsed `Message`, borrowing the wire bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    /// The header.
    pub header: Header,
    /// The header's bytes as sent (they are part of the AEAD's associated data).
    pub header_bytes: &'a [u8],
    /// `ciphertext || tag`.
    pub ciphertext: &'a [u8],
}

impl<'a> Message<'a> {
    /// Strictly parses a complete `Message`, first byte included.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, "message");
        let kind = r.u8()?;
        if kind != MESSAGE_TYPE {
            return Err(DecodeError::UnknownMessageType(kind));
        }
        Self::parse_body(r)
    }

    fn parse_body(mut r: Reader<'a>) -> Result<Self, DecodeError> {
        let header_bytes = r.take(HEADER_LEN)?;
        let header = Header::read(&mut Reader::new(header_bytes, "message header"))?;
        let ciphertext = r.rest();
        if ciphertext.len() < TAG_LEN {
            return Err(DecodeError::CiphertextTooShort);
        }
        if ciphertext.len() > MAX_CIPHERTEXT {
            return Err(DecodeError::MessageTooLong);
        }
        Ok(Self {
            header,
            header_bytes,
            ciphertext,
        })
    }
}

/// The associated data of a message: `AD || 0x11 || header`.
pub(crate) fn aad(associated_data: &[u8], header: &[u8; HEADER_LEN]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(associated_data.len() + 1 + HEADER_LEN);
    aad.put(associated_data);
    aad.put_u8(MESSAGE_TYPE);
    aad.put(header);
    aad
}
