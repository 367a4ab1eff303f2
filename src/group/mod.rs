//! Groups with sender keys (spec §12), the sans-IO layer: a device's own [`SenderKey`]
//! encrypts and signs `GroupMessage`s (`0x13`) once for the whole group; its
//! [`Distribution`] (content type `0x03`) goes to every other member device over the
//! pairwise sessions; [`GroupKeys`] holds the keys received from the other members and
//! decrypts their messages.
//!
//! Nothing here reads a clock or draws randomness of its own: both come from the caller.
//! The Account decides who gets which distribution and when a key is rotated
//! ([`SenderKey::rotation_due`]); see `docs/groups.md`.
//!
//! ```
//! use bluetick::group::{GroupId, GroupKeys, SenderKey};
//! use bluetick::Address;
//!
//! let mut rng = bluetick::os_rng();
//! let group = GroupId::new(b"family")?;
//! let now = 1_764_000_000_000;
//! // Alice's device makes its sender key and sends Bob's device the distribution (over
//! // their pairwise session, as content type 0x03).
//! let mut alice_key = SenderKey::generate(&mut rng, now);
//! let distribution = alice_key.distribution(&group).to_bytes();
//!
//! let mut bob_keys = GroupKeys::new();
//! let alice = Address::new(b"alice".to_vec(), 1);
//! bob_keys.process_distribution(&alice, &distribution, now)?;
//!
//! // One wire for the whole group; the relay fans it out.
//! let sent = alice_key.encrypt(b"0123456789abcdef hello, group")?;
//! let got = bob_keys.decrypt(&sent.wire, now)?;
//! assert_eq!(got.body, b"0123456789abcdef hello, group");
//! assert_eq!(got.sender, alice);
//! assert_eq!(got.message_id, sent.message_id);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod chain;
pub mod distribution;
pub mod error;
pub mod keys;
mod receiver;
pub mod sender_key;

use crate::constants::MAX_GROUP_ID_LEN;

pub use distribution::Distribution;
pub use error::GroupError;
pub use keys::{DistributionOutcome, GroupDecrypted, GroupKeys};
pub use sender_key::{GroupOutgoing, GroupSendTrace, RotationReason, SenderKey};

/// A group's id: 1 to 64 bytes the app chooses (spec §8, §12).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(Vec<u8>);

impl GroupId {
    /// A group id; refused when empty or longer than 64 bytes.
    pub fn new(bytes: &[u8]) -> Result<Self, GroupError> {
        if bytes.is_empty() || bytes.len() > MAX_GROUP_ID_LEN {
            return Err(GroupError::InvalidGroupId { len: bytes.len() });
        }
        Ok(Self(bytes.to_vec()))
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl core::fmt::Debug for GroupId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "GroupId(")?;
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}
