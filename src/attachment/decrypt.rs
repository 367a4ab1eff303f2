//! Opening an attachment: [`Decryptor`] (push-style, no I/O), [`decrypt`] (from a `Read`
//! into a `Write`) and [`ChunkOpener`] (random access to one chunk).

use std::io::{ErrorKind as IoErrorKind, Read, Seek, SeekFrom, Write};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::cipher::ChunkCipher;
use super::{chunk_count, sealed_chunk_range, AttachmentError, AttachmentPointer, StreamError};
use crate::constants::ATTACHMENT_SEALED_CHUNK_SIZE as SEALED_CHUNK_SIZE;

/// Decrypts one attachment as its blob arrives. Feed blob bytes with [`Decryptor::push`],
/// which hands back each chunk's plaintext once that chunk's tag verifies;
/// [`Decryptor::finish`] checks the final chunk, the SHA-256 of the whole blob and the
/// size, and only then hands back the final chunk's plaintext. No I/O; one chunk of memory
/// whatever the attachment's size; no allocation after [`Decryptor::new`].
///
/// Chunks handed out before an error were authentic, but the attachment as a whole is
/// only vouched for when `finish` succeeds: until then keep the output somewhere the app
/// does not yet use (a temporary file), and discard it on any error. After an error every
/// call returns the same error.
pub struct Decryptor {
    cipher: ChunkCipher,
    expected_size: u64,
    expected_digest: [u8; 32],
    /// Blob length the pointer's size implies.
    expected_len: u64,
    /// Sealed chunk being collected, then its plaintext handed out (fixed length).
    buf: Zeroizing<Vec<u8>>,
    filled: usize,
    handed_out: bool,
    /// The first byte of the next sealed chunk, read ahead.
    carry: Option<u8>,
    index: u32,
    /// Blob bytes taken so far.
    received: u64,
    /// Plaintext bytes verified and handed out so far.
    released: u64,
    hasher: Sha256,
    failed: Option<AttachmentError>,
}

impl Decryptor {
    /// A decryptor for the attachment `pointer` names.
    pub fn new(pointer: &AttachmentPointer) -> Self {
        Self {
            cipher: ChunkCipher::new(pointer.key()),
            expected_size: pointer.size(),
            expected_digest: *pointer.digest(),
            expected_len: pointer.ciphertext_len(),
            buf: Zeroizing::new(vec![0u8; SEALED_CHUNK_SIZE + 1]),
            filled: 0,
            handed_out: false,
            carry: None,
            index: 0,
            received: 0,
            released: 0,
            hasher: Sha256::new(),
            failed: None,
        }
    }

    /// Takes blob bytes from the front of `input`, advancing it. Returns a chunk's
    /// plaintext as soon as that chunk is complete and its tag verifies (use it before the
    /// next call, which reuses its memory), or `None` once `input` is used up.
    pub fn push<'a>(&'a mut self, input: &mut &[u8]) -> Result<Option<&'a [u8]>, AttachmentError> {
        self.check_not_failed()?;
        self.start_over_if_handed_out();
        loop {
            if input.is_empty() {
                return Ok(None);
            }
            if self.filled == SEALED_CHUNK_SIZE {
                // A byte follows, so this chunk is not the last.
                let seen = self.received.saturating_add(1);
                let n = self.open(false, seen, false)?;
                return Ok(Some(self.buf.get(..n).unwrap_or_default()));
            }
            let take = (SEALED_CHUNK_SIZE - self.filled).min(input.len());
            let (head, rest) = input.split_at(take);
            if let Some(dst) = self.buf.get_mut(self.filled..self.filled + take) {
                dst.copy_from_slice(head);
            }
            self.filled += take;
            self.received = self.received.saturating_add(take as u64);
            *input = rest;
        }
    }

    /// The blob has ended: opens the final chunk, checks the digest and the size, and
    /// returns the final chunk's plaintext only if all of them match.
    pub fn finish(mut self) -> Result<Zeroizing<Vec<u8>>, AttachmentError> {
        self.check_not_failed()?;
        self.start_over_if_handed_out();
        let n = self.open(true, self.received, true)?;
        let digest: [u8; 32] = core::mem::take(&mut self.hasher).finalize().into();
        if !bool::from(digest.ct_eq(&self.expected_digest)) {
            return Err(AttachmentError::DigestMismatch);
        }
        if self.released != self.expected_size {
            return Err(AttachmentError::SizeMismatch {
                expected: self.expected_size,
                found: self.released,
            });
        }
        let mut out = core::mem::take(&mut self.buf);
        out.truncate(n);
        Ok(out)
    }

    /// Plaintext bytes verified and handed out so far.
    pub fn released_len(&self) -> u64 {
        self.released
    }

    fn check_not_failed(&self) -> Result<(), AttachmentError> {
        match &self.failed {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn fail(&mut self, e: AttachmentError) -> AttachmentError {
        self.failed = Some(e.clone());
        e
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

    /// Hashes and opens `buf[..filled]` in place as chunk `index`; `seen` is how many blob
    /// bytes are known to exist, which names the failure when the tag does not verify.
    fn open(&mut self, last: bool, seen: u64, at_end: bool) -> Result<usize, AttachmentError> {
        let sealed = self.buf.get_mut(..self.filled).unwrap_or_default();
        self.hasher.update(&*sealed);
        let Ok(n) = self.cipher.open(self.index, last, sealed) else {
            let e = if seen > self.expected_len {
                AttachmentError::ExtraData {
                    received: seen,
                    expected: self.expected_len,
                }
            } else if at_end && seen < self.expected_len {
                AttachmentError::Truncated {
                    received: seen,
                    expected: self.expected_len,
                }
            } else {
                AttachmentError::ChunkAuthentication {
                    index: u64::from(self.index),
                }
            };
            return Err(self.fail(e));
        };
        self.released = self.released.saturating_add(n as u64);
        if self.released > self.expected_size {
            // Authentic chunks, but more of them than the pointer's size allows: stop now
            // rather than read on.
            let e = AttachmentError::SizeMismatch {
                expected: self.expected_size,
                found: self.released,
            };
            return Err(self.fail(e));
        }
        let Some(next) = self.index.checked_add(1) else {
            let e = AttachmentError::TooLarge {
                size: self.released,
            };
            return Err(self.fail(e));
        };
        self.index = next;
        self.handed_out = true;
        Ok(n)
    }

    /// Reads from `reader` straight into the chunk buffer: `Some(len)` when a non-final
    /// chunk verified into `buf[..len]`, `None` at the end of the blob.
    fn fill_from<R: Read + ?Sized>(
        &mut self,
        reader: &mut R,
    ) -> Result<Option<usize>, StreamError> {
        self.check_not_failed()?;
        self.start_over_if_handed_out();
        while self.filled <= SEALED_CHUNK_SIZE {
            let Some(dst) = self.buf.get_mut(self.filled..=SEALED_CHUNK_SIZE) else {
                break;
            };
            let n = match reader.read(dst) {
                Ok(0) => return Ok(None),
                Ok(n) => n.min(dst.len()),
                Err(e) if e.kind() == IoErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            self.filled += n;
            self.received = self.received.saturating_add(n as u64);
        }
        self.carry = self.buf.get(SEALED_CHUNK_SIZE).copied();
        self.filled = SEALED_CHUNK_SIZE;
        Ok(Some(self.open(false, self.received, false)?))
    }
}

impl core::fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            cipher: _,
            expected_size,
            expected_digest: _,
            expected_len: _,
            buf: _,
            filled,
            handed_out: _,
            carry: _,
            index,
            received,
            released,
            hasher: _,
            failed,
        } = self;
        f.debug_struct("Decryptor")
            .field("size", expected_size)
            .field("chunk", index)
            .field("buffered", filled)
            .field("received", received)
            .field("released", released)
            .field("failed", failed)
            .finish()
    }
}

/// Decrypts the blob `reader` yields into `writer`, checking it against `pointer`. Each
/// chunk's plaintext is written once its tag verifies, the final one only after the digest
/// and the size matched too; nothing is written past the last verified chunk.
///
/// On error, what was written is not the attachment: discard it (write to a temporary
/// file and rename it into place only on `Ok`).
pub fn decrypt<R: Read + ?Sized, W: Write + ?Sized>(
    pointer: &AttachmentPointer,
    reader: &mut R,
    writer: &mut W,
) -> Result<(), StreamError> {
    let mut dec = Decryptor::new(pointer);
    while let Some(n) = dec.fill_from(reader)? {
        writer.write_all(dec.buf.get(..n).unwrap_or_default())?;
    }
    let last = dec.finish()?;
    writer.write_all(&last)?;
    writer.flush()?;
    Ok(())
}

/// Random access to single chunks of an attachment (video seeking). Each chunk is vouched
/// for by its own tag, which binds its index and whether it is the last: a chunk cannot be
/// moved, and the end cannot be cut off or extended. The whole-blob digest is not checked
/// (it needs every byte); use [`decrypt`] when the whole attachment is wanted.
pub struct ChunkOpener {
    cipher: ChunkCipher,
    size: u64,
}

impl ChunkOpener {
    /// An opener for the attachment `pointer` names.
    pub fn new(pointer: &AttachmentPointer) -> Self {
        Self {
            cipher: ChunkCipher::new(pointer.key()),
            size: pointer.size(),
        }
    }

    /// How many chunks the attachment has.
    pub fn chunk_count(&self) -> u64 {
        chunk_count(self.size)
    }

    /// Where sealed chunk `index` lies in the blob: `(offset, length)`.
    pub fn range(&self, index: u64) -> Result<(u64, u64), AttachmentError> {
        sealed_chunk_range(self.size, index).ok_or(AttachmentError::ChunkIndex {
            index,
            count: self.chunk_count(),
        })
    }

    /// Opens sealed chunk `index` (exactly the bytes [`ChunkOpener::range`] names) in
    /// place and returns its plaintext, the first `len - 16` bytes of `sealed`. On failure
    /// `sealed` is left as it was.
    pub fn open<'a>(&self, index: u64, sealed: &'a mut [u8]) -> Result<&'a [u8], AttachmentError> {
        let (_, expected) = self.range(index)?;
        let found = sealed.len() as u64;
        if found != expected {
            return Err(AttachmentError::ChunkLength {
                index,
                expected,
                found,
            });
        }
        let count = self.chunk_count();
        let i = u32::try_from(index).map_err(|_| AttachmentError::ChunkIndex { index, count })?;
        let last = index + 1 == count;
        let n = self
            .cipher
            .open(i, last, sealed)
            .map_err(|_| AttachmentError::ChunkAuthentication { index })?;
        Ok(sealed.get(..n).unwrap_or_default())
    }

    /// Seeks `blob` to chunk `index`, reads it into `buf` (reused across calls) and opens
    /// it: the plaintext of that chunk alone.
    pub fn read_chunk<'a, R: Read + Seek + ?Sized>(
        &self,
        blob: &mut R,
        index: u64,
        buf: &'a mut Vec<u8>,
    ) -> Result<&'a [u8], StreamError> {
        let (offset, len) = self.range(index)?;
        let len = usize::try_from(len).map_err(|_| AttachmentError::ChunkIndex {
            index,
            count: self.chunk_count(),
        })?;
        buf.clear();
        buf.resize(len, 0);
        blob.seek(SeekFrom::Start(offset))?;
        blob.read_exact(buf)?;
        Ok(self.open(index, buf)?)
    }
}

impl core::fmt::Debug for ChunkOpener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { cipher: _, size } = self;
        f.debug_struct("ChunkOpener").field("size", size).finish()
    }
}
