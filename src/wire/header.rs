//! The ratchet header (spec §14, revision 3):
//! `DHs_pub (32) || PN (u32) || N (u32) || PE (u32)`.

use crate::codec::{Reader, Writer};
use crate::constants::HEADER_LEN;
use crate::error::DecodeError;

/// A message header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The sender's current ratchet public key.
    pub ratchet_key: [u8; 32],
    /// The length of the sender's previous sending chain.
    pub previous_count: u32,
    /// This message's number in the sending chain.
    pub counter: u32,
    /// `PE`: the last PQ epoch mixed into the root chain when the sender made this sending
    /// chain (0 until the first).
    pub pq_epoch: u32,
}

impl Header {
    /// The 44-byte encoding.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut v = Vec::with_capacity(HEADER_LEN);
        v.put(&self.ratchet_key);
        v.put_u32(self.previous_count);
        v.put_u32(self.counter);
        v.put_u32(self.pq_epoch);
        let mut out = [0u8; HEADER_LEN];
        out.copy_from_slice(&v);
        out
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            ratchet_key: r.array()?,
            previous_count: r.u32()?,
            counter: r.u32()?,
            pq_epoch: r.u32()?,
        })
    }
}
