//! Sending and receiving chain keys and `KDF_CK` (spec §4).

use crate::primitives::kdf::{hmac_sha256, hmac_sha256_byte_pair};
use crate::primitives::secret::Secret32;
use zeroize::Zeroize;

use super::message_key::MessageKey;

/// A chain key `CK` and the index of the next message key it gives (`Ns` or `Nr`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChainKey {
    pub(crate) key: Secret32,
    pub(crate) index: u32,
}

impl ChainKey {
    pub(crate) fn new(key: Secret32, index: u32) -> Self {
        Self { key, index }
    }

    /// `MK = HMAC(CK, 0x01)` for message `index`.
    pub(crate) fn message_key(&self) -> MessageKey {
        let mut mk = Secret32::zeroed();
        hmac_sha256(self.key.expose(), &[0x01], mk.expose_mut());
        MessageKey::new(mk, self.index)
    }

    /// The message key for this index and the next chain key, from one HMAC key schedule;
    /// the chain is `None` when the counter would overflow.
    pub(crate) fn step(&self) -> (MessageKey, Option<ChainKey>) {
        let (mut mk, mut ck) = (Secret32::zeroed(), Secret32::zeroed());
        hmac_sha256_byte_pair(
            self.key.expose(),
            0x01,
            0x02,
            mk.expose_mut(),
            ck.expose_mut(),
        );
        let next = self
            .index
            .checked_add(1)
            .map(|index| ChainKey::new(ck, index));
        (MessageKey::new(mk, self.index), next)
    }

    /// The message key for this index, moving this chain to the next key in place (no new
    /// allocation: skipping messages calls this once per skipped key); `None`, and nothing
    /// changed, when the counter would overflow.
    pub(crate) fn advance(&mut self) -> Option<MessageKey> {
        let next_index = self.index.checked_add(1)?;
        let mut mk = Secret32::zeroed();
        let mut ck = [0u8; 32];
        hmac_sha256_byte_pair(self.key.expose(), 0x01, 0x02, mk.expose_mut(), &mut ck);
        self.key.expose_mut().copy_from_slice(&ck);
        ck.zeroize();
        let key = MessageKey::new(mk, self.index);
        self.index = next_index;
        Some(key)
    }

    /// The next chain key, `HMAC(CK, 0x02)`; `None` when the counter would overflow.
    pub(crate) fn next(&self) -> Option<ChainKey> {
        let index = self.index.checked_add(1)?;
        let mut ck = Secret32::zeroed();
        hmac_sha256(self.key.expose(), &[0x02], ck.expose_mut());
        Some(ChainKey::new(ck, index))
    }
}
