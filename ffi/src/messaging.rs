//! Sending, receiving, receipts and statuses.

use bluetick::receipt::ReceiptKind;
use bluetick::{Incoming, MessageId, MessageStatus, PreKeyBundle, Received};

use crate::account::{bt_account, BT_KEY_LEN};
use crate::boundary::{boundary, guard, FfiError};
use crate::buffer::bt_buffer;
use crate::ptr::{self, Handle};
use crate::status::bt_status;

/// The length of a message id.
pub const BT_MESSAGE_ID_LEN: usize = 16;

/// The length of one record of `bt_incoming.updates`: a message id and its new status.
pub const BT_UPDATE_LEN: usize = 17;

/// `bt_incoming.kind`: an application message, now in the inbox.
pub const BT_INCOMING_MESSAGE: u32 = 1;
/// `bt_incoming.kind`: a receipt, already applied to the statuses it names.
pub const BT_INCOMING_RECEIPT: u32 = 2;
/// `bt_incoming.kind`: a sent transcript from another device of the own user (spec §11),
/// now in the inbox in the conversation with `bt_incoming.to_user`.
pub const BT_INCOMING_TRANSCRIPT: u32 = 3;
/// `bt_incoming.kind`: a group message (spec §12), or the sent transcript of one from an
/// own other device, now in the inbox in the conversation of `bt_incoming.group`; the
/// device that wrote it is `(from_user, from_device)`.
pub const BT_INCOMING_GROUP_MESSAGE: u32 = 4;
/// `bt_incoming.kind`: a group sender key (spec §12) for `bt_incoming.group`, stored.
pub const BT_INCOMING_DISTRIBUTION: u32 = 5;

/// Receipt kind: signed delivery receipt (two grey ticks).
pub const BT_RECEIPT_DELIVERED: u8 = 0x01;
/// Receipt kind: signed read receipt (two blue ticks).
pub const BT_RECEIPT_READ: u8 = 0x02;
/// Receipt kind: deniable delivery receipt, authenticated by the session alone.
pub const BT_RECEIPT_DENIABLE_DELIVERED: u8 = 0x81;
/// Receipt kind: deniable read receipt.
pub const BT_RECEIPT_DENIABLE_READ: u8 = 0x82;

/// Message status: encrypted, not yet acknowledged by the relay.
pub const BT_MESSAGE_PENDING: u8 = 0;
/// Message status: the relay acknowledged it (one grey tick).
pub const BT_MESSAGE_SENT: u8 = 1;
/// Message status: a delivery receipt arrived (two grey ticks).
pub const BT_MESSAGE_DELIVERED: u8 = 2;
/// Message status: a read receipt arrived (two blue ticks).
pub const BT_MESSAGE_READ: u8 = 3;

/// What `bt_account_decrypt` received. The caller owns the two buffers inside and frees
/// them with one `bt_incoming_free`. Every field is plain data: copy what you need first.
#[repr(C)]
#[derive(Debug)]
pub struct bt_incoming {
    /// `BT_INCOMING_MESSAGE`, `BT_INCOMING_RECEIPT`, `BT_INCOMING_TRANSCRIPT`,
    /// `BT_INCOMING_GROUP_MESSAGE` or `BT_INCOMING_DISTRIBUTION`.
    pub kind: u32,
    /// The id of the wire message decrypted (for a message, the id to acknowledge and to
    /// put in receipts; the relay computes the same id).
    pub id: [u8; 16],
    /// The sender's identity key.
    pub sender: [u8; 32],
    /// The message body (empty for a receipt). Owned; freed by `bt_incoming_free`.
    pub body: bt_buffer,
    /// For a receipt, one of the `BT_RECEIPT_*` kinds; 0 for a message.
    pub receipt_kind: u8,
    /// For a receipt, the sender's clock when it was made (ms since the Unix epoch); 0 for
    /// a message.
    pub timestamp_ms: u64,
    /// For a receipt, the messages whose status moved forward: `updates.len / 17` records
    /// of `id (16) || status (1, a BT_MESSAGE_* value)`. Empty for a message, and for a
    /// receipt that arrived late or twice. Owned; freed by `bt_incoming_free`.
    pub updates: bt_buffer,
    /// Set when this message used up one-time prekeys and fewer than the low-water mark
    /// remain: call `bt_account_replenish_prekeys` and upload the result.
    pub replenish_prekeys: bool,
    /// For a message, the Lamport value it carried: its place in the conversation's display
    /// order (spec §10); 0 for a receipt.
    pub lamport: u64,
    /// For a message, the sender's wall clock when it sent it (ms since the Unix epoch), to
    /// show to a person and never to order by; 0 for a receipt.
    pub sent_at_ms: u64,
    /// For a sent transcript, the user id the own other device wrote to (the conversation
    /// it belongs to); empty otherwise. Owned; freed by `bt_incoming_free`.
    pub to_user: bt_buffer,
    /// For a group message or a distribution, the group id; empty otherwise. Owned; freed
    /// by `bt_incoming_free`.
    pub group: bt_buffer,
    /// For a group message, the user id of the device that wrote it (whatever address the
    /// relay attached); empty otherwise. Owned; freed by `bt_incoming_free`.
    pub from_user: bt_buffer,
    /// For a group message, the device id of the device that wrote it; 0 otherwise.
    pub from_device: u32,
}

impl bt_incoming {
    const EMPTY: Self = Self {
        kind: 0,
        id: [0; 16],
        sender: [0; 32],
        body: bt_buffer::EMPTY,
        receipt_kind: 0,
        timestamp_ms: 0,
        updates: bt_buffer::EMPTY,
        replenish_prekeys: false,
        lamport: 0,
        sent_at_ms: 0,
        to_user: bt_buffer::EMPTY,
        group: bt_buffer::EMPTY,
        from_user: bt_buffer::EMPTY,
        from_device: 0,
    };
}

fn message_id(bytes: &[u8; BT_MESSAGE_ID_LEN]) -> MessageId {
    MessageId(*bytes)
}

/// Encrypts `body` for the peer `(user, user_len, device)`.
///
/// With a bundle (`bundle_len` > 0: the bytes `bt_prekey_upload_take_bundle` or the relay
/// returned) it starts a new session first (PQXDH); with `bundle_len` 0 it uses the current
/// session (`BT_NO_SESSION` if there is none: fetch the peer's bundle). The message is
/// recorded as `BT_MESSAGE_PENDING` until `bt_account_mark_sent`.
///
/// The message carries the conversation's next Lamport value and `now_ms`, the caller's
/// wall clock (ms since the Unix epoch), which the receiver shows as the time it was sent
/// (spec §10).
///
/// Outputs: `out_id` (16 bytes) receives the message id; `*out_wire` the wire bytes to hand
/// to the relay (free with `bt_buffer_free`; empty on failure); `*out_lamport` the Lamport
/// value the message carries, its place in the conversation's display order (0 on failure).
///
/// # Safety
/// `account` a live handle or null. Each `(ptr, len)` input is null only with len 0, else
/// `len` readable bytes, borrowed for the call. `out_id` null or 16 writable bytes;
/// `out_wire` null or a writable `bt_buffer`; `out_lamport` null or a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_encrypt(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    device: u32,
    body: *const u8,
    body_len: usize,
    bundle: *const u8,
    bundle_len: usize,
    now_ms: u64,
    out_id: *mut u8,
    out_wire: *mut bt_buffer,
    out_lamport: *mut u64,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above (for every call below).
        let (out_wire, out_lamport, out_id, account, peer, body, bundle) = unsafe {
            (
                ptr::out(out_wire, "out_wire", bt_buffer::EMPTY)?,
                ptr::out(out_lamport, "out_lamport", 0)?,
                ptr::out_array::<BT_MESSAGE_ID_LEN>(out_id, "out_id")?,
                bt_account::borrow(account)?,
                ptr::address(user, user_len, device)?,
                ptr::bytes(body, body_len, "body")?,
                ptr::bytes(bundle, bundle_len, "bundle")?,
            )
        };
        let bundle = if bundle.is_empty() {
            None
        } else {
            Some(PreKeyBundle::from_bytes(bundle)?)
        };
        let sent = account
            .account
            .encrypt(&peer, body, bundle.as_ref(), now_ms)?;
        *out_id = sent.id.0;
        *out_wire = bt_buffer::from_vec(sent.wire);
        *out_lamport = sent.lamport;
        Ok(())
    })
}

/// Records the relay's acknowledgement of the outgoing message `id` (16 bytes): its status
/// becomes at least `BT_MESSAGE_SENT`; `*out_status` receives the status now.
/// `BT_UNKNOWN_MESSAGE` if the account never sent that id.
///
/// # Safety
/// `account` a live handle or null; `id` null or 16 readable bytes; `out_status` null or a
/// writable byte.
#[no_mangle]
pub unsafe extern "C" fn bt_account_mark_sent(
    account: *const bt_account,
    id: *const u8,
    out_status: *mut u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out_status, account, id) = unsafe {
            (
                ptr::out(out_status, "out_status", 0)?,
                bt_account::borrow(account)?,
                ptr::array::<BT_MESSAGE_ID_LEN>(id, "id")?,
            )
        };
        *out_status = account.account.mark_sent(&message_id(id))?.to_byte();
        Ok(())
    })
}

/// The status of the outgoing message `id` (16 bytes): `*out_found` true and
/// `*out_status` one of `BT_MESSAGE_*`, or `*out_found` false if the account never sent
/// that id.
///
/// # Safety
/// As `bt_account_mark_sent`; `out_found` null or a writable `bool`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_message_status(
    account: *const bt_account,
    id: *const u8,
    out_status: *mut u8,
    out_found: *mut bool,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out_status, out_found, account, id) = unsafe {
            (
                ptr::out(out_status, "out_status", 0)?,
                ptr::out(out_found, "out_found", false)?,
                bt_account::borrow(account)?,
                ptr::array::<BT_MESSAGE_ID_LEN>(id, "id")?,
            )
        };
        if let Some(status) = account.account.message_status(&message_id(id))? {
            *out_status = status.to_byte();
            *out_found = true;
        }
        Ok(())
    })
}

/// Decrypts the wire message `wire` from the peer `(user, user_len, device)` and fills
/// `*out`. Everything it changed (session, inbox or statuses) is committed before it
/// returns; only then may the app tell the relay to drop the message.
///
/// A message lands in the inbox until `bt_account_acknowledge`; its redelivery returns it
/// again, and after acknowledgement gives `BT_ALREADY_RECEIVED`. A receipt's status
/// changes are applied and listed in `out->updates`. Any error changes nothing: the
/// same message may be retried, and the next genuine one still decrypts.
///
/// `*out` is always written (zeroed on failure), so `bt_incoming_free(out)` is always
/// safe; free it exactly once.
///
/// It takes no clock: a group sender key replaced by a distribution it receives counts its
/// hour (spec §12) on the newest clock the account was given, which is stale on a device
/// that only receives. Prefer `bt_account_decrypt_at`.
///
/// # Safety
/// `account` a live handle or null; `(user, user_len)` and `(wire, wire_len)` as byte
/// inputs; `out` null or a writable `bt_incoming`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_decrypt(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    device: u32,
    wire: *const u8,
    wire_len: usize,
    out: *mut bt_incoming,
) -> bt_status {
    // SAFETY: the caller's guarantees, the same as `bt_account_decrypt_at`'s.
    unsafe { bt_account_decrypt_at(account, user, user_len, device, wire, wire_len, 0, out) }
}

/// `bt_account_decrypt` at `now_ms`, the caller's wall clock in milliseconds since the Unix
/// epoch: the clock of the group sender keys' hour (spec §12). A distribution that replaces
/// a sender's key keeps the old key's skipped message keys for one hour of this clock, and
/// a group message under a replaced key opens only within that hour. The hour counts on
/// the newest of `now_ms` and the clocks the account was given before, so a clock that goes
/// back extends nothing; an accepted distribution or group message stores `now_ms` when it
/// is newer. A refused message changes nothing, its clock included.
///
/// # Safety
/// As `bt_account_decrypt`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_decrypt_at(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    device: u32,
    wire: *const u8,
    wire_len: usize,
    now_ms: u64,
    out: *mut bt_incoming,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented on `bt_account_decrypt`.
        let (out, account, peer, wire) = unsafe {
            (
                ptr::out(out, "out", bt_incoming::EMPTY)?,
                bt_account::borrow(account)?,
                ptr::address(user, user_len, device)?,
                ptr::bytes(wire, wire_len, "wire")?,
            )
        };
        *out = incoming_of(wire, account.account.decrypt_at(&peer, wire, now_ms)?);
        Ok(())
    })
}

/// The C form of what a decryption received.
fn incoming_of(wire: &[u8], incoming: Incoming) -> bt_incoming {
    // A message carries its id; only a receipt's or a distribution's is computed here (a
    // SHA-256 over the wire, not paid twice for a message).
    let mut result = bt_incoming {
        sender: incoming.sender.to_bytes(),
        replenish_prekeys: incoming.replenish_prekeys,
        ..bt_incoming::EMPTY
    };
    match incoming.received {
        Received::Message {
            id,
            lamport,
            sent_at_ms,
            body,
        } => {
            result.kind = BT_INCOMING_MESSAGE;
            result.id = id.0;
            result.body = bt_buffer::from_vec(body);
            result.lamport = lamport;
            result.sent_at_ms = sent_at_ms;
        }
        Received::Transcript {
            id,
            to_user,
            lamport,
            sent_at_ms,
            body,
        } => {
            result.kind = BT_INCOMING_TRANSCRIPT;
            result.id = id.0;
            result.body = bt_buffer::from_vec(body);
            result.to_user = bt_buffer::from_vec(to_user);
            result.lamport = lamport;
            result.sent_at_ms = sent_at_ms;
        }
        Received::GroupMessage {
            id,
            group,
            from,
            lamport,
            sent_at_ms,
            body,
        } => {
            result.kind = BT_INCOMING_GROUP_MESSAGE;
            result.id = id.0;
            result.body = bt_buffer::from_vec(body);
            result.group = bt_buffer::from_vec(group);
            result.from_device = from.device;
            result.from_user = bt_buffer::from_vec(from.user);
            result.lamport = lamport;
            result.sent_at_ms = sent_at_ms;
        }
        Received::Distribution { group } => {
            result.kind = BT_INCOMING_DISTRIBUTION;
            result.id = MessageId::of(wire).0;
            result.group = bt_buffer::from_vec(group);
        }
        Received::Receipt {
            kind,
            timestamp_ms,
            updated,
        } => {
            result.kind = BT_INCOMING_RECEIPT;
            result.id = MessageId::of(wire).0;
            result.receipt_kind = kind.to_byte();
            result.timestamp_ms = timestamp_ms;
            result.updates = bt_buffer::from_vec(encode_updates(&updated));
        }
    }
    result
}

/// One message of a batch for `bt_account_decrypt_batch`: the peer it came from and its
/// wire bytes, both borrowed for the call.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct bt_batch_message {
    /// The sender's user id (`user_len` bytes; null only when `user_len` is 0).
    pub user: *const u8,
    /// The length of `user` (at most 1024).
    pub user_len: usize,
    /// The sender's device.
    pub device: u32,
    /// The wire bytes (null only when `wire_len` is 0).
    pub wire: *const u8,
    /// The length of `wire`.
    pub wire_len: usize,
}

/// Decrypts `count` messages with one durable commit (much faster than one
/// `bt_account_decrypt` each on a phone's storage). Each message succeeds or fails on its
/// own, exactly as with `bt_account_decrypt`: `out_statuses[i]` is its status and
/// `out_results[i]` what it received (zeroed unless `out_statuses[i]` is `BT_OK`).
///
/// Returns `BT_OK` when the batch was committed: the relay may then drop every message
/// whose status is `BT_OK` or `BT_ALREADY_RECEIVED`. (Per-message failures have only their
/// status; `bt_last_error_message` is empty after `BT_OK`.) Any other return means nothing was
/// committed (a store failure, or an invalid argument such as a null pointer or an
/// over-long user id in any message, checked before any work), and every
/// `out_statuses[i]` is set to that same status.
///
/// Free each of the `count` results with `bt_incoming_free` (all are safe to free, whatever
/// the statuses).
///
/// # Safety
/// `account` a live handle or null; `messages` null only when `count` is 0, else `count`
/// readable `bt_batch_message`s whose pointers follow the byte-input rule;
/// `out_results` and `out_statuses` null only when `count` is 0, else arrays of `count`
/// writable elements.
#[no_mangle]
pub unsafe extern "C" fn bt_account_decrypt_batch(
    account: *const bt_account,
    messages: *const bt_batch_message,
    count: usize,
    out_results: *mut bt_incoming,
    out_statuses: *mut bt_status,
) -> bt_status {
    // SAFETY: the caller's guarantees, the same as `bt_account_decrypt_batch_at`'s.
    unsafe { bt_account_decrypt_batch_at(account, messages, count, 0, out_results, out_statuses) }
}

/// `bt_account_decrypt_batch` at `now_ms`, the caller's wall clock for every message of
/// the batch, as `bt_account_decrypt_at` uses it.
///
/// # Safety
/// As `bt_account_decrypt_batch`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_decrypt_batch_at(
    account: *const bt_account,
    messages: *const bt_batch_message,
    count: usize,
    now_ms: u64,
    out_results: *mut bt_incoming,
    out_statuses: *mut bt_status,
) -> bt_status {
    // Empty (not `None`) until filled, so that both halves of the slice are always
    // initialised: an optimised check of an `Option`'s length shows up in valgrind.
    let mut statuses: &mut [bt_status] = &mut [];
    let status = boundary(|| {
        // A null array is `BT_NULL_ARGUMENT` even when `count` is too large for any array:
        // the arrays are checked for null before the size of any is.
        let null_array = [
            (out_statuses.is_null(), "out_statuses"),
            (out_results.is_null(), "out_results"),
            (messages.is_null(), "messages"),
        ]
        .into_iter()
        .find(|(null, _)| *null && count > 0)
        .map(|(_, name)| name);
        // Kept outside, so that every status can be set on the way out whatever fails.
        // SAFETY: the caller's guarantees, as documented on `bt_account_decrypt_batch`
        // (for both blocks).
        let out_statuses = match unsafe {
            ptr::out_slice(out_statuses, count, "out_statuses", || {
                bt_status::BT_INTERNAL
            })
        } {
            Ok(filled) => {
                statuses = filled;
                &mut *statuses
            }
            Err(e) => return Err(null_array.map_or(e, FfiError::Null)),
        };
        if let Some(name) = null_array {
            return Err(FfiError::Null(name));
        }
        // SAFETY: as above.
        let (out_results, account, messages) = unsafe {
            (
                ptr::out_slice(out_results, count, "out_results", || bt_incoming::EMPTY)?,
                bt_account::borrow(account)?,
                ptr::slice(messages, count, "messages")?,
            )
        };
        let mut batch = Vec::with_capacity(messages.len());
        for (i, m) in messages.iter().enumerate() {
            // SAFETY: each message's pointers follow the byte-input rule (documented on
            // `bt_account_decrypt_batch`).
            let (peer, wire) = unsafe {
                (
                    ptr::address(m.user, m.user_len, m.device),
                    ptr::bytes(m.wire, m.wire_len, "wire"),
                )
            };
            let named = |name: &'static str| {
                move |e: FfiError| match e {
                    FfiError::Null(_) => FfiError::Null(name),
                    FfiError::InvalidArgument(m) => {
                        FfiError::InvalidArgument(format!("messages[{i}]: {m}"))
                    }
                    other => other,
                }
            };
            let peer = peer.map_err(named("messages[].user"))?;
            let wire = wire.map_err(named("messages[].wire"))?;
            batch.push((peer, wire.to_vec()));
        }
        let results = account.account.decrypt_batch_at(&batch, now_ms)?;
        for (((result, out), status), (_, wire)) in results
            .into_iter()
            .zip(out_results.iter_mut())
            .zip(out_statuses.iter_mut())
            .zip(&batch)
        {
            match result {
                Ok(incoming) => {
                    *out = incoming_of(wire, incoming);
                    *status = bt_status::BT_OK;
                }
                Err(e) => *status = FfiError::from(e).status(),
            }
        }
        Ok(())
    });
    if status != bt_status::BT_OK {
        for s in statuses.iter_mut() {
            *s = status;
        }
    }
    status
}

/// `id (16) || status (1)` per update.
fn encode_updates(updated: &[(MessageId, MessageStatus)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(updated.len() * BT_UPDATE_LEN);
    for (id, status) in updated {
        out.extend_from_slice(id.as_bytes());
        out.push(status.to_byte());
    }
    out
}

/// Frees the buffers inside `*incoming` and zeroes them, so a second call does nothing.
/// The struct itself belongs to the caller (usually on its stack). Null is a no-op.
///
/// # Safety
/// `incoming` null or a `bt_incoming` written by `bt_account_decrypt` whose buffers were not
/// freed through another copy.
#[no_mangle]
pub unsafe extern "C" fn bt_incoming_free(incoming: *mut bt_incoming) {
    guard((), || {
        if incoming.is_null() {
            return;
        }
        // Only the five buffers are touched (through raw field pointers), so other fields
        // holding anything at all cannot matter.
        // SAFETY: `incoming` is non-null and points to a caller-owned `bt_incoming`.
        let (body, updates, to_user, group, from_user) = unsafe {
            (
                &mut *core::ptr::addr_of_mut!((*incoming).body),
                &mut *core::ptr::addr_of_mut!((*incoming).updates),
                &mut *core::ptr::addr_of_mut!((*incoming).to_user),
                &mut *core::ptr::addr_of_mut!((*incoming).group),
                &mut *core::ptr::addr_of_mut!((*incoming).from_user),
            )
        };
        // SAFETY: all were written by `bt_account_decrypt` and are unfreed.
        unsafe {
            body.release();
            updates.release();
            to_user.release();
            group.release();
            from_user.release();
        }
    });
}

/// Marks the inbox message `id` (16 bytes) as stored by the app: its body is erased from
/// the account's store, and a redelivery is recognised (`BT_ALREADY_RECEIVED`). Call it
/// before telling the relay to drop the message. `BT_UNKNOWN_MESSAGE` for an id never
/// received.
///
/// # Safety
/// `account` a live handle or null; `id` null or 16 readable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_account_acknowledge(
    account: *const bt_account,
    id: *const u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (account, id) = unsafe {
            (
                bt_account::borrow(account)?,
                ptr::array::<BT_MESSAGE_ID_LEN>(id, "id")?,
            )
        };
        account.account.acknowledge(&message_id(id))?;
        Ok(())
    })
}

/// Encrypts a receipt to the peer `(user, user_len, device)` for messages received from
/// it: `kind` is one of `BT_RECEIPT_*` (`BT_INVALID_ARGUMENT` otherwise); `ids` holds
/// `id_count` message ids of 16 bytes each (1 to 1024 of them, else
/// `BT_INVALID_ID_COUNT`; each must be a message received from that peer, else
/// `BT_UNKNOWN_MESSAGE`); `now_ms` is the time to sign. Outputs as for
/// `bt_account_encrypt`; send the wire bytes like any message.
///
/// # Safety
/// `account` a live handle or null; `ids` null only when `id_count` is 0, else
/// `16 * id_count` readable bytes; other pointers as for `bt_account_encrypt`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_create_receipt(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    device: u32,
    kind: u8,
    ids: *const u8,
    id_count: usize,
    now_ms: u64,
    out_id: *mut u8,
    out_wire: *mut bt_buffer,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out_id, out_wire, account, peer, ids) = unsafe {
            (
                ptr::out_array::<BT_MESSAGE_ID_LEN>(out_id, "out_id")?,
                ptr::out(out_wire, "out_wire", bt_buffer::EMPTY)?,
                bt_account::borrow(account)?,
                ptr::address(user, user_len, device)?,
                ptr::arrays::<BT_MESSAGE_ID_LEN>(ids, id_count, "ids")?,
            )
        };
        let kind = ReceiptKind::from_byte(kind).ok_or_else(|| {
            FfiError::InvalidArgument(format!(
                "receipt kind 0x{kind:02x} is not one of the BT_RECEIPT_* values"
            ))
        })?;
        let ids: Vec<MessageId> = ids.iter().copied().map(MessageId).collect();
        let sent = account.account.create_receipt(&peer, kind, &ids, now_ms)?;
        *out_id = sent.id.0;
        *out_wire = bt_buffer::from_vec(sent.wire);
        Ok(())
    })
}

/// The 16-byte id of a wire message, as sender, recipient and relay each compute it:
/// for a relay in C, and to match relay acknowledgements.
///
/// # Safety
/// `(wire, wire_len)` a byte input; `out_id` null or 16 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_message_id_of(
    wire: *const u8,
    wire_len: usize,
    out_id: *mut u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out_id, wire) = unsafe {
            (
                ptr::out_array::<BT_MESSAGE_ID_LEN>(out_id, "out_id")?,
                ptr::bytes(wire, wire_len, "wire")?,
            )
        };
        *out_id = MessageId::of(wire).0;
        Ok(())
    })
}

const _: () = assert!(BT_KEY_LEN == 32 && BT_UPDATE_LEN == BT_MESSAGE_ID_LEN + 1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_are_id_then_status() {
        let v = encode_updates(&[
            (MessageId([1; 16]), MessageStatus::Delivered),
            (MessageId([2; 16]), MessageStatus::Read),
        ]);
        assert_eq!(v.len(), 2 * BT_UPDATE_LEN);
        assert_eq!(&v[..16], &[1; 16]);
        assert_eq!(v[16], BT_MESSAGE_DELIVERED);
        assert_eq!(v[33], BT_MESSAGE_READ);
        assert_eq!(MessageStatus::Pending.to_byte(), BT_MESSAGE_PENDING);
        assert_eq!(MessageStatus::Sent.to_byte(), BT_MESSAGE_SENT);
        assert_eq!(
            ReceiptKind::DeniableRead.to_byte(),
            BT_RECEIPT_DENIABLE_READ
        );
        assert_eq!(
            ReceiptKind::DeniableDelivered.to_byte(),
            BT_RECEIPT_DENIABLE_DELIVERED
        );
        assert_eq!(ReceiptKind::Delivered.to_byte(), BT_RECEIPT_DELIVERED);
        assert_eq!(ReceiptKind::Read.to_byte(), BT_RECEIPT_READ);
    }

    #[test]
    fn incoming_free_is_idempotent_and_ignores_other_fields() {
        let mut inc = bt_incoming {
            kind: 77,
            body: bt_buffer::from_vec(b"secret".to_vec()),
            updates: bt_buffer::from_vec(vec![9; 17]),
            ..bt_incoming::EMPTY
        };
        // SAFETY: made by the library; freed once, then again as empty.
        unsafe {
            bt_incoming_free(&mut inc);
            assert!(inc.body.ptr.is_null() && inc.updates.ptr.is_null());
            bt_incoming_free(&mut inc);
            bt_incoming_free(core::ptr::null_mut());
        }
    }

    #[test]
    fn batch_argument_errors_fill_every_status() {
        let msgs = [
            bt_batch_message {
                user: b"alice".as_ptr(),
                user_len: 5,
                device: 1,
                wire: b"x".as_ptr(),
                wire_len: 1,
            },
            bt_batch_message {
                user: core::ptr::null(),
                user_len: 0,
                device: 1,
                wire: core::ptr::null(),
                wire_len: 9,
            },
        ];
        let mut results = [bt_incoming::EMPTY, bt_incoming::EMPTY];
        let mut statuses = [bt_status::BT_OK; 2];
        // SAFETY: arrays of two, or null as each case intends.
        unsafe {
            let s = bt_account_decrypt_batch(
                core::ptr::null(),
                msgs.as_ptr(),
                2,
                results.as_mut_ptr(),
                statuses.as_mut_ptr(),
            );
            assert_eq!(s, bt_status::BT_NULL_ARGUMENT);
            assert_eq!(statuses, [bt_status::BT_NULL_ARGUMENT; 2]);
            assert!(results.iter().all(|r| r.kind == 0 && r.body.ptr.is_null()));
            let s = bt_account_decrypt_batch(
                core::ptr::null(),
                msgs.as_ptr(),
                2,
                results.as_mut_ptr(),
                core::ptr::null_mut(),
            );
            assert_eq!(s, bt_status::BT_NULL_ARGUMENT);
            let s = bt_account_decrypt_batch(
                core::ptr::null(),
                core::ptr::null(),
                0,
                core::ptr::null_mut(),
                core::ptr::null_mut(),
            );
            assert_eq!(s, bt_status::BT_NULL_ARGUMENT);
            // A null array with a count whose size overflows is still a null argument
            // (`out_statuses` is real but cannot be that long, so it is left alone).
            let s = bt_account_decrypt_batch(
                core::ptr::null(),
                core::ptr::null(),
                usize::MAX,
                results.as_mut_ptr(),
                statuses.as_mut_ptr(),
            );
            assert_eq!(s, bt_status::BT_NULL_ARGUMENT);
            let s = bt_account_decrypt_batch(
                core::ptr::null(),
                msgs.as_ptr(),
                usize::MAX,
                core::ptr::null_mut(),
                statuses.as_mut_ptr(),
            );
            assert_eq!(s, bt_status::BT_NULL_ARGUMENT);
        }
    }

    #[test]
    fn message_ids_and_null_checks() {
        let mut id = [0u8; 16];
        let mut wire = bt_buffer::from_vec(vec![1]);
        // SAFETY: valid pointers, or null as each case intends.
        unsafe {
            assert_eq!(
                bt_message_id_of(b"abc".as_ptr(), 3, id.as_mut_ptr()),
                bt_status::BT_OK
            );
            assert_eq!(id, MessageId::of(b"abc").0);
            assert_eq!(
                bt_message_id_of(core::ptr::null(), 3, id.as_mut_ptr()),
                bt_status::BT_NULL_ARGUMENT
            );
            // `out_wire` is checked and emptied first; the real buffer is freed first.
            crate::buffer::bt_buffer_free(&mut wire);
            let mut lamport = 7u64;
            assert_eq!(
                bt_account_encrypt(
                    core::ptr::null(),
                    b"bob".as_ptr(),
                    3,
                    1,
                    b"hi".as_ptr(),
                    2,
                    core::ptr::null(),
                    0,
                    0,
                    id.as_mut_ptr(),
                    &mut wire,
                    &mut lamport
                ),
                bt_status::BT_NULL_ARGUMENT
            );
            assert!(wire.ptr.is_null());
            assert_eq!(lamport, 0);
            let mut inc = bt_incoming::EMPTY;
            assert_eq!(
                bt_account_decrypt(
                    core::ptr::null(),
                    core::ptr::null(),
                    0,
                    1,
                    core::ptr::null(),
                    0,
                    &mut inc
                ),
                bt_status::BT_NULL_ARGUMENT
            );
            assert_eq!(
                bt_account_create_receipt(
                    core::ptr::null(),
                    core::ptr::null(),
                    0,
                    1,
                    BT_RECEIPT_READ,
                    core::ptr::null(),
                    usize::MAX,
                    0,
                    id.as_mut_ptr(),
                    &mut wire
                ),
                bt_status::BT_NULL_ARGUMENT,
                "null pointers are reported before the count's size"
            );
        }
    }
}
