//! The inbox: received messages the app has not acknowledged yet, as a snapshot handle.

use bluetick::InboxEntry;
use zeroize::Zeroize;

use crate::account::bt_account;
use crate::boundary::{boundary, guard, FfiError};
use crate::ptr::{self, Handle};
use crate::status::bt_status;

/// A snapshot of the inbox taken by `bt_account_inbox`: its entries in a fixed order,
/// read with `bt_inbox_len` and `bt_inbox_get`, freed by `bt_inbox_free`. Independent of
/// the account (it may outlive it) and read-only, so several threads may read it at once.
pub struct bt_inbox {
    entries: Vec<InboxEntry>,
}

impl Handle for bt_inbox {
    const NAME: &'static str = "inbox";
}

impl Drop for bt_inbox {
    fn drop(&mut self) {
        for entry in &mut self.entries {
            entry.body.zeroize();
        }
    }
}

/// One inbox entry, borrowed from its `bt_inbox`: the pointers stay valid until
/// `bt_inbox_free` and must not be freed or written through.
#[repr(C)]
#[derive(Debug)]
pub struct bt_inbox_entry {
    /// The message id (acknowledge it with `bt_account_acknowledge`).
    pub id: [u8; 16],
    /// The sender's user id (`user_len` bytes; not NUL-terminated).
    pub user: *const u8,
    /// The length of `user`.
    pub user_len: usize,
    /// The sender's device.
    pub device: u32,
    /// The message body (`body_len` bytes): what the sender's app sent, without the
    /// 16-byte clock prefix.
    pub body: *const u8,
    /// The length of `body`.
    pub body_len: usize,
    /// The Lamport value the message carried: its place in the conversation's display
    /// order (spec §10).
    pub lamport: u64,
    /// The sender's wall clock when it sent the message (ms since the Unix epoch), to
    /// show to a person and never to order by.
    pub sent_at_ms: u64,
    /// For a sent transcript from another device of the own user (spec §11): the user id
    /// it was sent to (`transcript_to_len` bytes); null with length 0 for a message from
    /// a peer.
    pub transcript_to: *const u8,
    /// The length of `transcript_to` (0 for a message from a peer).
    pub transcript_to_len: usize,
    /// For a group message or the sent transcript of one (spec §12): the group id
    /// (`group_len` bytes); null with length 0 outside a group.
    pub group: *const u8,
    /// The length of `group` (0 outside a group).
    pub group_len: usize,
}

/// Takes a snapshot of the inbox (received messages not yet acknowledged; after a crash,
/// the app stores these first) into a new handle `*out`, freed by `bt_inbox_free`; null
/// on failure.
///
/// # Safety
/// `account` a live handle or null; `out` null or a writable `bt_inbox *`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_inbox(
    account: *const bt_account,
    out: *mut *mut bt_inbox,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, account) = unsafe {
            (
                ptr::out(out, "out", core::ptr::null_mut())?,
                bt_account::borrow(account)?,
            )
        };
        let entries = account.account.inbox()?;
        *out = bt_inbox { entries }.into_raw();
        Ok(())
    })
}

/// Takes a snapshot of the unacknowledged messages of the conversation with the user
/// `(user, user_len)` (every device of that user) into a new handle `*out`, freed by
/// `bt_inbox_free`; null on failure. The entries are in the conversation's display order
/// (spec §10): ascending `(lamport, sender user id (shorter first, then bytewise), sender
/// device)`, the same on every device, whatever order the relay delivered them in.
///
/// # Safety
/// `account` a live handle or null; `(user, user_len)` as a byte input (at most 1024
/// bytes); `out` null or a writable `bt_inbox *`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_conversation_inbox(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    out: *mut *mut bt_inbox,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, account, peer) = unsafe {
            (
                ptr::out(out, "out", core::ptr::null_mut())?,
                bt_account::borrow(account)?,
                ptr::address(user, user_len, 0)?,
            )
        };
        let entries = account.account.conversation_inbox(&peer.user)?;
        *out = bt_inbox { entries }.into_raw();
        Ok(())
    })
}

/// The Lamport counter of the conversation with the user `(user, user_len)` into
/// `*out_lamport` (spec §10): the value of the last message sent or the largest received,
/// 0 before the first.
///
/// # Safety
/// `account` a live handle or null; `(user, user_len)` as a byte input (at most 1024
/// bytes); `out_lamport` null or a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_conversation_clock(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    out_lamport: *mut u64,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, account, peer) = unsafe {
            (
                ptr::out(out_lamport, "out_lamport", 0)?,
                bt_account::borrow(account)?,
                ptr::address(user, user_len, 0)?,
            )
        };
        *out = account.account.conversation_clock(&peer.user)?;
        Ok(())
    })
}

/// The number of entries in the snapshot; 0 for null.
///
/// # Safety
/// `inbox` null or a live `bt_inbox`.
#[no_mangle]
pub unsafe extern "C" fn bt_inbox_len(inbox: *const bt_inbox) -> usize {
    guard(0, || {
        // SAFETY: the caller's guarantee.
        let inbox = unsafe { bt_inbox::borrow(inbox) };
        inbox.map_or(0, |i| i.entries.len())
    })
}

/// Writes entry `index` (0 to `bt_inbox_len - 1`; `BT_INVALID_ARGUMENT` past the end) to
/// `*out`, borrowing from the inbox (see `bt_inbox_entry`).
///
/// # Safety
/// `inbox` null or a live `bt_inbox`; `out` null or a writable `bt_inbox_entry`.
#[no_mangle]
pub unsafe extern "C" fn bt_inbox_get(
    inbox: *const bt_inbox,
    index: usize,
    out: *mut bt_inbox_entry,
) -> bt_status {
    boundary(|| {
        let empty = bt_inbox_entry {
            id: [0; 16],
            user: core::ptr::null(),
            user_len: 0,
            device: 0,
            body: core::ptr::null(),
            body_len: 0,
            lamport: 0,
            sent_at_ms: 0,
            transcript_to: core::ptr::null(),
            transcript_to_len: 0,
            group: core::ptr::null(),
            group_len: 0,
        };
        // SAFETY: the caller's guarantees, as documented above.
        let (out, inbox) = unsafe { (ptr::out(out, "out", empty)?, bt_inbox::borrow(inbox)?) };
        let entry = inbox.entries.get(index).ok_or_else(|| {
            FfiError::InvalidArgument(format!(
                "index {index} is past the end of an inbox of {} entries",
                inbox.entries.len()
            ))
        })?;
        *out = bt_inbox_entry {
            id: entry.id.0,
            user: entry.from.user.as_ptr(),
            user_len: entry.from.user.len(),
            device: entry.from.device,
            body: entry.body.as_ptr(),
            body_len: entry.body.len(),
            lamport: entry.lamport,
            sent_at_ms: entry.sent_at_ms,
            transcript_to: entry
                .transcript_to
                .as_ref()
                .map_or(core::ptr::null(), |t| t.as_ptr()),
            transcript_to_len: entry.transcript_to.as_ref().map_or(0, Vec::len),
            group: entry
                .group
                .as_ref()
                .map_or(core::ptr::null(), |g| g.as_ptr()),
            group_len: entry.group.as_ref().map_or(0, Vec::len),
        };
        Ok(())
    })
}

/// Frees the snapshot (wiping the bodies); null is a no-op. Entries read from it become
/// invalid.
///
/// # Safety
/// `inbox` null or a live `bt_inbox` that no other thread is reading.
#[no_mangle]
pub unsafe extern "C" fn bt_inbox_free(inbox: *mut bt_inbox) {
    // SAFETY: the caller's guarantee.
    guard((), || unsafe { bt_inbox::free(inbox) });
}

#[cfg(test)]
mod tests {
    use super::*;
    use bluetick::{Address, MessageId};

    #[test]
    fn entries_borrow_from_the_snapshot() {
        let inbox = bt_inbox {
            entries: vec![InboxEntry {
                id: MessageId([4; 16]),
                from: Address::new("alice", 2),
                lamport: 9,
                sent_at_ms: 1_234,
                transcript_to: None,
                group: None,
                body: b"hello".to_vec(),
            }],
        }
        .into_raw();
        let mut e = core::mem::MaybeUninit::<bt_inbox_entry>::uninit();
        // SAFETY: a live inbox and a writable entry; the inbox is freed once at the end.
        unsafe {
            assert_eq!(bt_inbox_len(inbox), 1);
            assert_eq!(bt_inbox_get(inbox, 0, e.as_mut_ptr()), bt_status::BT_OK);
            let e = e.assume_init_ref();
            assert_eq!(e.id, [4; 16]);
            assert_eq!(core::slice::from_raw_parts(e.user, e.user_len), b"alice");
            assert_eq!(core::slice::from_raw_parts(e.body, e.body_len), b"hello");
            assert_eq!(e.device, 2);
            assert_eq!((e.lamport, e.sent_at_ms), (9, 1_234));
            let mut past = core::mem::MaybeUninit::<bt_inbox_entry>::uninit();
            assert_eq!(
                bt_inbox_get(inbox, 1, past.as_mut_ptr()),
                bt_status::BT_INVALID_ARGUMENT
            );
            assert!(past.assume_init().body.is_null());
            assert_eq!(
                bt_inbox_get(inbox, 0, core::ptr::null_mut()),
                bt_status::BT_NULL_ARGUMENT
            );
            bt_inbox_free(inbox);
            assert_eq!(bt_inbox_len(core::ptr::null()), 0);
            bt_inbox_free(core::ptr::null_mut());
        }
    }
}
