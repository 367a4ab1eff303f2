//! Message ids (spec §5): `SHA-256("Bluetick_MessageId_v1" || wire message)[0..16]`.

use crate::constants::{MESSAGE_ID_CONTEXT, MESSAGE_ID_LEN};
use crate::primitives::hex_prefix;
use crate::primitives::kdf::sha256;

/// A 16-byte message id that sender, recipient and relay each compute from the wire bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub [u8; MESSAGE_ID_LEN]);

impl MessageId {
    /// The id of a wire message.
    pub fn of(wire: &[u8]) -> Self {
        let h = sha256(&[MESSAGE_ID_CONTEXT, wire]);
        let mut id = [0u8; MESSAGE_ID_LEN];
        id.copy_from_slice(h.get(..MESSAGE_ID_LEN).unwrap_or(&[0u8; MESSAGE_ID_LEN]));
        Self(id)
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8; MESSAGE_ID_LEN] {
        &self.0
    }
}

impl core::fmt::Debug for MessageId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "MessageId({})", hex_prefix(&self.0))
    }
}

impl core::fmt::Display for MessageId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}
