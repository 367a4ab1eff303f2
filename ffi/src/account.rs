//! The `bt_account` handle: creating, opening and freeing accounts, and identities.

use core::ffi::{c_char, c_void};

use bluetick::{
    Account, AccountConfig, Address, IdentityKey, MemoryStore, Secret32, SqliteStore, Store,
};

use crate::boundary::{boundary, guard, FfiError};
use crate::ptr::{self, Handle};
use crate::status::bt_status;

/// One device's account: its identity, prekeys, sessions, message statuses and inbox,
/// in a sealed store.
///
/// Created by `bt_account_create_sqlite`, `bt_account_open_sqlite` or
/// `bt_account_create_memory`; freed by `bt_account_free`. Thread-safe: one handle may be
/// used by several threads at once (the account locks inside; operations on the same
/// peer are serialised, the store serialises commits). Only `bt_account_free` must not
/// run concurrently with any other use of the handle.
pub struct bt_account {
    pub(crate) account: Account,
}

impl Handle for bt_account {
    const NAME: &'static str = "account";
}

/// How many prekeys an account keeps published. Pass null wherever a config is asked for
/// to use the defaults (50, 50, 10); `bt_account_config_default` fills one in.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct bt_account_config {
    /// One-time X25519 prekeys to keep on the relay.
    pub one_time_prekeys: u32,
    /// One-time ML-KEM prekeys to keep on the relay.
    pub one_time_pq_prekeys: u32,
    /// Below this many of either kind, the account reports that it should replenish.
    pub low_water_mark: u32,
}

impl From<bt_account_config> for AccountConfig {
    fn from(c: bt_account_config) -> Self {
        AccountConfig {
            one_time_prekeys: c.one_time_prekeys,
            one_time_pq_prekeys: c.one_time_pq_prekeys,
            low_water_mark: c.low_water_mark,
        }
    }
}

impl From<AccountConfig> for bt_account_config {
    fn from(c: AccountConfig) -> Self {
        bt_account_config {
            one_time_prekeys: c.one_time_prekeys,
            one_time_pq_prekeys: c.one_time_pq_prekeys,
            low_water_mark: c.low_water_mark,
        }
    }
}

/// The length of a storage key, of identity keys, and of a `bt_account_identity` output.
pub const BT_KEY_LEN: usize = 32;

/// The size of the `char` array `bt_account_safety_number` fills: 60 digits and a NUL.
pub const BT_SAFETY_NUMBER_SIZE: usize = 61;

/// Writes the default configuration to `*out` (50 one-time prekeys of each kind, low-water
/// mark 10).
///
/// # Safety
/// `out` must be null (`BT_NULL_ARGUMENT`) or point to a writable `bt_account_config`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_config_default(out: *mut bt_account_config) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantee on `out`.
        unsafe { ptr::out(out, "out", AccountConfig::default().into()) }?;
        Ok(())
    })
}

/// The arguments every constructor shares.
///
/// # Safety
/// As the exported constructors' documentation says.
unsafe fn key_and_config(
    storage_key: *const u8,
    storage_key_len: usize,
    config: *const bt_account_config,
) -> Result<(Secret32, AccountConfig), FfiError> {
    // SAFETY: forwarded from the caller.
    let key = unsafe { ptr::bytes(storage_key, storage_key_len, "storage_key") }?;
    let key = Secret32::from_slice(key).ok_or_else(|| {
        FfiError::InvalidArgument(format!(
            "the storage key is {storage_key_len} bytes; it must be exactly 32"
        ))
    })?;
    // SAFETY: the caller passes null or a readable, aligned `bt_account_config`, whose
    // fields (three `uint32_t`) are valid for any bits.
    let config = unsafe { config.as_ref() }.map_or_else(AccountConfig::default, |c| (*c).into());
    Ok((key, config))
}

/// `Account::create` or `Account::open`.
type Constructor =
    fn(Box<dyn Store>, &Secret32, AccountConfig) -> Result<Account, bluetick::AccountError>;

/// The shared body of the constructors.
///
/// # Safety
/// As the exported constructors' documentation says.
unsafe fn construct(
    store: impl FnOnce() -> Result<Box<dyn Store>, FfiError>,
    build: Constructor,
    storage_key: *const u8,
    storage_key_len: usize,
    config: *const bt_account_config,
    out: *mut *mut bt_account,
) -> Result<(), FfiError> {
    // SAFETY: the caller's guarantee on `out`.
    let out = unsafe { ptr::out(out, "out", core::ptr::null_mut()) }?;
    // SAFETY: forwarded from the caller.
    let (key, config) = unsafe { key_and_config(storage_key, storage_key_len, config) }?;
    let account = build(store()?, &key, config)?;
    *out = bt_account { account }.into_raw();
    Ok(())
}

/// Opens the SQLite file at `path` (created if missing), for the arguments below.
///
/// # Safety
/// `path` must be null or a NUL-terminated string.
unsafe fn sqlite(path: *const c_char) -> Result<Box<dyn Store>, FfiError> {
    // SAFETY: forwarded from the caller.
    let path = unsafe { ptr::utf8(path, "path") }?;
    Ok(Box::new(SqliteStore::open(path)?))
}

/// Creates a new account in the SQLite database at `path` (the file is created if it does
/// not exist; it must not already hold an account: `BT_ACCOUNT_EXISTS`). Generates a new
/// identity and the configured prekeys.
///
/// - `path`: NUL-terminated UTF-8 (`BT_INVALID_ARGUMENT` otherwise); borrowed for the call.
/// - `storage_key`, `storage_key_len`: exactly 32 bytes (`BT_INVALID_ARGUMENT` otherwise),
///   from the Keychain or Keystore; they seal every record. Borrowed for the call.
/// - `config`: null for the defaults; borrowed for the call.
/// - `out`: receives the new handle (null on failure). Free it with `bt_account_free`.
///
/// # Safety
/// Every pointer must be null or valid as described; `storage_key` must point to
/// `storage_key_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_account_create_sqlite(
    path: *const c_char,
    storage_key: *const u8,
    storage_key_len: usize,
    config: *const bt_account_config,
    out: *mut *mut bt_account,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        unsafe {
            construct(
                || sqlite(path),
                Account::create,
                storage_key,
                storage_key_len,
                config,
                out,
            )
        }
    })
}

/// Opens the account in the SQLite database at `path`. Arguments as for
/// `bt_account_create_sqlite`. A wrong storage key gives `BT_WRONG_STORAGE_KEY`, a file
/// with no account `BT_NO_ACCOUNT`, a damaged record `BT_STORE_CORRUPT`, a file that is
/// not a database `BT_DATABASE`.
///
/// # Safety
/// As `bt_account_create_sqlite`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_open_sqlite(
    path: *const c_char,
    storage_key: *const u8,
    storage_key_len: usize,
    config: *const bt_account_config,
    out: *mut *mut bt_account,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        unsafe {
            construct(
                || sqlite(path),
                Account::open,
                storage_key,
                storage_key_len,
                config,
                out,
            )
        }
    })
}

/// Creates a new account held in memory only (for tests and demos): gone when freed.
/// Arguments as for `bt_account_create_sqlite`, without a path.
///
/// # Safety
/// As `bt_account_create_sqlite`.
#[no_mangle]
pub unsafe extern "C" fn bt_account_create_memory(
    storage_key: *const u8,
    storage_key_len: usize,
    config: *const bt_account_config,
    out: *mut *mut bt_account,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees, as documented above.
        unsafe {
            construct(
                || Ok(Box::new(MemoryStore::new())),
                Account::create,
                storage_key,
                storage_key_len,
                config,
                out,
            )
        }
    })
}

/// Closes the account and frees the handle. Null is a no-op. Everything the account did
/// was committed when each call returned, so nothing is lost.
///
/// # Safety
/// `account` must be null or a handle not yet freed, and no other thread may be using it.
/// After this call the handle is invalid. Buffers, incoming structs and inboxes obtained
/// from the account stay valid (they are independent copies).
#[no_mangle]
pub unsafe extern "C" fn bt_account_free(account: *mut bt_account) {
    // SAFETY: the caller's guarantee.
    guard((), || unsafe { bt_account::free(account) });
}

/// Writes this account's 32-byte identity key (Ed25519 public key) to `out_key`.
///
/// # Safety
/// `account` must be a live handle or null; `out_key` null or 32 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_account_identity(
    account: *const bt_account,
    out_key: *mut u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees.
        let out = unsafe { ptr::out_array::<BT_KEY_LEN>(out_key, "out_key") }?;
        // SAFETY: as above.
        let account = unsafe { bt_account::borrow(account) }?;
        *out = account.account.identity().to_bytes();
        Ok(())
    })
}

/// Checks every record of the account's store: a record whose key or value was damaged gives
/// `BT_STORE_CORRUPT` (the message names the table) instead of reading later as a missing
/// record. Opening an account runs the same check; call this to check a long-open one. It
/// reads the whole store, so it blocks for as long as that takes: not on a UI thread.
///
/// # Safety
/// `account` a live handle or null.
#[no_mangle]
pub unsafe extern "C" fn bt_account_verify_store(account: *const bt_account) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees.
        let account = unsafe { bt_account::borrow(account) }?;
        account.account.verify_store()?;
        Ok(())
    })
}

/// Trusts `key` (32 bytes) as the identity of the peer `(user, user_len, device)`, for
/// example after the users compared safety numbers. Replaces any key trusted before.
/// `BT_INVALID_IDENTITY_KEY` if `key` is not a valid identity key.
///
/// # Safety
/// `account` a live handle or null; `user` null only when `user_len` is 0, else
/// `user_len` readable bytes; `key` null or 32 readable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_account_trust_identity(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    device: u32,
    key: *const u8,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees.
        let account = unsafe { bt_account::borrow(account) }?;
        // SAFETY: as above.
        let peer = unsafe { ptr::address(user, user_len, device) }?;
        // SAFETY: as above.
        let key = IdentityKey::from_bytes(unsafe { ptr::array::<BT_KEY_LEN>(key, "key") }?)?;
        account.account.trust_identity(&peer, &key)?;
        Ok(())
    })
}

/// The identity key trusted for a peer: writes it to `out_key` (32 bytes) and sets
/// `*out_found` to true, or sets `*out_found` to false (and zeroes `out_key`) when the
/// account knows no identity for that peer.
///
/// # Safety
/// As `bt_account_trust_identity`; `out_key` 32 writable bytes, `out_found` a writable
/// `bool`, both non-null.
#[no_mangle]
pub unsafe extern "C" fn bt_account_peer_identity(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    device: u32,
    out_key: *mut u8,
    out_found: *mut bool,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees.
        let found = unsafe { ptr::out(out_found, "out_found", false) }?;
        // SAFETY: as above.
        let out = unsafe { ptr::out_array::<BT_KEY_LEN>(out_key, "out_key") }?;
        // SAFETY: as above.
        let account = unsafe { bt_account::borrow(account) }?;
        // SAFETY: as above.
        let peer = unsafe { ptr::address(user, user_len, device) }?;
        if let Some(key) = account.account.peer_identity(&peer)? {
            *out = key.to_bytes();
            *found = true;
        }
        Ok(())
    })
}

/// The 60-digit safety number of this account and a peer, for the users to compare:
/// written to `out` as 60 ASCII digits and a NUL (`out_len` must be at least
/// `BT_SAFETY_NUMBER_SIZE`, 61, else `BT_BUFFER`), with `*out_found` true; or `*out_found`
/// false and `out` the empty string when the peer's identity is not known yet.
/// Display it in twelve groups of five.
///
/// # Safety
/// As `bt_account_peer_identity`; `out` must point to `out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn bt_account_safety_number(
    account: *const bt_account,
    user: *const u8,
    user_len: usize,
    device: u32,
    out: *mut c_char,
    out_len: usize,
    out_found: *mut bool,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantees.
        let found = unsafe { ptr::out(out_found, "out_found", false) }?;
        if out.is_null() {
            return Err(FfiError::Null("out"));
        }
        // Every pointer is checked for null before the size is: a null argument is
        // always `BT_NULL_ARGUMENT`.
        // SAFETY: the caller's guarantees.
        let account = unsafe { bt_account::borrow(account) }?;
        // SAFETY: as above.
        let peer = unsafe { ptr::address(user, user_len, device) }?;
        if out_len < BT_SAFETY_NUMBER_SIZE {
            return Err(FfiError::Buffer(format!(
                "the safety number needs {BT_SAFETY_NUMBER_SIZE} bytes; `out_len` is {out_len}"
            )));
        }
        let out = out.cast::<u8>();
        // SAFETY: `out` is non-null with at least 61 writable bytes (checked above).
        let text = unsafe { ptr::out_array::<BT_SAFETY_NUMBER_SIZE>(out, "out") }?;
        if let Some(number) = account.account.safety_number(&peer)? {
            let digits = number.digits().as_bytes();
            // The last byte stays the NUL that `out_array` wrote.
            let (dst, _) = text.split_at_mut(BT_SAFETY_NUMBER_SIZE - 1);
            if digits.len() != dst.len() {
                return Err(FfiError::Core {
                    kind: bluetick::ErrorKind::InvalidValue,
                    message: format!("a safety number of {} digits", digits.len()),
                });
            }
            dst.copy_from_slice(digits);
            *found = true;
        }
        Ok(())
    })
}

/// The app's decision on a peer whose identity key changed: called with the peer
/// (`user`, `user_len`, `device`), the key trusted so far (`trusted_key`, 32 bytes) and the
/// new key (`new_key`, 32 bytes); return true to trust the new key (it then replaces the
/// old one), false to refuse (the operation fails with `BT_UNTRUSTED_IDENTITY`).
/// All pointers are borrowed for the duration of the call only.
pub type bt_identity_policy = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        user: *const u8,
        user_len: usize,
        device: u32,
        trusted_key: *const u8,
        new_key: *const u8,
    ) -> bool,
>;

/// A C callback and its context, callable from any thread.
struct CPolicy {
    callback:
        unsafe extern "C" fn(*mut c_void, *const u8, usize, u32, *const u8, *const u8) -> bool,
    user_data: *mut c_void,
}

// SAFETY: `bt_account_set_identity_policy` requires the callback and `user_data` to be
// usable from any thread that uses the account, concurrently; the Rust side only copies
// the two pointers.
unsafe impl Send for CPolicy {}
// SAFETY: as above: shared calls from several threads are what the caller agreed to.
unsafe impl Sync for CPolicy {}

impl CPolicy {
    fn decide(&self, peer: &Address, trusted: &IdentityKey, new: &IdentityKey) -> bool {
        // SAFETY: the callback was given for exactly this signature; every pointer passed
        // is valid for the call's duration; the caller keeps `user_data` valid while the
        // policy is installed.
        unsafe {
            (self.callback)(
                self.user_data,
                peer.user.as_ptr(),
                peer.user.len(),
                peer.device,
                trusted.as_bytes().as_ptr(),
                new.as_bytes().as_ptr(),
            )
        }
    }
}

/// Installs the policy consulted when a peer's identity key differs from the trusted one
/// (during `bt_account_encrypt` with a bundle, or `bt_account_decrypt`). Without a policy,
/// or with `callback` null, a changed identity is refused (`BT_UNTRUSTED_IDENTITY`) until
/// `bt_account_trust_identity`. Replaces any earlier policy.
///
/// Threading: the callback runs on the thread that called `bt_account_encrypt` or
/// `bt_account_decrypt`, inside that call, while the account holds its store transaction
/// and the lock of that peer. So it must return promptly, must not call any `bt_account_*`
/// function on the same account (that would deadlock), and, if the app uses the account
/// from several threads, may run on several threads at once: the callback and `user_data`
/// must be safe for that.
///
/// Lifetime: the library keeps `user_data` (never reads or frees it) and passes it to every
/// call; the app keeps it valid until the policy is replaced or the account is freed.
///
/// # Safety
/// `account` a live handle or null; `callback` null or a function of that signature;
/// `user_data` as described.
#[no_mangle]
pub unsafe extern "C" fn bt_account_set_identity_policy(
    account: *const bt_account,
    callback: bt_identity_policy,
    user_data: *mut c_void,
) -> bt_status {
    boundary(|| {
        // SAFETY: the caller's guarantee.
        let account = unsafe { bt_account::borrow(account) }?;
        match callback {
            Some(callback) => {
                let policy = CPolicy {
                    callback,
                    user_data,
                };
                account
                    .account
                    .set_identity_policy(Box::new(move |peer, trusted, new| {
                        policy.decide(peer, trusted, new)
                    }));
            }
            // The core has no way to remove a policy; one that never trusts behaves
            // exactly as having none.
            None => account
                .account
                .set_identity_policy(Box::new(|_, _, _| false)),
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> bt_account_config {
        bt_account_config {
            one_time_prekeys: 0,
            one_time_pq_prekeys: 0,
            low_water_mark: 0,
        }
    }

    #[test]
    fn constructors_check_every_argument_before_any_work() {
        let key = [1u8; 32];
        let mut acc = core::ptr::dangling_mut::<bt_account>();
        // SAFETY: valid pointers or null, as each case intends.
        unsafe {
            assert_eq!(
                bt_account_create_memory(key.as_ptr(), 31, core::ptr::null(), &mut acc),
                bt_status::BT_INVALID_ARGUMENT
            );
            assert!(acc.is_null(), "the out handle is nulled on failure");
            assert_eq!(
                bt_account_create_memory(core::ptr::null(), 32, &small(), &mut acc),
                bt_status::BT_NULL_ARGUMENT
            );
            assert_eq!(
                bt_account_create_memory(key.as_ptr(), 32, &small(), core::ptr::null_mut()),
                bt_status::BT_NULL_ARGUMENT
            );
            assert_eq!(
                bt_account_create_sqlite(
                    core::ptr::null(),
                    key.as_ptr(),
                    32,
                    core::ptr::null(),
                    &mut acc
                ),
                bt_status::BT_NULL_ARGUMENT
            );
            let bad_path = [b'a', 0xff, 0];
            assert_eq!(
                bt_account_open_sqlite(
                    bad_path.as_ptr().cast(),
                    key.as_ptr(),
                    32,
                    core::ptr::null(),
                    &mut acc
                ),
                bt_status::BT_INVALID_ARGUMENT
            );
        }
    }

    #[test]
    fn null_handles_are_refused_and_free_is_null_safe() {
        let mut key = [0u8; 32];
        let mut found = true;
        let mut digits = [1 as c_char; 61];
        // SAFETY: valid out-pointers; a null handle.
        unsafe {
            bt_account_free(core::ptr::null_mut());
            assert_eq!(
                bt_account_identity(core::ptr::null(), key.as_mut_ptr()),
                bt_status::BT_NULL_ARGUMENT
            );
            assert_eq!(
                bt_account_safety_number(
                    core::ptr::null(),
                    b"bob".as_ptr(),
                    3,
                    1,
                    digits.as_mut_ptr(),
                    60,
                    &mut found
                ),
                bt_status::BT_NULL_ARGUMENT,
                "the null handle is reported before the short buffer"
            );
            assert!(!found);
            assert_eq!(
                bt_account_set_identity_policy(core::ptr::null(), None, core::ptr::null_mut()),
                bt_status::BT_NULL_ARGUMENT
            );
        }
        let mut config = small();
        // SAFETY: a writable config.
        let status = unsafe { bt_account_config_default(&mut config) };
        assert_eq!(status, bt_status::BT_OK);
        assert_eq!(AccountConfig::from(config), AccountConfig::default());
    }

    /// A memory account end to end (not under Miri: see the attribute).
    #[test]
    #[cfg_attr(
        miri,
        ignore = "creating an account generates an ML-KEM key; libcrux detects the CPU with inline assembly, which Miri cannot run"
    )]
    fn memory_account_lifecycle() {
        let key = [3u8; 32];
        let mut acc = core::ptr::null_mut();
        let mut id = [0u8; 32];
        // SAFETY: valid pointers throughout; the handle is freed once.
        unsafe {
            assert_eq!(
                bt_account_create_memory(key.as_ptr(), 32, &small(), &mut acc),
                bt_status::BT_OK
            );
            assert_eq!(bt_account_identity(acc, id.as_mut_ptr()), bt_status::BT_OK);
            assert_eq!(
                id,
                bt_account::borrow(acc)
                    .unwrap()
                    .account
                    .identity()
                    .to_bytes()
            );
            let mut found = true;
            let mut out = [0u8; 32];
            assert_eq!(
                bt_account_peer_identity(acc, b"bob".as_ptr(), 3, 1, out.as_mut_ptr(), &mut found),
                bt_status::BT_OK
            );
            assert!(!found);
            bt_account_free(acc);
        }
    }
}
