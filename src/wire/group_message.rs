//! `GroupMessage` (spec §12):
//! `0x13 || distribution_id (16) || chain_id (u32) || iteration (u32) ||
//! AES-256-GCM(key, nonce, padded_plaintext, aad = the 25 bytes before it) || signature (64)`.
//!
//! | bytes | field |
//! | --- | --- |
//! | 0 | `0x13` |
//! | 1..17 | `distribution_id` |
//! | 17..21 | `chain_id` (u32) |
//! | 21..25 | `iteration` (u32) |
//! | 25..len-64 | ciphertext and 16-byte tag |
//! | len-64..len | Ed25519 signature over `"Bluetick_GroupMessage_v1"` and every byte before it |

use crate::codec::Reader;
use crate::constants::{
    DISTRIBUTION_ID_LEN, GROUP_HEADER_LEN, GROUP_MESSAGE_TYPE, MAX_PLAINTEXT, PADDING_BLOCK,
    SIGNATURE_LEN, TAG_LEN,
};
use crate::error::DecodeError;

/// The longest ciphertext a valid group message can carry: the largest padded plaintext
/// plus the tag.
pub(crate) const MAX_GROUP_CIPHERTEXT: usize =
    (MAX_PLAINTEXT + 2).div_ceil(PADDING_BLOCK) * PADDING_BLOCK + TAG_LEN;

/// The shortest valid group message: header, tag, signature.
pub const MIN_GROUP_MESSAGE_LEN: usize = GROUP_HEADER_LEN + TAG_LEN + SIGNATURE_LEN;

/// A parsed `GroupMessage`, borrowing the wire bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupMessage<'a> {
    /// The sender key this message was encrypted under.
    pub distribution_id: [u8; DISTRIBUTION_ID_LEN],
    /// The sender key's chain id.
    pub chain_id: u32,
    /// The message's position in the sender chain.
    pub iteration: u32,
    /// The 25 header bytes, the AEAD's associated data.
    pub header_bytes: &'a [u8],
    /// `ciphertext || tag`.
    pub ciphertext: &'a [u8],
    /// Every byte before the signature: what the signature covers (after its context).
    pub signed: &'a [u8],
    /// The Ed25519 signature.
    pub signature: [u8; SIGNATURE_LEN],
}

impl<'a> GroupMessage<'a> {
    /// Strictly parses a complete `GroupMessage`, first byte included. Refuses an empty
    /// input or one cut before the signature (`Truncated`), another first byte
    /// (`UnknownMessageType`), a ciphertext shorter than the tag (`CiphertextTooShort`) and
    /// one longer than the 16 MiB limit allows (`MessageTooLong`).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, "group message");
        let kind = r.u8()?;
        if kind != GROUP_MESSAGE_TYPE {
            return Err(DecodeError::UnknownMessageType(kind));
        }
        let distribution_id = r.array::<DISTRIBUTION_ID_LEN>()?;
        let chain_id = r.u32()?;
        let iteration = r.u32()?;
        let rest = r.rest();
        let split = rest
            .len()
            .checked_sub(SIGNATURE_LEN)
            .ok_or(DecodeError::Truncated {
                what: "group message",
            })?;
        let (ciphertext, signature) = rest.split_at(split);
        if ciphertext.len() < TAG_LEN {
            return Err(DecodeError::CiphertextTooShort);
        }
        if ciphertext.len() > MAX_GROUP_CIPHERTEXT {
            return Err(DecodeError::MessageTooLong);
        }
        let signed_len = bytes.len() - SIGNATURE_LEN;
        let (signed, _) = bytes.split_at(signed_len);
        let (header_bytes, _) = bytes.split_at(GROUP_HEADER_LEN);
        let mut sig = [0u8; SIGNATURE_LEN];
        sig.copy_from_slice(signature);
        Ok(Self {
            distribution_id,
            chain_id,
            iteration,
            header_bytes,
            ciphertext,
            signed,
            signature: sig,
        })
    }
}

/// The 25-byte header of a group message: its first byte and the sender key's position.
pub(crate) fn header(
    distribution_id: &[u8; DISTRIBUTION_ID_LEN],
    chain_id: u32,
    iteration: u32,
) -> [u8; GROUP_HEADER_LEN] {
    let mut out = [0u8; GROUP_HEADER_LEN];
    let (kind, rest) = out.split_at_mut(1);
    kind.copy_from_slice(&[GROUP_MESSAGE_TYPE]);
    let (did, rest) = rest.split_at_mut(DISTRIBUTION_ID_LEN);
    did.copy_from_slice(distribution_id);
    let (cid, it) = rest.split_at_mut(4);
    cid.copy_from_slice(&chain_id.to_be_bytes());
    it.copy_from_slice(&iteration.to_be_bytes());
    out
}
