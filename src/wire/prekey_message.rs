//! `PreKeyMessage` (spec §5): the session-starting fields of PQXDH followed by a `Message`.
//!
//! `0x12 || IK_A (32) || EK_A (32) || SPK id (u32) || PQPK id (u32) || has_OPK (0|1) ||
//! [OPK id (u32)] || CT (1568) || Message`

use crate::codec::{Reader, Writer};
use crate::constants::{KEM_CIPHERTEXT_LEN, PREKEY_MESSAGE_TYPE};
use crate::error::DecodeError;

use super::message::Message;

/// A parsed `PreKeyMessage`, borrowing the wire bytes. The identity key is not validated
/// here: the session layer does that before using it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreKeyMessage<'a> {
    /// `IK_A`, as sent.
    pub identity_key: [u8; 32],
    /// `EK_A`, the base key.
    pub base_key: [u8; 32],
    /// The responder's signed prekey id.
    pub signed_prekey_id: u32,
    /// The responder's PQ prekey id.
    pub pq_prekey_id: u32,
    /// The responder's one-time prekey id, if one was used.
    pub one_time_prekey_id: Option<u32>,
    /// `CT`.
    pub kem_ciphertext: &'a [u8; KEM_CIPHERTEXT_LEN],
    /// Every byte before the inner `Message`.
    pub prefix: &'a [u8],
    /// The inner `Message`, its first byte included.
    pub message_bytes: &'a [u8],
    /// The inner `Message`, parsed.
    pub message: Message<'a>,
}

impl<'a> PreKeyMessage<'a> {
    /// Strictly parses a complete `PreKeyMessage`, first byte included.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, "PreKeyMessage");
        let kind = r.u8()?;
        if kind != PREKEY_MESSAGE_TYPE {
            return Err(DecodeError::UnknownMessageType(kind));
        }
        let identity_key = r.array()?;
        let base_key = r.array()?;
        let signed_prekey_id = r.u32()?;
        let pq_prekey_id = r.u32()?;
        let one_time_prekey_id = if r.flag()? { Some(r.u32()?) } else { None };
        let kem_ciphertext: &[u8; KEM_CIPHERTEXT_LEN] = r
            .take(KEM_CIPHERTEXT_LEN)?
            .try_into()
            .map_err(|_| DecodeError::Truncated {
                what: "PreKeyMessage",
            })?;
        let message_bytes = r.rest();
        let prefix = bytes
            .get(..bytes.len() - message_bytes.len())
            .unwrap_or_default();
        let message = Message::parse(message_bytes)?;
        Ok(Self {
            identity_key,
            base_key,
            signed_prekey_id,
            pq_prekey_id,
            one_time_prekey_id,
            kem_ciphertext,
            prefix,
            message_bytes,
            message,
        })
    }
}

/// The fields an initiator repeats in every PreKeyMessage until the responder answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PreKeyPrefix {
    pub(crate) identity_key: [u8; 32],
    pub(crate) base_key: [u8; 32],
    pub(crate) signed_prekey_id: u32,
    pub(crate) pq_prekey_id: u32,
    pub(crate) one_time_prekey_id: Option<u32>,
    pub(crate) kem_ciphertext: Box<[u8; KEM_CIPHERTEXT_LEN]>,
}

impl PreKeyPrefix {
    /// Writes everything before the inner `Message`.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.put_u8(PREKEY_MESSAGE_TYPE);
        out.put(&self.identity_key);
        out.put(&self.base_key);
        out.put_u32(self.signed_prekey_id);
        out.put_u32(self.pq_prekey_id);
        match self.one_time_prekey_id {
            Some(id) => {
                out.put_u8(1);
                out.put_u32(id);
            }
            None => out.put_u8(0),
        }
        out.put(&self.kem_ciphertext[..]);
    }
}
