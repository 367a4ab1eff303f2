//! `bt_buffer`: bytes the library hands to C.

use zeroize::Zeroize;

/// Bytes owned by the caller after the library returns them: wire messages, bodies,
/// prekey uploads and bundles.
///
/// Ownership: every `bt_buffer` that a function writes must be freed by exactly one call
/// to `bt_buffer_free` (or, inside a `bt_incoming`, by `bt_incoming_free`). An empty
/// buffer is `{ NULL, 0 }` and needs no free, though freeing it is harmless. Do not copy
/// the struct and free both copies; do not free `ptr` with `free()`. Outputs are written
/// without reading what was there, so passing a buffer that still holds bytes leaks them.
#[repr(C)]
#[derive(Debug)]
pub struct bt_buffer {
    /// The bytes, or null when `len` is 0.
    pub ptr: *mut u8,
    /// How many bytes `ptr` points to.
    pub len: usize,
}

impl bt_buffer {
    /// `{ NULL, 0 }`.
    pub(crate) const EMPTY: Self = Self {
        ptr: core::ptr::null_mut(),
        len: 0,
    };

    /// Hands `bytes` to C. A `Vec` whose capacity exceeds its length is copied (and wiped)
    /// rather than shrunk in place, so no copy of the bytes is freed unwiped.
    pub(crate) fn from_vec(mut bytes: Vec<u8>) -> Self {
        if bytes.is_empty() {
            return Self::EMPTY;
        }
        let boxed: Box<[u8]> = if bytes.len() == bytes.capacity() {
            bytes.into_boxed_slice()
        } else {
            let copy = Box::from(bytes.as_slice());
            bytes.zeroize();
            copy
        };
        let len = boxed.len();
        Self {
            ptr: Box::into_raw(boxed).cast::<u8>(),
            len,
        }
    }

    /// Wipes and frees the bytes, leaving `{ NULL, 0 }`.
    ///
    /// # Safety
    /// `ptr` must be null, or come from [`bt_buffer::from_vec`] with this `len` and not
    /// have been freed.
    pub(crate) unsafe fn release(&mut self) {
        if !self.ptr.is_null() && self.len != 0 {
            let slice = core::ptr::slice_from_raw_parts_mut(self.ptr, self.len);
            // SAFETY: per the caller's guarantee, `ptr`/`len` are an unfreed `Box<[u8]>`
            // made by `from_vec`; ownership comes back here exactly once.
            let mut boxed = unsafe { Box::from_raw(slice) };
            boxed.zeroize();
        }
        *self = Self::EMPTY;
    }
}

/// Wipes and frees the bytes of `*buf` and sets it to `{ NULL, 0 }`, so a second call on the
/// same struct does nothing. `buf` may be null, and `*buf` may be empty.
///
/// # Safety
/// Unless null, `buf` must point to a `bt_buffer` that the library wrote and that has not
/// been freed through another copy.
#[no_mangle]
pub unsafe extern "C" fn bt_buffer_free(buf: *mut bt_buffer) {
    crate::boundary::guard((), || {
        // SAFETY: the caller passes null or a valid, aligned `bt_buffer` it owns.
        if let Some(buf) = unsafe { buf.as_mut() } {
            // SAFETY: the library wrote this buffer with `from_vec`, and it is unfreed.
            unsafe { buf.release() };
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(b: &bt_buffer) -> &[u8] {
        // SAFETY: `b` was made by `from_vec` and is not freed.
        unsafe { core::slice::from_raw_parts(b.ptr, b.len) }
    }

    #[test]
    fn round_trip_and_free_twice() {
        let mut b = bt_buffer::from_vec(b"hello".to_vec());
        assert_eq!(view(&b), b"hello");
        // SAFETY: made by the library, freed through this one struct.
        unsafe { bt_buffer_free(&mut b) };
        assert!(b.ptr.is_null());
        assert_eq!(b.len, 0);
        // SAFETY: an empty buffer: freeing again is a no-op.
        unsafe { bt_buffer_free(&mut b) };
        // SAFETY: null is allowed.
        unsafe { bt_buffer_free(core::ptr::null_mut()) };
    }

    #[test]
    fn empty_is_null_and_spare_capacity_is_copied() {
        let b = bt_buffer::from_vec(Vec::with_capacity(64));
        assert!(b.ptr.is_null());
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(&[1, 2, 3]);
        let mut b = bt_buffer::from_vec(v);
        assert_eq!(view(&b), &[1, 2, 3]);
        // SAFETY: made by the library.
        unsafe { b.release() };
        let mut e = bt_buffer::EMPTY;
        // SAFETY: empty.
        unsafe { bt_buffer_free(&mut e) };
    }
}
