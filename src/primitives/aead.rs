//! AES-256-GCM with a 96-bit nonce and the 128-bit tag appended.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};

use crate::constants::TAG_LEN;

/// An AES-256-GCM key with its key schedule expanded once, for a key that seals many
/// values (the store's). Erased on drop.
pub struct AeadKey(Aes256Gcm);

impl AeadKey {
    /// Expands `key`.
    pub fn new(key: &[u8; 32]) -> Self {
        Self(Aes256Gcm::new(key.into()))
    }

    /// Encrypts `buf[start..]` in place and appends the tag.
    pub fn seal_in_place(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut Vec<u8>, start: usize) {
        let Some(body) = buf.get_mut(start..) else {
            return;
        };
        match self
            .0
            .encrypt_inout_detached(&Nonce::from(*nonce), aad, body.into())
        {
            Ok(tag) => buf.extend_from_slice(&tag),
            // Only inputs over 64 GiB fail; the store's records are far smaller.
            Err(_) => buf.truncate(start),
        }
    }

    /// Decrypts `ciphertext || tag` into `out` (cleared first); `out` holds the plaintext
    /// only if the tag verifies, and nothing otherwise.
    pub fn open_into(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        ciphertext_and_tag: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), AeadError> {
        out.clear();
        let split = ciphertext_and_tag
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(AeadError)?;
        let (ciphertext, tag) = ciphertext_and_tag.split_at(split);
        let tag = Tag::try_from(tag).map_err(|_| AeadError)?;
        out.extend_from_slice(ciphertext);
        let result = self.0.decrypt_inout_detached(
            &Nonce::from(*nonce),
            aad,
            out.as_mut_slice().into(),
            &tag,
        );
        if result.is_err() {
            // What the failed call left is not plaintext anyone may see.
            zeroize::Zeroize::zeroize(out);
            return Err(AeadError);
        }
        Ok(())
    }
}

impl core::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AeadKey(..)")
    }
}

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
