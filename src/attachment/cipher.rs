//! The chunk cipher: the AES key and nonce prefix derived from an attachment key, and the
//! per-chunk nonce `prefix (7) || i (u32) || last (1)` (spec §13).

use zeroize::{Zeroize, Zeroizing};

use super::AttachmentKey;
use crate::constants::{ATTACHMENT_INFO, ATTACHMENT_NONCE_PREFIX_LEN, TAG_LEN, ZERO32};
use crate::primitives::aead::{AeadError, AeadKey};
use crate::primitives::kdf::hkdf_sha256;

/// The expanded AES key and the nonce prefix of one attachment.
pub(crate) struct ChunkCipher {
    aead: AeadKey,
    prefix: [u8; ATTACHMENT_NONCE_PREFIX_LEN],
}

impl ChunkCipher {
    /// `HKDF(ZERO32, key, "Bluetick_Attachment_v1", 39)`: AES key, then nonce prefix.
    pub(crate) fn new(key: &AttachmentKey) -> Self {
        let mut okm = Zeroizing::new([0u8; 32 + ATTACHMENT_NONCE_PREFIX_LEN]);
        hkdf_sha256(&ZERO32, key.expose(), ATTACHMENT_INFO, &mut okm[..]);
        let (aes, rest) = okm.split_at(32);
        let mut aes_key = Zeroizing::new([0u8; 32]);
        aes_key.copy_from_slice(aes);
        let mut prefix = [0u8; ATTACHMENT_NONCE_PREFIX_LEN];
        prefix.copy_from_slice(rest);
        Self {
            aead: AeadKey::new(&aes_key),
            prefix,
        }
    }

    /// The nonce of chunk `index`.
    pub(crate) fn nonce(&self, index: u32, last: bool) -> [u8; 12] {
        let mut nonce = [0u8; 12];
        let (prefix, rest) = nonce.split_at_mut(ATTACHMENT_NONCE_PREFIX_LEN);
        prefix.copy_from_slice(&self.prefix);
        let (counter, flag) = rest.split_at_mut(4);
        counter.copy_from_slice(&index.to_be_bytes());
        if let Some(f) = flag.first_mut() {
            *f = u8::from(last);
        }
        nonce
    }

    /// Seals chunk `index` in place and returns its tag.
    pub(crate) fn seal(
        &self,
        index: u32,
        last: bool,
        chunk: &mut [u8],
    ) -> Result<[u8; TAG_LEN], AeadError> {
        self.aead
            .seal_in_place(&self.nonce(index, last), &[], chunk)
    }

    /// Opens chunk `index` (`ciphertext || tag`) in place; the plaintext is the first
    /// `len - 16` bytes, and is there only if the tag verified.
    pub(crate) fn open(
        &self,
        index: u32,
        last: bool,
        sealed: &mut [u8],
    ) -> Result<usize, AeadError> {
        let len = sealed.len().checked_sub(TAG_LEN).ok_or(AeadError)?;
        let (body, tag) = sealed.split_at_mut(len);
        let tag: &[u8; TAG_LEN] = (&*tag).try_into().map_err(|_| AeadError)?;
        self.aead
            .open_in_place(&self.nonce(index, last), &[], body, tag)?;
        Ok(len)
    }
}

impl Drop for ChunkCipher {
    fn drop(&mut self) {
        self.prefix.zeroize();
    }
}

impl core::fmt::Debug for ChunkCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { aead: _, prefix: _ } = self;
        f.write_str("ChunkCipher(redacted)")
    }
}
