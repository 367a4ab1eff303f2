//! Attachments (spec §13): media encrypted in 64 KiB chunks for a blob store, named by a
//! 72-byte pointer that travels inside an ordinary message.
//!
//! - [`AttachmentKey`]: 32 random bytes, one per attachment, never reused.
//! - [`AttachmentPointer`]: `key || size || SHA-256(ciphertext)`, what the message carries.
//! - [`Encryptor`] and [`Decryptor`]: push-style, I/O-free; feed bytes, get sealed or
//!   opened chunks back. Memory is one chunk and its tag, whatever the attachment's size.
//! - [`encrypt`] and [`decrypt`]: the same over `std::io::Read` and `std::io::Write`.
//! - [`ChunkOpener`]: random access to chunk `i` (video seeking), vouched for by that
//!   chunk's tag alone.
//!
//! Chunk `i` is sealed with AES-256-GCM under `prefix (7) || i (u32) || last (1)`, so a
//! blob that is truncated, reordered or extended fails to authenticate (the STREAM
//! construction). The decryptor releases a chunk's plaintext only after its tag verifies
//! and fails at the end unless the digest and the size match the pointer.
//!
//! ```
//! use bluetick::attachment::{self, AttachmentKey};
//!
//! let photo = vec![7u8; 200_000];
//! let mut blob = Vec::new();
//! let key = AttachmentKey::generate(&mut bluetick::os_rng());
//! let pointer = attachment::encrypt(key, &mut photo.as_slice(), &mut blob)?;
//! // Upload `blob`; send `pointer.to_bytes()` inside a message. The receiver:
//! let pointer = attachment::AttachmentPointer::parse(&pointer.to_bytes()[..])?;
//! let mut out = Vec::new();
//! attachment::decrypt(&pointer, &mut blob.as_slice(), &mut out)?;
//! assert_eq!(out, photo);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cipher;
mod decrypt;
mod encrypt;
mod error;
mod key;
mod pointer;

pub use decrypt::{decrypt, ChunkOpener, Decryptor};
pub use encrypt::{encrypt, Encryptor, FinalChunk};
pub use error::{AttachmentError, StreamError};
pub use key::AttachmentKey;
pub use pointer::AttachmentPointer;

pub use crate::constants::{
    ATTACHMENT_CHUNK_SIZE as CHUNK_SIZE, ATTACHMENT_POINTER_LEN as POINTER_LEN,
    ATTACHMENT_SEALED_CHUNK_SIZE as SEALED_CHUNK_SIZE, MAX_ATTACHMENT_SIZE as MAX_SIZE,
};

use crate::constants::TAG_LEN;

const CHUNK: u64 = CHUNK_SIZE as u64;
const SEALED: u64 = SEALED_CHUNK_SIZE as u64;
const TAG: u64 = TAG_LEN as u64;

/// How many chunks an attachment of `size` plaintext bytes has: an empty attachment is one
/// empty chunk.
pub fn chunk_count(size: u64) -> u64 {
    size.div_ceil(CHUNK).max(1)
}

/// The length of the blob (the sealed chunks) for an attachment of `size` bytes.
pub fn ciphertext_len(size: u64) -> u64 {
    size.saturating_add(chunk_count(size).saturating_mul(TAG))
}

/// Where sealed chunk `index` lies in the blob of an attachment of `size` bytes:
/// `(offset, length)`, or `None` past the last chunk. A seeking reader fetches exactly
/// these bytes (an HTTP range request) and hands them to [`ChunkOpener::open`].
pub fn sealed_chunk_range(size: u64, index: u64) -> Option<(u64, u64)> {
    if index >= chunk_count(size) {
        return None;
    }
    let offset = index.checked_mul(SEALED)?;
    let plaintext = size.saturating_sub(index.saturating_mul(CHUNK)).min(CHUNK);
    Some((offset, plaintext + TAG))
}

/// Plaintext bytes before chunk `index`: where a seeking reader's chunk starts in the media.
pub fn plaintext_offset(index: u64) -> u64 {
    index.saturating_mul(CHUNK)
}
