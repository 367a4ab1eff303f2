//! The protocol layer without an account: identities from seeds, prekeys held in memory,
//! session records and receipts. For servers, tools and test-vector checks that drive
//! PQXDH and the ratchet themselves; apps use `bt_account`.
//!
//! Functions that need randomness take `(randomness, randomness_len)`: null and 0 for the
//! operating system's generator, or exact bytes to use, in the order the protocol draws
//! them (documented per function), for reproducing test vectors. Scripted randomness that
//! runs out fails the call with `BT_INVALID_ARGUMENT` and changes nothing;
//! `*out_used` (nullable) tells how many bytes a successful call consumed.

use std::sync::Mutex;

use bluetick::rand_core::{TryCryptoRng, TryRng};
use bluetick::receipt::{Receipt, ReceiptKind};
use bluetick::{
    ContentType, IdentityKey, IdentityKeyPair, InMemoryPreKeyStore, MessageId, OneTimePreKey,
    PqPreKey, PqPreKeyKind, PreKeyBundle, Secret32, SecretBytes, SessionRecord, SignedPreKey,
};

use crate::account::BT_KEY_LEN;
use crate::boundary::{boundary, guard, FfiError};
use crate::buffer::bt_buffer;
use crate::messaging::BT_MESSAGE_ID_LEN;
use crate::ptr::{self, Handle};
use crate::status::bt_status;

/// Content type of application data (`0x01`).
pub const BT_CONTENT_APPLICATION: u8 = 0x01;
/// Content type of a receipt (`0x02`).
pub const BT_CONTENT_RECEIPT: u8 = 0x02;

/// An identity key pair. Create with `bt_identity_from_seed`, free with `bt_identity_free`.
pub struct bt_identity {
    identity: IdentityKeyPair,
}

impl Handle for bt_identity {
    const NAME: &'static str = "identity";
}

/// Private prekeys held in memory. Safe to share between threads (locked inside).
pub struct bt_prekeys {
    store: Mutex<InMemoryPreKeyStore>,
}

impl Handle for bt_prekeys {
    const NAME: &'static str = "prekeys";
}

/// All sessions with one peer (a session record). Safe to share between threads (locked
/// inside); every call either completes or changes nothing.
pub struct bt_session {
    record: Mutex<SessionRecord>,
}

impl Handle for bt_session {
    const NAME: &'static str = "session";
}

fn poisoned() -> FfiError {
    FfiError::InvalidArgument("the handle's lock was poisoned by an earlier panic; free it".into())
}

/// Randomness from the caller's bytes, or the operating system's.
struct Randomness<'a> {
    scripted: Option<&'a [u8]>,
    used: usize,
    ran_out: bool,
    os: bluetick::OsRng,
}

impl<'a> Randomness<'a> {
    fn new(bytes: Option<&'a [u8]>) -> Self {
        Self {
            scripted: bytes,
            used: 0,
            ran_out: false,
            os: bluetick::os_rng(),
        }
    }

    /// Fails if scripted bytes ran out during the call.
    fn check(&self) -> Result<(), FfiError> {
        match self.scripted {
            Some(s) if self.ran_out => Err(FfiError::InvalidArgument(format!(
                "the {} bytes of randomness given ran out; the call needs more (nothing changed)",
                s.len()
            ))),
            _ => Ok(()),
        }
    }
}

impl TryRng for Randomness<'_> {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        match self.scripted {
            None => self.os.try_fill_bytes(dst),
            Some(bytes) => {
                match bytes.get(self.used..self.used + dst.len()) {
                    Some(src) => {
                        dst.copy_from_slice(src);
                        self.used += dst.len();
                    }
                    None => {
                        dst.fill(0);
                        self.ran_out = true;
                    }
                }
                Ok(())
            }
        }
    }
}

impl TryCryptoRng for Randomness<'_> {}

/// # Safety
/// As `ptr::bytes`; null with length 0 means the operating system's generator.
unsafe fn randomness<'a>(ptr: *const u8, len: usize) -> Result<Option<&'a [u8]>, FfiError> {
    if ptr.is_null() && len == 0 {
        return Ok(None);
    }
    // SAFETY: forwarded from the caller.
    unsafe { ptr::bytes(ptr, len, "randomness") }.map(Some)
}

fn write_used(out_used: *mut usize, used: usize) {
    // SAFETY: `out_used` is documented as null or a writable size_t.
    if let Some(slot) = unsafe { out_used.as_mut() } {
        *slot = used;
    }
}

/// Creates an identity key pair from a 32-byte Ed25519 seed.
///
/// # Safety
/// `seed` points to 32 readable bytes; `out` is writable. Free the result with
/// `bt_identity_free`.
#[no_mangle]
pub unsafe extern "C" fn bt_identity_from_seed(
    seed: *const u8,
    out: *mut *mut bt_identity,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, seed) = unsafe {
            (
                ptr::out(out, "out", core::ptr::null_mut())?,
                ptr::array::<32>(seed, "seed")?,
            )
        };
        let seed = Secret32::from_slice(seed).ok_or(FfiError::Null("seed"))?;
        *out = bt_identity {
            identity: IdentityKeyPair::from_seed(seed),
        }
        .into_raw();
        Ok(())
    })
}

/// Writes the identity's 32-byte public key (`IK`).
///
/// # Safety
/// `identity` is a live handle; `out_key` has 32 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_identity_public(
    identity: *const bt_identity,
    out_key: *mut u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, identity) = unsafe {
            (
                ptr::out_array::<BT_KEY_LEN>(out_key, "out_key")?,
                bt_identity::borrow(identity)?,
            )
        };
        *out = identity.identity.public().to_bytes();
        Ok(())
    })
}

/// Frees an identity (its secrets are erased). Null is a no-op.
///
/// # Safety
/// `identity` is null or a live handle no other thread uses; it must not be used after.
#[no_mangle]
pub unsafe extern "C" fn bt_identity_free(identity: *mut bt_identity) {
    // SAFETY: the caller's guarantees, as documented above.
    guard((), || unsafe { bt_identity::free(identity) })
}

/// Creates an empty in-memory prekey store.
///
/// # Safety
/// `out` is writable. Free the result with `bt_prekeys_free`.
#[no_mangle]
pub unsafe extern "C" fn bt_prekeys_new(out: *mut *mut bt_prekeys) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let out = unsafe { ptr::out(out, "out", core::ptr::null_mut())? };
        *out = bt_prekeys {
            store: Mutex::new(InMemoryPreKeyStore::new()),
        }
        .into_raw();
        Ok(())
    })
}

/// Adds a signed prekey with the given id and 32-byte X25519 private key, signed by
/// `identity`.
///
/// # Safety
/// Live handles; `private_key` has 32 readable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_prekeys_add_signed_prekey(
    prekeys: *const bt_prekeys,
    identity: *const bt_identity,
    id: u32,
    private_key: *const u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (prekeys, identity, private) = unsafe {
            (
                bt_prekeys::borrow(prekeys)?,
                bt_identity::borrow(identity)?,
                ptr::array::<32>(private_key, "private_key")?,
            )
        };
        let key = SignedPreKey::from_private(&identity.identity, id, &mut private.to_owned());
        prekeys
            .store
            .lock()
            .map_err(|_| poisoned())?
            .add_signed_prekey(key);
        Ok(())
    })
}

/// Adds a one-time X25519 prekey with the given id and 32-byte private key.
///
/// # Safety
/// Live handle; `private_key` has 32 readable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_prekeys_add_one_time_prekey(
    prekeys: *const bt_prekeys,
    id: u32,
    private_key: *const u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (prekeys, private) = unsafe {
            (
                bt_prekeys::borrow(prekeys)?,
                ptr::array::<32>(private_key, "private_key")?,
            )
        };
        let key = OneTimePreKey::from_private(id, &mut private.to_owned());
        prekeys
            .store
            .lock()
            .map_err(|_| poisoned())?
            .add_one_time_prekey(key);
        Ok(())
    })
}

/// Adds an ML-KEM-1024 PQ prekey made from a 64-byte seed `d || z`, signed by `identity`;
/// `last_resort` selects the kind (one-time otherwise).
///
/// # Safety
/// Live handles; `seed` has 64 readable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_prekeys_add_pq_prekey(
    prekeys: *const bt_prekeys,
    identity: *const bt_identity,
    id: u32,
    last_resort: bool,
    seed: *const u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (prekeys, identity, seed) = unsafe {
            (
                bt_prekeys::borrow(prekeys)?,
                bt_identity::borrow(identity)?,
                ptr::array::<64>(seed, "seed")?,
            )
        };
        let seed = SecretBytes::<64>::from_slice(seed).ok_or(FfiError::Null("seed"))?;
        let kind = if last_resort {
            PqPreKeyKind::LastResort
        } else {
            PqPreKeyKind::OneTime
        };
        let key = PqPreKey::from_seed(&identity.identity, id, kind, seed);
        prekeys
            .store
            .lock()
            .map_err(|_| poisoned())?
            .add_pq_prekey(key);
        Ok(())
    })
}

/// Writes the bundle these prekeys give (newest signed prekey, lowest-id one-time PQ
/// prekey or else the last-resort one, lowest-id one-time prekey). Nothing is consumed.
///
/// # Safety
/// Live handles; `out_bundle` writable; free it with `bt_buffer_free`.
#[no_mangle]
pub unsafe extern "C" fn bt_prekeys_bundle(
    prekeys: *const bt_prekeys,
    identity: *const bt_identity,
    out_bundle: *mut bt_buffer,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, prekeys, identity) = unsafe {
            (
                ptr::out(out_bundle, "out_bundle", bt_buffer::EMPTY)?,
                bt_prekeys::borrow(prekeys)?,
                bt_identity::borrow(identity)?,
            )
        };
        let bundle = prekeys
            .store
            .lock()
            .map_err(|_| poisoned())?
            .bundle(&identity.identity)
            .ok_or_else(|| {
                FfiError::InvalidArgument("no signed or PQ prekey: add them first".into())
            })?;
        *out = bt_buffer::from_vec(bundle.to_bytes());
        Ok(())
    })
}

/// Frees a prekey store (its secrets are erased). Null is a no-op.
///
/// # Safety
/// `prekeys` is null or a live handle no other thread uses; it must not be used after.
#[no_mangle]
pub unsafe extern "C" fn bt_prekeys_free(prekeys: *mut bt_prekeys) {
    // SAFETY: the caller's guarantees, as documented above.
    guard((), || unsafe { bt_prekeys::free(prekeys) })
}

/// Creates an empty session record (no session yet: start one with
/// `bt_session_start_session`, or receive a PreKeyMessage with `bt_session_decrypt`).
///
/// # Safety
/// `out` null or writable. Free the result with `bt_session_free`.
#[no_mangle]
pub unsafe extern "C" fn bt_session_new(out: *mut *mut bt_session) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let out = unsafe { ptr::out(out, "out", core::ptr::null_mut())? };
        *out = bt_session {
            record: Mutex::new(SessionRecord::new()),
        }
        .into_raw();
        Ok(())
    })
}

/// Reads a session record from a serialization made by `bt_session_to_bytes`.
///
/// # Safety
/// `bytes` as a byte input; `out` null or writable. Free the result with `bt_session_free`.
#[no_mangle]
pub unsafe extern "C" fn bt_session_from_bytes(
    bytes: *const u8,
    bytes_len: usize,
    out: *mut *mut bt_session,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, bytes) = unsafe {
            (
                ptr::out(out, "out", core::ptr::null_mut())?,
                ptr::bytes(bytes, bytes_len, "bytes")?,
            )
        };
        *out = bt_session {
            record: Mutex::new(SessionRecord::from_bytes(bytes)?),
        }
        .into_raw();
        Ok(())
    })
}

/// Serializes the session record (it holds secrets: store it encrypted).
///
/// # Safety
/// Live handle; `out_bytes` writable; free it with `bt_buffer_free`.
#[no_mangle]
pub unsafe extern "C" fn bt_session_to_bytes(
    session: *const bt_session,
    out_bytes: *mut bt_buffer,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, session) = unsafe {
            (
                ptr::out(out_bytes, "out_bytes", bt_buffer::EMPTY)?,
                bt_session::borrow(session)?,
            )
        };
        let mut bytes = session.record.lock().map_err(|_| poisoned())?.to_bytes();
        // Moved out whole (exact capacity, so handed to C without a copy).
        *out = bt_buffer::from_vec(core::mem::take(&mut *bytes));
        Ok(())
    })
}

/// Starts a session as the initiator from a peer's bundle (PQXDH). Scripted randomness is
/// drawn as: ephemeral key (32), encapsulation randomness (32), first ratchet key (32).
///
/// # Safety
/// Live handles; byte inputs as documented; `out_used` null or writable.
#[no_mangle]
pub unsafe extern "C" fn bt_session_start_session(
    session: *const bt_session,
    identity: *const bt_identity,
    bundle: *const u8,
    bundle_len: usize,
    randomness: *const u8,
    randomness_len: usize,
    out_used: *mut usize,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (session, identity, bundle, scripted) = unsafe {
            (
                bt_session::borrow(session)?,
                bt_identity::borrow(identity)?,
                ptr::bytes(bundle, bundle_len, "bundle")?,
                self::randomness(randomness, randomness_len)?,
            )
        };
        let bundle = PreKeyBundle::from_bytes(bundle)?;
        let mut rng = Randomness::new(scripted);
        let mut record = session.record.lock().map_err(|_| poisoned())?;
        let mut next = record.clone();
        next.start_session(&identity.identity, &bundle, &mut rng)?;
        rng.check()?;
        *record = next;
        write_used(out_used, rng.used);
        Ok(())
    })
}

/// Encrypts `body` with a `BT_CONTENT_*` type in the current session. Outputs as for
/// `bt_account_encrypt`: `out_id` the message id, `*out_wire` the wire bytes.
///
/// # Safety
/// Live handle; byte inputs as documented; `out_id` has 16 writable bytes; `out_wire`
/// writable (free with `bt_buffer_free`).
#[no_mangle]
pub unsafe extern "C" fn bt_session_encrypt(
    session: *const bt_session,
    content_type: u8,
    body: *const u8,
    body_len: usize,
    out_id: *mut u8,
    out_wire: *mut bt_buffer,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out_id, out_wire, session, body) = unsafe {
            (
                ptr::out_array::<BT_MESSAGE_ID_LEN>(out_id, "out_id")?,
                ptr::out(out_wire, "out_wire", bt_buffer::EMPTY)?,
                bt_session::borrow(session)?,
                ptr::bytes(body, body_len, "body")?,
            )
        };
        let kind = ContentType::from_byte(content_type).ok_or_else(|| {
            FfiError::InvalidArgument(format!(
                "content type 0x{content_type:02x} is not a BT_CONTENT_* value"
            ))
        })?;
        let sent = session
            .record
            .lock()
            .map_err(|_| poisoned())?
            // The post-quantum ratchet draws KEM randomness on some messages (spec §14).
            .encrypt(kind, body, &mut Randomness::new(None))?;
        *out_id = sent.id().0;
        *out_wire = bt_buffer::from_vec(sent.wire);
        Ok(())
    })
}

/// Decrypts a wire message from the session's peer; a PreKeyMessage may start a new
/// session from `prekeys` (whose one-time keys it then consumes). Scripted randomness is
/// drawn only when the message completes a DH ratchet step: one ratchet key (32).
///
/// # Safety
/// Live handles; byte inputs as documented; outs writable (`out_body` freed with
/// `bt_buffer_free`; `out_sender` 32 bytes); `out_used` null or writable.
#[no_mangle]
pub unsafe extern "C" fn bt_session_decrypt(
    session: *const bt_session,
    identity: *const bt_identity,
    prekeys: *const bt_prekeys,
    wire: *const u8,
    wire_len: usize,
    randomness: *const u8,
    randomness_len: usize,
    out_used: *mut usize,
    out_content_type: *mut u8,
    out_body: *mut bt_buffer,
    out_sender: *mut u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out_body, out_type, out_sender, session, identity, prekeys, wire, scripted) = unsafe {
            (
                ptr::out(out_body, "out_body", bt_buffer::EMPTY)?,
                ptr::out(out_content_type, "out_content_type", 0u8)?,
                ptr::out_array::<BT_KEY_LEN>(out_sender, "out_sender")?,
                bt_session::borrow(session)?,
                bt_identity::borrow(identity)?,
                bt_prekeys::borrow(prekeys)?,
                ptr::bytes(wire, wire_len, "wire")?,
                self::randomness(randomness, randomness_len)?,
            )
        };
        let mut rng = Randomness::new(scripted);
        let mut record = session.record.lock().map_err(|_| poisoned())?;
        let mut store = prekeys.store.lock().map_err(|_| poisoned())?;
        let (mut next_record, mut next_store) = (record.clone(), store.clone());
        let got = next_record.decrypt(&identity.identity, &mut next_store, wire, &mut rng)?;
        rng.check()?;
        *record = next_record;
        *store = next_store;
        *out_type = got.content_type.to_byte();
        *out_sender = got.sender.to_bytes();
        *out_body = bt_buffer::from_vec(got.body);
        write_used(out_used, rng.used);
        Ok(())
    })
}

/// Frees a session record (its secrets are erased). Null is a no-op.
///
/// # Safety
/// `session` is null or a live handle no other thread uses; it must not be used after.
#[no_mangle]
pub unsafe extern "C" fn bt_session_free(session: *mut bt_session) {
    // SAFETY: the caller's guarantees, as documented above.
    guard((), || unsafe { bt_session::free(session) })
}

/// Creates a receipt body (`BT_RECEIPT_*` kind) by `signer` for messages sent by the peer
/// whose identity key is `peer_key`, dated `timestamp_ms`; `ids` is `id_count` × 16 bytes
/// (sorted and deduplicated here; 1 to 1024 distinct ids, else `BT_INVALID_ID_COUNT`).
///
/// # Safety
/// Live handle; `peer_key` 32 readable bytes; `ids` null only when `id_count` is 0, else
/// `id_count * 16` readable bytes; `out_body` writable, freed with `bt_buffer_free`.
#[no_mangle]
pub unsafe extern "C" fn bt_receipt_create(
    signer: *const bt_identity,
    peer_key: *const u8,
    kind: u8,
    timestamp_ms: u64,
    ids: *const u8,
    id_count: usize,
    out_body: *mut bt_buffer,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, signer, peer, ids) = unsafe {
            (
                ptr::out(out_body, "out_body", bt_buffer::EMPTY)?,
                bt_identity::borrow(signer)?,
                ptr::array::<BT_KEY_LEN>(peer_key, "peer_key")?,
                ptr::arrays::<BT_MESSAGE_ID_LEN>(ids, id_count, "ids")?,
            )
        };
        let peer = IdentityKey::from_bytes(peer)?;
        let kind = receipt_kind(kind)?;
        let receipt = Receipt::create(
            &signer.identity,
            &peer,
            kind,
            timestamp_ms,
            &message_ids(ids),
        )?;
        *out = bt_buffer::from_vec(receipt.to_bytes());
        Ok(())
    })
}

/// Verifies a receipt body as its receiver: signed by `signer_key`, addressed to
/// `receiver_key`, ids in canonical order, every id among `sent_ids` (`sent_count` × 16
/// bytes, the messages the receiver sent the signer). Writes its kind and timestamp.
///
/// # Safety
/// Byte inputs as documented; keys 32 readable bytes each; `sent_ids` null only when
/// `sent_count` is 0, else `sent_count * 16` readable bytes; outs writable.
#[no_mangle]
pub unsafe extern "C" fn bt_receipt_verify(
    body: *const u8,
    body_len: usize,
    signer_key: *const u8,
    receiver_key: *const u8,
    sent_ids: *const u8,
    sent_count: usize,
    out_kind: *mut u8,
    out_timestamp_ms: *mut u64,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out_kind, out_ts, body, signer, receiver, sent) = unsafe {
            (
                ptr::out(out_kind, "out_kind", 0u8)?,
                ptr::out(out_timestamp_ms, "out_timestamp_ms", 0u64)?,
                ptr::bytes(body, body_len, "body")?,
                ptr::array::<BT_KEY_LEN>(signer_key, "signer_key")?,
                ptr::array::<BT_KEY_LEN>(receiver_key, "receiver_key")?,
                ptr::arrays::<BT_MESSAGE_ID_LEN>(sent_ids, sent_count, "sent_ids")?,
            )
        };
        let (signer, receiver) = (
            IdentityKey::from_bytes(signer)?,
            IdentityKey::from_bytes(receiver)?,
        );
        let sent = message_ids(sent);
        let receipt = Receipt::parse(body)?;
        receipt.verify(&signer, &receiver, |id| sent.contains(id))?;
        *out_kind = receipt.kind.to_byte();
        *out_ts = receipt.timestamp_ms;
        Ok(())
    })
}

fn receipt_kind(kind: u8) -> Result<ReceiptKind, FfiError> {
    ReceiptKind::from_byte(kind).ok_or_else(|| {
        FfiError::InvalidArgument(format!(
            "receipt kind 0x{kind:02x} is not one of the BT_RECEIPT_* values"
        ))
    })
}

fn message_ids(ids: &[[u8; BT_MESSAGE_ID_LEN]]) -> Vec<MessageId> {
    ids.iter().copied().map(MessageId).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(seed: u8) -> *mut bt_identity {
        let mut out = core::ptr::null_mut();
        let seed = [seed; 32];
        // SAFETY: 32 readable bytes and a writable out.
        let status = unsafe { bt_identity_from_seed(seed.as_ptr(), &mut out) };
        assert_eq!(status, bt_status::BT_OK);
        out
    }

    /// A null id array is `BT_NULL_ARGUMENT` whatever its count, even one whose byte size
    /// overflows; a real array with an absurd count is `BT_INVALID_ARGUMENT`, unread.
    #[test]
    fn receipt_id_arrays_check_null_before_size() {
        let (signer, peer_identity) = (identity(1), identity(2));
        let mut peer = [0u8; 32];
        let ids = [[5u8; 16]];
        let mut body = bt_buffer::EMPTY;
        let (mut kind, mut ts) = (9u8, 9u64);
        // SAFETY: live handles, valid outs, and null or one-element id arrays as each case
        // intends; an absurd count is rejected before any read.
        unsafe {
            assert_eq!(
                bt_identity_public(peer_identity, peer.as_mut_ptr()),
                bt_status::BT_OK
            );
            for count in [1, usize::MAX / 16 + 1, usize::MAX] {
                assert_eq!(
                    bt_receipt_create(
                        signer,
                        peer.as_ptr(),
                        crate::messaging::BT_RECEIPT_READ,
                        7,
                        core::ptr::null(),
                        count,
                        &mut body
                    ),
                    bt_status::BT_NULL_ARGUMENT,
                    "create, count {count}"
                );
                assert_eq!(
                    bt_receipt_verify(
                        b"x".as_ptr(),
                        1,
                        peer.as_ptr(),
                        peer.as_ptr(),
                        core::ptr::null(),
                        count,
                        &mut kind,
                        &mut ts
                    ),
                    bt_status::BT_NULL_ARGUMENT,
                    "verify, count {count}"
                );
                assert_eq!((kind, ts), (0, 0));
            }
            assert_eq!(
                bt_receipt_create(
                    signer,
                    peer.as_ptr(),
                    crate::messaging::BT_RECEIPT_READ,
                    7,
                    ids.as_ptr().cast(),
                    usize::MAX,
                    &mut body
                ),
                bt_status::BT_INVALID_ARGUMENT
            );
            assert_eq!(
                bt_receipt_create(
                    signer,
                    peer.as_ptr(),
                    crate::messaging::BT_RECEIPT_DENIABLE_READ,
                    7,
                    ids.as_ptr().cast(),
                    1,
                    &mut body
                ),
                bt_status::BT_OK
            );
            assert_eq!(
                bt_receipt_verify(
                    body.ptr,
                    body.len,
                    peer.as_ptr(),
                    peer.as_ptr(),
                    ids.as_ptr().cast(),
                    1,
                    &mut kind,
                    &mut ts
                ),
                bt_status::BT_OK
            );
            assert_eq!((kind, ts), (crate::messaging::BT_RECEIPT_DENIABLE_READ, 7));
            crate::buffer::bt_buffer_free(&mut body);
            bt_identity_free(signer);
            bt_identity_free(peer_identity);
        }
    }

    #[test]
    fn sessions_new_and_from_bytes() {
        let mut session = core::ptr::dangling_mut::<bt_session>();
        let mut bytes = bt_buffer::EMPTY;
        let mut id = [1u8; 16];
        let mut wire = bt_buffer::EMPTY;
        // SAFETY: valid outs; handles freed once.
        unsafe {
            assert_eq!(bt_session_new(&mut session), bt_status::BT_OK);
            assert_eq!(bt_session_to_bytes(session, &mut bytes), bt_status::BT_OK);
            // An empty record has no session to encrypt with; both outs are emptied first.
            assert_eq!(
                bt_session_encrypt(
                    session,
                    BT_CONTENT_APPLICATION,
                    b"hi".as_ptr(),
                    2,
                    id.as_mut_ptr(),
                    &mut wire
                ),
                bt_status::BT_NO_SESSION
            );
            assert_eq!(id, [0; 16]);
            assert!(wire.ptr.is_null());
            bt_session_free(session);
            let mut again = core::ptr::null_mut();
            assert_eq!(
                bt_session_from_bytes(bytes.ptr, bytes.len, &mut again),
                bt_status::BT_OK
            );
            bt_session_free(again);
            let mut none = core::ptr::dangling_mut::<bt_session>();
            assert_ne!(
                bt_session_from_bytes(core::ptr::null(), 0, &mut none),
                bt_status::BT_OK,
                "an empty serialization is not a record"
            );
            assert!(none.is_null());
            assert_eq!(
                bt_session_new(core::ptr::null_mut()),
                bt_status::BT_NULL_ARGUMENT
            );
            crate::buffer::bt_buffer_free(&mut bytes);
        }
    }
}
