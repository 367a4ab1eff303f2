//! The pq_block (spec §14): the first bytes of every padded plaintext of a pairwise
//! Message, `0x00` (nothing) or `kind (1) || epoch (u32) || index (u8) || chunk (32)`.

use crate::constants::{
    PQ_BLOCK_LEN, PQ_CHUNK_LEN, PQ_CT_CHUNKS, PQ_EK_CHUNKS, PQ_KIND_CT, PQ_KIND_EK, PQ_KIND_NONE,
};
use crate::error::PqError;

/// Which object a chunk belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PqKind {
    /// A chunk of an ML-KEM-768 encapsulation key (`0x01`, 37 chunks).
    Ek,
    /// A chunk of an ML-KEM-768 ciphertext (`0x02`, 34 chunks).
    Ct,
}

impl PqKind {
    /// The kind byte.
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Ek => PQ_KIND_EK,
            Self::Ct => PQ_KIND_CT,
        }
    }

    /// How many chunks the object has.
    pub fn chunk_count(self) -> u8 {
        match self {
            Self::Ek => PQ_EK_CHUNKS,
            Self::Ct => PQ_CT_CHUNKS,
        }
    }
}

/// One chunk of an `ek` or a `ct`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PqChunk {
    /// `ek` or `ct`.
    pub kind: PqKind,
    /// The epoch the object belongs to.
    pub epoch: u32,
    /// The chunk's index: bytes `32 * index .. 32 * index + 32` of the object.
    pub index: u8,
    /// The chunk.
    pub bytes: [u8; PQ_CHUNK_LEN],
}

impl PqChunk {
    /// Appends the 38-byte pq_block carrying this chunk.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(self.kind.to_byte());
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.push(self.index);
        out.extend_from_slice(&self.bytes);
    }
}

/// Appends the pq_block for `chunk` (`0x00` when there is none).
pub fn write(chunk: Option<&PqChunk>, out: &mut Vec<u8>) {
    match chunk {
        Some(c) => c.write(out),
        None => out.push(PQ_KIND_NONE),
    }
}

/// The length of the pq_block for `chunk`.
pub fn len(chunk: Option<&PqChunk>) -> usize {
    if chunk.is_some() {
        PQ_BLOCK_LEN
    } else {
        1
    }
}

/// Reads the pq_block at the start of `bytes` (the unpadded plaintext): the chunk it carries,
/// if any, and the bytes after it. Checks the structure only (spec §14 step 1).
pub fn parse(bytes: &[u8]) -> Result<(Option<PqChunk>, &[u8]), PqError> {
    let (&kind, rest) = bytes.split_first().ok_or(PqError::ShortPqBlock)?;
    let kind = match kind {
        PQ_KIND_NONE => return Ok((None, rest)),
        PQ_KIND_EK => PqKind::Ek,
        PQ_KIND_CT => PqKind::Ct,
        other => return Err(PqError::UnknownPqKind(other)),
    };
    if rest.len() < PQ_BLOCK_LEN - 1 {
        return Err(PqError::ShortPqBlock);
    }
    let (fields, rest) = rest.split_at(PQ_BLOCK_LEN - 1);
    let (epoch, fields) = fields.split_at(4);
    let (index, chunk) = fields.split_at(1);
    let mut epoch_bytes = [0u8; 4];
    epoch_bytes.copy_from_slice(epoch);
    let index = index.first().copied().ok_or(PqError::ShortPqBlock)?;
    if index >= kind.chunk_count() {
        return Err(PqError::PqIndexOutOfRange {
            index,
            count: kind.chunk_count(),
        });
    }
    let mut bytes = [0u8; PQ_CHUNK_LEN];
    bytes.copy_from_slice(chunk);
    Ok((
        Some(PqChunk {
            kind,
            epoch: u32::from_be_bytes(epoch_bytes),
            index,
            bytes,
        }),
        rest,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_round_trips_and_leaves_the_rest() {
        let c = PqChunk {
            kind: PqKind::Ct,
            epoch: 7,
            index: 33,
            bytes: [9; 32],
        };
        let mut out = Vec::new();
        write(Some(&c), &mut out);
        assert_eq!(out.len(), PQ_BLOCK_LEN);
        out.extend_from_slice(&[1, 2, 3]);
        assert_eq!(parse(&out).unwrap(), (Some(c), &[1u8, 2, 3][..]));
    }

    #[test]
    fn structure_errors_are_typed() {
        assert_eq!(parse(&[]), Err(PqError::ShortPqBlock));
        assert_eq!(parse(&[3]), Err(PqError::UnknownPqKind(3)));
        assert_eq!(parse(&[1, 0, 0, 0, 1, 0]), Err(PqError::ShortPqBlock));
        let mut b = vec![1, 0, 0, 0, 1, 37];
        b.extend_from_slice(&[0; 32]);
        assert!(matches!(parse(&b), Err(PqError::PqIndexOutOfRange { .. })));
        b[0] = 2;
        b[5] = 34;
        assert!(matches!(parse(&b), Err(PqError::PqIndexOutOfRange { .. })));
        b[5] = 33;
        assert!(parse(&b).is_ok());
        assert_eq!(parse(&[0]), Ok((None, &[][..])));
    }
}
