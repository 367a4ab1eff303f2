//! AES-256-GCM with a 96-bit nonce and the 128-bit tag appended.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};

use crate::constants::TAG_LEN;

/// The tag did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AeadError;

/// Encrypts `plaintext`, appending `ciphertext || tag` to `out`.
pub fn seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], plaintext: &[u8], out: &mut Vec<u8>) {
    let cipher = Aes256Gcm::new(key.into());
    let start = out.len();
    out.extend_from_slice(plaintext);
    let body = out.get_mut(start..).unwrap_or_default();
    match cipher.encrypt_inout_detached(&Nonce::from(*nonce), aad, body.into()) {
        Ok(tag) => out.extend_from_slice(&tag),
        // Only over-long inputs (beyond 64 GiB) fail; the protocol's limits keep far below.
        Err(_) => out.truncate(start),
    }
}

/// Decrypts `ciphertext || tag`; the plaintext is returned only if the tag verifies.
pub fn open(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Vec<u8>, AeadError> {
    let split = ciphertext_and_tag
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(AeadError)?;
    let (ciphertext, tag) = ciphertext_and_tag.split_at(split);
    let cipher = Aes256Gcm::new(key.into());
    let mut buf = ciphertext.to_vec();
    let tag = Tag::try_from(tag).map_err(|_| AeadError)?;
    cipher
        .decrypt_inout_detached(&Nonce::from(*nonce), aad, buf.as_mut_slice().into(), &tag)
        .map_err(|_| AeadError)?;
    Ok(buf)
}

/// Encrypts `buf[start..]` in place and appends the tag: the plaintext never leaves the
/// buffer it was framed in.
pub fn seal_in_place(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    buf: &mut Vec<u8>,
    start: usize,
) {
    let cipher = Aes256Gcm::new(key.into());
    let Some(body) = buf.get_mut(start..) else {
        return;
    };
    match cipher.encrypt_inout_detached(&Nonce::from(*nonce), aad, body.into()) {
        Ok(tag) => buf.extend_from_slice(&tag),
        // Only inputs over 64 GiB fail; the protocol's limits keep far below.
        Err(_) => buf.truncate(start),
    }
}

/// An AES-256-GCM key expanded once and kept for many messages under that key (the chunks
/// of one attachment). The key schedule is erased on drop and never printed.
pub struct AeadKey(Aes256Gcm);

impl AeadKey {
    /// Expands `key`.
    pub fn new(key: &[u8; 32]) -> Self {
        Self(Aes256Gcm::new(key.into()))
    }

    /// Encrypts `buf` in place and returns the tag.
    pub fn seal_in_place(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN], AeadError> {
        let tag = self
            .0
            .encrypt_inout_detached(&Nonce::from(*nonce), aad, buf.into())
            .map_err(|_| AeadError)?;
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(&tag);
        Ok(out)
    }

    /// Decrypts `buf` in place if `tag` verifies; on failure `buf` is left as it was (the
    /// tag is checked before any byte is decrypted).
    pub fn open_in_place(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), AeadError> {
        self.0
            .decrypt_inout_detached(&Nonce::from(*nonce), aad, buf.into(), &Tag::from(*tag))
            .map_err(|_| AeadError)
    }
}

impl core::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self(_) = self;
        f.write_str("AeadKey(redacted)")
    }
}
