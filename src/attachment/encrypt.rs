//! Sealing an attachment chunk by chunk: [`Encryptor`] (push-style, no I/O) and
//! [`encrypt`] (from a `Read` into a `Write`).

use std::io::{ErrorKind as IoErrorKind, Read, Write};

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::cipher::ChunkCipher;
use super::{AttachmentError, AttachmentKey, AttachmentPointer, StreamError};
use crate::constants::{
    ATTACHMENT_CHUNK_SIZE as CHUNK_SIZE, ATTACHMENT_SEALED_CHUNK_SIZE as SEALED_CHUNK_SIZE,
    MAX_ATTACHMENT_SIZE, TAG_LEN,
};

/// Encrypts one attachment as its bytes arrive. Feed plaintext with [`Encryptor::push`],
/// which hands back each sealed chunk as soon as it is complete; [`Encryptor::finish`]
/// seals the final chunk and gives the pointer. It does no I/O and holds one chunk
/// (64 KiB and a tag) whatever the attachment's size; no allocation after [`Encryptor::new`].
///
/// A full chunk is sealed only when the next byte arrives, because the nonce of a chunk
/// says whether it is the last.
pub struct Encryptor {
    cipher: ChunkCipher,
    key: AttachmentKey,
    /// Plaintext being collected, then the sealed chunk handed out (fixed length).
    buf: Zeroizing<Vec<u8>>,
    /// Plaintext bytes in `buf`.
    filled: usize,
    /// `buf` holds a sealed chunk the caller was given; start over on the next call.
    handed_out: bool,
    /// The first byte of the next chunk, read ahead to learn that a full chunk is not last.
    carry: Option<u8>,
    index: u32,
    /// Plaintext bytes taken so far.
    total: u64,
    /// SHA-256 over the sealed chunks so far.
    hasher: Sha256,
}

/// The end of an encryption: the final sealed chunk, to append to the blob, and the
/// pointer to send.
#[derive(Debug)]
pub struct FinalChunk {
    sealed: Zeroizing<Vec<u8>>,
    pointer: AttachmentPointer,
}

impl FinalChunk {
    /// The final sealed chunk: write it after every chunk `push` returned.
    pub fn sealed(&self) -> &[u8] {
        &self.sealed
    }

    /// The pointer naming the whole blob.
    pub fn pointer(&self) -> &AttachmentPointer {
        &self.pointer
    }

    /// The pointer, once the final chunk is written.
    pub fn into_pointer(self) -> AttachmentPointer {
        self.pointer
    }
}

impl Encryptor {
    /// An encryptor for one attachment under `key` (a fresh key: see [`AttachmentKey`]).
    pub fn new(key: AttachmentKey) -> Self {
        Self {
            cipher: ChunkCipher::new(&key),
            key,
            buf: Zeroizing::new(vec![0u8; SEALED_CHUNK_SIZE]),
            filled: 0,
            handed_out: false,
            carry: None,
            index: 0,
            total: 0,
            hasher: Sha256::new(),
        }
    }

    /// Takes plaintext from the front of `input`, advancing it. Returns a sealed chunk as
    /// soon as one is complete (write it out before the next call, which reuses its
    /// memory), or `None` once `input` is used up. Call it in a loop:
    ///
    /// ```
    /// # use bluetick::attachment::{AttachmentKey, Encryptor};
    /// # let mut enc = Encryptor::new(AttachmentKey::from_bytes(&[1; 32]));
    /// # let mut blob = Vec::new();
    /// let mut input: &[u8] = &[0u8; 100_000];
    /// while let Some(sealed) = enc.push(&mut input)? {
    ///     blob.extend_from_slice(sealed);
    /// }
    /// # Ok::<(), bluetick::attachment::AttachmentError>(())
    /// ```
    pub fn push<'a>(&'a mut self, input: &mut &[u8]) -> Result<Option<&'a [u8]>, AttachmentError> {
        self.start_over_if_handed_out();
        loop {
            if input.is_empty() {
                return Ok(None);
            }
            if self.filled == CHUNK_SIZE {
                let n = self.seal(false)?;
                return Ok(Some(self.buf.get(..n).unwrap_or_default()));
            }
            let take = (CHUNK_SIZE - self.filled).min(input.len());
            self.count(take)?;
            let (head, rest) = input.split_at(take);
            if let Some(dst) = self.buf.get_mut(self.filled..self.filled + take) {
                dst.copy_from_slice(head);
            }
            self.filled += take;
            *input = rest;
        }
    }

    /// Seals the final chunk (an empty one for an empty attachment) and makes the pointer.
    pub fn finish(mut self) -> Result<FinalChunk, AttachmentError> {
        self.start_over_if_handed_out();
        let n = self.seal(true)?;
        let Self {
            key,
            mut buf,
            total,
            hasher,
            ..
        } = self;
        buf.truncate(n);
        let pointer = AttachmentPointer::new(key, total, hasher.finalize().into())?;
        Ok(FinalChunk {
            sealed: buf,
            pointer,
        })
    }

    /// Plaintext bytes taken so far.
    pub fn plaintext_len(&self) -> u64 {
        self.total
    }

    /// Reads from `reader` straight into the chunk: `Some(len)` when a non-final chunk was
    /// sealed into `buf[..len]`, `None` at the end of the input (the final chunk waits in
    /// the buffer for [`Encryptor::finish`]).
    fn fill_from<R: Read + ?Sized>(
        &mut self,
        reader: &mut R,
    ) -> Result<Option<usize>, StreamError> {
        self.start_over_if_handed_out();
        // One byte more than a chunk: its presence says the chunk is not the last.
        while self.filled <= CHUNK_SIZE {
            let Some(dst) = self.buf.get_mut(self.filled..=CHUNK_SIZE) else {
                break;
            };
            let n = match reader.read(dst) {
                Ok(0) => return Ok(None),
                Ok(n) => n.min(dst.len()),
                Err(e) if e.kind() == IoErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            self.count(n)?;
            self.filled += n;
        }
        self.carry = self.buf.get(CHUNK_SIZE).copied();
        self.filled = CHUNK_SIZE;
        Ok(Some(self.seal(false)?))
    }

    fn count(&mut self, n: usize) -> Result<(), AttachmentError> {
        let total = self.total.saturating_add(n as u64);
        if total > MAX_ATTACHMENT_SIZE {
            return Err(AttachmentError::TooLarge { size: total });
        }
        self.total = total;
        Ok(())
    }

    fn start_over_if_handed_out(&mut self) {
        if self.handed_out {
            self.handed_out = false;
            self.filled = 0;
            if let (Some(byte), Some(first)) = (self.carry.take(), self.buf.first_mut()) {
                *first = byte;
                self.filled = 1;
            }
        }
    }

    /// Seals `buf[..filled]` in place, appends the tag and hashes the sealed chunk.
    fn seal(&mut self, last: bool) -> Result<usize, AttachmentError> {
        let too_large = AttachmentError::TooLarge { size: self.total };
        let (body, rest) = self.buf.split_at_mut(self.filled);
        let tag = self
            .cipher
            .seal(self.index, last, body)
            .map_err(|_| too_large.clone())?;
        rest.get_mut(..TAG_LEN)
            .ok_or(too_large.clone())?
            .copy_from_slice(&tag);
        let n = self.filled + TAG_LEN;
        self.hasher.update(self.buf.get(..n).unwrap_or_default());
        self.index = self.index.checked_add(1).ok_or(too_large)?;
        self.handed_out = true;
        Ok(n)
    }
}

impl core::fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            cipher: _,
            key: _,
            buf: _,
            filled,
            handed_out: _,
            carry: _,
            index,
            total,
            hasher: _,
        } = self;
        f.debug_struct("Encryptor")
            .field("chunk", index)
            .field("buffered", filled)
            .field("plaintext_len", total)
            .finish()
    }
}

/// Encrypts everything `reader` yields into `writer` as the blob, and returns the pointer.
/// Reads straight into one chunk-sized buffer; memory does not grow with the input.
///
/// On error, what was written is an incomplete blob: discard it.
pub fn encrypt<R: Read + ?Sized, W: Write + ?Sized>(
    key: AttachmentKey,
    reader: &mut R,
    writer: &mut W,
) -> Result<AttachmentPointer, StreamError> {
    let mut enc = Encryptor::new(key);
    while let Some(n) = enc.fill_from(reader)? {
        writer.write_all(enc.buf.get(..n).unwrap_or_default())?;
    }
    let last = enc.finish()?;
    writer.write_all(last.sealed())?;
    writer.flush()?;
    Ok(last.into_pointer())
}
