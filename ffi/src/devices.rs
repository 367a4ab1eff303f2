//! Users with several devices (spec §11): the own address, device lists and user
//! identities, sessions from bundles, and logical messages (one send to a user, a wire per
//! device) as a handle with accessors.

use bluetick::{
    Address, DeviceList, DeviceStatus, IdentityKey, LogicalMessage, MessageId, PreKeyBundle,
};
use zeroize::Zeroize;

use crate::account::{bt_account, BT_KEY_LEN, BT_SAFETY_NUMBER_SIZE};
use crate::boundary::{boundary, guard, FfiError};
use crate::buffer::bt_buffer;
use crate::messaging::BT_MESSAGE_ID_LEN;
use crate::ptr::{self, Handle};
use crate::status::bt_status;

/// `bt_account_accept_device_list` change record kind: a device the new list adds.
pub const BT_DEVICE_ADDED: u8 = 1;
/// Change record kind: a device the new list removes (its sessions are archived).
pub const BT_DEVICE_REMOVED: u8 = 2;
/// Change record kind: a device whose key the new list changes (its old sessions are
/// archived).
pub const BT_DEVICE_CHANGED: u8 = 3;
/// The length of one change record: `kind (1) || device id (u32, big-endian)`.
pub const BT_DEVICE_CHANGE_LEN: usize = 5;

fn key_of(bytes: &[u8; BT_KEY_LEN]) -> Result<IdentityKey, FfiError> {
    Ok(IdentityKey::from_bytes(bytes)?)
}

/// Appends `user_len (u16, big-endian) || user || device (u32, big-endian)`.
fn put_address(out: &mut Vec<u8>, address: &Address) {
    out.extend_from_slice(&address.to_bytes());
}

/// Sets this device's own address: its user id (1 to 64 bytes) and device id. Sending to
/// users and accepting sent transcripts need it.
///
/// # Safety
/// `account` a live handle or null; `(user, user_len)` as a byte input.
#[no_mangle]
pub unsafe extern "C" fn bt_account_set_own_address(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    device: u32,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (account, own) = unsafe {
            (
                bt_account::borrow(account)?,
                ptr::address(user, user_len, device)?,
            )
        };
        account.account.set_own_address(&own)?;
        Ok(())
    })
}

/// This device's own address: `*out_found` true, `*out_user` the user id (free with
/// `bt_buffer_free`) and `*out_device` its device id; or `*out_found` false when it was
/// never set.
///
/// # Safety
/// `account` a live handle or null; `out_found`, `out_user`, `out_device` null or writable.
#[no_mangle]
pub unsafe extern "C" fn bt_account_own_address(
    account: *const bt_account,
    out_found: *mut bool,
    out_user: *mut bt_buffer,
    out_device: *mut u32,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (found, user, device, account) = unsafe {
            (
                ptr::out(out_found, "out_found", false)?,
                ptr::out(out_user, "out_user", bt_buffer::EMPTY)?,
                ptr::out(out_device, "out_device", 0)?,
                bt_account::borrow(account)?,
            )
        };
        if let Some(own) = account.account.own_address()? {
            *user = bt_buffer::from_vec(own.user);
            *device = own.device;
            *found = true;
        }
        Ok(())
    })
}

/// Accepts a user's signed device list (the bytes the relay or the primary gave; spec
/// §11). The first list of a user pins its user identity; a list signed by another
/// identity goes through the identity policy or is `BT_UNTRUSTED_IDENTITY`; a lower
/// version than the newest accepted (or the same with other contents) is
/// `BT_STALE_DEVICE_LIST` and changes nothing. `*out_change` receives one record of
/// `BT_DEVICE_CHANGE_LEN` bytes per added, removed or changed device (`kind ||
/// device id`); free it with `bt_buffer_free`.
///
/// # Safety
/// `account` a live handle or null; `(list, list_len)` as a byte input; `out_change` null
/// or a writable `bt_buffer`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_accept_device_list(
    account: *const bt_account,
    list: *const u8,
    list_len: usize,
    out_change: *mut bt_buffer,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, account, list) = unsafe {
            (
                ptr::out(out_change, "out_change", bt_buffer::EMPTY)?,
                bt_account::borrow(account)?,
                ptr::bytes(list, list_len, "list")?,
            )
        };
        let list = DeviceList::from_bytes(list)?;
        let change = account.account.accept_device_list(&list)?;
        let mut bytes = Vec::new();
        for (kind, devices) in [
            (BT_DEVICE_ADDED, &change.added),
            (BT_DEVICE_REMOVED, &change.removed),
            (BT_DEVICE_CHANGED, &change.changed),
        ] {
            for device in devices {
                bytes.push(kind);
                bytes.extend_from_slice(&device.to_be_bytes());
            }
        }
        *out = bt_buffer::from_vec(bytes);
        Ok(())
    })
}

/// As the primary device: signs the own user's device list of `version` with this account
/// first and then the `count` companions (`device_ids[i]` with the 32-byte key at
/// `keys + 32 * i`), accepts it as the own user's list, and writes its bytes to
/// `*out_list` (free with `bt_buffer_free`) for the relay and the companions.
///
/// # Safety
/// `account` a live handle or null; `device_ids` null only with `count` 0, else `count`
/// readable `uint32_t`; `(keys, 32 * count)` as a byte input; `out_list` null or writable.
#[no_mangle]
pub unsafe extern "C" fn bt_account_sign_device_list(
    account: *const bt_account,
    version: u64,
    device_ids: *const u32,
    keys: *const u8,
    count: usize,
    out_list: *mut bt_buffer,
) -> bt_status {
    boundary(|| {
        let keys_len = count.checked_mul(BT_KEY_LEN).ok_or_else(|| {
            FfiError::InvalidArgument(format!("{count} companions are more than any list"))
        })?;
        // SAFETY: the caller's guarantees, as documented above.
        let (out, account, ids, keys) = unsafe {
            (
                ptr::out(out_list, "out_list", bt_buffer::EMPTY)?,
                bt_account::borrow(account)?,
                ptr::slice(device_ids, count, "device_ids")?,
                ptr::bytes(keys, keys_len, "keys")?,
            )
        };
        let mut companions = Vec::with_capacity(count);
        for (id, key) in ids.iter().zip(keys.chunks_exact(BT_KEY_LEN)) {
            let key: &[u8; BT_KEY_LEN] = key
                .try_into()
                .map_err(|_| FfiError::InvalidArgument("a key is not 32 bytes".into()))?;
            companions.push((*id, key_of(key)?));
        }
        let list = account.account.sign_device_list(version, &companions)?;
        *out = bt_buffer::from_vec(list.to_bytes());
        Ok(())
    })
}

/// As the primary device: certifies the 32-byte identity `key` as device `device` of the
/// own user (spec §11) and writes the certificate's bytes to `*out_certificate` (free with
/// `bt_buffer_free`).
///
/// # Safety
/// `account` a live handle or null; `key` null or 32 readable bytes; `out_certificate`
/// null or writable.
#[no_mangle]
pub unsafe extern "C" fn bt_account_certify_device(
    account: *const bt_account,
    device: u32,
    key: *const u8,
    issued_at_ms: u64,
    out_certificate: *mut bt_buffer,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, account, key) = unsafe {
            (
                ptr::out(out_certificate, "out_certificate", bt_buffer::EMPTY)?,
                bt_account::borrow(account)?,
                ptr::array::<BT_KEY_LEN>(key, "key")?,
            )
        };
        let cert = account
            .account
            .certify_device(device, &key_of(key)?, issued_at_ms)?;
        *out = bt_buffer::from_vec(cert.to_bytes());
        Ok(())
    })
}

/// The newest device list accepted for the user `(user, user_len)`: its bytes in
/// `*out_list` (free with `bt_buffer_free`), empty when none was accepted.
///
/// # Safety
/// `account` a live handle or null; `(user, user_len)` as a byte input; `out_list` null or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn bt_account_device_list(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    out_list: *mut bt_buffer,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, account, user) = unsafe {
            (
                ptr::out(out_list, "out_list", bt_buffer::EMPTY)?,
                bt_account::borrow(account)?,
                ptr::bytes(user, user_len, "user")?,
            )
        };
        if let Some(list) = account.account.device_list(user)? {
            *out = bt_buffer::from_vec(list.to_bytes());
        }
        Ok(())
    })
}

/// The user identity pinned for `(user, user_len)`: `*out_found` true and the key in
/// `out_key` (32 bytes), or `*out_found` false and `out_key` zeroed.
///
/// # Safety
/// `account` a live handle or null; `(user, user_len)` as a byte input; `out_key` null or
/// 32 writable bytes; `out_found` null or writable.
#[no_mangle]
pub unsafe extern "C" fn bt_account_user_identity(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    out_key: *mut u8,
    out_found: *mut bool,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (found, out, account, user) = unsafe {
            (
                ptr::out(out_found, "out_found", false)?,
                ptr::out_array::<BT_KEY_LEN>(out_key, "out_key")?,
                bt_account::borrow(account)?,
                ptr::bytes(user, user_len, "user")?,
            )
        };
        if let Some(key) = account.account.user_identity(user)? {
            *out = key.to_bytes();
            *found = true;
        }
        Ok(())
    })
}

/// Trusts the 32-byte `key` as the user identity of `(user, user_len)` after the people
/// compared `bt_account_user_safety_number`. Replacing another identity archives every
/// session with a device of its list; the user's devices are refused until a list signed
/// by `key` is accepted.
///
/// # Safety
/// `account` a live handle or null; `(user, user_len)` as a byte input; `key` null or 32
/// readable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_account_trust_user_identity(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    key: *const u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (account, user, key) = unsafe {
            (
                bt_account::borrow(account)?,
                ptr::bytes(user, user_len, "user")?,
                ptr::array::<BT_KEY_LEN>(key, "key")?,
            )
        };
        account.account.trust_user_identity(user, &key_of(key)?)?;
        Ok(())
    })
}

/// The 60-digit safety number of this account's user and `(user, user_len)`, over user
/// identities: 60 ASCII digits and a NUL in `out` (`out_len` at least
/// `BT_SAFETY_NUMBER_SIZE`, else `BT_BUFFER`) with `*out_found` true, or the empty string
/// and `*out_found` false while the user's identity is not pinned.
///
/// # Safety
/// `account` a live handle or null; `(user, user_len)` as a byte input; `out` null or
/// `out_len` writable bytes; `out_found` null or writable.
#[no_mangle]
pub unsafe extern "C" fn bt_account_user_safety_number(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    out: *mut core::ffi::c_char,
    out_len: usize,
    out_found: *mut bool,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (found, account, user) = unsafe {
            (
                ptr::out(out_found, "out_found", false)?,
                bt_account::borrow(account)?,
                ptr::bytes(user, user_len, "user")?,
            )
        };
        if out.is_null() {
            return Err(FfiError::Null("out"));
        }
        if out_len < BT_SAFETY_NUMBER_SIZE {
            return Err(FfiError::Buffer(format!(
                "the safety number needs {BT_SAFETY_NUMBER_SIZE} bytes; `out_len` is {out_len}"
            )));
        }
        // SAFETY: non-null with at least 61 writable bytes (checked above).
        let text = unsafe { ptr::out_array::<BT_SAFETY_NUMBER_SIZE>(out.cast::<u8>(), "out") }?;
        if let Some(number) = account.account.user_safety_number(user)? {
            let digits = number.digits();
            // The last byte stays the NUL that `out_array` wrote.
            let (dst, _) = text.split_at_mut(BT_SAFETY_NUMBER_SIZE - 1);
            if digits.len() != dst.len() {
                return Err(FfiError::Core {
                    kind: bluetick::ErrorKind::InvalidValue,
                    message: format!("a safety number of {} digits", digits.len()),
                });
            }
            dst.copy_from_slice(digits.as_bytes());
            *found = true;
        }
        Ok(())
    })
}

/// Starts a session with the device `(user, user_len, device)` from its prekey bundle
/// (bytes from the relay) without sending; for a user with a pinned identity the bundle's
/// key must be the one its list names (`BT_DEVICE_NOT_LISTED` otherwise).
///
/// # Safety
/// `account` a live handle or null; `(user, user_len)` and `(bundle, bundle_len)` as byte
/// inputs.
#[no_mangle]
pub unsafe extern "C" fn bt_account_start_session(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    device: u32,
    bundle: *const u8,
    bundle_len: usize,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (account, peer, bundle) = unsafe {
            (
                bt_account::borrow(account)?,
                ptr::address(user, user_len, device)?,
                ptr::bytes(bundle, bundle_len, "bundle")?,
            )
        };
        let bundle = PreKeyBundle::from_bytes(bundle)?;
        account.account.start_session(&peer, &bundle)?;
        Ok(())
    })
}

/// The devices a send to `(user, user_len)` reaches that lack a usable session, in
/// `*out_addresses` (free with `bt_buffer_free`): records of `user_len (u16, big-endian)
/// || user || device (u32, big-endian)`. Fetch their bundles and call
/// `bt_account_start_session`.
///
/// # Safety
/// `account` a live handle or null; `(user, user_len)` as a byte input; `out_addresses`
/// null or writable.
#[no_mangle]
pub unsafe extern "C" fn bt_account_devices_without_session(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    out_addresses: *mut bt_buffer,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, account, user) = unsafe {
            (
                ptr::out(out_addresses, "out_addresses", bt_buffer::EMPTY)?,
                bt_account::borrow(account)?,
                ptr::bytes(user, user_len, "user")?,
            )
        };
        let mut bytes = Vec::new();
        for address in account.account.devices_without_session(user)? {
            put_address(&mut bytes, &address);
        }
        *out = bt_buffer::from_vec(bytes);
        Ok(())
    })
}

/// One send to a user (spec §11), from `bt_account_send_to_user`: its id, its Lamport
/// value and its wires, read with `bt_logical_*`, freed by `bt_logical_free`.
pub struct bt_logical {
    message: LogicalMessage,
}

impl Handle for bt_logical {
    const NAME: &'static str = "logical";
}

impl Drop for bt_logical {
    fn drop(&mut self) {
        for wire in &mut self.message.wires {
            wire.wire.zeroize();
        }
    }
}

/// One wire of a logical message, borrowed from its `bt_logical`: the pointers stay valid
/// until `bt_logical_free` and must not be freed or written through.
#[repr(C)]
#[derive(Debug)]
pub struct bt_device_wire {
    /// The device's user id (`user_len` bytes; not NUL-terminated).
    pub user: *const u8,
    /// The length of `user`.
    pub user_len: usize,
    /// The device id.
    pub device: u32,
    /// The wire's message id: pass it to `bt_account_mark_sent` when the relay
    /// acknowledges the wire.
    pub id: [u8; 16],
    /// The wire bytes for the relay (`wire_len` bytes).
    pub wire: *const u8,
    /// The length of `wire`.
    pub wire_len: usize,
    /// Set for a sent transcript to an own other device.
    pub transcript: bool,
}

/// Sends `(body, body_len)` to the user `(user, user_len)`: one wire per device of the
/// user's accepted list and a sent transcript per other device of the own user, one step
/// of the conversation's clock, one transaction, into a new handle `*out` (null on
/// failure). `BT_NO_SESSION` names a device without a usable session (nothing was
/// committed): see `bt_account_devices_without_session`.
///
/// # Safety
/// `account` a live handle or null; `(user, user_len)`, `(body, body_len)` as byte inputs;
/// `out` null or a writable `bt_logical *`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_send_to_user(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    body: *const u8,
    body_len: usize,
    now_ms: u64,
    out: *mut *mut bt_logical,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, account, user, body) = unsafe {
            (
                ptr::out(out, "out", core::ptr::null_mut())?,
                bt_account::borrow(account)?,
                ptr::bytes(user, user_len, "user")?,
                ptr::bytes(body, body_len, "body")?,
            )
        };
        let message = account.account.send_to_user(user, body, now_ms)?;
        *out = bt_logical { message }.into_raw();
        Ok(())
    })
}

/// The logical message's id (16 bytes, into `out_id`): the id of
/// `bt_account_logical_status` and `bt_account_message_info`.
///
/// # Safety
/// `logical` null or a live handle; `out_id` null or 16 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_logical_id(logical: *const bt_logical, out_id: *mut u8) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, logical) = unsafe {
            (
                ptr::out_array::<BT_MESSAGE_ID_LEN>(out_id, "out_id")?,
                bt_logical::borrow(logical)?,
            )
        };
        *out = logical.message.id.0;
        Ok(())
    })
}

/// The Lamport value the logical message carries (spec §10); 0 for null.
///
/// # Safety
/// `logical` null or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bt_logical_lamport(logical: *const bt_logical) -> u64 {
    guard(0, || {
        // SAFETY: the caller's guarantee.
        let logical = unsafe { bt_logical::borrow(logical) };
        logical.map_or(0, |l| l.message.lamport)
    })
}

/// The number of wires; 0 for null.
///
/// # Safety
/// `logical` null or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bt_logical_len(logical: *const bt_logical) -> usize {
    guard(0, || {
        // SAFETY: the caller's guarantee.
        let logical = unsafe { bt_logical::borrow(logical) };
        logical.map_or(0, |l| l.message.wires.len())
    })
}

/// Writes wire `index` (0 to `bt_logical_len - 1`; `BT_INVALID_ARGUMENT` past the end) to
/// `*out`, borrowing from the handle.
///
/// # Safety
/// `logical` null or a live handle; `out` null or a writable `bt_device_wire`.
#[no_mangle]
pub unsafe extern "C" fn bt_logical_get(
    logical: *const bt_logical,
    index: usize,
    out: *mut bt_device_wire,
) -> bt_status {
    boundary(|| {
        let empty = bt_device_wire {
            user: core::ptr::null(),
            user_len: 0,
            device: 0,
            id: [0; 16],
            wire: core::ptr::null(),
            wire_len: 0,
            transcript: false,
        };
        // SAFETY: the caller's guarantees, as documented above.
        let (out, logical) =
            unsafe { (ptr::out(out, "out", empty)?, bt_logical::borrow(logical)?) };
        let wire = logical.message.wires.get(index).ok_or_else(|| {
            FfiError::InvalidArgument(format!(
                "index {index} is past the end of a logical message of {} wires",
                logical.message.wires.len()
            ))
        })?;
        *out = bt_device_wire {
            user: wire.to.user.as_ptr(),
            user_len: wire.to.user.len(),
            device: wire.to.device,
            id: wire.id.0,
            wire: wire.wire.as_ptr(),
            wire_len: wire.wire.len(),
            transcript: wire.transcript,
        };
        Ok(())
    })
}

/// Frees the handle; null is a no-op. Wires read from it become invalid.
///
/// # Safety
/// `logical` null or a live handle that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn bt_logical_free(logical: *mut bt_logical) {
    // SAFETY: the caller's guarantee.
    guard((), || unsafe { bt_logical::free(logical) });
}

/// The status of the logical message `id` (16 bytes; spec §11): `*out_found` true and
/// `*out_status` a `BT_MESSAGE_*` value (`SENT` once the relay acknowledged every wire to
/// a recipient device, `DELIVERED`/`READ` once every recipient user has one device that
/// sent such a receipt; transcripts do not count), or `*out_found` false for an unknown id.
///
/// # Safety
/// `account` a live handle or null; `id` null or 16 readable bytes; `out_status` and
/// `out_found` null or writable.
#[no_mangle]
pub unsafe extern "C" fn bt_account_logical_status(
    account: *const bt_account,
    id: *const u8,
    out_status: *mut u8,
    out_found: *mut bool,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (status, found, account, id) = unsafe {
            (
                ptr::out(out_status, "out_status", 0)?,
                ptr::out(out_found, "out_found", false)?,
                bt_account::borrow(account)?,
                ptr::array::<BT_MESSAGE_ID_LEN>(id, "id")?,
            )
        };
        if let Some(s) = account.account.logical_status(&MessageId(*id))? {
            *status = s.to_byte();
            *found = true;
        }
        Ok(())
    })
}

/// The per-device statuses of the logical message `id` for a "message info" screen, in
/// the order of its wires: `*out_found` true and `*out_info` (free with `bt_buffer_free`)
/// records of `status (1, a BT_MESSAGE_* value) || transcript (1, 0 or 1) || wire id (16)
/// || user_len (u16, big-endian) || user || device (u32, big-endian)`; or `*out_found`
/// false for an unknown id.
///
/// # Safety
/// `account` a live handle or null; `id` null or 16 readable bytes; `out_info` and
/// `out_found` null or writable.
#[no_mangle]
pub unsafe extern "C" fn bt_account_message_info(
    account: *const bt_account,
    id: *const u8,
    out_info: *mut bt_buffer,
    out_found: *mut bool,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (info, found, account, id) = unsafe {
            (
                ptr::out(out_info, "out_info", bt_buffer::EMPTY)?,
                ptr::out(out_found, "out_found", false)?,
                bt_account::borrow(account)?,
                ptr::array::<BT_MESSAGE_ID_LEN>(id, "id")?,
            )
        };
        if let Some(wires) = account.account.message_info(&MessageId(*id))? {
            let mut bytes = Vec::new();
            for DeviceStatus {
                to,
                id,
                status,
                transcript,
            } in wires
            {
                bytes.push(status.to_byte());
                bytes.push(u8::from(transcript));
                bytes.extend_from_slice(&id.0);
                put_address(&mut bytes, &to);
            }
            *info = bt_buffer::from_vec(bytes);
            *found = true;
        }
        Ok(())
    })
}
