//! This device's own sender key for one group (spec §12): it encrypts and signs group
//! messages, gives the distribution other members' devices need, and says when it must be
//! replaced.

use ed25519_dalek::SigningKey;
use rand_core::CryptoRng;
use zeroize::{Zeroize, Zeroizing};

use crate::codec::{Reader, Writer};
use crate::constants::{
    DISTRIBUTION_ID_LEN, GROUP_HEADER_LEN, GROUP_MESSAGE_CONTEXT, MAX_PLAINTEXT,
    SENDER_KEY_MAX_AGE_MS, SENDER_KEY_MAX_MESSAGES,
};
use crate::error::DecodeError;
use crate::primitives::secret::Secret32;
use crate::primitives::{aead, ed25519, hex_prefix};
use crate::wire::plaintext::{self, ContentType};
use crate::wire::{group_message, MessageId};

use super::chain::SenderChainKey;
use super::distribution::Distribution;
use super::error::GroupError;
use super::GroupId;

/// Version byte of [`SenderKey::to_bytes`].
const SENDER_KEY_RECORD_VERSION: u8 = 1;

/// Why a sender key must be replaced before the next group message (spec §12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RotationReason {
    /// A member device was removed since the key was made (or the caller says membership
    /// changed): the removed device must read nothing sent after it.
    MembershipChanged,
    /// The key is 7 days old or more by the caller's clock.
    Age,
    /// The key has encrypted 10,000 messages.
    MessageCount,
    /// The iteration counter cannot go further.
    CounterExhausted,
}

/// One group message, ready for the relay's fan-out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupOutgoing {
    /// The `GroupMessage` wire bytes.
    pub wire: Vec<u8>,
    /// Its §5 message id.
    pub message_id: MessageId,
    /// The iteration it was sent at.
    pub iteration: u32,
}

/// What went into one group message, for the test vectors: the framed plaintext and the
/// keys. Erased on drop, never printed.
#[derive(Default)]
pub struct GroupSendTrace {
    /// The framed and padded plaintext.
    pub padded_plaintext: Vec<u8>,
    /// The message key `MK_i`.
    pub message_key: [u8; 32],
    /// The AES-256-GCM key.
    pub aes_key: [u8; 32],
    /// The AES-256-GCM nonce.
    pub nonce: [u8; 12],
}

impl core::fmt::Debug for GroupSendTrace {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            padded_plaintext,
            message_key: _,
            aes_key: _,
            nonce: _,
        } = self;
        f.debug_struct("GroupSendTrace")
            .field("padded_plaintext_len", &padded_plaintext.len())
            .finish_non_exhaustive()
    }
}

impl Drop for GroupSendTrace {
    fn drop(&mut self) {
        self.padded_plaintext.zeroize();
        self.message_key.zeroize();
        self.aes_key.zeroize();
        self.nonce.zeroize();
    }
}

/// A sender key: `distribution_id`, `chain_id`, the chain key at the current iteration and
/// the Ed25519 signing key pair. The chain key and the signing seed are erased on drop and
/// never printed; the signing key is derived once, so encrypting costs no key derivation.
#[derive(Clone)]
pub struct SenderKey {
    distribution_id: [u8; DISTRIBUTION_ID_LEN],
    chain_id: u32,
    chain: SenderChainKey,
    signing_seed: Secret32,
    signing: SigningKey,
    signing_public: [u8; 32],
    created_at_ms: u64,
    messages_sent: u32,
    membership_changed: bool,
}

impl core::fmt::Debug for SenderKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            distribution_id,
            chain_id,
            chain,
            signing_seed: _,
            signing: _,
            signing_public,
            created_at_ms,
            messages_sent,
            membership_changed,
        } = self;
        f.debug_struct("SenderKey")
            .field("distribution_id", &hex_prefix(distribution_id))
            .field("chain_id", chain_id)
            .field("chain", chain)
            .field("signing_public", &hex_prefix(signing_public))
            .field("created_at_ms", created_at_ms)
            .field("messages_sent", messages_sent)
            .field("membership_changed", membership_changed)
            .finish_non_exhaustive()
    }
}

impl SenderKey {
    /// A new sender key from `rng`, made at `now_ms` of the caller's clock. It draws, in
    /// order: `distribution_id` (16 bytes), `chain_id` (4 bytes, big-endian), `CK` (32) and
    /// the signing seed (32); the iteration starts at 0.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R, now_ms: u64) -> Self {
        let mut distribution_id = [0u8; DISTRIBUTION_ID_LEN];
        rng.fill_bytes(&mut distribution_id);
        let mut chain_id = [0u8; 4];
        rng.fill_bytes(&mut chain_id);
        let mut ck = [0u8; 32];
        rng.fill_bytes(&mut ck);
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        Self::from_parts(
            distribution_id,
            u32::from_be_bytes(chain_id),
            0,
            Secret32::from_array(&mut ck),
            Secret32::from_array(&mut seed),
            now_ms,
        )
    }

    /// A sender key from its parts (the test vectors give them): chain key `chain_key` at
    /// `iteration`, signing key pair from `signing_seed`.
    pub fn from_parts(
        distribution_id: [u8; DISTRIBUTION_ID_LEN],
        chain_id: u32,
        iteration: u32,
        chain_key: Secret32,
        signing_seed: Secret32,
        created_at_ms: u64,
    ) -> Self {
        let signing = SigningKey::from_bytes(signing_seed.expose());
        let signing_public = signing.verifying_key().to_bytes();
        Self {
            distribution_id,
            chain_id,
            chain: SenderChainKey::new(chain_key, iteration),
            signing_seed,
            signing,
            signing_public,
            created_at_ms,
            messages_sent: 0,
            membership_changed: false,
        }
    }

    /// The key's `distribution_id`.
    pub fn distribution_id(&self) -> &[u8; DISTRIBUTION_ID_LEN] {
        &self.distribution_id
    }

    /// The key's `chain_id`.
    pub fn chain_id(&self) -> u32 {
        self.chain_id
    }

    /// The iteration of the next message.
    pub fn iteration(&self) -> u32 {
        self.chain.iteration
    }

    /// The Ed25519 public key that verifies this key's messages.
    pub fn signing_public(&self) -> &[u8; 32] {
        &self.signing_public
    }

    /// When the key was made, by the caller's clock.
    pub fn created_at_ms(&self) -> u64 {
        self.created_at_ms
    }

    /// Messages encrypted under this key so far.
    pub fn messages_sent(&self) -> u32 {
        self.messages_sent
    }

    /// The distribution of this key at its *current* iteration: a device given it reads
    /// this key's next message and every later one, none before (spec §12).
    pub fn distribution(&self, group_id: &GroupId) -> Distribution {
        Distribution {
            group_id: group_id.clone(),
            distribution_id: self.distribution_id,
            chain_id: self.chain_id,
            iteration: self.chain.iteration,
            chain_key: self.chain.key.clone(),
            signing_public: self.signing_public,
        }
    }

    /// Notes that a member device was removed from the group: the key must be replaced
    /// before the next group message.
    pub fn mark_membership_changed(&mut self) {
        self.membership_changed = true;
    }

    /// Whether the key must be replaced before the next group message, and why (spec §12):
    /// a membership change, 7 days of age by the caller's clock `now_ms`, 10,000 messages,
    /// or an exhausted counter. `None`: the key may go on.
    pub fn rotation_due(&self, now_ms: u64) -> Option<RotationReason> {
        if self.membership_changed {
            Some(RotationReason::MembershipChanged)
        } else if self.messages_sent >= SENDER_KEY_MAX_MESSAGES {
            Some(RotationReason::MessageCount)
        } else if now_ms.saturating_sub(self.created_at_ms) >= SENDER_KEY_MAX_AGE_MS {
            Some(RotationReason::Age)
        } else if self.chain.iteration == u32::MAX {
            Some(RotationReason::CounterExhausted)
        } else {
            None
        }
    }

    /// Encrypts an application body (content type `0x01`, spec §10) into a `GroupMessage`
    /// and moves the chain on (the message key is erased). The caller checks
    /// [`SenderKey::rotation_due`] first; this only refuses what cannot be sent.
    pub fn encrypt(&mut self, body: &[u8]) -> Result<GroupOutgoing, GroupError> {
        self.encrypt_inner(ContentType::Application, body, None)
    }

    /// [`SenderKey::encrypt`], also reporting the plaintext and keys (for the test vectors).
    pub fn encrypt_traced(
        &mut self,
        body: &[u8],
        trace: &mut GroupSendTrace,
    ) -> Result<GroupOutgoing, GroupError> {
        self.encrypt_inner(ContentType::Application, body, Some(trace))
    }

    /// Encrypts under any content type: the public calls send only application data (spec
    /// §12); tests use this to check that receivers refuse anything else.
    pub(crate) fn encrypt_inner(
        &mut self,
        content_type: ContentType,
        body: &[u8],
        trace: Option<&mut GroupSendTrace>,
    ) -> Result<GroupOutgoing, GroupError> {
        if body.len() > MAX_PLAINTEXT {
            return Err(GroupError::PlaintextTooLarge { len: body.len() });
        }
        // The chain moves only once the message is made; a failure leaves it as it was.
        let mut chain = self.chain.clone();
        let key = chain.advance().ok_or(GroupError::CounterExhausted)?;
        let keys = key.expand();
        let header = group_message::header(&self.distribution_id, self.chain_id, key.iteration);
        let padded_len = plaintext::padded_len(body.len());
        let mut wire = Vec::with_capacity(GROUP_HEADER_LEN + padded_len + 16 + 64);
        wire.put(&header);
        plaintext::pad_into(&mut wire, content_type, body);
        if let Some(t) = trace {
            t.padded_plaintext = wire.get(GROUP_HEADER_LEN..).unwrap_or_default().to_vec();
            t.message_key = *key.key.expose();
            t.aes_key = *keys.aes_key();
            t.nonce = keys.nonce();
        }
        aead::seal_in_place(
            keys.aes_key(),
            &keys.nonce(),
            &header,
            &mut wire,
            GROUP_HEADER_LEN,
        );
        let signature = ed25519::sign(&self.signing, &[GROUP_MESSAGE_CONTEXT, &wire]);
        wire.put(&signature);
        self.chain = chain;
        self.messages_sent = self.messages_sent.saturating_add(1);
        Ok(GroupOutgoing {
            message_id: MessageId::of(&wire),
            wire,
            iteration: key.iteration,
        })
    }

    /// The key's bytes, for storage: `version (1) || distribution_id (16) || chain_id (u32)
    /// || iteration (u32) || CK (32) || signing_seed (32) || created_at_ms (u64) ||
    /// messages_sent (u32) || membership_changed (0/1)`. Secret: erased on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(1 + 16 + 8 + 64 + 13));
        out.put_u8(SENDER_KEY_RECORD_VERSION);
        out.put(&self.distribution_id);
        out.put_u32(self.chain_id);
        out.put_u32(self.chain.iteration);
        out.put(self.chain.key.expose());
        out.put(self.signing_seed.expose());
        out.put_u64(self.created_at_ms);
        out.put_u32(self.messages_sent);
        out.put_u8(u8::from(self.membership_changed));
        out
    }

    /// Reads [`SenderKey::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GroupError> {
        let mut r = Reader::new(bytes, "sender key record");
        let version = r.u8()?;
        if version != SENDER_KEY_RECORD_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: "sender key record",
                version,
            }
            .into());
        }
        let distribution_id = r.array::<DISTRIBUTION_ID_LEN>()?;
        let chain_id = r.u32()?;
        let iteration = r.u32()?;
        // Held in buffers erased on drop, whatever the reading below returns.
        let mut ck = Zeroizing::new(r.array::<32>()?);
        let mut seed = Zeroizing::new(r.array::<32>()?);
        let created_at_ms = r.u64()?;
        let messages_sent = r.u32()?;
        let membership_changed = r.flag()?;
        r.finish()?;
        let mut key = Self::from_parts(
            distribution_id,
            chain_id,
            iteration,
            Secret32::from_array(&mut ck),
            Secret32::from_array(&mut seed),
            created_at_ms,
        );
        key.messages_sent = messages_sent;
        key.membership_changed = membership_changed;
        Ok(key)
    }
}
