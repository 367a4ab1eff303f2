//! Every conversion of a raw pointer from C into a Rust reference happens here: byte
//! inputs, fixed-size arrays, C strings, out-pointers and the opaque handles. Exported
//! functions call these and never cast or dereference a pointer themselves.

use core::ffi::{c_char, CStr};

use bluetick::account::MAX_USER_LEN;
use bluetick::Address;

use crate::boundary::FfiError;

/// The bytes `ptr[0..len]`. `ptr` may be null only when `len` is 0 (an empty input).
///
/// # Safety
/// Unless null, `ptr` must point to `len` readable bytes that stay valid and unmodified for
/// `'a`.
pub(crate) unsafe fn bytes<'a>(
    ptr: *const u8,
    len: usize,
    name: &'static str,
) -> Result<&'a [u8], FfiError> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(FfiError::Null(name));
    }
    if len > isize::MAX as usize {
        return Err(FfiError::InvalidArgument(format!(
            "argument `{name}`: length {len} is larger than any object"
        )));
    }
    // SAFETY: non-null, `len` is within `isize::MAX`, and the caller guarantees `len`
    // readable bytes that live for `'a`; `u8` has no alignment or validity requirement.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// A C array of `count` values of `T`. `ptr` may be null only when `count` is 0.
///
/// # Safety
/// Unless null, `ptr` must point to `count` initialised, aligned values of `T` (every bit
/// pattern of which must be a valid `T`) that stay valid and unmodified for `'a`.
pub(crate) unsafe fn slice<'a, T>(
    ptr: *const T,
    count: usize,
    name: &'static str,
) -> Result<&'a [T], FfiError> {
    if count == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(FfiError::Null(name));
    }
    if count
        .checked_mul(core::mem::size_of::<T>())
        .is_none_or(|n| n > isize::MAX as usize)
    {
        return Err(FfiError::InvalidArgument(format!(
            "argument `{name}`: {count} elements are larger than any object"
        )));
    }
    // SAFETY: non-null, the total size is within `isize::MAX`, and the caller guarantees
    // `count` valid, aligned values living for `'a`.
    Ok(unsafe { core::slice::from_raw_parts(ptr, count) })
}

/// `count` records of `N` bytes each, packed (a C `const uint8_t name[count][N]`, such as
/// an array of 16-byte message ids). As [`slice`]: a null `ptr` is `BT_NULL_ARGUMENT`
/// whatever `count` is, and only then is the size checked.
///
/// # Safety
/// Unless null, `ptr` must point to `count * N` readable bytes valid for `'a`.
pub(crate) unsafe fn arrays<'a, const N: usize>(
    ptr: *const u8,
    count: usize,
    name: &'static str,
) -> Result<&'a [[u8; N]], FfiError> {
    // SAFETY: `[u8; N]` has alignment 1 and every bit pattern is valid; the caller
    // guarantees `count * N` readable bytes.
    unsafe { slice(ptr.cast::<[u8; N]>(), count, name) }
}

/// A caller-provided C array of `count` values of `T` to fill, each first set to
/// `initial()`. `ptr` may be null only when `count` is 0.
///
/// # Safety
/// Unless null, `ptr` must point to `count` writable, aligned `T`s, not aliased by any other
/// argument, for `'a`. Their previous contents are overwritten, never read or dropped.
pub(crate) unsafe fn out_slice<'a, T>(
    ptr: *mut T,
    count: usize,
    name: &'static str,
    initial: impl Fn() -> T,
) -> Result<&'a mut [T], FfiError> {
    if count == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(FfiError::Null(name));
    }
    if count
        .checked_mul(core::mem::size_of::<T>())
        .is_none_or(|n| n > isize::MAX as usize)
    {
        return Err(FfiError::InvalidArgument(format!(
            "argument `{name}`: {count} elements are larger than any object"
        )));
    }
    for i in 0..count {
        // SAFETY: `i < count`, within the caller's array; `write` neither reads nor drops.
        unsafe { ptr.add(i).write(initial()) };
    }
    // SAFETY: all `count` elements were just initialised; exclusive for `'a` by the
    // caller's guarantee.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr, count) })
}

/// `N` bytes at `ptr` (a C `const uint8_t name[N]`).
///
/// # Safety
/// Unless null, `ptr` must point to `N` readable bytes valid for `'a`.
pub(crate) unsafe fn array<'a, const N: usize>(
    ptr: *const u8,
    name: &'static str,
) -> Result<&'a [u8; N], FfiError> {
    // SAFETY: `[u8; N]` has alignment 1; the caller guarantees `N` readable bytes.
    unsafe { ptr.cast::<[u8; N]>().as_ref() }.ok_or(FfiError::Null(name))
}

/// A NUL-terminated UTF-8 string.
///
/// # Safety
/// Unless null, `ptr` must point to a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn utf8<'a>(ptr: *const c_char, name: &'static str) -> Result<&'a str, FfiError> {
    if ptr.is_null() {
        return Err(FfiError::Null(name));
    }
    // SAFETY: non-null, and the caller guarantees a NUL-terminated string living for `'a`.
    let s = unsafe { CStr::from_ptr(ptr) };
    s.to_str()
        .map_err(|_| FfiError::InvalidArgument(format!("argument `{name}` is not UTF-8")))
}

/// An out-pointer: checked for null, then set to `initial`, so that whatever happens next
/// the caller finds a valid value there (an empty buffer, a null handle, `false`).
///
/// # Safety
/// Unless null, `ptr` must be valid for writes of a `T`, suitably aligned, and not
/// aliased by any other argument for `'a`. Its previous contents are overwritten, never
/// read or dropped.
pub(crate) unsafe fn out<'a, T>(
    ptr: *mut T,
    name: &'static str,
    initial: T,
) -> Result<&'a mut T, FfiError> {
    if ptr.is_null() {
        return Err(FfiError::Null(name));
    }
    // SAFETY: non-null, writable and aligned by the caller's guarantee; `write` does not
    // read or drop the old (possibly uninitialised) value.
    unsafe { ptr.write(initial) };
    // SAFETY: just initialised; exclusive for `'a` by the caller's guarantee.
    Ok(unsafe { &mut *ptr })
}

/// A caller-provided `uint8_t name[N]` to fill, zeroed first.
///
/// # Safety
/// Unless null, `ptr` must point to `N` writable bytes, not aliased by any other argument,
/// for `'a`.
pub(crate) unsafe fn out_array<'a, const N: usize>(
    ptr: *mut u8,
    name: &'static str,
) -> Result<&'a mut [u8; N], FfiError> {
    // SAFETY: `[u8; N]` has alignment 1; the caller's guarantee is the one `out` needs.
    unsafe { out(ptr.cast::<[u8; N]>(), name, [0u8; N]) }
}

/// A peer address from `(user, user_len, device)`.
///
/// # Safety
/// As [`bytes`] for `user` and `user_len`.
pub(crate) unsafe fn address(
    user: *const u8,
    user_len: usize,
    device: u32,
) -> Result<Address, FfiError> {
    // SAFETY: forwarded from the caller.
    let user = unsafe { bytes(user, user_len, "user") }?;
    if user.len() > MAX_USER_LEN {
        return Err(FfiError::InvalidArgument(format!(
            "the user id is {} bytes; at most {MAX_USER_LEN} are allowed",
            user.len()
        )));
    }
    Ok(Address::new(user, device))
}

/// An opaque type C holds by pointer: created by the library as a `Box`, borrowed by
/// every call that takes it, freed by exactly one `*_free`. The only place where handles
/// are cast.
pub(crate) trait Handle: Sized {
    /// The name used in null-argument messages.
    const NAME: &'static str;

    /// Moves `self` to the heap and gives C its pointer.
    fn into_raw(self) -> *mut Self {
        Box::into_raw(Box::new(self))
    }

    /// Borrows a handle.
    ///
    /// # Safety
    /// Unless null, `ptr` must come from [`Handle::into_raw`] of this type and not have
    /// been freed, and must not be freed during `'a`.
    unsafe fn borrow<'a>(ptr: *const Self) -> Result<&'a Self, FfiError> {
        // SAFETY: per the caller's guarantee a live `Box<Self>` allocation, only ever
        // shared (the library never takes `&mut` to a handle while C holds it).
        unsafe { ptr.as_ref() }.ok_or(FfiError::Null(Self::NAME))
    }

    /// Frees a handle; null is a no-op.
    ///
    /// # Safety
    /// Unless null, `ptr` must come from [`Handle::into_raw`] of this type, not have been
    /// freed, and not be in use by any other thread.
    unsafe fn free(ptr: *mut Self) {
        if !ptr.is_null() {
            // SAFETY: per the caller's guarantee, the pointer is an unfreed `Box<Self>`
            // that nothing else uses, so ownership can be taken back and dropped.
            drop(unsafe { Box::from_raw(ptr) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::bt_status;

    #[test]
    fn empty_inputs_may_be_null_others_may_not() {
        // SAFETY: null with length 0 is the documented empty input.
        assert_eq!(unsafe { bytes(core::ptr::null(), 0, "x") }.unwrap(), b"");
        // SAFETY: a null pointer is rejected before any read.
        let e = unsafe { bytes(core::ptr::null(), 3, "body") }.unwrap_err();
        assert_eq!(e.status(), bt_status::BT_NULL_ARGUMENT);
        assert_eq!(e.message(), "argument `body` is null");
        let data = [1u8, 2, 3, 4];
        // SAFETY: `data` has 4 readable bytes; only 3 are asked for.
        assert_eq!(unsafe { bytes(data.as_ptr(), 3, "x") }.unwrap(), &[1, 2, 3]);
        // SAFETY: rejected on length before any read.
        let e = unsafe { bytes(data.as_ptr(), usize::MAX, "x") }.unwrap_err();
        assert_eq!(e.status(), bt_status::BT_INVALID_ARGUMENT);
    }

    #[test]
    fn arrays_and_strings() {
        let key = [7u8; 32];
        // SAFETY: 32 readable bytes.
        assert_eq!(unsafe { array::<32>(key.as_ptr(), "k") }.unwrap(), &key);
        // SAFETY: null is rejected.
        assert!(unsafe { array::<32>(core::ptr::null(), "k") }.is_err());
        // SAFETY: a static NUL-terminated string.
        let path = unsafe { utf8(c"/tmp/a.db".as_ptr(), "p") }.unwrap();
        assert_eq!(path, "/tmp/a.db");
        let bad = [0xffu8, 0xfe, 0];
        // SAFETY: NUL-terminated bytes.
        let e = unsafe { utf8(bad.as_ptr().cast(), "path") }.unwrap_err();
        assert_eq!(e.status(), bt_status::BT_INVALID_ARGUMENT);
        // SAFETY: null is rejected.
        let e = unsafe { utf8(core::ptr::null(), "path") }.unwrap_err();
        assert_eq!(e.status(), bt_status::BT_NULL_ARGUMENT);
    }

    #[test]
    fn outs_are_initialised_before_use() {
        let mut flag = core::mem::MaybeUninit::<bool>::uninit();
        // SAFETY: a writable, aligned, unaliased bool.
        let r = unsafe { out(flag.as_mut_ptr(), "found", false) }.unwrap();
        *r = true;
        // SAFETY: initialised by `out`.
        assert!(unsafe { flag.assume_init() });
        let mut id = [0xaau8; 16];
        // SAFETY: 16 writable bytes.
        let r = unsafe { out_array::<16>(id.as_mut_ptr(), "id") }.unwrap();
        assert_eq!(r, &[0u8; 16]);
        r[0] = 1;
        assert_eq!(id[0], 1);
        // SAFETY: null is rejected before any write.
        assert!(unsafe { out_array::<16>(core::ptr::null_mut(), "id") }.is_err());
    }

    #[test]
    fn addresses_are_bounded() {
        let long = vec![b'a'; MAX_USER_LEN + 1];
        // SAFETY: `long` has that many readable bytes.
        let e = unsafe { address(long.as_ptr(), long.len(), 1) }.unwrap_err();
        assert_eq!(e.status(), bt_status::BT_INVALID_ARGUMENT);
        // SAFETY: as above, one byte fewer.
        let a = unsafe { address(long.as_ptr(), MAX_USER_LEN, 2) }.unwrap();
        assert_eq!((a.user.len(), a.device), (MAX_USER_LEN, 2));
    }

    #[test]
    fn packed_arrays_check_null_before_size() {
        let ids = [[1u8; 16], [2u8; 16]];
        // SAFETY: two 16-byte records.
        let got = unsafe { arrays::<16>(ids.as_ptr().cast(), 2, "ids") }.unwrap();
        assert_eq!(got, &ids);
        // SAFETY: an empty array may be null.
        assert!(unsafe { arrays::<16>(core::ptr::null(), 0, "ids") }
            .unwrap()
            .is_empty());
        // A null pointer is a null argument even when `count * 16` overflows.
        for count in [1, usize::MAX / 16 + 1, usize::MAX] {
            // SAFETY: null is rejected before any read.
            let e = unsafe { arrays::<16>(core::ptr::null(), count, "ids") }.unwrap_err();
            assert_eq!(e.status(), bt_status::BT_NULL_ARGUMENT, "count {count}");
        }
        // SAFETY: rejected on size before any read.
        let e = unsafe { arrays::<16>(ids.as_ptr().cast(), usize::MAX, "ids") }.unwrap_err();
        assert_eq!(e.status(), bt_status::BT_INVALID_ARGUMENT);
    }

    #[test]
    fn typed_arrays_in_and_out() {
        let values = [1u32, 2, 3];
        // SAFETY: three readable u32s.
        let got = unsafe { slice(values.as_ptr(), 3, "v") }.unwrap();
        assert_eq!(got, &[1, 2, 3]);
        // SAFETY: an empty array may be null.
        assert!(unsafe { slice::<u32>(core::ptr::null(), 0, "v") }
            .unwrap()
            .is_empty());
        // SAFETY: null with a count is rejected before any read.
        let e = unsafe { slice::<u32>(core::ptr::null(), 2, "v") }.unwrap_err();
        assert_eq!(e.status(), bt_status::BT_NULL_ARGUMENT);
        // SAFETY: rejected on size before any read.
        let e = unsafe { slice(values.as_ptr(), usize::MAX / 2, "v") }.unwrap_err();
        assert_eq!(e.status(), bt_status::BT_INVALID_ARGUMENT);
        let mut out = [core::mem::MaybeUninit::<u64>::uninit(); 4];
        // SAFETY: four writable u64s.
        let filled = unsafe { out_slice(out.as_mut_ptr().cast::<u64>(), 4, "o", || 7) }.unwrap();
        filled[3] = 8;
        assert_eq!(filled, &[7, 7, 7, 8]);
        // SAFETY: null with a count is rejected before any write.
        assert!(unsafe { out_slice::<u64>(core::ptr::null_mut(), 1, "o", || 0) }.is_err());
    }

    #[derive(Debug)]
    struct Thing(u32);
    impl Handle for Thing {
        const NAME: &'static str = "thing";
    }

    #[test]
    fn handles_borrow_and_free() {
        let p = Thing(9).into_raw();
        // SAFETY: `p` is live.
        assert_eq!(unsafe { Thing::borrow(p) }.unwrap().0, 9);
        // SAFETY: `p` is live and unused elsewhere; freed once.
        unsafe { Thing::free(p) };
        // SAFETY: null is accepted by both.
        unsafe { Thing::free(core::ptr::null_mut()) };
        // SAFETY: as above.
        let e = unsafe { Thing::borrow(core::ptr::null()) }.unwrap_err();
        assert_eq!(e.message(), "argument `thing` is null");
    }
}
