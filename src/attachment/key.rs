//! The attachment key (spec §13): 32 random bytes, one per attachment.

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;

use crate::primitives::secret::Secret32;

/// The key of one attachment. Erased on drop, compared in constant time, never printed.
///
/// **Warning**: a key encrypts exactly one attachment. Two attachments under one key use
/// the same nonces, which breaks AES-GCM; [`AttachmentKey::generate`] a fresh one each
/// time (the encryptor takes the key by value to make reuse deliberate).
pub struct AttachmentKey(Secret32);

impl AttachmentKey {
    /// A fresh random key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut key = Secret32::zeroed();
        rng.fill_bytes(key.expose_mut());
        Self(key)
    }

    /// A key from its 32 bytes: to decrypt with a received key, or to reproduce the test
    /// vectors. Never use it to encrypt a second attachment under one key.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        let mut key = Secret32::zeroed();
        key.expose_mut().copy_from_slice(bytes);
        Self(key)
    }

    /// The key's bytes.
    pub fn expose(&self) -> &[u8; 32] {
        self.0.expose()
    }
}

impl PartialEq for AttachmentKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for AttachmentKey {}

impl core::fmt::Debug for AttachmentKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self(_) = self;
        f.write_str("AttachmentKey(redacted)")
    }
}
