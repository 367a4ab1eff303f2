//! The panic boundary every exported function runs inside, the error type of the C layer,
//! and the per-thread last error message.

use core::cell::RefCell;
use core::ffi::c_char;
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};

use bluetick::{
    AccountError, BundleError, DecodeError, DecryptionError, DeviceError, EncryptionError,
    ErrorKind, KeyError, ReceiptError, StoreError,
};

use crate::status::bt_status;

/// Why a call failed, with the message `bt_last_error_message` will return.
#[derive(Debug)]
pub(crate) enum FfiError {
    /// A required pointer was null; names the argument.
    Null(&'static str),
    /// An argument out of range.
    InvalidArgument(String),
    /// A caller-provided output buffer too small.
    Buffer(String),
    /// An error of the library, by kind.
    Core { kind: ErrorKind, message: String },
    /// An error with a status of its own (the relay client's).
    Status { status: bt_status, message: String },
}

impl FfiError {
    pub(crate) fn status(&self) -> bt_status {
        match self {
            Self::Null(_) => bt_status::BT_NULL_ARGUMENT,
            Self::InvalidArgument(_) => bt_status::BT_INVALID_ARGUMENT,
            Self::Buffer(_) => bt_status::BT_BUFFER,
            Self::Core { kind, .. } => bt_status::of_kind(*kind),
            Self::Status { status, .. } => *status,
        }
    }

    pub(crate) fn message(&self) -> String {
        match self {
            Self::Null(name) => format!("argument `{name}` is null"),
            Self::InvalidArgument(m) | Self::Buffer(m) | Self::Status { message: m, .. } => {
                m.clone()
            }
            Self::Core { kind, message } => {
                if bt_status::of_kind(*kind) == bt_status::BT_INTERNAL {
                    format!("{} ({message})", kind.name())
                } else {
                    message.clone()
                }
            }
        }
    }
}

macro_rules! from_core {
    ($($t:ty),*) => {$(
        impl From<$t> for FfiError {
            fn from(e: $t) -> Self {
                Self::Core { kind: e.kind(), message: e.to_string() }
            }
        }
    )*};
}
from_core!(
    AccountError,
    DeviceError,
    BundleError,
    DecodeError,
    DecryptionError,
    EncryptionError,
    KeyError,
    ReceiptError,
    StoreError
);

thread_local! {
    /// `None` until the thread's first call; then the message of its latest call.
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Records the outcome of the calling thread's latest call.
pub(crate) fn set_last_error(message: &str) {
    // A success clears the message without allocating: every call passes here.
    let message = if message.is_empty() {
        None
    } else {
        // A message with an interior NUL (a user id is arbitrary bytes) would be cut short
        // in C.
        Some(CString::new(message.replace('\0', "\\0")).unwrap_or_default())
    };
    // `try_with` fails only while the thread is being torn down; then there is nobody to
    // read the message.
    let _ = LAST_ERROR.try_with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            *slot = message;
        }
    });
}

/// The calling thread's last error message, as a pointer into thread-local storage.
pub(crate) fn last_error_ptr() -> *const c_char {
    LAST_ERROR
        .try_with(|cell| {
            cell.try_borrow()
                .ok()
                .and_then(|s| s.as_ref().map(|s| s.as_ptr()))
        })
        .ok()
        .flatten()
        .unwrap_or(c"".as_ptr())
}

fn panic_message(payload: &(dyn core::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string payload".to_owned());
    format!("the library panicked (a bug; please report it): {what}")
}

/// Runs an exported function's body: catches any panic (`BT_PANIC`), turns the error into
/// its status, and records the message for `bt_last_error_message` (empty on success).
pub(crate) fn boundary(f: impl FnOnce() -> Result<(), FfiError>) -> bt_status {
    let (status, message) = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => (bt_status::BT_OK, String::new()),
        Ok(Err(e)) => (e.status(), e.message()),
        Err(payload) => (bt_status::BT_PANIC, panic_message(&*payload)),
    };
    set_last_error(&message);
    status
}

/// The boundary for the few functions that do not return a status (frees, getters): a panic
/// gives `fallback` and leaves the last error alone.
pub(crate) fn guard<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// The message of the last failed call on the calling thread, or `""` if the last call
/// that returns a `bt_status` succeeded (or there was none yet).
///
/// Ownership: the string belongs to the library. It stays valid, unchanged, until the
/// next call on this same thread of any function that returns `bt_status` (each such call
/// replaces it), or until the thread exits. Copy it to keep it. Never null; never free it.
/// Each thread has its own message, so threads never see each other's errors.
#[no_mangle]
pub extern "C" fn bt_last_error_message() -> *const c_char {
    guard(c"".as_ptr(), last_error_ptr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ffi::CStr;

    fn last() -> String {
        // SAFETY: the pointer is valid until the next status-returning call on this thread.
        unsafe { CStr::from_ptr(bt_last_error_message()) }
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn success_clears_and_failure_sets_the_message() {
        assert_eq!(
            boundary(|| Err(FfiError::Null("out"))),
            bt_status::BT_NULL_ARGUMENT
        );
        assert_eq!(last(), "argument `out` is null");
        assert_eq!(boundary(|| Ok(())), bt_status::BT_OK);
        assert_eq!(last(), "");
    }

    #[test]
    fn core_errors_keep_their_kind_and_message() {
        let e = FfiError::from(StoreError::WrongKey);
        assert_eq!(e.status(), bt_status::BT_WRONG_STORAGE_KEY);
        assert_eq!(boundary(|| Err(e)), bt_status::BT_WRONG_STORAGE_KEY);
        assert!(last().contains("storage key does not open"), "{}", last());
        let e = FfiError::from(DecodeError::Truncated {
            what: "prekey bundle",
        });
        assert_eq!(e.status(), bt_status::BT_TRUNCATED);
    }

    #[test]
    fn interior_nul_does_not_cut_the_message() {
        set_last_error("user a\0b");
        assert_eq!(last(), "user a\\0b");
    }

    #[test]
    fn panics_become_bt_panic_with_the_panic_message() {
        #[allow(clippy::panic)]
        let status = boundary(|| panic!("boom {}", 7));
        assert_eq!(status, bt_status::BT_PANIC);
        assert!(last().contains("boom 7"), "{}", last());
        assert_eq!(guard(5, || -> i32 { std::panic::panic_any(1u8) }), 5);
    }

    #[test]
    fn each_thread_has_its_own_last_error() {
        boundary(|| Err(FfiError::InvalidArgument("main thread".into())));
        std::thread::spawn(|| {
            assert_eq!(last(), "");
            boundary(|| Err(FfiError::InvalidArgument("other thread".into())));
            assert_eq!(last(), "other thread");
        })
        .join()
        .unwrap();
        assert_eq!(last(), "main thread");
    }
}
