//! A sender key as a receiving device holds it (spec §12): the chain at the next expected
//! iteration, the message keys it skipped, and the key that verifies the sender's
//! signatures. Decryption computes a [`Change`] on copies and commits it only once the
//! message has verified, decrypted and parsed: a failure changes nothing.

use std::collections::VecDeque;

use ed25519_dalek::VerifyingKey;
use zeroize::Zeroize;

use crate::constants::{
    DISTRIBUTION_ID_LEN, GROUP_MESSAGE_CONTEXT, MAX_GROUP_SKIP, MAX_GROUP_STORED_SKIPPED,
};
use crate::error::DecryptionError;
use crate::primitives::{aead, ed25519, hex_prefix};
use crate::wire::group_message::GroupMessage;
use crate::wire::plaintext::{self, ContentType};

use super::chain::{GroupMessageKey, SenderChainKey};
use super::distribution::Distribution;
use super::error::GroupError;

/// A received sender key. Its chain and skipped keys are secrets, erased on drop.
#[derive(Clone)]
pub(crate) struct ReceiverKey {
    pub(crate) distribution_id: [u8; DISTRIBUTION_ID_LEN],
    pub(crate) chain_id: u32,
    pub(crate) signing_public: [u8; 32],
    verifying: VerifyingKey,
    /// The chain at the next iteration not yet received; `None` once the key was replaced
    /// (only its skipped keys are kept, for late messages).
    pub(crate) chain: Option<SenderChainKey>,
    /// Skipped message keys, oldest first.
    pub(crate) skipped: VecDeque<GroupMessageKey>,
}

impl core::fmt::Debug for ReceiverKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            distribution_id,
            chain_id,
            signing_public,
            verifying: _,
            chain,
            skipped,
        } = self;
        f.debug_struct("ReceiverKey")
            .field("distribution_id", &hex_prefix(distribution_id))
            .field("chain_id", chain_id)
            .field("signing_public", &hex_prefix(signing_public))
            .field("chain", chain)
            .field("skipped", &skipped.len())
            .finish()
    }
}

/// What a successful decryption changes.
pub(crate) enum Change {
    /// The stored skipped key at this position was used: erase it.
    UsedSkipped(usize),
    /// The chain moved on; these keys were skipped on the way.
    Advanced {
        chain: SenderChainKey,
        skipped: Vec<GroupMessageKey>,
    },
}

impl ReceiverKey {
    /// The key a distribution carries. The signing key must be a valid, canonical,
    /// torsion-free Ed25519 point.
    pub(crate) fn from_distribution(d: &Distribution) -> Result<Self, GroupError> {
        let (verifying, _) = ed25519::validate_public(&d.signing_public)
            .map_err(|_| GroupError::InvalidSigningKey)?;
        Ok(Self {
            distribution_id: d.distribution_id,
            chain_id: d.chain_id,
            signing_public: d.signing_public,
            verifying,
            chain: Some(SenderChainKey::new(d.chain_key.clone(), d.iteration)),
            skipped: VecDeque::new(),
        })
    }

    /// A key read back from a record: the signing key is checked again.
    pub(crate) fn from_stored(
        distribution_id: [u8; DISTRIBUTION_ID_LEN],
        chain_id: u32,
        signing_public: [u8; 32],
        chain: Option<SenderChainKey>,
        skipped: VecDeque<GroupMessageKey>,
    ) -> Option<Self> {
        let (verifying, _) = ed25519::validate_public(&signing_public).ok()?;
        Some(Self {
            distribution_id,
            chain_id,
            signing_public,
            verifying,
            chain,
            skipped,
        })
    }

    /// The key is replaced by a newer one from the same sender device: the chain is erased,
    /// the skipped keys stay (for late messages).
    pub(crate) fn retire(&mut self) {
        self.chain = None;
    }

    /// Decrypts `message` without changing anything: the signature first (strict), then the
    /// chain id, then the key for the iteration, the AEAD and the framing. Returns the body
    /// and the change to commit.
    pub(crate) fn open(&self, message: &GroupMessage<'_>) -> Result<(Vec<u8>, Change), GroupError> {
        if !ed25519::verify(
            &self.verifying,
            &[GROUP_MESSAGE_CONTEXT, message.signed],
            &message.signature,
        ) {
            return Err(GroupError::BadSignature);
        }
        if message.chain_id != self.chain_id {
            return Err(GroupError::WrongChainId {
                expected: self.chain_id,
                found: message.chain_id,
            });
        }
        let iteration = message.iteration;
        let (body, change) = match &self.chain {
            Some(chain) if iteration >= chain.iteration => {
                let gap = iteration - chain.iteration;
                if gap > MAX_GROUP_SKIP {
                    return Err(GroupError::TooManySkipped {
                        skipped: u64::from(gap),
                        limit: MAX_GROUP_SKIP,
                    });
                }
                let mut chain = chain.clone();
                let mut skipped = Vec::with_capacity(usize::try_from(gap).unwrap_or(0));
                while chain.iteration < iteration {
                    skipped.push(chain.advance().ok_or(GroupError::CounterExhausted)?);
                }
                let key = chain.advance().ok_or(GroupError::CounterExhausted)?;
                let body = open_with(&key, message)?;
                (body, Change::Advanced { chain, skipped })
            }
            Some(_) => {
                let at = self
                    .skipped_position(iteration)
                    .ok_or(GroupError::DuplicateMessage { iteration })?;
                (self.open_skipped(at, message)?, Change::UsedSkipped(at))
            }
            None => {
                let at = self
                    .skipped_position(iteration)
                    .ok_or(GroupError::ReplacedDistribution { iteration })?;
                (self.open_skipped(at, message)?, Change::UsedSkipped(at))
            }
        };
        Ok((body, change))
    }

    fn skipped_position(&self, iteration: u32) -> Option<usize> {
        self.skipped.iter().position(|k| k.iteration == iteration)
    }

    fn open_skipped(&self, at: usize, message: &GroupMessage<'_>) -> Result<Vec<u8>, GroupError> {
        let key = self.skipped.get(at).ok_or(GroupError::DuplicateMessage {
            iteration: message.iteration,
        })?;
        open_with(key, message)
    }

    /// Commits what [`ReceiverKey::open`] computed.
    pub(crate) fn commit(&mut self, change: Change) {
        match change {
            Change::UsedSkipped(at) => {
                // The removed key is erased on drop.
                drop(self.skipped.remove(at));
            }
            Change::Advanced { chain, skipped } => {
                self.chain = Some(chain);
                self.skipped.extend(skipped);
                while self.skipped.len() > MAX_GROUP_STORED_SKIPPED {
                    drop(self.skipped.pop_front());
                }
            }
        }
    }
}

/// Opens the AEAD and reads the framing: only application data may be inside.
fn open_with(key: &GroupMessageKey, message: &GroupMessage<'_>) -> Result<Vec<u8>, GroupError> {
    let keys = key.expand();
    let mut padded = aead::open(
        keys.aes_key(),
        &keys.nonce(),
        message.header_bytes,
        message.ciphertext,
    )
    .map_err(|_| GroupError::AuthenticationFailed)?;
    let result = match plaintext::unpad(&padded) {
        Ok((ContentType::Application, body)) => Ok(body.to_vec()),
        Ok((other, _)) => Err(GroupError::UnknownContentType(other.to_byte())),
        Err(DecryptionError::UnknownContentType(b)) => Err(GroupError::UnknownContentType(b)),
        Err(_) => Err(GroupError::BadPadding),
    };
    padded.zeroize();
    result
}
