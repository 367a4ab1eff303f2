//! The versioned binary serialization of a [`SessionRecord`]. It holds secrets: store it
//! encrypted (the `Account` store does). All integers big-endian; flags are 0 or 1.
//!
//! ```text
//! record   = version (0x01) || has_current (flag) || [session] || archived (u8, <= 40) || session*
//! session  = remote IK (32) || remote IKx (32) || AD (96) || base key (32)
//!            || has_pending (flag) || [our IK (32) || SPK id (u32) || PQPK id (u32)
//!                                      || has_OPK (flag) || [OPK id (u32)] || CT (1568)]
//!            || has_digest (flag) || [PreKeyMessage digest (32)]
//!            || RK (32) || DHs private (32) || DHs public (32)
//!            || has_DHr (flag) || [DHr (32)]
//!            || has_CKs (flag) || [CKs (32) || Ns (u32)]
//!            || has_CKr (flag) || [CKr (32) || Nr (u32)]
//!            || PN (u32) || pq
//!            || skipped (u16, <= 2000) || (ratchet key (32) || N (u32) || MK (32))*
//! pq       = initiator (flag) || epoch (u32, >= 1) || PEm (u32)
//!            || has_pending (flag) || [pending epoch (u32) || PQS (32)]
//!            || state (u8) || state fields
//! state    = 0 Unsampled
//!          | 1 SendingEk: seed (64) || ek (1184) || next (u8, < 37) || chunks (of ct)
//!          | 2 WaitingEk: chunks (of ek)
//!          | 3 EkReady:   ek (1184)
//!          | 4 SendingCt: ct (1088) || PQS (32) || next (u8, < 34)
//!          | 5 Dropped (an archived session that no longer keeps PQ state)
//! chunks   = held (u64, bit i: chunk i held) || chunk (32) for each bit set, in index order
//! ```
//!
//! The PQ state is part of the session's state (spec §14): it is written with every
//! message, in the same transaction, so a crash keeps the two ratchets in step. The account
//! keeps its large fields (and a pending PreKeyMessage's KEM ciphertext) in a row of their
//! own (`state_fields`, `state_bulk`), rewritten only when they change.
//!
//! Derived values (the identity's X25519 form, the DHs public key) are stored with the keys
//! they come from. The account reads its sessions back from its own sealed store and trusts
//! them, so loading costs no curve arithmetic; [`SessionRecord::from_bytes`], which takes
//! bytes from a caller, checks each against what it is derived from. A fresh responder
//! session is 489 bytes (about 50 of them the PQ ratchet, holding one chunk).

use zeroize::Zeroizing;

use crate::codec::{Reader, Writer};
use crate::constants::{
    KEM_CIPHERTEXT_LEN, MAX_ARCHIVED_SESSIONS, MAX_STORED_SKIPPED, PQ_CHUNK_LEN, PQ_CT_CHUNKS,
    PQ_CT_LEN, PQ_EK_CHUNKS, PQ_EK_LEN,
};
use crate::error::DecodeError;
use crate::identity::IdentityKey;
use crate::primitives::kem768;
use crate::primitives::secret::{Secret32, SecretBytes};
use crate::primitives::x25519::X25519KeyPair;
use crate::ratchet::chain_key::ChainKey;
use crate::ratchet::double_ratchet::DoubleRatchet;
use crate::ratchet::message_key::MessageKey;
use crate::ratchet::pq_ratchet::{Chunks, EpochState, PqRatchet};
use crate::ratchet::root_key::RootKey;
use crate::ratchet::skipped_keys::{SkippedKey, SkippedKeys};
use crate::session::Session;
use crate::session_record::SessionRecord;
use crate::wire::prekey_message::PreKeyPrefix;

/// The version byte of the current serialization.
/// `0x03`: revision 3, with the post-quantum ratchet's state (spec §14). Earlier versions
/// (`0x02`, revision 2's sessions; `0x01`, revision 1's) are not read: neither revision has
/// deployed users, and a revision-2 session cannot speak revision 3's Messages.
pub const SESSION_RECORD_VERSION: u8 = 0x03;
const WHAT: &str = "session record";

/// Counts the bytes a serialization would write.
struct Length(usize);

impl Writer for Length {
    fn put(&mut self, bytes: &[u8]) {
        self.0 = self.0.saturating_add(bytes.len());
    }
}

fn put_flag(out: &mut impl Writer, present: bool) {
    out.put_u8(u8::from(present));
}

fn put_chain(out: &mut impl Writer, chain: Option<&ChainKey>) {
    put_flag(out, chain.is_some());
    if let Some(c) = chain {
        out.put(c.key.expose());
        out.put_u32(c.index);
    }
}

/// Where [`write_state`] puts its bytes: every field into `out`, or, with `bulk`, the large
/// fields that stay the same for many messages (a pending PreKeyMessage's KEM ciphertext,
/// the PQ ratchet's key seed, `ek` and `ct`) into `bulk` instead, so the account can keep
/// them in a row that is rewritten only when they change.
struct Parts<'a, W: Writer, B: Writer> {
    out: &'a mut W,
    bulk: Option<&'a mut B>,
}

impl<W: Writer, B: Writer> Writer for Parts<'_, W, B> {
    fn put(&mut self, bytes: &[u8]) {
        self.out.put(bytes);
    }
}

impl<W: Writer, B: Writer> Parts<'_, W, B> {
    fn large(&mut self, bytes: &[u8]) {
        match self.bulk.as_deref_mut() {
            Some(bulk) => bulk.put(bytes),
            None => self.out.put(bytes),
        }
    }
}

/// Reads a field [`Parts::large`] wrote: from `bulk` if the fields were split off.
fn large<const N: usize>(
    r: &mut Reader<'_>,
    bulk: &mut Option<&mut Reader<'_>>,
) -> Result<[u8; N], DecodeError> {
    match bulk {
        Some(b) => b.array(),
        None => r.array(),
    }
}

/// Everything of a session but its skipped keys.
fn write_state<W: Writer, B: Writer>(s: &Session, out: &mut Parts<'_, W, B>) {
    out.put(s.remote_identity.as_bytes());
    out.put(s.remote_identity.x25519());
    out.put(&s.associated_data);
    out.put(&s.base_key);
    put_flag(out, s.pending_prekey.is_some());
    if let Some(p) = &s.pending_prekey {
        out.put(&p.identity_key);
        out.put_u32(p.signed_prekey_id);
        out.put_u32(p.pq_prekey_id);
        put_flag(out, p.one_time_prekey_id.is_some());
        if let Some(id) = p.one_time_prekey_id {
            out.put_u32(id);
        }
        out.large(&p.kem_ciphertext[..]);
    }
    put_flag(out, s.prekey_digest.is_some());
    if let Some(d) = &s.prekey_digest {
        out.put(d);
    }
    let r = &s.ratchet;
    out.put(r.root.0.expose());
    out.put(r.sending_key.private_bytes().expose());
    out.put(r.sending_key.public());
    put_flag(out, r.remote_key.is_some());
    if let Some(k) = &r.remote_key {
        out.put(k);
    }
    put_chain(out, r.sending.as_ref());
    put_chain(out, r.receiving.as_ref());
    out.put_u32(r.previous_count);
    write_pq(&r.pq, out);
}

fn write_pq<W: Writer, B: Writer>(pq: &PqRatchet, out: &mut Parts<'_, W, B>) {
    put_flag(out, pq.initiator);
    out.put_u32(pq.epoch);
    out.put_u32(pq.mixed);
    put_flag(out, pq.pending.is_some());
    if let Some((epoch, secret)) = &pq.pending {
        out.put_u32(*epoch);
        out.put(secret.expose());
    }
    match &pq.state {
        EpochState::Unsampled => out.put_u8(0),
        EpochState::SendingEk { seed, ek, next, ct } => {
            out.put_u8(1);
            out.large(seed.expose());
            out.large(&ek[..]);
            out.put_u8(*next);
            put_chunks(out, ct);
        }
        EpochState::WaitingEk { ek } => {
            out.put_u8(2);
            put_chunks(out, ek);
        }
        EpochState::EkReady { ek } => {
            out.put_u8(3);
            out.large(&ek[..]);
        }
        EpochState::SendingCt { ct, secret, next } => {
            out.put_u8(4);
            out.large(&ct[..]);
            out.put(secret.expose());
            out.put_u8(*next);
        }
        EpochState::Dropped => out.put_u8(5),
    }
}

fn bad_pq() -> DecodeError {
    DecodeError::InvalidValue {
        what: "session record post-quantum ratchet state",
    }
}

/// The chunks held so far: the mask, then only the chunks it names, in index order (a
/// fresh epoch costs 8 bytes, not a whole key).
fn put_chunks<const N: usize>(out: &mut impl Writer, chunks: &Chunks<N>) {
    out.put_u64(chunks.held);
    for (index, chunk) in chunks.bytes.chunks_exact(PQ_CHUNK_LEN).enumerate() {
        if chunks.held & (1u64 << index) != 0 {
            out.put(chunk);
        }
    }
}

fn read_chunks<const N: usize>(r: &mut Reader<'_>) -> Result<Chunks<N>, DecodeError> {
    let held = r.u64()?;
    if held & !Chunks::<N>::full_mask() != 0 {
        return Err(bad_pq());
    }
    let mut bytes = Box::new([0u8; N]);
    for (index, chunk) in bytes.chunks_exact_mut(PQ_CHUNK_LEN).enumerate() {
        if held & (1u64 << index) != 0 {
            chunk.copy_from_slice(r.take(PQ_CHUNK_LEN)?);
        }
    }
    Ok(Chunks { bytes, held })
}

fn read_pq(
    r: &mut Reader<'_>,
    bulk: &mut Option<&mut Reader<'_>>,
    source: Source,
) -> Result<PqRatchet, DecodeError> {
    let initiator = r.flag()?;
    let epoch = r.u32()?;
    let mixed = r.u32()?;
    let pending = if r.flag()? {
        let e = r.u32()?;
        Some((e, secret(r)?))
    } else {
        None
    };
    let state = match r.u8()? {
        0 => EpochState::Unsampled,
        1 => {
            let mut seed_bytes = large::<64>(r, bulk)?;
            let seed = SecretBytes::from_array(&mut seed_bytes);
            let ek = Box::new(large::<PQ_EK_LEN>(r, bulk)?);
            let next = r.u8()?;
            if next >= PQ_EK_CHUNKS {
                return Err(bad_pq());
            }
            let ct = read_chunks(r)?;
            // Bytes from a caller: the key must be the one the seed makes.
            if source == Source::Caller && *kem768::public_key(&seed) != *ek {
                return Err(stored_key_mismatch());
            }
            EpochState::SendingEk { seed, ek, next, ct }
        }
        2 => EpochState::WaitingEk {
            ek: read_chunks(r)?,
        },
        3 => EpochState::EkReady {
            ek: Box::new(large::<PQ_EK_LEN>(r, bulk)?),
        },
        4 => {
            let ct = Box::new(large::<PQ_CT_LEN>(r, bulk)?);
            let secret = secret(r)?;
            let next = r.u8()?;
            if next >= PQ_CT_CHUNKS {
                return Err(bad_pq());
            }
            EpochState::SendingCt { ct, secret, next }
        }
        5 => EpochState::Dropped,
        _ => return Err(bad_pq()),
    };
    let pq = PqRatchet {
        initiator,
        epoch,
        state,
        mixed,
        pending,
    };
    // The state must be one the rules can reach: epochs count from 1, a side's state is of
    // its role in the epoch, and a pending secret is that of the epoch just completed.
    let e_side = pq.is_e_side(epoch);
    let role_ok = match pq.state {
        EpochState::Unsampled | EpochState::SendingEk { .. } => e_side,
        EpochState::WaitingEk { .. }
        | EpochState::EkReady { .. }
        | EpochState::SendingCt { .. } => !e_side,
        EpochState::Dropped => true,
    };
    let pending_ok = pq
        .pending
        .as_ref()
        .is_none_or(|(e, _)| e.checked_add(1) == Some(epoch));
    if epoch == 0 || mixed >= epoch || !role_ok || !pending_ok {
        return Err(bad_pq());
    }
    Ok(pq)
}

fn write_session(s: &Session, out: &mut impl Writer) {
    write_state(
        s,
        &mut Parts {
            out,
            bulk: None::<&mut Length>,
        },
    );
    let r = &s.ratchet;
    // Bounded by MAX_STORED_SKIPPED (2000), so it fits a u16.
    out.put_u16(u16::try_from(r.skipped.len()).unwrap_or(u16::MAX));
    for (ratchet_key, key) in r.skipped.iter() {
        out.put(ratchet_key);
        out.put_u32(key.index);
        out.put(key.key.expose());
    }
}

fn secret(r: &mut Reader<'_>) -> Result<Secret32, DecodeError> {
    let mut b = r.array::<32>()?;
    Ok(Secret32::from_array(&mut b))
}

fn read_chain(r: &mut Reader<'_>) -> Result<Option<ChainKey>, DecodeError> {
    if !r.flag()? {
        return Ok(None);
    }
    let key = secret(r)?;
    Ok(Some(ChainKey::new(key, r.u32()?)))
}

/// How far stored bytes are trusted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The account's own sealed store, which authenticated the bytes it wrote.
    Sealed,
    /// Bytes handed in by a caller: every stored public key is checked.
    Caller,
}

fn stored_key_mismatch() -> DecodeError {
    DecodeError::InvalidValue {
        what: "session record public key (it does not match its private key or identity)",
    }
}

/// Everything of a session but its skipped keys; the large fields from `bulk` if they were
/// split off.
fn read_state(
    r: &mut Reader<'_>,
    mut bulk: Option<&mut Reader<'_>>,
    source: Source,
) -> Result<Session, DecodeError> {
    let remote: [u8; 32] = r.array()?;
    let remote_x: [u8; 32] = r.array()?;
    let remote_identity = match source {
        // The identity was validated when it arrived.
        Source::Sealed => IdentityKey::from_stored(remote, remote_x),
        Source::Caller => {
            let key = IdentityKey::from_bytes(&remote).map_err(|_| stored_key_mismatch())?;
            if key.x25519() != &remote_x {
                return Err(stored_key_mismatch());
            }
            key
        }
    };
    let associated_data = r.array()?;
    let base_key: [u8; 32] = r.array()?;
    let pending_prekey = if r.flag()? {
        let identity_key = r.array()?;
        let signed_prekey_id = r.u32()?;
        let pq_prekey_id = r.u32()?;
        let one_time_prekey_id = if r.flag()? { Some(r.u32()?) } else { None };
        let kem_ciphertext = Box::new(large::<KEM_CIPHERTEXT_LEN>(r, &mut bulk)?);
        Some(PreKeyPrefix {
            identity_key,
            base_key,
            signed_prekey_id,
            pq_prekey_id,
            one_time_prekey_id,
            kem_ciphertext,
        })
    } else {
        None
    };
    let prekey_digest = if r.flag()? { Some(r.array()?) } else { None };
    let root = RootKey(secret(r)?);
    let mut private = r.array::<32>()?;
    let public: [u8; 32] = r.array()?;
    let sending_key = match source {
        Source::Sealed => X25519KeyPair::from_parts(&mut private, public),
        Source::Caller => {
            let pair = X25519KeyPair::from_private(&mut private);
            if pair.public() != &public {
                return Err(stored_key_mismatch());
            }
            pair
        }
    };
    let remote_key = if r.flag()? { Some(r.array()?) } else { None };
    let sending = read_chain(r)?;
    let receiving = read_chain(r)?;
    let previous_count = r.u32()?;
    let pq = read_pq(r, &mut bulk, source)?;
    Ok(Session {
        remote_identity,
        associated_data,
        base_key,
        pending_prekey,
        prekey_digest,
        ratchet: DoubleRatchet {
            root,
            sending_key,
            remote_key,
            sending,
            receiving,
            previous_count,
            skipped: SkippedKeys::default(),
            pq,
        },
    })
}

fn read_session(r: &mut Reader<'_>) -> Result<Session, DecodeError> {
    let mut session = read_state(r, None, Source::Caller)?;
    let count = usize::from(r.u16()?);
    if count > MAX_STORED_SKIPPED {
        return Err(DecodeError::InvalidValue {
            what: "session record skipped key count",
        });
    }
    let mut keys = Vec::with_capacity(count);
    for _ in 0..count {
        let ratchet_key = r.array()?;
        let index = r.u32()?;
        keys.push(SkippedKey {
            ratchet_key,
            key: MessageKey::new(secret(r)?, index),
        });
    }
    session.ratchet.skipped.extend(keys);
    Ok(session)
}

impl SessionRecord {
    /// The serialization described in the module documentation. It holds the session's
    /// keys, so it is erased on drop and written into one allocation of exactly its
    /// length: a growing buffer would leave copies of the keys in the memory it frees.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut length = Length(0);
        self.write(&mut length);
        let mut out = Zeroizing::new(Vec::with_capacity(length.0));
        self.write(&mut *out);
        out
    }

    fn write(&self, out: &mut impl Writer) {
        out.put_u8(SESSION_RECORD_VERSION);
        put_flag(out, self.current.is_some());
        if let Some(s) = &self.current {
            write_session(s, out);
        }
        out.put_u8(u8::try_from(self.archived.len()).unwrap_or(u8::MAX));
        for s in &self.archived {
            write_session(s, out);
        }
    }

    /// Strictly reads a serialized record, checking every stored public key against what
    /// it is derived from (the identity's point and X25519 form, the ratchet key pair), so
    /// bytes from anywhere cannot make a session with keys that do not belong together.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, WHAT);
        let version = r.u8()?;
        if version != SESSION_RECORD_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: WHAT,
                version,
            });
        }
        let current = if r.flag()? {
            Some(read_session(&mut r)?)
        } else {
            None
        };
        let count = usize::from(r.u8()?);
        if count > MAX_ARCHIVED_SESSIONS {
            return Err(DecodeError::InvalidValue {
                what: "session record archive count",
            });
        }
        let mut archived = std::collections::VecDeque::with_capacity(count);
        for _ in 0..count {
            archived.push_back(read_session(&mut r)?);
        }
        r.finish()?;
        Ok(Self { current, archived })
    }
}

/// Compares what is written with bytes given, without copying them.
struct Compare<'a> {
    rest: &'a [u8],
    equal: bool,
}

impl Writer for Compare<'_> {
    fn put(&mut self, bytes: &[u8]) {
        match self.rest.strip_prefix(bytes) {
            Some(rest) if self.equal => self.rest = rest,
            _ => self.equal = false,
        }
    }
}

/// One session without its skipped keys, as the account stores it, in two parts: the
/// state, `version (0x03) || session` with the skipped-key count and keys left out and
/// without its large fields (this function), and those large fields (see [`Parts`]) in the
/// order the state names them, empty when it names none ([`state_bulk`]). The state comes
/// after `prefix` (the account's framing), in one buffer, erased on drop.
pub(crate) fn state_fields(session: &Session, prefix: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut length = Length(prefix.len() + 1);
    // The length first, so the bytes go into one allocation of exactly their size: a
    // growing buffer would leave copies of the keys in the memory it frees.
    write_state(
        session,
        &mut Parts {
            out: &mut length,
            bulk: Some(&mut Length(0)),
        },
    );
    let mut out = Zeroizing::new(Vec::with_capacity(length.0));
    out.put(prefix);
    out.put_u8(SESSION_RECORD_VERSION);
    write_state(
        session,
        &mut Parts {
            out: &mut *out,
            bulk: Some(&mut Length(0)),
        },
    );
    out
}

/// The large fields of [`state_fields`]. Erased on drop.
pub(crate) fn state_bulk(session: &Session) -> Zeroizing<Vec<u8>> {
    let mut length = Length(0);
    write_state(
        session,
        &mut Parts {
            out: &mut Length(0),
            bulk: Some(&mut length),
        },
    );
    let mut bulk = Zeroizing::new(Vec::with_capacity(length.0));
    write_state(
        session,
        &mut Parts {
            out: &mut Length(0),
            bulk: Some(&mut *bulk),
        },
    );
    bulk
}

/// Whether [`state_bulk`] of `session` would be `bytes` (without writing it).
pub(crate) fn state_bulk_is(session: &Session, bytes: &[u8]) -> bool {
    let mut compare = Compare {
        rest: bytes,
        equal: true,
    };
    write_state(
        session,
        &mut Parts {
            out: &mut Length(0),
            bulk: Some(&mut compare),
        },
    );
    compare.equal && compare.rest.is_empty()
}

/// Reads [`state_fields`] and [`state_bulk`]; the session comes back with no skipped keys.
pub(crate) fn state_from_parts(state: &[u8], bulk: &[u8]) -> Result<Session, DecodeError> {
    let mut r = Reader::new(state, "session state");
    let version = r.u8()?;
    if version != SESSION_RECORD_VERSION {
        return Err(DecodeError::UnsupportedVersion {
            what: "session state",
            version,
        });
    }
    let mut b = Reader::new(bulk, "session state's large fields");
    let session = read_state(&mut r, Some(&mut b), Source::Sealed)?;
    r.finish()?;
    b.finish()?;
    Ok(session)
}

/// The skipped keys of one ratchet key: `(N (u32) || MK (32))*`, rising `N`. Erased on drop.
pub(crate) fn run_to_bytes(keys: &[&MessageKey]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(keys.len() * 36));
    for key in keys {
        out.put_u32(key.index);
        out.put(key.key.expose());
    }
    out
}

/// Reads [`run_to_bytes`] for `ratchet_key`.
pub(crate) fn run_from_bytes(
    ratchet_key: &[u8; 32],
    bytes: &[u8],
) -> Result<Vec<SkippedKey>, DecodeError> {
    if bytes.len() % 36 != 0 || bytes.len() / 36 > MAX_STORED_SKIPPED {
        return Err(DecodeError::InvalidValue {
            what: "skipped key run length",
        });
    }
    let mut r = Reader::new(bytes, "skipped key run");
    let count = bytes.len() / 36;
    let mut keys = Vec::with_capacity(count);
    for _ in 0..count {
        let index = r.u32()?;
        keys.push(SkippedKey {
            ratchet_key: *ratchet_key,
            key: MessageKey::new(secret(&mut r)?, index),
        });
    }
    r.finish()?;
    Ok(keys)
}
