//! One Double Ratchet session with a peer: the ratchet, the PQXDH associated data, and the
//! PreKeyMessage fields the initiator repeats until the responder answers.

use rand_core::CryptoRng;
use zeroize::Zeroize;

use crate::constants::{
    ASSOCIATED_DATA_LEN, HEADER_LEN, KEM_CIPHERTEXT_LEN, MAX_PLAINTEXT, PQ_BLOCK_LEN, TAG_LEN,
};

/// The longest PreKeyMessage prefix: type, IK, EK, two ids, flag, OPK id, CT.
const PREKEY_PREFIX_MAX: usize = 1 + 32 + 32 + 4 + 4 + 1 + 4 + KEM_CIPHERTEXT_LEN;
use crate::error::{DecryptionError, EncryptionError};
use crate::identity::IdentityKey;
use crate::primitives::kdf::sha256;
use crate::ratchet::double_ratchet::DoubleRatchet;
use crate::wire::message::Message;
use crate::wire::plaintext::{self, ContentType};
use crate::wire::pq_block::PqChunk;
use crate::wire::prekey_message::PreKeyPrefix;
use crate::wire::MessageId;

/// A session. Its state is only changed by a successful encryption or decryption.
#[derive(Clone, Debug)]
pub struct Session {
    pub(crate) remote_identity: IdentityKey,
    pub(crate) associated_data: [u8; ASSOCIATED_DATA_LEN],
    /// `EK_A`: identifies the session on both sides.
    pub(crate) base_key: [u8; 32],
    /// Initiator only: sent in front of every message until a reply decrypts.
    pub(crate) pending_prekey: Option<PreKeyPrefix>,
    /// Responder only: SHA-256 of the PreKeyMessage fields it accepted, so a repeated
    /// PreKeyMessage with altered fields is refused rather than silently routed.
    pub(crate) prekey_digest: Option<[u8; 32]>,
    pub(crate) ratchet: DoubleRatchet,
}

/// An encrypted message ready for the relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The wire bytes (a `Message`, or a `PreKeyMessage` while the session is unanswered).
    pub wire: Vec<u8>,
}

impl OutgoingMessage {
    /// Its message id, hashed from the wire bytes when asked for (not every caller tracks ids).
    pub fn id(&self) -> MessageId {
        MessageId::of(&self.wire)
    }
}

/// The values the test vectors record for one sent message. Its `Debug` shows lengths only.
pub struct SendTrace {
    /// The framed and padded plaintext.
    pub padded_plaintext: Vec<u8>,
    /// The 44-byte header.
    pub header: [u8; HEADER_LEN],
    /// The message key `MK`.
    pub message_key: [u8; 32],
    /// The chunk the message's pq_block carries, if any.
    pub pq_chunk: Option<PqChunk>,
}

impl Default for SendTrace {
    fn default() -> Self {
        Self {
            padded_plaintext: Vec::new(),
            header: [0; HEADER_LEN],
            message_key: [0; 32],
            pq_chunk: None,
        }
    }
}

impl core::fmt::Debug for SendTrace {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            padded_plaintext,
            header: _,
            message_key: _,
            pq_chunk: _,
        } = self;
        f.debug_struct("SendTrace")
            .field("padded_plaintext_len", &padded_plaintext.len())
            .finish_non_exhaustive()
    }
}

impl Drop for SendTrace {
    fn drop(&mut self) {
        self.padded_plaintext.zeroize();
        self.message_key.zeroize();
    }
}

impl Session {
    /// The peer's identity.
    pub fn remote_identity(&self) -> &IdentityKey {
        &self.remote_identity
    }

    /// The base key `EK_A` this session was started with.
    pub fn base_key(&self) -> &[u8; 32] {
        &self.base_key
    }

    /// Whether this side still sends PreKeyMessages (it has not yet decrypted a reply).
    pub fn awaiting_reply(&self) -> bool {
        self.pending_prekey.is_some()
    }

    /// The post-quantum ratchet's current epoch (spec §14; epochs count from 1).
    pub fn pq_epoch(&self) -> u32 {
        self.ratchet.pq.epoch
    }

    /// The last PQ epoch mixed into this side's root chain (`PEm`, 0 until the first).
    pub fn pq_last_mixed(&self) -> u32 {
        self.ratchet.pq.mixed
    }

    /// Number of skipped message keys stored.
    pub fn skipped_key_count(&self) -> usize {
        self.ratchet.skipped.len()
    }

    /// Encrypts into one buffer: the PreKeyMessage prefix if pending, the header, and the
    /// padded plaintext with its pq_block, which is encrypted in place. KEM randomness is
    /// drawn from `rng` when the PQ ratchet needs it (spec §14). Fills `trace` if given.
    pub(crate) fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        content_type: ContentType,
        body: &[u8],
        rng: &mut R,
        trace: Option<&mut SendTrace>,
    ) -> Result<OutgoingMessage, EncryptionError> {
        if body.len() > MAX_PLAINTEXT {
            return Err(EncryptionError::PlaintextTooLarge { len: body.len() });
        }
        let prefix_len = if self.pending_prekey.is_some() {
            PREKEY_PREFIX_MAX
        } else {
            0
        };
        let mut wire = Vec::with_capacity(
            prefix_len
                + 1
                + HEADER_LEN
                + plaintext::padded_len_pq(PQ_BLOCK_LEN, body.len())
                + TAG_LEN,
        );
        if let Some(prefix) = &self.pending_prekey {
            prefix.write(&mut wire);
        }
        let want_trace = trace.is_some();
        let mut padded_copy = Vec::new();
        let sealed =
            self.ratchet
                .encrypt(&self.associated_data, &mut wire, rng, |buf, chunk| {
                    let start = buf.len();
                    plaintext::pad_pq_into(buf, chunk, content_type, body);
                    if want_trace {
                        padded_copy = buf.get(start..).unwrap_or_default().to_vec();
                    }
                })?;
        if let Some(t) = trace {
            t.padded_plaintext = padded_copy;
            t.header = sealed.header;
            t.message_key = *sealed.message_key.key.expose();
            t.pq_chunk = sealed.pq_chunk;
        }
        Ok(OutgoingMessage { wire })
    }

    /// Decrypts a `Message` (standalone or inside a PreKeyMessage) and unframes it. On any
    /// error the session is unchanged.
    pub(crate) fn decrypt<R: CryptoRng + ?Sized>(
        &mut self,
        message: &Message<'_>,
        rng: &mut R,
    ) -> Result<(ContentType, Vec<u8>), DecryptionError> {
        // Unframing, the pq_block and the content type are checked before the state is
        // committed, so a malformed plaintext cannot advance either ratchet (spec §14's order:
        // the DH step, decrypt, the pq_block, the content, commit).
        let (padded, change) = self.ratchet.decrypt(
            &self.associated_data,
            &message.header,
            message.header_bytes,
            message.ciphertext,
        )?;
        let framed = plaintext::unpad_pq_owned(padded)?;
        let pq_update = self.ratchet.judge_pq(framed.chunk.as_ref())?;
        let content_type = ContentType::from_byte(framed.content_type)
            .ok_or(DecryptionError::UnknownContentType(framed.content_type))?;
        let out = (content_type, framed.body);
        self.ratchet.commit(change, pq_update, rng)?;
        // Only the peer holds the keys to what just decrypted: it has our session.
        self.pending_prekey = None;
        Ok(out)
    }

    /// The SHA-256 digest recorded for a PreKeyMessage's fields.
    pub(crate) fn digest_prefix(prefix: &[u8]) -> [u8; 32] {
        sha256(&[prefix])
    }
}
