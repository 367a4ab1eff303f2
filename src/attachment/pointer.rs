//! The attachment pointer (spec §13): `attachment_key (32) || size (u64) || SHA-256(ciphertext) (32)`.

use zeroize::Zeroizing;

use super::{chunk_count, ciphertext_len, AttachmentError, AttachmentKey};
use crate::constants::{ATTACHMENT_POINTER_LEN, MAX_ATTACHMENT_SIZE};
use crate::primitives::hex_prefix;

/// What a message carries to name an attachment: its key, its plaintext size and the
/// SHA-256 of its blob. It holds the key, so it is as secret as the attachment: erased on
/// drop, and `Debug` shows the size and the digest only.
#[derive(PartialEq, Eq)]
pub struct AttachmentPointer {
    key: AttachmentKey,
    size: u64,
    digest: [u8; 32],
}

impl AttachmentPointer {
    /// A pointer from its parts; `size` is at most 2^40.
    pub fn new(key: AttachmentKey, size: u64, digest: [u8; 32]) -> Result<Self, AttachmentError> {
        if size > MAX_ATTACHMENT_SIZE {
            return Err(AttachmentError::TooLarge { size });
        }
        Ok(Self { key, size, digest })
    }

    /// Reads a 72-byte pointer. Any other length is [`AttachmentError::PointerLength`]; a
    /// size over 2^40 is [`AttachmentError::TooLarge`].
    pub fn parse(bytes: &[u8]) -> Result<Self, AttachmentError> {
        let bytes: &[u8; ATTACHMENT_POINTER_LEN] = bytes
            .try_into()
            .map_err(|_| AttachmentError::PointerLength { found: bytes.len() })?;
        let (key, rest) = bytes.split_at(32);
        let (size, digest) = rest.split_at(8);
        let mut size_bytes = [0u8; 8];
        size_bytes.copy_from_slice(size);
        let mut key_bytes = Zeroizing::new([0u8; 32]);
        key_bytes.copy_from_slice(key);
        let mut d = [0u8; 32];
        d.copy_from_slice(digest);
        Self::new(
            AttachmentKey::from_bytes(&key_bytes),
            u64::from_be_bytes(size_bytes),
            d,
        )
    }

    /// The 72 bytes, erased when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; ATTACHMENT_POINTER_LEN]> {
        let mut out = Zeroizing::new([0u8; ATTACHMENT_POINTER_LEN]);
        let (key, rest) = out.split_at_mut(32);
        key.copy_from_slice(self.key.expose());
        let (size, digest) = rest.split_at_mut(8);
        size.copy_from_slice(&self.size.to_be_bytes());
        digest.copy_from_slice(&self.digest);
        out
    }

    /// The attachment key.
    pub fn key(&self) -> &AttachmentKey {
        &self.key
    }

    /// The plaintext's length in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// SHA-256 of the blob (the concatenated sealed chunks).
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// How many chunks the attachment has.
    pub fn chunk_count(&self) -> u64 {
        chunk_count(self.size)
    }

    /// The blob's length: what the blob store holds.
    pub fn ciphertext_len(&self) -> u64 {
        ciphertext_len(self.size)
    }
}

impl core::fmt::Debug for AttachmentPointer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            key: _,
            size,
            digest,
        } = self;
        f.debug_struct("AttachmentPointer")
            .field("key", &"redacted")
            .field("size", size)
            .field("digest", &hex_prefix(digest))
            .finish()
    }
}
