//! Groups (spec §12): the member users, the devices lacking a session, forgetting a group,
//! and one send to a group as a handle with accessors for its group wire, distributions
//! and transcripts.
//! Received group messages and distributions arrive through `bt_account_decrypt`
//! (`BT_INCOMING_GROUP_MESSAGE`, `BT_INCOMING_DISTRIBUTION`).

use bluetick::{DeviceWire, GroupSend};
use zeroize::Zeroize;

use crate::account::bt_account;
use crate::boundary::{boundary, guard, FfiError};
use crate::buffer::bt_buffer;
use crate::devices::bt_device_wire;
use crate::messaging::BT_MESSAGE_ID_LEN;
use crate::ptr::{self, Handle};
use crate::status::bt_status;

/// Splits `len (u8) || user id` records.
fn users(mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, FfiError> {
    let mut out = Vec::new();
    while let Some((&len, rest)) = bytes.split_first() {
        let (user, rest) = rest.split_at_checked(usize::from(len)).ok_or_else(|| {
            FfiError::InvalidArgument("members: a user id record is cut short".into())
        })?;
        out.push(user.to_vec());
        bytes = rest;
    }
    Ok(out)
}

/// Sets the member users of the group `(group, group_len)` (1 to 64 bytes): `(members,
/// members_len)` holds records of `len (u8) || user id`, each user with an accepted device
/// list; the own user is a member without being named. A device that held this device's
/// sender key and is no longer a listed device of a member makes the key rotate before the
/// next group message.
///
/// # Safety
/// `account` a live handle or null; `(group, group_len)` and `(members, members_len)` as
/// byte inputs.
#[no_mangle]
pub unsafe extern "C" fn bt_account_set_group_members(
    account: *const bt_account,
    group: *const u8,
    group_len: usize,
    members: *const u8,
    members_len: usize,
    now_ms: u64,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (account, group, members) = unsafe {
            (
                bt_account::borrow(account)?,
                ptr::bytes(group, group_len, "group")?,
                ptr::bytes(members, members_len, "members")?,
            )
        };
        let members = users(members)?;
        account.account.set_group_members(group, &members, now_ms)?;
        Ok(())
    })
}

/// The devices a send to the group may need a session with that lack one, in
/// `*out_addresses` (free with `bt_buffer_free`): records of `user_len (u16, big-endian)
/// || user || device (u32, big-endian)`. Fetch their bundles and call
/// `bt_account_start_session`.
///
/// # Safety
/// `account` a live handle or null; `(group, group_len)` as a byte input; `out_addresses`
/// null or writable.
#[no_mangle]
pub unsafe extern "C" fn bt_account_group_devices_without_session(
    account: *const bt_account,
    group: *const u8,
    group_len: usize,
    out_addresses: *mut bt_buffer,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, account, group) = unsafe {
            (
                ptr::out(out_addresses, "out_addresses", bt_buffer::EMPTY)?,
                bt_account::borrow(account)?,
                ptr::bytes(group, group_len, "group")?,
            )
        };
        let mut bytes = Vec::new();
        for address in account.account.group_devices_without_session(group)? {
            bytes.extend_from_slice(&address.to_bytes());
        }
        *out = bt_buffer::from_vec(bytes);
        Ok(())
    })
}

/// Deletes everything this device keeps for the group `(group, group_len)` (1 to 64
/// bytes), in one transaction: its members, this device's sender key, the sender keys
/// received from the other member devices and the group's clock. Leaving is the app's act;
/// this is the local deletion. Afterwards the group's wires are refused as for a group
/// never had (`BT_UNKNOWN_DISTRIBUTION`, `BT_INVALID_VALUE`), and
/// `bt_account_set_group_members` makes it again with a new sender key. The group's
/// unacknowledged inbox entries stay until `bt_account_acknowledge`. A group this device
/// does not have is `BT_OK` and changes nothing.
///
/// # Safety
/// `account` a live handle or null; `(group, group_len)` as a byte input.
#[no_mangle]
pub unsafe extern "C" fn bt_account_forget_group(
    account: *const bt_account,
    group: *const u8,
    group_len: usize,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (account, group) = unsafe {
            (
                bt_account::borrow(account)?,
                ptr::bytes(group, group_len, "group")?,
            )
        };
        account.account.forget_group(group)?;
        Ok(())
    })
}

/// One send to a group (spec §12), from `bt_account_send_to_group`, read with
/// `bt_group_send_*`, freed by `bt_group_send_free`.
pub struct bt_group_send {
    send: GroupSend,
}

impl Handle for bt_group_send {
    const NAME: &'static str = "group send";
}

impl Drop for bt_group_send {
    fn drop(&mut self) {
        self.send.group_wire.zeroize();
        for wire in self
            .send
            .distributions
            .iter_mut()
            .chain(self.send.transcripts.iter_mut())
        {
            wire.wire.zeroize();
        }
    }
}

/// Sends `(body, body_len)` to the group: one step of the group's clock, one group wire
/// for every member device, the sender key's pairwise distributions to the devices that
/// need it, and a sent transcript to each own other device, in one transaction, into a new
/// handle `*out` (null on failure). `BT_NO_SESSION` names a device without a usable
/// session (nothing was committed): see `bt_account_group_devices_without_session`.
///
/// # Safety
/// `account` a live handle or null; `(group, group_len)`, `(body, body_len)` as byte
/// inputs; `out` null or a writable `bt_group_send *`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_send_to_group(
    account: *const bt_account,
    group: *const u8,
    group_len: usize,
    body: *const u8,
    body_len: usize,
    now_ms: u64,
    out: *mut *mut bt_group_send,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, account, group, body) = unsafe {
            (
                ptr::out(out, "out", core::ptr::null_mut())?,
                bt_account::borrow(account)?,
                ptr::bytes(group, group_len, "group")?,
                ptr::bytes(body, body_len, "body")?,
            )
        };
        let send = account.account.send_to_group(group, body, now_ms)?;
        *out = bt_group_send { send }.into_raw();
        Ok(())
    })
}

/// The send's logical id (16 bytes, into `out_id`), for `bt_account_logical_status` and
/// `bt_account_message_info`.
///
/// # Safety
/// `send` null or a live handle; `out_id` null or 16 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_group_send_id(
    send: *const bt_group_send,
    out_id: *mut u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, send) = unsafe {
            (
                ptr::out_array::<BT_MESSAGE_ID_LEN>(out_id, "out_id")?,
                bt_group_send::borrow(send)?,
            )
        };
        *out = send.send.id.0;
        Ok(())
    })
}

/// The Lamport value the group message carries (spec §10); 0 for null.
///
/// # Safety
/// `send` null or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bt_group_send_lamport(send: *const bt_group_send) -> u64 {
    guard(0, || {
        // SAFETY: the caller's guarantee.
        let send = unsafe { bt_group_send::borrow(send) };
        send.map_or(0, |s| s.send.lamport)
    })
}

/// The group wire (borrowed until `bt_group_send_free`: `*out_wire`, `*out_wire_len`) and
/// its id (16 bytes into `out_id`, for `bt_account_mark_sent`), for the relay to deliver to
/// every member device (`bt_group_send_recipients`).
///
/// # Safety
/// `send` null or a live handle; `out_wire`, `out_wire_len` null or writable; `out_id`
/// null or 16 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_group_send_wire(
    send: *const bt_group_send,
    out_wire: *mut *const u8,
    out_wire_len: *mut usize,
    out_id: *mut u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (wire, len, id, send) = unsafe {
            (
                ptr::out(out_wire, "out_wire", core::ptr::null())?,
                ptr::out(out_wire_len, "out_wire_len", 0)?,
                ptr::out_array::<BT_MESSAGE_ID_LEN>(out_id, "out_id")?,
                bt_group_send::borrow(send)?,
            )
        };
        *wire = send.send.group_wire.as_ptr();
        *len = send.send.group_wire.len();
        *id = send.send.group_wire_id.0;
        Ok(())
    })
}

/// The member devices the group wire is for, in `*out_addresses` (free with
/// `bt_buffer_free`): records of `user_len (u16, big-endian) || user || device (u32,
/// big-endian)`.
///
/// # Safety
/// `send` null or a live handle; `out_addresses` null or writable.
#[no_mangle]
pub unsafe extern "C" fn bt_group_send_recipients(
    send: *const bt_group_send,
    out_addresses: *mut bt_buffer,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, send) = unsafe {
            (
                ptr::out(out_addresses, "out_addresses", bt_buffer::EMPTY)?,
                bt_group_send::borrow(send)?,
            )
        };
        let mut bytes = Vec::new();
        for address in &send.send.recipients {
            bytes.extend_from_slice(&address.to_bytes());
        }
        *out = bt_buffer::from_vec(bytes);
        Ok(())
    })
}

/// The number of pairwise wires: the distributions first, then the transcripts (a
/// transcript's `bt_device_wire.transcript` is set); 0 for null.
///
/// # Safety
/// `send` null or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bt_group_send_len(send: *const bt_group_send) -> usize {
    guard(0, || {
        // SAFETY: the caller's guarantee.
        let send = unsafe { bt_group_send::borrow(send) };
        send.map_or(0, |s| s.send.distributions.len() + s.send.transcripts.len())
    })
}

/// Writes pairwise wire `index` (0 to `bt_group_send_len - 1`; `BT_INVALID_ARGUMENT` past
/// the end) to `*out`, borrowing from the handle: the distributions (deliver them before
/// the group wire), then the transcripts.
///
/// # Safety
/// `send` null or a live handle; `out` null or a writable `bt_device_wire`.
#[no_mangle]
pub unsafe extern "C" fn bt_group_send_get(
    send: *const bt_group_send,
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
        let (out, send) = unsafe { (ptr::out(out, "out", empty)?, bt_group_send::borrow(send)?) };
        let wires: Vec<&DeviceWire> = send
            .send
            .distributions
            .iter()
            .chain(send.send.transcripts.iter())
            .collect();
        let wire = wires.get(index).ok_or_else(|| {
            FfiError::InvalidArgument(format!(
                "index {index} is past the end of a group send of {} pairwise wires",
                wires.len()
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
/// `send` null or a live handle that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn bt_group_send_free(send: *mut bt_group_send) {
    // SAFETY: the caller's guarantee.
    guard((), || unsafe { bt_group_send::free(send) });
}
