//! Message keys: their expansion into an AES-256-GCM key and nonce (spec §4), and the
//! encryption of one message.

use crate::constants::MESSAGE_KEYS_INFO;
use crate::constants::ZERO32;
use crate::primitives::aead::{self, AeadError};
use crate::primitives::kdf::hkdf_sha256;
use crate::primitives::secret::{Secret32, SecretBytes};

/// A message key `MK` and the index of the message it belongs to. Erased on drop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MessageKey {
    pub(crate) key: Secret32,
    pub(crate) index: u32,
}

/// The AES key and nonce expanded from a message key.
pub(crate) struct Expanded {
    pub(crate) okm: SecretBytes<44>,
}

impl Expanded {
    pub(crate) fn aes_key(&self) -> &[u8; 32] {
        let (key, _) = self
            .okm
            .expose()
            .split_first_chunk::<32>()
            .unwrap_or((&ZERO32, &[]));
        key
    }

    pub(crate) fn nonce(&self) -> [u8; 12] {
        let mut nonce = [0u8; 12];
        if let Some(n) = self.okm.expose().get(32..44) {
            nonce.copy_from_slice(n);
        }
        nonce
    }
}

impl MessageKey {
    pub(crate) fn new(key: Secret32, index: u32) -> Self {
        Self { key, index }
    }

    /// `HKDF(ZERO32, MK, "Bluetick_MessageKeys_v1", 44)`: AES key = 0..32, nonce = 32..44.
    pub(crate) fn expand(&self) -> Expanded {
        let mut okm = SecretBytes::<44>::zeroed();
        hkdf_sha256(
            &ZERO32,
            self.key.expose(),
            MESSAGE_KEYS_INFO,
            okm.expose_mut(),
        );
        Expanded { okm }
    }

    /// Encrypts `buf[start..]` in place under this key and appends the tag.
    pub(crate) fn seal_in_place(&self, aad: &[u8], buf: &mut Vec<u8>, start: usize) {
        let e = self.expand();
        aead::seal_in_place(e.aes_key(), &e.nonce(), aad, buf, start);
    }

    /// Decrypts `ciphertext || tag` under this key.
    pub(crate) fn open(&self, aad: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, AeadError> {
        let e = self.expand();
        aead::open(e.aes_key(), &e.nonce(), aad, ciphertext)
    }
}
