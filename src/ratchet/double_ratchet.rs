//! The Double Ratchet state machine (spec §4) with the post-quantum ratchet beside it (spec
//! §14), with transactional decryption: every step is computed on the side and assigned
//! only after the AEAD tag verifies and the pq_block is accepted.

use rand_core::CryptoRng;

use crate::constants::{HEADER_LEN, MAX_SKIP, MESSAGE_TYPE};
use crate::error::{DecryptionError, EncryptionError, KeyError};
use crate::primitives::secret::Secret32;
use crate::primitives::x25519::{PeerKey, X25519KeyPair};
use crate::wire::header::Header;
use crate::wire::message::aad;

use super::chain_key::ChainKey;
use super::message_key::MessageKey;
use super::pq_ratchet::{PqRatchet, PqUpdate};
use super::root_key::RootKey;
use super::skipped_keys::{Position, SkippedKey, SkippedKeys};
use crate::wire::pq_block::PqChunk;

/// `RK`, `DHs`, `DHr`, `CKs`/`Ns`, `CKr`/`Nr`, `PN` and the skipped keys.
#[derive(Clone, Debug)]
pub(crate) struct DoubleRatchet {
    pub(crate) root: RootKey,
    pub(crate) sending_key: X25519KeyPair,
    pub(crate) remote_key: Option<[u8; 32]>,
    pub(crate) sending: Option<ChainKey>,
    pub(crate) receiving: Option<ChainKey>,
    pub(crate) previous_count: u32,
    pub(crate) skipped: SkippedKeys,
    /// The post-quantum ratchet (spec §14), committed or dropped with the rest.
    pub(crate) pq: PqRatchet,
}

/// What one encryption used, for the test vectors' traces.
pub(crate) struct Sealed {
    pub(crate) header: [u8; HEADER_LEN],
    pub(crate) message_key: MessageKey,
    pub(crate) pq_chunk: Option<PqChunk>,
}

/// What a successful decryption changes, applied by [`DoubleRatchet::commit`].
pub(crate) enum Change {
    /// A stored skipped key was used: remove it.
    UsedSkipped(Position),
    /// The current receiving chain advanced, skipping some keys.
    Advanced {
        receiving: ChainKey,
        skipped: Vec<SkippedKey>,
    },
    /// A new ratchet key arrived: a full DH ratchet step.
    Stepped {
        root: RootKey,
        /// The new ratchet key, decoded once for both Diffie-Hellmans of the step.
        remote_key: Box<PeerKey>,
        receiving: ChainKey,
        previous_count: u32,
        skipped: Vec<SkippedKey>,
        /// `Some(PE)` when the receiving chain mixed `PQS_PE` (spec §14).
        pq_mixed: Option<u32>,
    },
}

fn low_order(_: crate::primitives::x25519::LowOrder) -> DecryptionError {
    DecryptionError::Key(KeyError::LowOrderKey {
        what: "ratchet key",
    })
}

/// Refuses a message that would make the receiver derive more than `MAX_SKIP` keys in
/// total (spec §4, revision 2), before any key is derived.
fn check_skip(gap: u64) -> Result<(), DecryptionError> {
    if gap > u64::from(MAX_SKIP) {
        return Err(DecryptionError::TooManySkipped {
            skipped: gap,
            limit: MAX_SKIP,
        });
    }
    Ok(())
}

/// Walks `chain` up to message `until`, collecting the skipped keys, and returns the key
/// for `until` and the chain after it. The caller has checked the gap with `check_skip`.
fn skip_to(
    chain: &ChainKey,
    until: u32,
    ratchet_key: &[u8; 32],
    skipped: &mut Vec<SkippedKey>,
) -> Result<ChainKey, DecryptionError> {
    let gap = until.saturating_sub(chain.index);
    check_skip(u64::from(gap))?;
    skipped.reserve(usize::try_from(gap).unwrap_or(0));
    let mut chain = chain.clone();
    while chain.index < until {
        let key = chain.advance().ok_or(DecryptionError::TooManySkipped {
            skipped: u64::from(gap),
            limit: MAX_SKIP,
        })?;
        skipped.push(SkippedKey {
            ratchet_key: *ratchet_key,
            key,
        });
    }
    Ok(chain)
}

impl DoubleRatchet {
    /// Alice's state after PQXDH: a new `DHs`, `DHr = SPK_B`, `(RK, CKs) = KDF_RK(SK, DH)`.
    pub(crate) fn initiator(
        shared_key: &Secret32,
        remote_key: &[u8; 32],
        sending_key: X25519KeyPair,
    ) -> Result<Self, KeyError> {
        let dh = sending_key
            .dh(remote_key)
            .map_err(|_| KeyError::LowOrderKey {
                what: "signed prekey",
            })?;
        let (root, sending) = RootKey(shared_key.clone()).advance(&dh);
        Ok(Self {
            root,
            sending_key,
            remote_key: Some(*remote_key),
            sending: Some(sending),
            receiving: None,
            previous_count: 0,
            skipped: SkippedKeys::default(),
            pq: PqRatchet::new(true),
        })
    }

    /// Bob's state after PQXDH: `DHs = SPK_B`, `RK = SK`, no chains yet.
    pub(crate) fn responder(shared_key: &Secret32, signed_prekey: X25519KeyPair) -> Self {
        Self {
            root: RootKey(shared_key.clone()),
            sending_key: signed_prekey,
            remote_key: None,
            sending: None,
            receiving: None,
            previous_count: 0,
            skipped: SkippedKeys::default(),
            pq: PqRatchet::new(false),
        }
    }

    /// Appends `0x11 || header` to `wire`, then the padded plaintext that `frame` writes
    /// around the pq_block's chunk, and encrypts that plaintext in place, appending the tag.
    /// KEM randomness, when the PQ ratchet needs some, is drawn from `rng` (spec §14).
    pub(crate) fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        associated_data: &[u8],
        wire: &mut Vec<u8>,
        rng: &mut R,
        frame: impl FnOnce(&mut Vec<u8>, Option<&PqChunk>),
    ) -> Result<Sealed, EncryptionError> {
        let chain = self.sending.as_ref().ok_or(EncryptionError::NoSession)?;
        let (message_key, next) = chain.step();
        let next = next.ok_or(EncryptionError::CounterExhausted)?;
        let header = Header {
            ratchet_key: *self.sending_key.public(),
            previous_count: self.previous_count,
            counter: chain.index,
            // The current sending chain was made when `PEm` took its present value.
            pq_epoch: self.pq.mixed,
        }
        .to_bytes();
        // Last of what can fail: from here on the message is sent.
        let pq_chunk = self.pq.next_chunk(rng)?;
        wire.push(MESSAGE_TYPE);
        wire.extend_from_slice(&header);
        let start = wire.len();
        frame(wire, pq_chunk.as_ref());
        message_key.seal_in_place(&aad(associated_data, &header), wire, start);
        self.sending = Some(next);
        Ok(Sealed {
            header,
            message_key,
            pq_chunk,
        })
    }

    /// Test vectors only: a message from this state's sending chain with the given `PE` and
    /// a plaintext `frame` writes whole (its pq_block included), leaving the PQ state alone.
    /// It shows how a receiver treats a peer that breaks spec §14's rules.
    pub(crate) fn encrypt_forged(
        &mut self,
        associated_data: &[u8],
        wire: &mut Vec<u8>,
        pq_epoch: u32,
        frame: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), EncryptionError> {
        let chain = self.sending.as_ref().ok_or(EncryptionError::NoSession)?;
        let (message_key, next) = chain.step();
        let next = next.ok_or(EncryptionError::CounterExhausted)?;
        let header = Header {
            ratchet_key: *self.sending_key.public(),
            previous_count: self.previous_count,
            counter: chain.index,
            pq_epoch,
        }
        .to_bytes();
        wire.push(MESSAGE_TYPE);
        wire.extend_from_slice(&header);
        let start = wire.len();
        frame(wire);
        message_key.seal_in_place(&aad(associated_data, &header), wire, start);
        self.sending = Some(next);
        Ok(())
    }

    /// Decrypts a message without changing the state; the returned change is applied by
    /// [`DoubleRatchet::commit`] once the caller accepts the plaintext.
    pub(crate) fn decrypt(
        &self,
        associated_data: &[u8],
        header: &Header,
        header_bytes: &[u8],
        ciphertext: &[u8],
    ) -> Result<(Vec<u8>, Change), DecryptionError> {
        let header_arr: &[u8; HEADER_LEN] = header_bytes
            .try_into()
            .map_err(|_| DecryptionError::AuthenticationFailed)?;
        let aad = aad(associated_data, header_arr);
        self.try_decrypt(&aad, header, ciphertext)
    }

    fn try_decrypt(
        &self,
        aad: &[u8],
        header: &Header,
        ciphertext: &[u8],
    ) -> Result<(Vec<u8>, Change), DecryptionError> {
        let open = |key: &MessageKey| {
            key.open(aad, ciphertext)
                .map_err(|_| DecryptionError::AuthenticationFailed)
        };

        if let Some((position, key)) = self.skipped.find(&header.ratchet_key, header.counter) {
            return Ok((open(key)?, Change::UsedSkipped(position)));
        }

        if self.remote_key.as_ref() == Some(&header.ratchet_key) {
            let chain = self
                .receiving
                .as_ref()
                .ok_or(DecryptionError::AuthenticationFailed)?;
            if header.counter < chain.index {
                return Err(DecryptionError::DuplicateMessage);
            }
            let mut skipped = Vec::new();
            let at = skip_to(chain, header.counter, &header.ratchet_key, &mut skipped)?;
            let (key, receiving) = at.step();
            let plaintext = open(&key)?;
            let receiving = receiving.ok_or(DecryptionError::TooManySkipped {
                skipped: u64::from(header.counter),
                limit: MAX_SKIP,
            })?;
            return Ok((plaintext, Change::Advanced { receiving, skipped }));
        }

        // A new ratchet key: finish the current receiving chain up to PN, then step. The
        // keys of both chains count together against the limit.
        let old_gap = self
            .receiving
            .as_ref()
            .map_or(0, |c| header.previous_count.saturating_sub(c.index));
        check_skip(u64::from(old_gap) + u64::from(header.counter))?;
        // PE is judged against the PQ state before this message, before any key is derived.
        let pq_secret = self.pq.receiving_mix(header.pq_epoch)?;
        let mut skipped = Vec::new();
        if let (Some(chain), Some(old_key)) = (&self.receiving, &self.remote_key) {
            skip_to(chain, header.previous_count, old_key, &mut skipped)?;
        }
        let remote_key = Box::new(PeerKey::new(&header.ratchet_key));
        let dh = self.sending_key.dh_with(&remote_key).map_err(low_order)?;
        let (root, receiving) = match pq_secret {
            Some(secret) => self.root.advance_pq(&dh, secret),
            None => self.root.advance(&dh),
        };
        let at = skip_to(
            &receiving,
            header.counter,
            &header.ratchet_key,
            &mut skipped,
        )?;
        let (key, receiving) = at.step();
        let plaintext = open(&key)?;
        let receiving = receiving.ok_or(DecryptionError::TooManySkipped {
            skipped: u64::from(header.counter),
            limit: MAX_SKIP,
        })?;
        let previous_count = self.sending.as_ref().map_or(0, |c| c.index);
        Ok((
            plaintext,
            Change::Stepped {
                root,
                remote_key,
                receiving,
                previous_count,
                skipped,
                pq_mixed: pq_secret.map(|_| header.pq_epoch),
            },
        ))
    }

    /// Whether `ratchet_key` names a chain this state can open without a new DH ratchet
    /// step: its receiving chain, or a chain with stored skipped keys.
    pub(crate) fn knows_chain(&self, ratchet_key: &[u8; 32]) -> bool {
        self.remote_key.as_ref() == Some(ratchet_key) || self.skipped.has_chain(ratchet_key)
    }

    /// Judges an authenticated message's pq_block against the PQ state as it was before the
    /// message (spec §14); the result is applied by [`DoubleRatchet::commit`].
    pub(crate) fn judge_pq(&self, chunk: Option<&PqChunk>) -> Result<PqUpdate, DecryptionError> {
        Ok(self.pq.receive(chunk)?)
    }

    /// Applies a decryption's change and its pq_block's update. Randomness (one new ratchet
    /// key) is drawn only when the message completed a DH ratchet step.
    pub(crate) fn commit<R: CryptoRng + ?Sized>(
        &mut self,
        change: Change,
        pq_update: PqUpdate,
        rng: &mut R,
    ) -> Result<(), DecryptionError> {
        // A message that mixed on receive was judged against the epoch it just closed, where
        // every chunk is ignored or fails (spec §14): nothing of the old epoch is applied.
        let closed_epoch = matches!(
            change,
            Change::Stepped {
                pq_mixed: Some(_),
                ..
            }
        );
        match change {
            Change::UsedSkipped(position) => self.skipped.remove(position),
            Change::Advanced { receiving, skipped } => {
                self.skipped.extend(skipped);
                self.receiving = Some(receiving);
            }
            Change::Stepped {
                root,
                remote_key,
                receiving,
                previous_count,
                skipped,
                pq_mixed,
            } => {
                // The second half of the DH ratchet step: a new sending key and chain, which
                // mixes `PQS_e` if it was pending before this message (spec §14).
                let sending_key = X25519KeyPair::generate(rng);
                let dh = sending_key.dh_with(&remote_key).map_err(low_order)?;
                if let Some(pe) = pq_mixed {
                    self.pq.mixed_on_receive(pe);
                }
                let (root, sending) = match self.pq.pending.take() {
                    Some((epoch, secret)) => {
                        self.pq.mixed = epoch;
                        root.advance_pq(&dh, &secret)
                    }
                    None => root.advance(&dh),
                };
                self.skipped.extend(skipped);
                self.root = root;
                self.sending_key = sending_key;
                self.remote_key = Some(*remote_key.bytes());
                self.sending = Some(sending);
                self.receiving = Some(receiving);
                self.previous_count = previous_count;
            }
        }
        if !closed_epoch {
            self.pq.apply(pq_update);
        }
        Ok(())
    }
}
