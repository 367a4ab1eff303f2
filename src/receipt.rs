//! Delivery and read receipts (spec §7), sent as content type `0x02` inside a session.
//!
//! Body: `kind (1) || timestamp_ms (u64) || count (u16, 1..=1024) || ids (16 each, strictly
//! ascending) || signature (64, signed kinds only)`, with
//! `signature = Sig(IK_signer, "Bluetick_Receipt_v1" || IK_signer || IK_peer || kind ||
//! timestamp_ms || count || ids)`.
//!
//! Parsing checks, in this order: the kind byte, the count range, every length
//! (`Truncated`, `TrailingBytes`), the id order. Verification then checks the signature
//! (signed kinds) and that every id was sent to the signer.

use thiserror::Error;

use crate::codec::{Reader, Writer};
use crate::constants::{MAX_RECEIPT_IDS, MESSAGE_ID_LEN, RECEIPT_CONTEXT};
use crate::error::{DecodeError, ErrorKind};
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::wire::MessageId;

/// What a receipt acknowledges, and whether it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReceiptKind {
    /// `0x01`: signed delivery receipt.
    Delivered,
    /// `0x02`: signed read receipt.
    Read,
    /// `0x81`: deniable delivery receipt, authenticated by the session alone.
    DeniableDelivered,
    /// `0x82`: deniable read receipt.
    DeniableRead,
}

impl ReceiptKind {
    /// The kind byte.
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Delivered => 0x01,
            Self::Read => 0x02,
            Self::DeniableDelivered => 0x81,
            Self::DeniableRead => 0x82,
        }
    }

    /// The kind for a byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            0x01 => Some(Self::Delivered),
            0x02 => Some(Self::Read),
            0x81 => Some(Self::DeniableDelivered),
            0x82 => Some(Self::DeniableRead),
            _ => None,
        }
    }

    /// Whether the receipt carries a signature.
    pub fn is_signed(self) -> bool {
        matches!(self, Self::Delivered | Self::Read)
    }

    /// Whether it acknowledges reading (which implies delivery).
    pub fn is_read(self) -> bool {
        matches!(self, Self::Read | Self::DeniableRead)
    }
}

/// A receipt was malformed or does not verify; it must change nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// The body is malformed.
    #[error("malformed receipt: {0}")]
    Decode(#[from] DecodeError),
    /// Unknown kind byte.
    #[error("unknown receipt kind 0x{0:02x}; the receipt is ignored")]
    UnknownKind(u8),
    /// Zero or more than 1024 ids.
    #[error("a receipt must acknowledge 1 to 1024 message ids, not {0}; split larger batches")]
    InvalidIdCount(usize),
    /// Ids not strictly ascending.
    #[error("receipt ids are not strictly ascending (duplicated or out of order); the receipt is ignored")]
    NonCanonicalIds,
    /// Bad signature.
    #[error("the receipt's signature does not verify for this signer and this recipient; it is forged or meant for someone else, and is ignored")]
    BadSignature,
    /// An id never sent to the signer.
    #[error("the receipt acknowledges message {0}, which was never sent to this peer; the receipt is ignored")]
    UnknownMessageId(MessageId),
}

impl ReceiptError {
    /// The flat kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Decode(e) => e.kind(),
            Self::UnknownKind(_) => ErrorKind::UnknownReceiptKind,
            Self::InvalidIdCount(_) => ErrorKind::InvalidIdCount,
            Self::NonCanonicalIds => ErrorKind::NonCanonicalIds,
            Self::BadSignature => ErrorKind::BadSignature,
            Self::UnknownMessageId(_) => ErrorKind::UnknownMessageId,
        }
    }
}

/// A receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Its kind.
    pub kind: ReceiptKind,
    /// The signer's clock when it was made, in milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// The acknowledged ids, strictly ascending.
    pub ids: Vec<MessageId>,
    /// The signature, for signed kinds.
    pub signature: Option<[u8; 64]>,
}

/// `"Bluetick_Receipt_v1" || IK_signer || IK_peer || kind || timestamp_ms || count || ids`.
pub fn signed_payload(
    signer: &IdentityKey,
    peer: &IdentityKey,
    kind: ReceiptKind,
    timestamp_ms: u64,
    ids: &[MessageId],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(RECEIPT_CONTEXT.len() + 64 + 11 + ids.len() * MESSAGE_ID_LEN);
    out.put(RECEIPT_CONTEXT);
    out.put(signer.as_bytes());
    out.put(peer.as_bytes());
    write_fields(&mut out, kind, timestamp_ms, ids);
    out
}

fn write_fields(out: &mut Vec<u8>, kind: ReceiptKind, timestamp_ms: u64, ids: &[MessageId]) {
    out.put_u8(kind.to_byte());
    out.put_u64(timestamp_ms);
    // Callers keep ids.len() within 1..=1024.
    out.put_u16(u16::try_from(ids.len()).unwrap_or(u16::MAX));
    for id in ids {
        out.put(id.as_bytes());
    }
}

impl Receipt {
    /// A receipt from `signer` for messages that `peer` sent. The ids are sorted and
    /// deduplicated; 1 to 1024 distinct ids are allowed.
    pub fn create(
        signer: &IdentityKeyPair,
        peer: &IdentityKey,
        kind: ReceiptKind,
        timestamp_ms: u64,
        ids: &[MessageId],
    ) -> Result<Self, ReceiptError> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() || ids.len() > MAX_RECEIPT_IDS {
            return Err(ReceiptError::InvalidIdCount(ids.len()));
        }
        let signature = kind.is_signed().then(|| {
            signer.sign(&[&signed_payload(
                signer.public(),
                peer,
                kind,
                timestamp_ms,
                &ids,
            )])
        });
        Ok(Self {
            kind,
            timestamp_ms,
            ids,
            signature,
        })
    }

    /// The body that goes inside the message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(11 + self.ids.len() * MESSAGE_ID_LEN + 64);
        write_fields(&mut out, self.kind, self.timestamp_ms, &self.ids);
        if let Some(sig) = &self.signature {
            out.put(sig);
        }
        out
    }

    /// Strictly parses a receipt body (structure and id order; not the signature).
    pub fn parse(body: &[u8]) -> Result<Self, ReceiptError> {
        let mut r = Reader::new(body, "receipt");
        let kind_byte = r.u8()?;
        let kind = ReceiptKind::from_byte(kind_byte).ok_or(ReceiptError::UnknownKind(kind_byte))?;
        let timestamp_ms = r.u64()?;
        let count = usize::from(r.u16()?);
        if count == 0 || count > MAX_RECEIPT_IDS {
            return Err(ReceiptError::InvalidIdCount(count));
        }
        let mut ids = Vec::with_capacity(count);
        for _ in 0..count {
            ids.push(MessageId(r.array()?));
        }
        let signature = if kind.is_signed() {
            Some(r.array()?)
        } else {
            None
        };
        r.finish()?;
        if !ids.windows(2).all(|w| matches!(w, [a, b] if a < b)) {
            return Err(ReceiptError::NonCanonicalIds);
        }
        Ok(Self {
            kind,
            timestamp_ms,
            ids,
            signature,
        })
    }

    /// Checks a parsed receipt as its receiver: the signature (signed kinds) by `signer`
    /// addressed to `receiver`, and that every id is one `receiver` sent to `signer`.
    pub fn verify(
        &self,
        signer: &IdentityKey,
        receiver: &IdentityKey,
        was_sent: impl Fn(&MessageId) -> bool,
    ) -> Result<(), ReceiptError> {
        if self.kind.is_signed() {
            let sig = self.signature.as_ref().ok_or(ReceiptError::BadSignature)?;
            let payload = signed_payload(signer, receiver, self.kind, self.timestamp_ms, &self.ids);
            if !signer.verify(&[&payload], sig) {
                return Err(ReceiptError::BadSignature);
            }
        }
        match self.ids.iter().find(|id| !was_sent(id)) {
            Some(id) => Err(ReceiptError::UnknownMessageId(*id)),
            None => Ok(()),
        }
    }
}
