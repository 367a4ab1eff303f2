//! The C ABI's byte inputs: fuzzer bytes, split into arguments of any length, go to every
//! entry point that parses bytes. Every call must return a known status (no crash, no
//! panic escaping as an abort), and every output it fills must be freeable.
#![no_main]

use std::sync::OnceLock;

use bluetick_ffi::*;
use libfuzzer_sys::fuzz_target;

/// One memory account for the whole run (creating one per input would dominate the time).
struct Shared(*mut bt_account);
// SAFETY: the account handle is documented as safe to use from several threads at once.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

fn account() -> *const bt_account {
    static ACCOUNT: OnceLock<Shared> = OnceLock::new();
    ACCOUNT
        .get_or_init(|| {
            let mut out = core::ptr::null_mut();
            let key = [3u8; 32];
            // SAFETY: valid key bytes, null config (defaults) and a writable out pointer.
            let status = unsafe { bt_account_create_memory(key.as_ptr(), key.len(), core::ptr::null(), &mut out) };
            assert_eq!(status, bt_status::BT_OK);
            Shared(out)
        })
        .0
}

fn known(status: bt_status) {
    assert_ne!(status, bt_status::BT_PANIC, "a panic crossed the C ABI");
    assert_ne!(status, bt_status::BT_INTERNAL, "an internal error on untrusted input");
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the split point, so arguments get every length.
    let Some((&split, rest)) = data.split_first() else { return };
    let at = usize::from(split) * rest.len() / 256;
    // Any send time is valid: the first 8 bytes, when there are that many.
    let ts_of = |r: &[u8]| r.get(..8).map_or(0, |b| u64::from_be_bytes(b.try_into().unwrap_or([0; 8])));
    let (a, b) = rest.split_at(at);
    let acc = account();
    let mut id = [0u8; 16];
    let mut buf = bt_buffer { ptr: core::ptr::null_mut(), len: 0 };
    let mut buf2 = bt_buffer { ptr: core::ptr::null_mut(), len: 0 };
    // SAFETY (every call below): pointers come from live slices with their exact lengths,
    // outs are writable locals, and every filled buffer is freed once.
    unsafe {
        known(bt_message_id_of(rest.as_ptr(), rest.len(), id.as_mut_ptr()));
        known(bt_prekey_upload_verify(rest.as_ptr(), rest.len()));
        known(bt_prekey_upload_take_bundle(rest.as_ptr(), rest.len(), &mut buf, &mut buf2));
        bt_buffer_free(&mut buf);
        bt_buffer_free(&mut buf2);
        known(bt_prekey_upload_merge(a.as_ptr(), a.len(), b.as_ptr(), b.len(), &mut buf));
        bt_buffer_free(&mut buf);

        let mut incoming = core::mem::zeroed::<bt_incoming>();
        known(bt_account_decrypt(acc, a.as_ptr(), a.len(), 1, b.as_ptr(), b.len(), &mut incoming));
        bt_incoming_free(&mut incoming);
        let mut lamport = 0u64;
        known(bt_account_encrypt(acc, b"peer".as_ptr(), 4, 1, a.as_ptr(), a.len(), b.as_ptr(), b.len(), ts_of(rest), id.as_mut_ptr(), &mut buf, &mut lamport));
        bt_buffer_free(&mut buf);
        let mut inbox = core::ptr::null_mut();
        known(bt_account_conversation_inbox(acc, a.as_ptr(), a.len(), &mut inbox));
        bt_inbox_free(inbox);
        known(bt_account_conversation_clock(acc, a.as_ptr(), a.len(), &mut lamport));

        let mut session = core::ptr::null_mut();
        if bt_session_from_bytes(rest.as_ptr(), rest.len(), &mut session) == bt_status::BT_OK {
            known(bt_session_to_bytes(session, &mut buf));
            bt_buffer_free(&mut buf);
            bt_session_free(session);
        }
        let (mut kind, mut ts) = (0u8, 0u64);
        let key = [9u8; 32];
        let mut signer = [0u8; 32];
        signer.copy_from_slice(&rest.get(..32).unwrap_or(&key[..]).iter().copied().chain(key).take(32).collect::<Vec<_>>());
        known(bt_receipt_verify(b.as_ptr(), b.len(), signer.as_ptr(), key.as_ptr(), a.as_ptr(), a.len() / 16, &mut kind, &mut ts));

        let mut fresh = core::ptr::null_mut();
        let status = bt_account_create_memory(a.as_ptr(), a.len().min(40), core::ptr::null(), &mut fresh);
        known(status);
        bt_account_free(fresh);
    }
});
