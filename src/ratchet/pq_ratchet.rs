//! The post-quantum ratchet (spec §14): per epoch, one side (E) makes an ML-KEM-768 key pair
//! and sends `ek` in 37 chunks, the other (C) encapsulates and sends `ct` in 34 chunks; the
//! shared secret `PQS_e` is mixed into the root chain at the next DH ratchet step, marked by
//! the header's `PE`. This module holds one side's state and its rules; the Double Ratchet
//! calls it when it sends, when it takes a step and when a message has authenticated.
//!
//! The state is a plain value inside the session, so a failed message drops its working
//! copy with the rest of the session state (spec §4): nothing here is changed in place by a
//! message that has not yet been accepted.

use rand_core::CryptoRng;

use crate::constants::{
    PQ_CHUNK_LEN, PQ_CT_CHUNKS, PQ_CT_LEN, PQ_EK_CHUNKS, PQ_EK_LEN, PQ_SECRET_INFO, ZERO32,
};
use crate::error::{EncryptionError, PqError};
use crate::primitives::kdf::{hkdf_sha256, sha256};
use crate::primitives::kem768;
use crate::primitives::secret::{Secret32, SecretBytes};
use crate::wire::pq_block::{PqChunk, PqKind};

/// The chunks of one object received so far: the bytes and a bit per index held.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Chunks<const N: usize> {
    pub(crate) bytes: Box<[u8; N]>,
    pub(crate) held: u64,
}

impl<const N: usize> Chunks<N> {
    pub(crate) fn empty() -> Self {
        Self {
            bytes: Box::new([0u8; N]),
            held: 0,
        }
    }

    const fn count() -> u32 {
        // N is 1184 or 1088, both multiples of 32 below 64 chunks.
        (N / PQ_CHUNK_LEN) as u32
    }

    /// The mask of every index of the object.
    pub(crate) fn full_mask() -> u64 {
        (1u64 << Self::count()) - 1
    }

    pub(crate) fn has(&self, index: u8) -> bool {
        self.held & (1u64 << index) != 0
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.held == Self::full_mask()
    }

    /// Stores chunk `index` (below the object's chunk count, checked by the parser).
    fn keep(&mut self, index: u8, chunk: &[u8; PQ_CHUNK_LEN]) {
        let start = usize::from(index) * PQ_CHUNK_LEN;
        if let Some(slot) = self.bytes.get_mut(start..start + PQ_CHUNK_LEN) {
            slot.copy_from_slice(chunk);
            self.held |= 1u64 << index;
        }
    }
}

/// Chunk `index` of `object`.
fn chunk_of<const N: usize>(object: &[u8; N], index: u8) -> [u8; PQ_CHUNK_LEN] {
    let mut out = [0u8; PQ_CHUNK_LEN];
    let start = usize::from(index) * PQ_CHUNK_LEN;
    if let Some(bytes) = object.get(start..start + PQ_CHUNK_LEN) {
        out.copy_from_slice(bytes);
    }
    out
}

/// The state of this side in the current epoch (the table of spec §14).
#[derive(Clone)]
pub(crate) enum EpochState {
    /// E side, no key pair drawn yet.
    Unsampled,
    /// E side: sends `ek` chunk `next` with each message until a `ct` chunk arrives, and
    /// collects `ct`. The seed is kept, not the 2400-byte decapsulation key: it is made
    /// again from the seed once, when `ct` is complete.
    SendingEk {
        seed: SecretBytes<64>,
        ek: Box<[u8; PQ_EK_LEN]>,
        next: u8,
        ct: Chunks<PQ_CT_LEN>,
    },
    /// C side, collecting the peer's `ek`.
    WaitingEk { ek: Chunks<PQ_EK_LEN> },
    /// C side: `ek` is complete and passed the input check; the next message encapsulates.
    EkReady { ek: Box<[u8; PQ_EK_LEN]> },
    /// C side: sends `ct` chunk `next` with each message until the peer mixes `PQS_e`.
    SendingCt {
        ct: Box<[u8; PQ_CT_LEN]>,
        secret: Secret32,
        next: u8,
    },
    /// A session archived beyond the most recent one keeps no PQ state (spec §14): it checks
    /// a pq_block's structure only, sends none, and mixes nothing.
    Dropped,
}

impl core::fmt::Debug for EpochState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Unsampled => f.write_str("Unsampled"),
            Self::SendingEk {
                seed: _,
                ek: _,
                next,
                ct,
            } => f
                .debug_struct("SendingEk")
                .field("next", next)
                .field("ct_held", &ct.held.count_ones())
                .finish_non_exhaustive(),
            Self::WaitingEk { ek } => f
                .debug_struct("WaitingEk")
                .field("ek_held", &ek.held.count_ones())
                .finish(),
            Self::EkReady { ek: _ } => f.write_str("EkReady"),
            Self::SendingCt {
                ct: _,
                secret: _,
                next,
            } => f
                .debug_struct("SendingCt")
                .field("next", next)
                .finish_non_exhaustive(),
            Self::Dropped => f.write_str("Dropped"),
        }
    }
}

/// One side's PQ ratchet: the current epoch and its state, the last epoch mixed into the
/// root chain (`PEm`), and the secret waiting to be mixed at this side's next sending chain.
#[derive(Clone)]
pub(crate) struct PqRatchet {
    /// Whether this side started the session (Alice, the E side of odd epochs).
    pub(crate) initiator: bool,
    pub(crate) epoch: u32,
    pub(crate) state: EpochState,
    /// `PEm`: the last epoch mixed into the root chain (0 until the first).
    pub(crate) mixed: u32,
    /// `(e, PQS_e)` once this side, as the E side of `e`, has decapsulated.
    pub(crate) pending: Option<(u32, Secret32)>,
}

impl core::fmt::Debug for PqRatchet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            initiator,
            epoch,
            state,
            mixed,
            pending,
        } = self;
        f.debug_struct("PqRatchet")
            .field("initiator", initiator)
            .field("epoch", epoch)
            .field("state", state)
            .field("mixed", mixed)
            .field("pending_epoch", &pending.as_ref().map(|(e, _)| *e))
            .finish()
    }
}

/// `PQS_e = HKDF(ZERO32, ss, "Bluetick_PqRatchet_v1" || u32(e) || SHA-256(ek) || SHA-256(ct), 32)`.
pub(crate) fn pq_secret(
    shared_secret: &Secret32,
    epoch: u32,
    ek: &[u8; PQ_EK_LEN],
    ct: &[u8; PQ_CT_LEN],
) -> Secret32 {
    let mut info = Vec::with_capacity(PQ_SECRET_INFO.len() + 4 + 64);
    info.extend_from_slice(PQ_SECRET_INFO);
    info.extend_from_slice(&epoch.to_be_bytes());
    info.extend_from_slice(&sha256(&[&ek[..]]));
    info.extend_from_slice(&sha256(&[&ct[..]]));
    let mut out = Secret32::zeroed();
    hkdf_sha256(&ZERO32, shared_secret.expose(), &info, out.expose_mut());
    out
}

/// What an authenticated pq_block does to the state it was judged against.
pub(crate) enum PqUpdate {
    /// Nothing (no chunk, an old epoch, a chunk already held).
    Unchanged,
    /// The epoch and its state after the chunk; `pending` is set when the chunk completed
    /// `ct` at the E side.
    Changed {
        epoch: u32,
        state: EpochState,
        pending: Option<(u32, Secret32)>,
    },
}

impl PqRatchet {
    /// The state of a new session: epoch 1, Alice the E side, Bob the C side.
    pub(crate) fn new(initiator: bool) -> Self {
        let mut pq = Self {
            initiator,
            epoch: 1,
            state: EpochState::Unsampled,
            mixed: 0,
            pending: None,
        };
        pq.state = pq.fresh_state();
        pq
    }

    /// Whether this side is the E side of `epoch`: Alice in odd epochs, Bob in even ones.
    pub(crate) fn is_e_side(&self, epoch: u32) -> bool {
        (epoch % 2 == 1) == self.initiator
    }

    /// The state this side starts the current epoch in.
    fn fresh_state(&self) -> EpochState {
        if self.is_e_side(self.epoch) {
            EpochState::Unsampled
        } else {
            EpochState::WaitingEk {
                ek: Chunks::empty(),
            }
        }
    }

    /// Stops keeping PQ state (an archived session that may no longer take a ratchet step).
    pub(crate) fn drop_state(&mut self) {
        self.state = EpochState::Dropped;
        self.pending = None;
    }

    /// The chunk the next message carries, drawing KEM randomness from `rng` when the state
    /// calls for it (an E side's first message of an epoch: a 64-byte seed; a C side's first
    /// message after `ek` is complete: a 32-byte `m`). Called only once the message will be
    /// sent: nothing can fail after it.
    pub(crate) fn next_chunk<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<Option<PqChunk>, EncryptionError> {
        let epoch = self.epoch;
        let state = core::mem::replace(&mut self.state, EpochState::Dropped);
        let (state, chunk) = match state {
            EpochState::Unsampled => {
                let mut seed = SecretBytes::<64>::zeroed();
                rng.fill_bytes(seed.expose_mut());
                let ek = kem768::public_key(&seed);
                let chunk = chunk_of(&ek, 0);
                let state = EpochState::SendingEk {
                    seed,
                    ek,
                    next: 1,
                    ct: Chunks::empty(),
                };
                (state, Some((PqKind::Ek, 0, chunk)))
            }
            EpochState::SendingEk { seed, ek, next, ct } => {
                if ct.held != 0 {
                    let state = EpochState::SendingEk { seed, ek, next, ct };
                    (state, None)
                } else {
                    let chunk = chunk_of(&ek, next);
                    let state = EpochState::SendingEk {
                        seed,
                        ek,
                        next: (next + 1) % PQ_EK_CHUNKS,
                        ct,
                    };
                    (state, Some((PqKind::Ek, next, chunk)))
                }
            }
            EpochState::EkReady { ek } => {
                let mut m = Secret32::zeroed();
                rng.fill_bytes(m.expose_mut());
                let (ct, ss) = match kem768::encapsulate(&ek, &m) {
                    Ok(pair) => pair,
                    Err(_) => {
                        // The key passed the input check when it completed; keep the state.
                        self.state = EpochState::EkReady { ek };
                        return Err(EncryptionError::InvalidPqKey);
                    }
                };
                let secret = pq_secret(&ss, epoch, &ek, &ct);
                let chunk = chunk_of(&ct, 0);
                let state = EpochState::SendingCt {
                    ct,
                    secret,
                    next: 1,
                };
                (state, Some((PqKind::Ct, 0, chunk)))
            }
            EpochState::SendingCt { ct, secret, next } => {
                let chunk = chunk_of(&ct, next);
                let state = EpochState::SendingCt {
                    ct,
                    secret,
                    next: (next + 1) % PQ_CT_CHUNKS,
                };
                (state, Some((PqKind::Ct, next, chunk)))
            }
            other @ (EpochState::WaitingEk { .. } | EpochState::Dropped) => (other, None),
        };
        self.state = state;
        Ok(chunk.map(|(kind, index, bytes)| PqChunk {
            kind,
            epoch,
            index,
            bytes,
        }))
    }

    /// Judges an authenticated message's pq_block against this state (spec §14 steps 2-5;
    /// the parser did step 1) without changing it.
    pub(crate) fn receive(&self, chunk: Option<&PqChunk>) -> Result<PqUpdate, PqError> {
        let Some(chunk) = chunk else {
            return Ok(PqUpdate::Unchanged);
        };
        if matches!(self.state, EpochState::Dropped) || chunk.epoch < self.epoch {
            return Ok(PqUpdate::Unchanged);
        }
        if chunk.epoch > self.epoch {
            return Err(PqError::PqFutureEpoch {
                epoch: chunk.epoch,
                current: self.epoch,
            });
        }
        let e_side = self.is_e_side(self.epoch);
        match (chunk.kind, e_side) {
            (PqKind::Ek, true) | (PqKind::Ct, false) => return Err(PqError::PqWrongKind),
            _ => {}
        }
        match (&self.state, chunk.kind) {
            (EpochState::Unsampled, PqKind::Ct) => Err(PqError::PqUnexpectedChunk),
            (EpochState::SendingEk { seed, ek, next, ct }, PqKind::Ct) => {
                if ct.has(chunk.index) {
                    return Ok(PqUpdate::Unchanged);
                }
                let mut ct = ct.clone();
                ct.keep(chunk.index, &chunk.bytes);
                if !ct.is_complete() {
                    return Ok(PqUpdate::Changed {
                        epoch: self.epoch,
                        state: EpochState::SendingEk {
                            seed: seed.clone(),
                            ek: ek.clone(),
                            next: *next,
                            ct,
                        },
                        pending: None,
                    });
                }
                let ss = kem768::decapsulate(seed, &ct.bytes);
                let secret = pq_secret(&ss, self.epoch, ek, &ct.bytes);
                // This side is the C side of the next epoch.
                Ok(PqUpdate::Changed {
                    epoch: self.epoch.saturating_add(1),
                    state: EpochState::WaitingEk {
                        ek: Chunks::empty(),
                    },
                    pending: Some((self.epoch, secret)),
                })
            }
            (EpochState::WaitingEk { ek }, PqKind::Ek) => {
                if ek.has(chunk.index) {
                    return Ok(PqUpdate::Unchanged);
                }
                let mut ek = ek.clone();
                ek.keep(chunk.index, &chunk.bytes);
                let state = if ek.is_complete() {
                    kem768::validate_public(&ek.bytes).map_err(|_| PqError::InvalidPqKey)?;
                    EpochState::EkReady { ek: ek.bytes }
                } else {
                    EpochState::WaitingEk { ek }
                };
                Ok(PqUpdate::Changed {
                    epoch: self.epoch,
                    state,
                    pending: None,
                })
            }
            // An ek chunk once ek is complete: ignored (step 5).
            _ => Ok(PqUpdate::Unchanged),
        }
    }

    /// Applies what [`PqRatchet::receive`] judged, once the message is accepted.
    pub(crate) fn apply(&mut self, update: PqUpdate) {
        if let PqUpdate::Changed {
            epoch,
            state,
            pending,
        } = update
        {
            self.epoch = epoch;
            self.state = state;
            if pending.is_some() {
                self.pending = pending;
            }
        }
    }

    /// On a new peer ratchet key with header `PE = pe`, before anything is derived: `None`
    /// for a classical step (`PE = PEm`), the secret to mix for `PE = PEm + 1` at the C side
    /// of `PE` in `SendingCt`, and an error for anything else.
    pub(crate) fn receiving_mix(&self, pe: u32) -> Result<Option<&Secret32>, PqError> {
        if pe == self.mixed {
            return Ok(None);
        }
        if Some(pe) == self.mixed.checked_add(1) && self.epoch == pe && !self.is_e_side(pe) {
            if let EpochState::SendingCt { secret, .. } = &self.state {
                return Ok(Some(secret));
            }
        }
        Err(PqError::InvalidPqEpoch {
            epoch: pe,
            mixed: self.mixed,
        })
    }

    /// After a receiving step mixed `PQS_pe`: `PEm = pe`, the secret and `ct` are erased,
    /// and this side is the E side of `pe + 1`.
    pub(crate) fn mixed_on_receive(&mut self, pe: u32) {
        self.mixed = pe;
        self.epoch = pe.saturating_add(1);
        self.state = EpochState::Unsampled;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use chacha20::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn complete_epoch(e: &mut PqRatchet, c: &mut PqRatchet, rng: &mut ChaCha20Rng) {
        // E sends ek chunks until C holds all of them.
        loop {
            let chunk = e.next_chunk(rng).unwrap().unwrap();
            assert_eq!(chunk.kind, PqKind::Ek);
            let u = c.receive(Some(&chunk)).unwrap();
            c.apply(u);
            if matches!(c.state, EpochState::EkReady { .. }) {
                break;
            }
        }
        loop {
            let chunk = c.next_chunk(rng).unwrap().unwrap();
            assert_eq!(chunk.kind, PqKind::Ct);
            let u = e.receive(Some(&chunk)).unwrap();
            e.apply(u);
            if e.pending.is_some() {
                break;
            }
        }
    }

    #[test]
    fn both_sides_derive_the_same_epoch_secret() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut alice = PqRatchet::new(true);
        let mut bob = PqRatchet::new(false);
        complete_epoch(&mut alice, &mut bob, &mut rng);
        let (e, a_secret) = alice.pending.clone().unwrap();
        assert_eq!(e, 1);
        let b_secret = bob.receiving_mix(1).unwrap().unwrap();
        assert_eq!(&a_secret, b_secret);
        assert_eq!(alice.epoch, 2);
        assert!(!alice.is_e_side(2));
        assert!(bob.is_e_side(2));
        // The E side stopped sending ek once ct arrived.
        assert!(alice.next_chunk(&mut rng).unwrap().is_none());
    }

    #[test]
    fn rule_order_and_kinds() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let alice = PqRatchet::new(true);
        let bob = PqRatchet::new(false);
        let ct = PqChunk {
            kind: PqKind::Ct,
            epoch: 1,
            index: 0,
            bytes: [0; 32],
        };
        let ek = PqChunk {
            kind: PqKind::Ek,
            ..ct
        };
        assert_eq!(
            alice.receive(Some(&ct)).err(),
            Some(PqError::PqUnexpectedChunk)
        );
        assert_eq!(alice.receive(Some(&ek)).err(), Some(PqError::PqWrongKind));
        assert_eq!(bob.receive(Some(&ct)).err(), Some(PqError::PqWrongKind));
        let future = PqChunk { epoch: 2, ..ek };
        assert!(matches!(
            bob.receive(Some(&future)),
            Err(PqError::PqFutureEpoch { .. })
        ));
        assert!(matches!(
            bob.receiving_mix(1),
            Err(PqError::InvalidPqEpoch { .. })
        ));
        assert!(matches!(
            bob.receiving_mix(2),
            Err(PqError::InvalidPqEpoch { .. })
        ));
        assert!(matches!(bob.receiving_mix(0), Ok(None)));
        let _ = &mut rng;
    }

    #[test]
    fn an_ek_failing_the_input_check_fails_the_message() {
        let mut bob = PqRatchet::new(false);
        // 0xFF bytes decode to coefficients above q.
        for index in 0..PQ_EK_CHUNKS {
            let chunk = PqChunk {
                kind: PqKind::Ek,
                epoch: 1,
                index,
                bytes: [0xFF; 32],
            };
            match bob.receive(Some(&chunk)) {
                Ok(u) => bob.apply(u),
                Err(e) => {
                    assert_eq!(index, PQ_EK_CHUNKS - 1);
                    assert_eq!(e, PqError::InvalidPqKey);
                    assert!(matches!(bob.state, EpochState::WaitingEk { .. }));
                    return;
                }
            }
        }
        panic!("the last chunk should have failed the input check");
    }
}
