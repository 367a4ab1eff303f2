//! Attachments (spec §13) for C: chunk-at-a-time encryptor and decryptor handles that need
//! no callbacks (push bytes in, take each finished chunk out, finish for the pointer or the
//! verdict), random access to one chunk, and file-to-file calls each way.

use core::ffi::c_char;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use bluetick::attachment::{
    self, AttachmentError, AttachmentKey, AttachmentPointer, ChunkOpener, Decryptor, Encryptor,
    StreamError,
};

use crate::boundary::{boundary, guard, FfiError};
use crate::ptr::{self, Handle};
use crate::status::bt_status;

/// Length of an attachment pointer: key (32) || size (u64, big-endian) || SHA-256 of the
/// blob (32).
pub const BT_ATTACHMENT_POINTER_LEN: usize = 72;
/// Plaintext bytes per chunk (the last chunk may be shorter). An output buffer of this
/// size is enough for every decryptor call.
pub const BT_ATTACHMENT_CHUNK_LEN: usize = 65_536;
/// Bytes of a sealed chunk that is not the last (chunk and tag). An output buffer of this
/// size is enough for every encryptor call.
pub const BT_ATTACHMENT_SEALED_CHUNK_LEN: usize = 65_552;

impl From<AttachmentError> for FfiError {
    fn from(e: AttachmentError) -> Self {
        Self::Core {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl From<StreamError> for FfiError {
    fn from(e: StreamError) -> Self {
        Self::Core {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// Encrypts one attachment, a chunk at a time, under a fresh random key. Made by
/// `bt_attachment_encryptor_new`, fed by `bt_attachment_encryptor_update`, ended by
/// `bt_attachment_encryptor_finish`, freed by `bt_attachment_encryptor_free`. Memory is one
/// chunk whatever the attachment's size. Use it from one thread at a time.
pub struct bt_attachment_encryptor {
    state: Mutex<Option<Encryptor>>,
}

impl Handle for bt_attachment_encryptor {
    const NAME: &'static str = "encryptor";
}

/// Decrypts one attachment, a chunk at a time, checking it against its pointer. Made by
/// `bt_attachment_decryptor_new`, fed by `bt_attachment_decryptor_update`, judged by
/// `bt_attachment_decryptor_finish`, freed by `bt_attachment_decryptor_free`. Use it from
/// one thread at a time.
pub struct bt_attachment_decryptor {
    state: Mutex<Option<Decryptor>>,
}

impl Handle for bt_attachment_decryptor {
    const NAME: &'static str = "decryptor";
}

fn lock<T>(m: &Mutex<Option<T>>) -> Result<MutexGuard<'_, Option<T>>, FfiError> {
    m.lock().map_err(|_| {
        FfiError::InvalidArgument(
            "the handle is unusable after a failure inside the library; free it".to_owned(),
        )
    })
}

fn finished() -> FfiError {
    FfiError::InvalidArgument("the handle was already finished; free it and start anew".to_owned())
}

fn need_capacity(cap: usize, want: usize) -> Result<(), FfiError> {
    if cap < want {
        return Err(FfiError::Buffer(format!(
            "the output buffer holds {cap} bytes; pass one of at least {want}"
        )));
    }
    Ok(())
}

/// Copies `data` into the caller's `output` and sets `*output_len`.
///
/// # Safety
/// As [`ptr::out_slice`] for `output` with `data.len()` bytes.
unsafe fn put(output: *mut u8, data: &[u8], output_len: &mut usize) -> Result<(), FfiError> {
    // SAFETY: forwarded from the caller; the capacity was checked against the largest chunk.
    let dst = unsafe { ptr::out_slice(output, data.len(), "output", || 0u8) }?;
    dst.copy_from_slice(data);
    *output_len = data.len();
    Ok(())
}

/// Starts encrypting an attachment under a fresh random key into a new handle `*out`
/// (null on failure).
///
/// # Safety
/// `out` null or a writable `bt_attachment_encryptor *`.
#[no_mangle]
pub unsafe extern "C" fn bt_attachment_encryptor_new(
    out: *mut *mut bt_attachment_encryptor,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantee, as documented above.
        let out = unsafe { ptr::out(out, "out", core::ptr::null_mut()) }?;
        let key = AttachmentKey::generate(&mut bluetick::os_rng());
        *out = bt_attachment_encryptor {
            state: Mutex::new(Some(Encryptor::new(key))),
        }
        .into_raw();
        Ok(())
    })
}

/// Feeds plaintext: takes bytes from `input` until either they run out or a chunk is
/// sealed. `*consumed` says how many were taken; when a chunk was sealed it is copied to
/// `output` and `*output_len` is its length (else 0). Write each output to the blob in
/// order and call again with the rest of the input until all of it is consumed:
///
/// ```c
/// while (len > 0) {
///   bt_attachment_encryptor_update(enc, p, len, &used, out, sizeof out, &n);
///   fwrite(out, 1, n, blob);  p += used;  len -= used;
/// }
/// ```
///
/// `output_cap` must be at least `BT_ATTACHMENT_SEALED_CHUNK_LEN` (`BT_BUFFER` otherwise,
/// with nothing consumed).
///
/// # Safety
/// `encryptor` a live handle or null; `input` `input_len` readable bytes (null if 0);
/// `output` `output_cap` writable bytes; `consumed` and `output_len` writable.
#[no_mangle]
pub unsafe extern "C" fn bt_attachment_encryptor_update(
    encryptor: *const bt_attachment_encryptor,
    input: *const u8,
    input_len: usize,
    consumed: *mut usize,
    output: *mut u8,
    output_cap: usize,
    output_len: *mut usize,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (consumed, output_len, enc, input) = unsafe {
            (
                ptr::out(consumed, "consumed", 0)?,
                ptr::out(output_len, "output_len", 0)?,
                bt_attachment_encryptor::borrow(encryptor)?,
                ptr::bytes(input, input_len, "input")?,
            )
        };
        need_capacity(output_cap, BT_ATTACHMENT_SEALED_CHUNK_LEN)?;
        let mut guard = lock(&enc.state)?;
        let enc = guard.as_mut().ok_or_else(finished)?;
        let mut rest = input;
        let sealed = enc.push(&mut rest);
        *consumed = input.len() - rest.len();
        if let Some(sealed) = sealed? {
            // SAFETY: the caller's guarantee for `output`; the chunk fits `output_cap`.
            unsafe { put(output, sealed, output_len) }?;
        }
        Ok(())
    })
}

/// Ends the attachment: the final sealed chunk goes to `output` (`*output_len` bytes;
/// append it to the blob) and the pointer to send to `pointer_out`. The handle is spent
/// afterwards (free it). `output_cap` must be at least `BT_ATTACHMENT_SEALED_CHUNK_LEN`.
///
/// # Safety
/// `encryptor` a live handle or null; `output` `output_cap` writable bytes; `output_len`
/// writable; `pointer_out` 72 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_attachment_encryptor_finish(
    encryptor: *const bt_attachment_encryptor,
    output: *mut u8,
    output_cap: usize,
    output_len: *mut usize,
    pointer_out: *mut u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (output_len, pointer_out, enc) = unsafe {
            (
                ptr::out(output_len, "output_len", 0)?,
                ptr::out_array::<BT_ATTACHMENT_POINTER_LEN>(pointer_out, "pointer_out")?,
                bt_attachment_encryptor::borrow(encryptor)?,
            )
        };
        need_capacity(output_cap, BT_ATTACHMENT_SEALED_CHUNK_LEN)?;
        let enc = lock(&enc.state)?.take().ok_or_else(finished)?;
        let last = enc.finish()?;
        // SAFETY: the caller's guarantee for `output`; the chunk fits `output_cap`.
        unsafe { put(output, last.sealed(), output_len) }?;
        pointer_out.copy_from_slice(&last.pointer().to_bytes()[..]);
        Ok(())
    })
}

/// Frees an encryptor (its key is erased); null is a no-op.
///
/// # Safety
/// `encryptor` null, or a handle from `bt_attachment_encryptor_new` not yet freed and not
/// in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn bt_attachment_encryptor_free(encryptor: *mut bt_attachment_encryptor) {
    // SAFETY: the caller's guarantee, as documented above.
    guard((), || unsafe { bt_attachment_encryptor::free(encryptor) })
}

/// Parses a pointer from C: exactly 72 bytes, or the typed length error.
///
/// # Safety
/// As [`ptr::bytes`].
unsafe fn pointer_arg(p: *const u8, len: usize) -> Result<AttachmentPointer, FfiError> {
    // SAFETY: forwarded from the caller.
    let bytes = unsafe { ptr::bytes(p, len, "pointer") }?;
    Ok(AttachmentPointer::parse(bytes)?)
}

/// Starts decrypting the attachment `pointer` names (`pointer_len` must be 72:
/// `BT_TRUNCATED` or `BT_TRAILING_BYTES` otherwise) into a new handle `*out`.
///
/// # Safety
/// `pointer` `pointer_len` readable bytes; `out` null or a writable
/// `bt_attachment_decryptor *`.
#[no_mangle]
pub unsafe extern "C" fn bt_attachment_decryptor_new(
    pointer: *const u8,
    pointer_len: usize,
    out: *mut *mut bt_attachment_decryptor,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (out, pointer) = unsafe {
            (
                ptr::out(out, "out", core::ptr::null_mut())?,
                pointer_arg(pointer, pointer_len)?,
            )
        };
        *out = bt_attachment_decryptor {
            state: Mutex::new(Some(Decryptor::new(&pointer))),
        }
        .into_raw();
        Ok(())
    })
}

/// Feeds blob bytes: takes bytes from `input` until either they run out or a chunk is
/// complete. `*consumed` says how many were taken; when a chunk's tag verified its
/// plaintext is copied to `output` and `*output_len` is its length (else 0). Loop as with
/// `bt_attachment_encryptor_update`. A chunk that fails gives its error (and so does every
/// later call). Plaintext handed out is authentic chunk by chunk, but the attachment is
/// only vouched for when `bt_attachment_decryptor_finish` returns `BT_OK`: keep the output
/// aside (a temporary file) until then and discard it on any error.
///
/// `output_cap` must be at least `BT_ATTACHMENT_CHUNK_LEN`.
///
/// # Safety
/// As `bt_attachment_encryptor_update`, for a decryptor.
#[no_mangle]
pub unsafe extern "C" fn bt_attachment_decryptor_update(
    decryptor: *const bt_attachment_decryptor,
    input: *const u8,
    input_len: usize,
    consumed: *mut usize,
    output: *mut u8,
    output_cap: usize,
    output_len: *mut usize,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (consumed, output_len, dec, input) = unsafe {
            (
                ptr::out(consumed, "consumed", 0)?,
                ptr::out(output_len, "output_len", 0)?,
                bt_attachment_decryptor::borrow(decryptor)?,
                ptr::bytes(input, input_len, "input")?,
            )
        };
        need_capacity(output_cap, BT_ATTACHMENT_CHUNK_LEN)?;
        let mut guard = lock(&dec.state)?;
        let dec = guard.as_mut().ok_or_else(finished)?;
        let mut rest = input;
        let plain = dec.push(&mut rest);
        *consumed = input.len() - rest.len();
        if let Some(plain) = plain? {
            // SAFETY: the caller's guarantee for `output`; a chunk fits `output_cap`.
            unsafe { put(output, plain, output_len) }?;
        }
        Ok(())
    })
}

/// The blob has ended: the verdict. `BT_OK` only if the final chunk's tag, the blob's
/// SHA-256 and the size all match the pointer; then the final chunk's plaintext is in
/// `output` (`*output_len` bytes). Otherwise `BT_TRUNCATED`, `BT_TRAILING_BYTES`,
/// `BT_AUTHENTICATION_FAILED`, `BT_DIGEST_MISMATCH` or `BT_SIZE_MISMATCH`, and nothing is
/// written. The handle is spent afterwards (free it). `output_cap` must be at least
/// `BT_ATTACHMENT_CHUNK_LEN`.
///
/// # Safety
/// `decryptor` a live handle or null; `output` `output_cap` writable bytes; `output_len`
/// writable.
#[no_mangle]
pub unsafe extern "C" fn bt_attachment_decryptor_finish(
    decryptor: *const bt_attachment_decryptor,
    output: *mut u8,
    output_cap: usize,
    output_len: *mut usize,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (output_len, dec) = unsafe {
            (
                ptr::out(output_len, "output_len", 0)?,
                bt_attachment_decryptor::borrow(decryptor)?,
            )
        };
        need_capacity(output_cap, BT_ATTACHMENT_CHUNK_LEN)?;
        let dec = lock(&dec.state)?.take().ok_or_else(finished)?;
        let last = dec.finish()?;
        // SAFETY: the caller's guarantee for `output`; a chunk fits `output_cap`.
        unsafe { put(output, &last, output_len) }
    })
}

/// Frees a decryptor; null is a no-op.
///
/// # Safety
/// `decryptor` null, or a handle from `bt_attachment_decryptor_new` not yet freed and not
/// in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn bt_attachment_decryptor_free(decryptor: *mut bt_attachment_decryptor) {
    // SAFETY: the caller's guarantee, as documented above.
    guard((), || unsafe { bt_attachment_decryptor::free(decryptor) })
}

/// Where sealed chunk `index` lies in the blob (for seeking): `*offset` and `*len` in
/// bytes; `BT_INVALID_VALUE` past the last chunk. Fetch exactly those bytes (an HTTP range
/// request) for `bt_attachment_open_chunk`.
///
/// # Safety
/// `pointer` `pointer_len` readable bytes; `offset` and `len` writable.
#[no_mangle]
pub unsafe extern "C" fn bt_attachment_chunk_range(
    pointer: *const u8,
    pointer_len: usize,
    index: u64,
    offset: *mut u64,
    len: *mut u64,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (offset, len, pointer) = unsafe {
            (
                ptr::out(offset, "offset", 0)?,
                ptr::out(len, "len", 0)?,
                pointer_arg(pointer, pointer_len)?,
            )
        };
        (*offset, *len) = ChunkOpener::new(&pointer).range(index)?;
        Ok(())
    })
}

/// Random access (video seeking): opens sealed chunk `index` alone, vouched for by its own
/// tag (which binds its index and whether it is the last), and copies its plaintext to
/// `output` (`*output_len` bytes; `output_cap` at least `BT_ATTACHMENT_CHUNK_LEN`). The
/// whole-blob digest is not checked: that needs every byte.
///
/// # Safety
/// `pointer` `pointer_len` readable bytes; `sealed` `sealed_len` readable bytes; `output`
/// `output_cap` writable bytes; `output_len` writable.
#[no_mangle]
pub unsafe extern "C" fn bt_attachment_open_chunk(
    pointer: *const u8,
    pointer_len: usize,
    index: u64,
    sealed: *const u8,
    sealed_len: usize,
    output: *mut u8,
    output_cap: usize,
    output_len: *mut usize,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (output_len, pointer, sealed) = unsafe {
            (
                ptr::out(output_len, "output_len", 0)?,
                pointer_arg(pointer, pointer_len)?,
                ptr::bytes(sealed, sealed_len, "sealed")?,
            )
        };
        need_capacity(output_cap, BT_ATTACHMENT_CHUNK_LEN)?;
        let opener = ChunkOpener::new(&pointer);
        let mut buf = zeroize::Zeroizing::new(sealed.to_vec());
        let plain = opener.open(index, &mut buf)?;
        // SAFETY: the caller's guarantee for `output`; a chunk fits `output_cap`.
        unsafe { put(output, plain, output_len) }
    })
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> FfiError {
    FfiError::from(StreamError::Io(std::io::Error::new(
        e.kind(),
        format!("{what} {}: {e}", path.display()),
    )))
}

/// The temporary name a decrypted file is written under until it is verified.
fn partial_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

/// Encrypts the file at `input_path` into a new blob file at `output_path` (replaced if it
/// exists) under a fresh random key, and writes the pointer to send to `pointer_out`.
/// Memory stays at one chunk whatever the file's size. On failure the output file is
/// removed.
///
/// # Safety
/// `input_path` and `output_path` NUL-terminated UTF-8 strings; `pointer_out` 72 writable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_attachment_encrypt_file(
    input_path: *const c_char,
    output_path: *const c_char,
    pointer_out: *mut u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (pointer_out, input_path, output_path) = unsafe {
            (
                ptr::out_array::<BT_ATTACHMENT_POINTER_LEN>(pointer_out, "pointer_out")?,
                ptr::utf8(input_path, "input_path")?,
                ptr::utf8(output_path, "output_path")?,
            )
        };
        let (input_path, output_path) = (Path::new(input_path), Path::new(output_path));
        let mut input = File::open(input_path).map_err(|e| io_error("opening", input_path, e))?;
        let mut output =
            File::create(output_path).map_err(|e| io_error("creating", output_path, e))?;
        let key = AttachmentKey::generate(&mut bluetick::os_rng());
        let result = attachment::encrypt(key, &mut input, &mut output)
            .map_err(FfiError::from)
            .and_then(|p| {
                output
                    .sync_all()
                    .map_err(|e| io_error("writing", output_path, e))?;
                Ok(p)
            });
        match result {
            Ok(pointer) => {
                pointer_out.copy_from_slice(&pointer.to_bytes()[..]);
                Ok(())
            }
            Err(e) => {
                drop(output);
                let _ = std::fs::remove_file(output_path);
                Err(e)
            }
        }
    })
}

/// Decrypts the blob file at `input_path` into `output_path`, checking it against
/// `pointer`. The plaintext is written to `output_path` with ".part" appended and renamed
/// to `output_path` only when every chunk, the digest and the size verified; on any
/// failure the partial file is removed and `output_path` is left untouched. Memory stays at
/// one chunk whatever the file's size.
///
/// # Safety
/// `pointer` `pointer_len` readable bytes; `input_path` and `output_path` NUL-terminated
/// UTF-8 strings.
#[no_mangle]
pub unsafe extern "C" fn bt_attachment_decrypt_file(
    pointer: *const u8,
    pointer_len: usize,
    input_path: *const c_char,
    output_path: *const c_char,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let (pointer, input_path, output_path) = unsafe {
            (
                pointer_arg(pointer, pointer_len)?,
                ptr::utf8(input_path, "input_path")?,
                ptr::utf8(output_path, "output_path")?,
            )
        };
        let (input_path, output_path) = (Path::new(input_path), Path::new(output_path));
        let partial = partial_path(output_path);
        let mut input = File::open(input_path).map_err(|e| io_error("opening", input_path, e))?;
        let mut output = File::create(&partial).map_err(|e| io_error("creating", &partial, e))?;
        let result = attachment::decrypt(&pointer, &mut input, &mut output)
            .map_err(FfiError::from)
            .and_then(|()| {
                output
                    .sync_all()
                    .map_err(|e| io_error("writing", &partial, e))?;
                std::fs::rename(&partial, output_path)
                    .map_err(|e| io_error("renaming into", output_path, e))
            });
        if result.is_err() {
            drop(output);
            let _ = std::fs::remove_file(&partial);
        }
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encrypt_all(data: &[u8]) -> (Vec<u8>, [u8; 72]) {
        let mut enc = core::ptr::null_mut();
        // SAFETY: a writable handle pointer.
        let s = unsafe { bt_attachment_encryptor_new(&mut enc) };
        assert_eq!(s, bt_status::BT_OK);
        let mut out = vec![0u8; BT_ATTACHMENT_SEALED_CHUNK_LEN];
        let mut blob = Vec::new();
        let mut rest = data;
        while !rest.is_empty() {
            let (mut used, mut n) = (0, 0);
            // SAFETY: live handle, valid buffers.
            let s = unsafe {
                bt_attachment_encryptor_update(
                    enc,
                    rest.as_ptr(),
                    rest.len(),
                    &mut used,
                    out.as_mut_ptr(),
                    out.len(),
                    &mut n,
                )
            };
            assert_eq!(s, bt_status::BT_OK);
            blob.extend_from_slice(&out[..n]);
            rest = &rest[used..];
        }
        let mut pointer = [0u8; 72];
        let mut n = 0;
        // SAFETY: live handle, valid buffers.
        let s = unsafe {
            bt_attachment_encryptor_finish(
                enc,
                out.as_mut_ptr(),
                out.len(),
                &mut n,
                pointer.as_mut_ptr(),
            )
        };
        assert_eq!(s, bt_status::BT_OK);
        blob.extend_from_slice(&out[..n]);
        // A spent handle refuses further use (and zeroes the outputs first).
        let mut again = [1u8; 72];
        // SAFETY: live handle, valid buffers.
        let s = unsafe {
            bt_attachment_encryptor_finish(
                enc,
                out.as_mut_ptr(),
                out.len(),
                &mut n,
                again.as_mut_ptr(),
            )
        };
        assert_eq!(s, bt_status::BT_INVALID_ARGUMENT);
        assert_eq!((n, again), (0, [0u8; 72]));
        // SAFETY: freed once.
        unsafe { bt_attachment_encryptor_free(enc) };
        (blob, pointer)
    }

    fn decrypt_all(pointer: &[u8], blob: &[u8]) -> (Vec<u8>, bt_status) {
        let mut dec = core::ptr::null_mut();
        // SAFETY: valid pointer bytes and a writable handle pointer.
        let s = unsafe { bt_attachment_decryptor_new(pointer.as_ptr(), pointer.len(), &mut dec) };
        if s != bt_status::BT_OK {
            return (Vec::new(), s);
        }
        let mut out = vec![0u8; BT_ATTACHMENT_CHUNK_LEN];
        let mut plain = Vec::new();
        let mut rest = blob;
        let mut status = bt_status::BT_OK;
        while !rest.is_empty() && status == bt_status::BT_OK {
            let (mut used, mut n) = (0, 0);
            // SAFETY: live handle, valid buffers.
            status = unsafe {
                bt_attachment_decryptor_update(
                    dec,
                    rest.as_ptr(),
                    rest.len(),
                    &mut used,
                    out.as_mut_ptr(),
                    out.len(),
                    &mut n,
                )
            };
            plain.extend_from_slice(&out[..n]);
            rest = &rest[used..];
        }
        if status == bt_status::BT_OK {
            let mut n = 0;
            // SAFETY: live handle, valid buffers.
            status =
                unsafe { bt_attachment_decryptor_finish(dec, out.as_mut_ptr(), out.len(), &mut n) };
            plain.extend_from_slice(&out[..n]);
        }
        // SAFETY: freed once.
        unsafe { bt_attachment_decryptor_free(dec) };
        (plain, status)
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "AES-GCM and SHA-256 detect the CPU with instructions Miri cannot run"
    )]
    fn chunk_at_a_time_round_trip_and_rejections() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let (blob, pointer) = encrypt_all(&data);
        assert_eq!(blob.len(), 200_000 + 4 * 16);
        let (out, s) = decrypt_all(&pointer, &blob);
        assert_eq!(s, bt_status::BT_OK);
        assert!(out == data);
        let mut bad = blob.clone();
        bad[70_000] ^= 1;
        assert_eq!(
            decrypt_all(&pointer, &bad).1,
            bt_status::BT_AUTHENTICATION_FAILED
        );
        assert_eq!(
            decrypt_all(&pointer, &blob[..blob.len() - 1]).1,
            bt_status::BT_TRUNCATED
        );
        let mut p = pointer;
        p[71] ^= 1;
        let (out, s) = decrypt_all(&p, &blob);
        assert_eq!(s, bt_status::BT_DIGEST_MISMATCH);
        assert_eq!(
            out.len(),
            3 * BT_ATTACHMENT_CHUNK_LEN,
            "final chunk withheld"
        );
        assert_eq!(
            decrypt_all(&pointer[..71], &blob).1,
            bt_status::BT_TRUNCATED
        );
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "AES-GCM and SHA-256 detect the CPU with instructions Miri cannot run"
    )]
    fn small_output_buffers_are_refused_before_anything_is_consumed() {
        let mut enc = core::ptr::null_mut();
        // SAFETY: a writable handle pointer.
        unsafe { bt_attachment_encryptor_new(&mut enc) };
        let mut out = [0u8; 100];
        let (mut used, mut n) = (7, 7);
        // SAFETY: live handle; the output is 100 bytes, as declared.
        let s = unsafe {
            bt_attachment_encryptor_update(
                enc,
                b"abc".as_ptr(),
                3,
                &mut used,
                out.as_mut_ptr(),
                100,
                &mut n,
            )
        };
        assert_eq!((s, used, n), (bt_status::BT_BUFFER, 0, 0));
        // SAFETY: freed once.
        unsafe { bt_attachment_encryptor_free(enc) };
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "AES-GCM and SHA-256 detect the CPU with instructions Miri cannot run"
    )]
    fn files_round_trip_and_a_bad_blob_leaves_no_output() {
        let dir = std::env::temp_dir().join(format!("bt-ffi-att-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (plain, blob, back) = (dir.join("in"), dir.join("blob"), dir.join("out"));
        let data: Vec<u8> = (0..150_000u32).map(|i| (i % 7) as u8).collect();
        std::fs::write(&plain, &data).unwrap();
        let c = |p: &Path| std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        let mut pointer = [0u8; 72];
        // SAFETY: NUL-terminated paths, 72 writable bytes.
        let s = unsafe {
            bt_attachment_encrypt_file(c(&plain).as_ptr(), c(&blob).as_ptr(), pointer.as_mut_ptr())
        };
        assert_eq!(s, bt_status::BT_OK);
        // SAFETY: as above.
        let s = unsafe {
            bt_attachment_decrypt_file(pointer.as_ptr(), 72, c(&blob).as_ptr(), c(&back).as_ptr())
        };
        assert_eq!(s, bt_status::BT_OK);
        assert!(std::fs::read(&back).unwrap() == data);
        std::fs::remove_file(&back).unwrap();
        let mut bytes = std::fs::read(&blob).unwrap();
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&blob, &bytes).unwrap();
        // SAFETY: as above.
        let s = unsafe {
            bt_attachment_decrypt_file(pointer.as_ptr(), 72, c(&blob).as_ptr(), c(&back).as_ptr())
        };
        assert_eq!(s, bt_status::BT_TRUNCATED);
        assert!(!back.exists() && !partial_path(&back).exists());
        // SAFETY: as above; the input does not exist.
        let s = unsafe {
            bt_attachment_encrypt_file(
                c(&dir.join("missing")).as_ptr(),
                c(&blob).as_ptr(),
                pointer.as_mut_ptr(),
            )
        };
        assert_eq!(s, bt_status::BT_IO);
        assert_eq!(pointer, [0u8; 72]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The argument checks that run before any cryptography (and so under Miri too).
    #[test]
    fn pointers_and_handles_are_checked_before_use() {
        let mut dec = core::ptr::dangling_mut::<bt_attachment_decryptor>();
        let short = [0u8; 71];
        // SAFETY: 71 readable bytes; a writable handle pointer.
        let s = unsafe { bt_attachment_decryptor_new(short.as_ptr(), 71, &mut dec) };
        assert_eq!((s, dec.is_null()), (bt_status::BT_TRUNCATED, true));
        let long = [0u8; 73];
        // SAFETY: as above, 73 bytes.
        let s = unsafe { bt_attachment_decryptor_new(long.as_ptr(), 73, &mut dec) };
        assert_eq!(s, bt_status::BT_TRAILING_BYTES);
        let mut huge = [0u8; 72];
        huge[32..40].copy_from_slice(&u64::MAX.to_be_bytes());
        let (mut offset, mut len) = (5u64, 5u64);
        // SAFETY: 72 readable bytes; writable outputs.
        let s = unsafe { bt_attachment_chunk_range(huge.as_ptr(), 72, 0, &mut offset, &mut len) };
        assert_eq!((s, offset, len), (bt_status::BT_ATTACHMENT_TOO_LARGE, 0, 0));
        // SAFETY: a null pointer with a length is refused before any read.
        let s = unsafe { bt_attachment_decryptor_new(core::ptr::null(), 72, &mut dec) };
        assert_eq!(s, bt_status::BT_NULL_ARGUMENT);
        let (mut used, mut n) = (1usize, 1usize);
        let mut out = [0u8; 4];
        // SAFETY: a null handle is refused; the outputs are writable.
        let s = unsafe {
            bt_attachment_encryptor_update(
                core::ptr::null(),
                core::ptr::null(),
                0,
                &mut used,
                out.as_mut_ptr(),
                4,
                &mut n,
            )
        };
        assert_eq!((s, used, n), (bt_status::BT_NULL_ARGUMENT, 0, 0));
        // SAFETY: null is a no-op for both frees.
        unsafe {
            bt_attachment_encryptor_free(core::ptr::null_mut());
            bt_attachment_decryptor_free(core::ptr::null_mut());
        }
    }
}
