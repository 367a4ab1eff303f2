//! Attachments (spec §13): media sealed in 64 KiB chunks for a blob store and named by a
//! 72-byte pointer that travels inside an ordinary message.
//!
//! The objects are push-style and hold one chunk at most: the app reads its file or stream
//! in pieces of any size, passes each to `update` and writes what comes back. Each call
//! returns at most its input plus one chunk, whatever the attachment's size. The language
//! idioms (`encryptAttachment`, `encrypt_attachment`, ...) are this loop over streams.

use std::sync::{Arc, Mutex, MutexGuard};

use bluetick::attachment::{
    self, AttachmentKey, AttachmentPointer, ChunkOpener, Decryptor, Encryptor,
};
use zeroize::Zeroizing;

use crate::error::AttachmentError;

/// A lock whose value is whole even after a panic elsewhere (every change is one move).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn finished(what: &str) -> AttachmentError {
    AttachmentError::invalid(format!(
        "this attachment {what} has finished (or failed): start a new one for another attachment"
    ))
}

/// What `AttachmentEncryptor.finish` returns: the last sealed bytes of the blob and the
/// pointer to send inside a message.
// No `PartialEq`: the pointer holds the key, which is compared only in constant time.
#[derive(Clone, uniffi::Record)]
pub struct FinishedAttachment {
    /// The blob's last sealed chunk: append it to what `update` returned.
    pub sealed: Vec<u8>,
    /// The 72-byte pointer `key || size || SHA-256(blob)`. It holds the key: send it only
    /// inside an end-to-end encrypted message and never log it.
    pub pointer: Vec<u8>,
}

impl core::fmt::Debug for FinishedAttachment {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { sealed, pointer: _ } = self;
        f.debug_struct("FinishedAttachment")
            .field("sealed_len", &sealed.len())
            .field("pointer", &"redacted")
            .finish()
    }
}

/// Where one sealed chunk lies in the blob: fetch exactly these bytes (an HTTP range
/// request) and pass them to `open_attachment_chunk`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AttachmentChunkRange {
    /// Offset of the sealed chunk in the blob.
    pub offset: u64,
    /// Length of the sealed chunk (its plaintext plus the 16-byte tag).
    pub length: u64,
}

/// Seals one attachment under a fresh key. Feed the plaintext to `update` in pieces of any
/// size, write out what each call returns, then call `finish` once for the last chunk and
/// the pointer. The key is erased when the object is dropped.
#[derive(Debug, uniffi::Object)]
pub struct AttachmentEncryptor {
    inner: Mutex<Option<Encryptor>>,
}

#[uniffi::export]
impl AttachmentEncryptor {
    /// A new attachment under a key from the operating system's generator.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        let key = AttachmentKey::generate(&mut bluetick::os_rng());
        Arc::new(Self {
            inner: Mutex::new(Some(Encryptor::new(key))),
        })
    }

    /// A new attachment under the given 32-byte key: only to reproduce test vectors. A key
    /// must never seal two attachments; apps use the constructor without a key.
    #[uniffi::constructor]
    pub fn with_key(key: Vec<u8>) -> Result<Arc<Self>, AttachmentError> {
        let key = Zeroizing::new(key);
        let bytes: &[u8; 32] = key.as_slice().try_into().map_err(|_| {
            AttachmentError::invalid(format!(
                "an attachment key is 32 bytes, this one is {}",
                key.len()
            ))
        })?;
        Ok(Arc::new(Self {
            inner: Mutex::new(Some(Encryptor::new(AttachmentKey::from_bytes(bytes)))),
        }))
    }

    /// Takes the next plaintext bytes and returns the sealed chunks that became whole (none
    /// until 64 KiB are in; the last chunk waits for `finish`). Write them to the blob in
    /// order. Fails with `AttachmentTooLarge` past 2^40 bytes.
    pub fn update(&self, plaintext: Vec<u8>) -> Result<Vec<u8>, AttachmentError> {
        let plaintext = Zeroizing::new(plaintext);
        let mut guard = lock(&self.inner);
        let enc = guard.as_mut().ok_or_else(|| finished("encryptor"))?;
        let mut input = plaintext.as_slice();
        let mut out = Vec::new();
        while let Some(sealed) = enc.push(&mut input)? {
            out.extend_from_slice(sealed);
        }
        Ok(out)
    }

    /// Seals the last chunk and returns it with the 72-byte pointer. The encryptor is spent
    /// afterwards.
    pub fn finish(&self) -> Result<FinishedAttachment, AttachmentError> {
        let enc = lock(&self.inner)
            .take()
            .ok_or_else(|| finished("encryptor"))?;
        let last = enc.finish()?;
        let pointer = last.pointer().to_bytes();
        Ok(FinishedAttachment {
            sealed: last.sealed().to_vec(),
            pointer: pointer.to_vec(),
        })
    }
}

/// Opens one attachment's blob. Feed the blob to `update` in pieces of any size and write
/// out what each call returns: only plaintext whose chunk authenticated. `finish` returns
/// the last chunk's plaintext only if the blob's digest and size match the pointer. After
/// any failure, discard everything written for this attachment.
#[derive(Debug, uniffi::Object)]
pub struct AttachmentDecryptor {
    inner: Mutex<Option<Decryptor>>,
}

#[uniffi::export]
impl AttachmentDecryptor {
    /// A decryptor for the attachment the 72-byte `pointer` names.
    #[uniffi::constructor]
    pub fn new(pointer: Vec<u8>) -> Result<Arc<Self>, AttachmentError> {
        let pointer = parse_pointer(pointer)?;
        Ok(Arc::new(Self {
            inner: Mutex::new(Some(Decryptor::new(&pointer))),
        }))
    }

    /// Takes the next blob bytes and returns the plaintext of the chunks that became whole
    /// and authenticated (the last chunk waits for `finish`). A chunk that does not
    /// authenticate fails this call and every later one.
    pub fn update(&self, sealed: Vec<u8>) -> Result<Vec<u8>, AttachmentError> {
        let mut guard = lock(&self.inner);
        let dec = guard.as_mut().ok_or_else(|| finished("decryptor"))?;
        let mut input = sealed.as_slice();
        let mut out = Vec::new();
        while let Some(plain) = dec.push(&mut input)? {
            out.extend_from_slice(plain);
        }
        Ok(out)
    }

    /// Opens the last chunk and checks the whole blob against the pointer: returns the last
    /// chunk's plaintext, or fails (`Truncated`, `TrailingBytes`, `DigestMismatch`,
    /// `SizeMismatch`, `AuthenticationFailed`). The decryptor is spent afterwards.
    pub fn finish(&self) -> Result<Vec<u8>, AttachmentError> {
        let dec = lock(&self.inner)
            .take()
            .ok_or_else(|| finished("decryptor"))?;
        Ok(dec.finish()?.to_vec())
    }
}

fn parse_pointer(pointer: Vec<u8>) -> Result<AttachmentPointer, AttachmentError> {
    let pointer = Zeroizing::new(pointer);
    // Every refusal of the pointer, its size too, is of the pointer family.
    AttachmentPointer::parse(&pointer).map_err(|e| AttachmentError::Pointer {
        kind: e.kind().into(),
        detail: e.to_string(),
    })
}

/// Where sealed chunk `index` lies in the blob of an attachment of `size` plaintext bytes.
/// Fails with `InvalidValue` past the last chunk.
#[uniffi::export]
pub fn attachment_chunk_range(
    size: u64,
    index: u64,
) -> Result<AttachmentChunkRange, AttachmentError> {
    let (offset, length) = attachment::sealed_chunk_range(size, index).ok_or_else(|| {
        bluetick::attachment::AttachmentError::ChunkIndex {
            index,
            count: attachment::chunk_count(size),
        }
    })?;
    Ok(AttachmentChunkRange { offset, length })
}

/// Opens sealed chunk `index` alone (random access, as for video seeking) and returns its
/// plaintext. The chunk's tag vouches for it; the blob's digest is not checked, so a
/// player shows only chunks opened this way or by a decryptor.
#[uniffi::export]
pub fn open_attachment_chunk(
    pointer: Vec<u8>,
    index: u64,
    sealed_chunk: Vec<u8>,
) -> Result<Vec<u8>, AttachmentError> {
    let pointer = parse_pointer(pointer)?;
    let mut sealed = Zeroizing::new(sealed_chunk);
    let opener = ChunkOpener::new(&pointer);
    Ok(opener.open(index, &mut sealed)?.to_vec())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn seal(plain: &[u8], piece: usize) -> (Vec<u8>, Vec<u8>) {
        let enc = AttachmentEncryptor::new();
        let mut blob = Vec::new();
        for p in plain.chunks(piece.max(1)) {
            blob.extend(enc.update(p.to_vec()).unwrap());
        }
        let last = enc.finish().unwrap();
        blob.extend(last.sealed);
        (blob, last.pointer)
    }

    #[test]
    fn round_trip_in_odd_pieces() {
        let plain: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let (blob, pointer) = seal(&plain, 7_777);
        assert_eq!(
            blob.len() as u64,
            attachment::ciphertext_len(plain.len() as u64)
        );
        let dec = AttachmentDecryptor::new(pointer.clone()).unwrap();
        let mut out = Vec::new();
        for p in blob.chunks(30_001) {
            let got = dec.update(p.to_vec()).unwrap();
            assert!(got.len() <= p.len() + attachment::CHUNK_SIZE);
            out.extend(got);
        }
        out.extend(dec.finish().unwrap());
        assert_eq!(out, plain);
        assert!(dec.finish().is_err());

        let range = attachment_chunk_range(plain.len() as u64, 1).unwrap();
        let (o, l) = (range.offset as usize, range.length as usize);
        let chunk = open_attachment_chunk(pointer, 1, blob[o..o + l].to_vec()).unwrap();
        assert_eq!(chunk, plain[65_536..131_072]);
    }

    #[test]
    fn a_flipped_byte_fails_with_its_kind() {
        let plain = vec![9u8; 150_000];
        let (mut blob, pointer) = seal(&plain, 150_000);
        blob[70_000] ^= 1;
        let dec = AttachmentDecryptor::new(pointer).unwrap();
        let first = dec.update(blob[..65_552].to_vec()).unwrap();
        assert!(first.is_empty());
        let e = dec.update(blob[65_552..].to_vec()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AuthenticationFailed);
        assert_eq!(
            dec.finish().unwrap_err().kind(),
            ErrorKind::AuthenticationFailed
        );
    }

    #[test]
    fn pointer_lengths_and_range_are_checked() {
        let e = AttachmentDecryptor::new(vec![0; 71]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Truncated);
        let e = AttachmentDecryptor::new(vec![0; 73]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TrailingBytes);
        let mut big = vec![0u8; 72];
        big[34] = 1;
        big[39] = 1; // 2^40 + 1 bytes
        let e = AttachmentDecryptor::new(big).unwrap_err();
        assert!(matches!(
            e,
            AttachmentError::Pointer {
                kind: ErrorKind::AttachmentTooLarge,
                ..
            }
        ));
        let e = attachment_chunk_range(10, 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidValue);
        assert!(AttachmentEncryptor::with_key(vec![0; 31]).is_err());
    }
}
