//! The sender chain (spec §12): `MK_i = HMAC(CK_i, 0x01)`, `CK_{i+1} = HMAC(CK_i, 0x02)`, and
//! `HKDF(ZERO32, MK_i, "Bluetick_GroupMessageKeys_v1", 44)` into the AES key and nonce.

use zeroize::Zeroize;

use crate::constants::{GROUP_MESSAGE_KEYS_INFO, ZERO32};
use crate::primitives::kdf::{hkdf_sha256, hmac_sha256_byte_pair};
use crate::primitives::secret::{Secret32, SecretBytes};

/// A chain key `CK_i` and its iteration `i`. Erased on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SenderChainKey {
    pub(crate) key: Secret32,
    pub(crate) iteration: u32,
}

impl core::fmt::Debug for SenderChainKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { key: _, iteration } = self;
        f.debug_struct("SenderChainKey")
            .field("iteration", iteration)
            .finish_non_exhaustive()
    }
}

impl SenderChainKey {
    pub(crate) fn new(key: Secret32, iteration: u32) -> Self {
        Self { key, iteration }
    }

    /// The message key of this iteration, moving the chain to the next one in place; `None`,
    /// and nothing changed, when the iteration counter would overflow.
    pub(crate) fn advance(&mut self) -> Option<GroupMessageKey> {
        let next = self.iteration.checked_add(1)?;
        let mut mk = Secret32::zeroed();
        let mut ck = [0u8; 32];
        hmac_sha256_byte_pair(self.key.expose(), 0x01, 0x02, mk.expose_mut(), &mut ck);
        self.key.expose_mut().copy_from_slice(&ck);
        ck.zeroize();
        let key = GroupMessageKey {
            key: mk,
            iteration: self.iteration,
        };
        self.iteration = next;
        Some(key)
    }
}

/// A message key `MK_i` and its iteration. Erased on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct GroupMessageKey {
    pub(crate) key: Secret32,
    pub(crate) iteration: u32,
}

impl core::fmt::Debug for GroupMessageKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { key: _, iteration } = self;
        f.debug_struct("GroupMessageKey")
            .field("iteration", iteration)
            .finish_non_exhaustive()
    }
}

/// The AES-256-GCM key (bytes 0..32) and nonce (32..44) expanded from a message key.
pub(crate) struct GroupMessageKeys {
    okm: SecretBytes<44>,
}

impl GroupMessageKeys {
    pub(crate) fn aes_key(&self) -> &[u8; 32] {
        self.okm
            .expose()
            .split_first_chunk::<32>()
            .map_or(&ZERO32, |(key, _)| key)
    }

    pub(crate) fn nonce(&self) -> [u8; 12] {
        let mut nonce = [0u8; 12];
        if let Some(n) = self.okm.expose().get(32..44) {
            nonce.copy_from_slice(n);
        }
        nonce
    }
}

impl GroupMessageKey {
    /// `HKDF(ZERO32, MK, "Bluetick_GroupMessageKeys_v1", 44)`.
    pub(crate) fn expand(&self) -> GroupMessageKeys {
        let mut okm = SecretBytes::<44>::zeroed();
        hkdf_sha256(
            &ZERO32,
            self.key.expose(),
            GROUP_MESSAGE_KEYS_INFO,
            okm.expose_mut(),
        );
        GroupMessageKeys { okm }
    }
}
