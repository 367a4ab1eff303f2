//! Prekey upkeep for apps, and the prekey-upload helpers for relays written in C.

use bluetick::PreKeyUpload;

use crate::account::bt_account;
use crate::boundary::{boundary, FfiError};
use crate::buffer::bt_buffer;
use crate::ptr::{self, Handle};
use crate::status::bt_status;

/// How many one-time prekeys the account still holds.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct bt_prekey_counts {
    /// One-time X25519 prekeys.
    pub one_time_prekeys: u32,
    /// One-time ML-KEM prekeys.
    pub one_time_pq_prekeys: u32,
    /// Whether either is below the low-water mark: call `bt_account_replenish_prekeys`.
    pub low: bool,
}

/// The shared body of the functions that return an upload.
///
/// # Safety
/// `account` a live handle or null; `out` null or a writable `bt_buffer`.
unsafe fn upload_of(
    account: *const bt_account,
    out: *mut bt_buffer,
    make: impl FnOnce(&bluetick::Account) -> Result<PreKeyUpload, bluetick::AccountError>,
) -> Result<(), FfiError> {
    // SAFETY: forwarded from the caller.
    let (out, account) = unsafe {
        (
            ptr::out(out, "out_upload", bt_buffer::EMPTY)?,
            bt_account::borrow(account)?,
        )
    };
    *out = bt_buffer::from_vec(make(&account.account)?.to_bytes());
    Ok(())
}

/// Everything to publish: the identity, the current signed and last-resort PQ prekeys and
/// every one-time prekey held, as upload bytes for the relay (`*out_upload`, freed with
/// `bt_buffer_free`). Upload it once after creating the account.
///
/// # Safety
/// `account` a live handle or null; `out_upload` null or a writable `bt_buffer`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_prekey_upload(
    account: *const bt_account,
    out_upload: *mut bt_buffer,
) -> bt_status {
    // SAFETY: the caller's guarantees.
    boundary(|| unsafe { upload_of(account, out_upload, |a| a.prekey_upload()) })
}

/// Generates one-time prekeys up to the configured counts; `*out_upload` carries only the
/// new ones (with the current signed and last-resort prekeys): upload it, and the relay
/// adds them (`bt_prekey_upload_merge`).
///
/// # Safety
/// As `bt_account_prekey_upload`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_replenish_prekeys(
    account: *const bt_account,
    out_upload: *mut bt_buffer,
) -> bt_status {
    // SAFETY: the caller's guarantees.
    boundary(|| unsafe { upload_of(account, out_upload, |a| a.replenish_prekeys()) })
}

/// Makes a new signed prekey current and retires the previous one at `now_ms` (it keeps
/// decrypting messages in flight until `bt_account_prune_retired_prekeys`). Upload
/// `*out_upload`.
///
/// # Safety
/// As `bt_account_prekey_upload`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_rotate_signed_prekey(
    account: *const bt_account,
    now_ms: u64,
    out_upload: *mut bt_buffer,
) -> bt_status {
    // SAFETY: the caller's guarantees.
    boundary(|| unsafe { upload_of(account, out_upload, |a| a.rotate_signed_prekey(now_ms)) })
}

/// Makes a new last-resort PQ prekey current and retires the previous one at `now_ms`.
/// Upload `*out_upload`.
///
/// # Safety
/// As `bt_account_prekey_upload`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_rotate_last_resort_pq_prekey(
    account: *const bt_account,
    now_ms: u64,
    out_upload: *mut bt_buffer,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees.
        unsafe {
            upload_of(account, out_upload, |a| {
                a.rotate_last_resort_pq_prekey(now_ms)
            })
        }
    })
}

/// Deletes the signed and last-resort prekeys retired at least `keep_for_ms` before
/// `now_ms`; `*out_deleted` receives how many.
///
/// # Safety
/// `account` a live handle or null; `out_deleted` null or a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_prune_retired_prekeys(
    account: *const bt_account,
    now_ms: u64,
    keep_for_ms: u64,
    out_deleted: *mut usize,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, account) = unsafe {
            (
                ptr::out(out_deleted, "out_deleted", 0)?,
                bt_account::borrow(account)?,
            )
        };
        *out = account.account.prune_retired_prekeys(now_ms, keep_for_ms)?;
        Ok(())
    })
}

/// How many one-time prekeys are left, and whether to replenish.
///
/// # Safety
/// `account` a live handle or null; `out` null or a writable `bt_prekey_counts`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_prekey_counts(
    account: *const bt_account,
    out: *mut bt_prekey_counts,
) -> bt_status {
    boundary(|| {
        let zero = bt_prekey_counts {
            one_time_prekeys: 0,
            one_time_pq_prekeys: 0,
            low: false,
        };
        // SAFETY: the caller's guarantees, as documented above.
        let (out, account) = unsafe { (ptr::out(out, "out", zero)?, bt_account::borrow(account)?) };
        let c = account.account.prekey_counts()?;
        *out = bt_prekey_counts {
            one_time_prekeys: c.one_time_prekeys,
            one_time_pq_prekeys: c.one_time_pq_prekeys,
            low: c.low,
        };
        Ok(())
    })
}

/// For relays: strictly parses upload bytes and checks every signature and key in them
/// (`BT_TRUNCATED`, `BT_BAD_SIGNATURE`, ... on failure). A relay should refuse an upload
/// that fails.
///
/// # Safety
/// `(upload, upload_len)` a byte input.
#[no_mangle]
pub unsafe extern "C" fn bt_prekey_upload_verify(
    upload: *const u8,
    upload_len: usize,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantee.
        let upload = unsafe { ptr::bytes(upload, upload_len, "upload") }?;
        PreKeyUpload::from_bytes(upload)?.verify()?;
        Ok(())
    })
}

/// For relays (and tests): hands out one bundle from a device's published prekeys, as a
/// relay does for each peer that asks. Consumes one one-time prekey of each kind if any is
/// left (else the bundle carries the last-resort PQ prekey and no one-time X25519 key).
///
/// Outputs, both freed with `bt_buffer_free` (both empty on failure): `*out_remaining`, the
/// upload bytes without the consumed keys, to store in place of `upload`; `*out_bundle`, the
/// bundle bytes to give the peer (for `bt_account_encrypt`).
///
/// # Safety
/// `(upload, upload_len)` a byte input; `out_remaining`, `out_bundle` null or writable
/// `bt_buffer`s (distinct).
#[no_mangle]
pub unsafe extern "C" fn bt_prekey_upload_take_bundle(
    upload: *const u8,
    upload_len: usize,
    out_remaining: *mut bt_buffer,
    out_bundle: *mut bt_buffer,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out_remaining, out_bundle, upload) = unsafe {
            (
                ptr::out(out_remaining, "out_remaining", bt_buffer::EMPTY)?,
                ptr::out(out_bundle, "out_bundle", bt_buffer::EMPTY)?,
                ptr::bytes(upload, upload_len, "upload")?,
            )
        };
        let mut upload = PreKeyUpload::from_bytes(upload)?;
        let bundle = upload.take_bundle();
        *out_bundle = bt_buffer::from_vec(bundle.to_bytes());
        *out_remaining = bt_buffer::from_vec(upload.to_bytes());
        Ok(())
    })
}

/// For relays: applies a later upload from the same device (`newer`, from
/// `bt_account_replenish_prekeys` or a rotation) to the stored one (`older`): the signed and
/// last-resort prekeys are replaced, the one-time prekeys added. `*out_merged` (freed with
/// `bt_buffer_free`) replaces `older`.
///
/// # Safety
/// Both inputs are byte inputs; `out_merged` null or a writable `bt_buffer`.
#[no_mangle]
pub unsafe extern "C" fn bt_prekey_upload_merge(
    older: *const u8,
    older_len: usize,
    newer: *const u8,
    newer_len: usize,
    out_merged: *mut bt_buffer,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, older, newer) = unsafe {
            (
                ptr::out(out_merged, "out_merged", bt_buffer::EMPTY)?,
                ptr::bytes(older, older_len, "older")?,
                ptr::bytes(newer, newer_len, "newer")?,
            )
        };
        let mut merged = PreKeyUpload::from_bytes(older)?;
        merged.merge(PreKeyUpload::from_bytes(newer)?);
        *out = bt_buffer::from_vec(merged.to_bytes());
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_helpers_refuse_null_and_truncated_input() {
        let mut a = bt_buffer::EMPTY;
        let mut b = bt_buffer::EMPTY;
        // SAFETY: valid pointers, or null as each case intends.
        unsafe {
            assert_eq!(
                bt_prekey_upload_take_bundle(core::ptr::null(), 5, &mut a, &mut b),
                bt_status::BT_NULL_ARGUMENT
            );
            assert_eq!(
                bt_prekey_upload_take_bundle(core::ptr::null(), 0, &mut a, &mut b),
                bt_status::BT_TRUNCATED
            );
            assert_eq!(
                bt_prekey_upload_take_bundle([1u8, 0].as_ptr(), 2, &mut a, &mut b),
                bt_status::BT_TRUNCATED
            );
            assert_eq!(
                bt_prekey_upload_take_bundle([9u8].as_ptr(), 1, &mut a, &mut b),
                bt_status::BT_UNSUPPORTED_VERSION
            );
            assert!(a.ptr.is_null() && b.ptr.is_null());
            assert_eq!(
                bt_prekey_upload_verify([1u8].as_ptr(), 1),
                bt_status::BT_TRUNCATED
            );
            assert_eq!(
                bt_prekey_upload_merge([1u8].as_ptr(), 1, core::ptr::null(), 0, &mut a),
                bt_status::BT_TRUNCATED
            );
            let mut counts = core::mem::MaybeUninit::uninit();
            assert_eq!(
                bt_account_prekey_counts(core::ptr::null(), counts.as_mut_ptr()),
                bt_status::BT_NULL_ARGUMENT
            );
            assert!(!counts.assume_init().low);
        }
    }
}
