//! The sender-key distribution (spec §12), the body of content type `0x03` sent over a
//! pairwise session:
//!
//! | bytes | field |
//! | --- | --- |
//! | 1 | group id length `n` (1..=64) |
//! | n | group id |
//! | 16 | `distribution_id` |
//! | 4 | `chain_id` (u32) |
//! | 4 | `iteration` (u32) |
//! | 32 | chain key `CK` at that iteration |
//! | 32 | Ed25519 `signing_public` |
//!
//! The sender is not in the body: it is the session peer the distribution arrived from.

use zeroize::Zeroizing;

use crate::codec::{Reader, Writer};
use crate::constants::{DISTRIBUTION_ID_LEN, MAX_GROUP_ID_LEN};
use crate::primitives::secret::Secret32;

use super::error::GroupError;
use super::GroupId;

/// A parsed distribution. The chain key is a secret: erased on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Distribution {
    /// The group the key is for.
    pub group_id: GroupId,
    /// The sender key's id.
    pub distribution_id: [u8; DISTRIBUTION_ID_LEN],
    /// The sender key's chain id.
    pub chain_id: u32,
    /// The iteration the chain key belongs to: the first message the receiver can read.
    pub iteration: u32,
    pub(crate) chain_key: Secret32,
    /// The sender key's Ed25519 public key.
    pub signing_public: [u8; 32],
}

impl core::fmt::Debug for Distribution {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            group_id,
            distribution_id,
            chain_id,
            iteration,
            chain_key: _,
            signing_public,
        } = self;
        f.debug_struct("Distribution")
            .field("group_id", group_id)
            .field(
                "distribution_id",
                &crate::primitives::hex_prefix(distribution_id),
            )
            .field("chain_id", chain_id)
            .field("iteration", iteration)
            .field(
                "signing_public",
                &crate::primitives::hex_prefix(signing_public),
            )
            .finish_non_exhaustive()
    }
}

impl Distribution {
    /// The body's bytes (content type `0x03`). They hold the chain key: erased on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let group = self.group_id.as_bytes();
        let mut out = Zeroizing::new(Vec::with_capacity(
            1 + group.len() + DISTRIBUTION_ID_LEN + 8 + 64,
        ));
        // A GroupId is 1..=64 bytes, so its length fits the byte.
        out.put_u8(u8::try_from(group.len()).unwrap_or(u8::MAX));
        out.put(group);
        out.put(&self.distribution_id);
        out.put_u32(self.chain_id);
        out.put_u32(self.iteration);
        out.put(self.chain_key.expose());
        out.put(&self.signing_public);
        out
    }

    /// Strictly parses a distribution body: a group id of 1..=64 bytes (`InvalidGroupId`),
    /// no byte missing (`Truncated`) or extra (`TrailingBytes`). The signing key is checked
    /// when the distribution is accepted.
    pub fn parse(bytes: &[u8]) -> Result<Self, GroupError> {
        let mut r = Reader::new(bytes, "sender-key distribution");
        let len = usize::from(r.u8()?);
        // The length is judged before the bytes are read, so an over-long id is named as
        // such even when the input is cut short.
        if len == 0 || len > MAX_GROUP_ID_LEN {
            return Err(GroupError::InvalidGroupId { len });
        }
        let group_id = GroupId::new(r.take(len)?)?;
        let distribution_id = r.array::<DISTRIBUTION_ID_LEN>()?;
        let chain_id = r.u32()?;
        let iteration = r.u32()?;
        let chain_key = Secret32::from_slice(r.take(32)?).ok_or(GroupError::Decode(
            crate::error::DecodeError::Truncated {
                what: "sender-key distribution",
            },
        ))?;
        let signing_public = r.array::<32>()?;
        r.finish()?;
        Ok(Self {
            group_id,
            distribution_id,
            chain_id,
            iteration,
            chain_key,
            signing_public,
        })
    }
}
