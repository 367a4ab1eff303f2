//! # bluetick-ffi: the C ABI of Bluetick
//!
//! Everything an app can do with a [`bluetick::Account`], callable from C (and so from
//! Swift, Kotlin/JNI, Dart, ...). The header `include/bluetick.h` is generated from this
//! crate by cbindgen and checked in; `docs/ffi.md` is the guide.
//!
//! Conventions, which hold for every function:
//!
//! - **Results**: every function that can fail returns a [`bt_status`] (`BT_OK` is 0) and
//!   writes its results through out-pointers. `bt_last_error_message` explains the last
//!   failure on the calling thread.
//! - **Inputs** are borrowed for the duration of the call only. Byte inputs are
//!   `(const uint8_t *ptr, size_t len)`, where `ptr` may be null only when `len` is 0; the
//!   library never reads past `len`. Arrays of records (ids, batch messages) likewise with
//!   their count; a null pointer is `BT_NULL_ARGUMENT` whatever the length or count, as
//!   every pointer is checked for null before any size is. Fixed-size inputs (`id`: 16 bytes, `key`: 32) are
//!   pointers to that many bytes. Peers are `(user, user_len, device)`.
//! - **Outputs**: every out-pointer must be non-null (`BT_NULL_ARGUMENT`) and is written
//!   before anything else happens, so on failure the caller finds an empty buffer, a null
//!   handle, `false` or zeros there, never garbage. Outputs are written without reading
//!   the old contents.
//! - **Ownership**: the caller owns what the library returns: a `bt_buffer` until
//!   `bt_buffer_free`, a `bt_incoming` until `bt_incoming_free`, handles (`bt_account`,
//!   `bt_inbox`, `bt_relay_client`) until their `*_free`. Each is freed exactly once;
//!   every free accepts null.
//! - **Threads**: a `bt_account` may be used by several threads at once (it locks inside);
//!   only its free must not overlap other uses. Last-error messages are per thread.
//! - **Panics** never cross the boundary: a bug inside gives `BT_PANIC`.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]
// The exported names are C's: `bt_account`, `BT_OK`.
#![allow(non_camel_case_types)]

mod account;
mod attachment;
mod boundary;
mod buffer;
mod devices;
mod groups;
mod inbox;
mod messaging;
mod prekeys;
mod protocol;
mod ptr;
mod relay;
mod status;

use core::ffi::c_char;

pub use account::*;
pub use attachment::*;
pub use boundary::bt_last_error_message;
pub use buffer::*;
pub use devices::*;
pub use groups::*;
pub use inbox::*;
pub use messaging::*;
pub use prekeys::*;
pub use protocol::*;
pub use relay::*;
pub use status::*;

/// The version of the C ABI this header describes. It changes only when a declaration in
/// the header changes incompatibly; compare it with `bt_abi_version()` at startup.
///
/// Version 2: names and argument orders follow the Rust API (`bt_session_encrypt` writes
/// `out_id` before `out_wire`; `bt_session_new` / `bt_session_from_bytes`;
/// `bt_session_start_session`; `bt_prekeys_add_*_prekey`), and `bt_status` is an
/// `int32_t`.
///
/// Version 3: application messages carry a Lamport clock and the send time (spec §10):
/// `bt_account_encrypt` takes `now_ms` and writes `out_lamport`; `bt_incoming` and
/// `bt_inbox_entry` end with `lamport` and `sent_at_ms`; `BT_INVALID_BODY` is new.
pub const BT_ABI_VERSION: u32 = 3;

/// The ABI version of the loaded library; equal to `BT_ABI_VERSION` of the header it was
/// built with.
#[no_mangle]
pub extern "C" fn bt_abi_version() -> u32 {
    BT_ABI_VERSION
}

/// The library's version, such as `"0.1.0"`: a static NUL-terminated string, never null,
/// never freed.
#[no_mangle]
pub extern "C" fn bt_version() -> *const c_char {
    const VERSION: &core::ffi::CStr = match core::ffi::CStr::from_bytes_with_nul(
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(v) => v,
        Err(_) => c"unknown",
    };
    VERSION.as_ptr()
}

/// Panics inside the library on purpose, and always returns `BT_PANIC`: lets an app check
/// that its error handling copes with the library's last-resort error (the process goes
/// on; `bt_last_error_message` says what happened). Does nothing else.
#[no_mangle]
pub extern "C" fn bt_test_panic() -> bt_status {
    boundary::boundary(|| {
        #[allow(clippy::panic)] // the point of this function
        {
            panic!("bt_test_panic: a deliberate panic to test the caller's error handling")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        // SAFETY: static NUL-terminated string.
        let v = unsafe { core::ffi::CStr::from_ptr(bt_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
        assert_eq!(bt_abi_version(), BT_ABI_VERSION);
    }

    #[test]
    fn the_test_panic_is_caught() {
        assert_eq!(bt_test_panic(), bt_status::BT_PANIC);
        // SAFETY: valid until the next status-returning call on this thread.
        let m = unsafe { core::ffi::CStr::from_ptr(bt_last_error_message()) };
        assert!(m.to_str().unwrap().contains("deliberate panic"));
    }
}
