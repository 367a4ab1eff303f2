//! `bt_status`: the one result type of the C ABI, and its mapping from
//! [`bluetick::ErrorKind`].

use core::ffi::{c_char, c_int};

use bluetick::ErrorKind;

/// The result of every function that can fail. `BT_OK` is 0; values 1 to 99 are the
/// library's error kinds, one each (the name after `BT_` is `bluetick::ErrorKind`'s name);
/// values from 100 are errors of the C boundary itself, and from 105 of the relay client.
/// The numbers are fixed: a value never changes meaning, and new kinds get new numbers.
///
/// `bt_status_name` gives each value's name; `bt_last_error_message` gives the message of the
/// last failure on the calling thread.
///
/// In C the type is an `int32_t` (a C enum's size is up to the compiler; arrays of statuses,
/// as `bt_account_decrypt_batch` fills, need a fixed width); the enum names the values.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum bt_status {
    /// Success.
    BT_OK = 0,
    /// Input ended before the structure did.
    BT_TRUNCATED = 1,
    /// Bytes followed the end of the structure.
    BT_TRAILING_BYTES = 2,
    /// The first byte of a wire message is not a known `(version, type)`.
    BT_UNKNOWN_MESSAGE_TYPE = 3,
    /// A versioned encoding carries a version this build does not read.
    BT_UNSUPPORTED_VERSION = 4,
    /// A flag byte is neither 0 nor 1.
    BT_INVALID_FLAG = 5,
    /// A ciphertext is shorter than the AEAD tag.
    BT_CIPHERTEXT_TOO_SHORT = 6,
    /// A message is longer than the largest allowed plaintext permits.
    BT_MESSAGE_TOO_LONG = 7,
    /// A field of an encoding holds a value outside its allowed range.
    BT_INVALID_VALUE = 8,
    /// An identity key is not a valid, canonical, torsion-free Ed25519 point.
    BT_INVALID_IDENTITY_KEY = 9,
    /// A signature does not verify under the identity key.
    BT_BAD_SIGNATURE = 10,
    /// An X25519 key has small order.
    BT_LOW_ORDER_KEY = 11,
    /// An X25519 public key is not canonically encoded.
    BT_NON_CANONICAL_KEY = 12,
    /// An ML-KEM-1024 encapsulation key fails the FIPS 203 input check.
    BT_INVALID_KEM_KEY = 13,
    /// A PreKeyMessage names a prekey this device no longer holds.
    BT_UNKNOWN_PRE_KEY = 14,
    /// A PreKeyMessage reuses a base key already accepted.
    BT_PRE_KEY_REPLAY = 15,
    /// No session with the peer: fetch its bundle and pass it to `bt_account_encrypt`.
    BT_NO_SESSION = 16,
    /// The message was already decrypted, or its key was dropped: a duplicate or replay.
    BT_DUPLICATE_MESSAGE = 17,
    /// The message skips more keys than the limits allow.
    BT_TOO_MANY_SKIPPED = 18,
    /// The message does not authenticate: altered, or not for this session.
    BT_AUTHENTICATION_FAILED = 19,
    /// The decrypted plaintext is not correctly padded.
    BT_BAD_PADDING = 20,
    /// The decrypted plaintext carries an unknown content type.
    BT_UNKNOWN_CONTENT_TYPE = 21,
    /// The plaintext is larger than the protocol allows (16 MiB).
    BT_PLAINTEXT_TOO_LARGE = 22,
    /// A counter would overflow: start a new session.
    BT_COUNTER_EXHAUSTED = 23,
    /// A receipt kind byte is unknown.
    BT_UNKNOWN_RECEIPT_KIND = 24,
    /// A receipt acknowledges zero or more than 1024 ids.
    BT_INVALID_ID_COUNT = 25,
    /// Receipt ids are not strictly ascending.
    BT_NON_CANONICAL_IDS = 26,
    /// A receipt acknowledges an id never sent to that peer.
    BT_UNKNOWN_MESSAGE_ID = 27,
    /// The storage key does not open the store.
    BT_WRONG_STORAGE_KEY = 28,
    /// A stored record is corrupt.
    BT_STORE_CORRUPT = 29,
    /// The store holds no account: create one.
    BT_NO_ACCOUNT = 30,
    /// The store already holds an account: open it.
    BT_ACCOUNT_EXISTS = 31,
    /// The database failed (path, permissions, free space).
    BT_DATABASE = 32,
    /// A peer's identity changed and the policy did not trust the new one.
    BT_UNTRUSTED_IDENTITY = 33,
    /// The message was already received and acknowledged: tell the relay to drop it.
    BT_ALREADY_RECEIVED = 34,
    /// A message id the account does not know.
    BT_UNKNOWN_MESSAGE = 35,
    /// An attachment's blob does not hash to the digest its pointer carries: not the blob
    /// the sender uploaded; discard the output.
    BT_DIGEST_MISMATCH = 36,
    /// An attachment decrypted to a length other than its pointer's size; discard the output.
    BT_SIZE_MISMATCH = 37,
    /// An attachment is larger than the protocol allows (2^40 bytes).
    BT_ATTACHMENT_TOO_LARGE = 38,
    /// Reading or writing a file failed (path, permissions, free space).
    BT_IO = 39,
    /// An application message decrypted to a body shorter than its 16-byte clock prefix
    /// (spec §10): refused, nothing stored; the next genuine message still decrypts.
    BT_INVALID_BODY = 40,
    /// A device list whose version is not newer than the newest one accepted for its user:
    /// keep the newer list (spec §11).
    BT_STALE_DEVICE_LIST = 41,
    /// A device, or a device with that identity key, is not on its user's signed device
    /// list: refuse it until a newer list names it (spec §11).
    BT_DEVICE_NOT_LISTED = 42,
    /// A pq_block inside an authentic message has an unknown kind byte (spec §14): refused, nothing changed.
    BT_UNKNOWN_PQ_KIND = 43,
    /// A pq_block ends before its 38 bytes (spec §14): refused, nothing changed.
    BT_SHORT_PQ_BLOCK = 44,
    /// A pq_block's chunk index is beyond its object's last chunk (spec §14): refused, nothing changed.
    BT_PQ_INDEX_OUT_OF_RANGE = 45,
    /// A pq_block carries a chunk of an epoch the receiver has not reached (spec §14): refused, nothing changed.
    BT_PQ_FUTURE_EPOCH = 46,
    /// A pq_block carries a kind this side never takes in the epoch (spec §14): refused, nothing changed.
    BT_PQ_WRONG_KIND = 47,
    /// A ciphertext chunk reached a side that has not sent its key yet (spec §14): refused, nothing changed.
    BT_PQ_UNEXPECTED_CHUNK = 48,
    /// A complete ML-KEM-768 key of the post-quantum ratchet fails the FIPS 203 check (spec §14): refused, nothing changed.
    BT_INVALID_PQ_KEY = 49,
    /// A header's `PE` is neither the last mixed epoch nor the next one with its secret held (spec §14): refused, nothing changed.
    BT_INVALID_PQ_EPOCH = 50,
    /// A sent transcript came from a device that is not a listed device of the own user
    /// (spec §11): refused, nothing stored.
    BT_FOREIGN_TRANSCRIPT = 51,
    /// A group message names a sender key this device does not hold, or one replaced more
    /// than an hour ago (spec §12): ask the sender to distribute its key again; nothing changed.
    BT_UNKNOWN_DISTRIBUTION = 52,
    /// A group message's chain id is not its sender key's (spec §12): dropped, nothing changed.
    BT_WRONG_CHAIN_ID = 53,
    /// A group id is empty or longer than 64 bytes (spec §8, §12).
    BT_INVALID_GROUP_ID = 54,
    /// A sender-key distribution reuses a `distribution_id` held for another sender device
    /// (spec §12): refused, nothing changed.
    BT_DISTRIBUTION_CONFLICT = 55,
    /// A pointer argument that must not be null was null (or a byte pointer was null with a
    /// non-zero length).
    BT_NULL_ARGUMENT = 100,
    /// An argument is out of its allowed range: a storage key that is not 32 bytes, a path
    /// that is not UTF-8, a user id over 1024 bytes, an unknown receipt kind, an index past
    /// the end.
    BT_INVALID_ARGUMENT = 101,
    /// A caller-provided output buffer is too small.
    BT_BUFFER = 102,
    /// The library panicked (a bug); the call had no effect that can be relied on, and the
    /// process may continue.
    BT_PANIC = 103,
    /// An error this version of the C ABI has no status for (an error kind newer than the
    /// header); the message says what it was.
    BT_INTERNAL = 104,
    /// The relay sent a frame the relay client refuses: malformed, out of place, or of
    /// another protocol version. An error frame for the relay is queued: write it, close
    /// the socket and call `bt_relay_client_disconnected`.
    BT_RELAY_PROTOCOL = 105,
    /// A frame was fed to a relay client with no open connection: call
    /// `bt_relay_client_connected` once the socket is open.
    BT_RELAY_NOT_CONNECTED = 106,
}

/// Every status, for lookups by number.
pub(crate) const ALL_STATUSES: [bt_status; 63] = {
    use bt_status::*;
    [
        BT_OK,
        BT_TRUNCATED,
        BT_TRAILING_BYTES,
        BT_UNKNOWN_MESSAGE_TYPE,
        BT_UNSUPPORTED_VERSION,
        BT_INVALID_FLAG,
        BT_CIPHERTEXT_TOO_SHORT,
        BT_MESSAGE_TOO_LONG,
        BT_INVALID_VALUE,
        BT_INVALID_IDENTITY_KEY,
        BT_BAD_SIGNATURE,
        BT_LOW_ORDER_KEY,
        BT_NON_CANONICAL_KEY,
        BT_INVALID_KEM_KEY,
        BT_UNKNOWN_PRE_KEY,
        BT_PRE_KEY_REPLAY,
        BT_NO_SESSION,
        BT_DUPLICATE_MESSAGE,
        BT_TOO_MANY_SKIPPED,
        BT_AUTHENTICATION_FAILED,
        BT_BAD_PADDING,
        BT_UNKNOWN_CONTENT_TYPE,
        BT_PLAINTEXT_TOO_LARGE,
        BT_COUNTER_EXHAUSTED,
        BT_UNKNOWN_RECEIPT_KIND,
        BT_INVALID_ID_COUNT,
        BT_NON_CANONICAL_IDS,
        BT_UNKNOWN_MESSAGE_ID,
        BT_WRONG_STORAGE_KEY,
        BT_STORE_CORRUPT,
        BT_NO_ACCOUNT,
        BT_ACCOUNT_EXISTS,
        BT_DATABASE,
        BT_UNTRUSTED_IDENTITY,
        BT_ALREADY_RECEIVED,
        BT_UNKNOWN_MESSAGE,
        BT_DIGEST_MISMATCH,
        BT_SIZE_MISMATCH,
        BT_ATTACHMENT_TOO_LARGE,
        BT_IO,
        BT_INVALID_BODY,
        BT_STALE_DEVICE_LIST,
        BT_DEVICE_NOT_LISTED,
        BT_UNKNOWN_PQ_KIND,
        BT_SHORT_PQ_BLOCK,
        BT_PQ_INDEX_OUT_OF_RANGE,
        BT_PQ_FUTURE_EPOCH,
        BT_PQ_WRONG_KIND,
        BT_PQ_UNEXPECTED_CHUNK,
        BT_INVALID_PQ_KEY,
        BT_INVALID_PQ_EPOCH,
        BT_FOREIGN_TRANSCRIPT,
        BT_UNKNOWN_DISTRIBUTION,
        BT_WRONG_CHAIN_ID,
        BT_INVALID_GROUP_ID,
        BT_DISTRIBUTION_CONFLICT,
        BT_NULL_ARGUMENT,
        BT_INVALID_ARGUMENT,
        BT_BUFFER,
        BT_PANIC,
        BT_INTERNAL,
        BT_RELAY_PROTOCOL,
        BT_RELAY_NOT_CONNECTED,
    ]
};

impl bt_status {
    /// The status of a library error kind. `ErrorKind` is non-exhaustive: a kind added to
    /// the core after this table was written maps to `BT_INTERNAL` until it gets its own.
    pub(crate) fn of_kind(kind: ErrorKind) -> Self {
        use bt_status::*;
        match kind {
            ErrorKind::Truncated => BT_TRUNCATED,
            ErrorKind::TrailingBytes => BT_TRAILING_BYTES,
            ErrorKind::UnknownMessageType => BT_UNKNOWN_MESSAGE_TYPE,
            ErrorKind::UnsupportedVersion => BT_UNSUPPORTED_VERSION,
            ErrorKind::InvalidFlag => BT_INVALID_FLAG,
            ErrorKind::CiphertextTooShort => BT_CIPHERTEXT_TOO_SHORT,
            ErrorKind::MessageTooLong => BT_MESSAGE_TOO_LONG,
            ErrorKind::InvalidValue => BT_INVALID_VALUE,
            ErrorKind::InvalidIdentityKey => BT_INVALID_IDENTITY_KEY,
            ErrorKind::BadSignature => BT_BAD_SIGNATURE,
            ErrorKind::LowOrderKey => BT_LOW_ORDER_KEY,
            ErrorKind::NonCanonicalKey => BT_NON_CANONICAL_KEY,
            ErrorKind::InvalidKemKey => BT_INVALID_KEM_KEY,
            ErrorKind::UnknownPreKey => BT_UNKNOWN_PRE_KEY,
            ErrorKind::PreKeyReplay => BT_PRE_KEY_REPLAY,
            ErrorKind::NoSession => BT_NO_SESSION,
            ErrorKind::DuplicateMessage => BT_DUPLICATE_MESSAGE,
            ErrorKind::TooManySkipped => BT_TOO_MANY_SKIPPED,
            ErrorKind::AuthenticationFailed => BT_AUTHENTICATION_FAILED,
            ErrorKind::BadPadding => BT_BAD_PADDING,
            ErrorKind::UnknownContentType => BT_UNKNOWN_CONTENT_TYPE,
            ErrorKind::PlaintextTooLarge => BT_PLAINTEXT_TOO_LARGE,
            ErrorKind::CounterExhausted => BT_COUNTER_EXHAUSTED,
            ErrorKind::UnknownReceiptKind => BT_UNKNOWN_RECEIPT_KIND,
            ErrorKind::InvalidIdCount => BT_INVALID_ID_COUNT,
            ErrorKind::NonCanonicalIds => BT_NON_CANONICAL_IDS,
            ErrorKind::UnknownMessageId => BT_UNKNOWN_MESSAGE_ID,
            ErrorKind::WrongStorageKey => BT_WRONG_STORAGE_KEY,
            ErrorKind::StoreCorrupt => BT_STORE_CORRUPT,
            ErrorKind::NoAccount => BT_NO_ACCOUNT,
            ErrorKind::AccountExists => BT_ACCOUNT_EXISTS,
            ErrorKind::Database => BT_DATABASE,
            ErrorKind::UntrustedIdentity => BT_UNTRUSTED_IDENTITY,
            ErrorKind::AlreadyReceived => BT_ALREADY_RECEIVED,
            ErrorKind::UnknownMessage => BT_UNKNOWN_MESSAGE,
            ErrorKind::DigestMismatch => BT_DIGEST_MISMATCH,
            ErrorKind::SizeMismatch => BT_SIZE_MISMATCH,
            ErrorKind::AttachmentTooLarge => BT_ATTACHMENT_TOO_LARGE,
            ErrorKind::Io => BT_IO,
            ErrorKind::InvalidBody => BT_INVALID_BODY,
            ErrorKind::StaleDeviceList => BT_STALE_DEVICE_LIST,
            ErrorKind::DeviceNotListed => BT_DEVICE_NOT_LISTED,
            ErrorKind::UnknownPqKind => BT_UNKNOWN_PQ_KIND,
            ErrorKind::ShortPqBlock => BT_SHORT_PQ_BLOCK,
            ErrorKind::PqIndexOutOfRange => BT_PQ_INDEX_OUT_OF_RANGE,
            ErrorKind::PqFutureEpoch => BT_PQ_FUTURE_EPOCH,
            ErrorKind::PqWrongKind => BT_PQ_WRONG_KIND,
            ErrorKind::PqUnexpectedChunk => BT_PQ_UNEXPECTED_CHUNK,
            ErrorKind::InvalidPqKey => BT_INVALID_PQ_KEY,
            ErrorKind::InvalidPqEpoch => BT_INVALID_PQ_EPOCH,
            ErrorKind::ForeignTranscript => BT_FOREIGN_TRANSCRIPT,
            ErrorKind::UnknownDistribution => BT_UNKNOWN_DISTRIBUTION,
            ErrorKind::WrongChainId => BT_WRONG_CHAIN_ID,
            ErrorKind::InvalidGroupId => BT_INVALID_GROUP_ID,
            ErrorKind::DistributionConflict => BT_DISTRIBUTION_CONFLICT,
            _ => BT_INTERNAL,
        }
    }

    /// The status's name, as spelled in the header.
    pub(crate) fn name(self) -> &'static core::ffi::CStr {
        use bt_status::*;
        match self {
            BT_OK => c"BT_OK",
            BT_TRUNCATED => c"BT_TRUNCATED",
            BT_TRAILING_BYTES => c"BT_TRAILING_BYTES",
            BT_UNKNOWN_MESSAGE_TYPE => c"BT_UNKNOWN_MESSAGE_TYPE",
            BT_UNSUPPORTED_VERSION => c"BT_UNSUPPORTED_VERSION",
            BT_INVALID_FLAG => c"BT_INVALID_FLAG",
            BT_CIPHERTEXT_TOO_SHORT => c"BT_CIPHERTEXT_TOO_SHORT",
            BT_MESSAGE_TOO_LONG => c"BT_MESSAGE_TOO_LONG",
            BT_INVALID_VALUE => c"BT_INVALID_VALUE",
            BT_INVALID_IDENTITY_KEY => c"BT_INVALID_IDENTITY_KEY",
            BT_BAD_SIGNATURE => c"BT_BAD_SIGNATURE",
            BT_LOW_ORDER_KEY => c"BT_LOW_ORDER_KEY",
            BT_NON_CANONICAL_KEY => c"BT_NON_CANONICAL_KEY",
            BT_INVALID_KEM_KEY => c"BT_INVALID_KEM_KEY",
            BT_UNKNOWN_PRE_KEY => c"BT_UNKNOWN_PRE_KEY",
            BT_PRE_KEY_REPLAY => c"BT_PRE_KEY_REPLAY",
            BT_NO_SESSION => c"BT_NO_SESSION",
            BT_DUPLICATE_MESSAGE => c"BT_DUPLICATE_MESSAGE",
            BT_TOO_MANY_SKIPPED => c"BT_TOO_MANY_SKIPPED",
            BT_AUTHENTICATION_FAILED => c"BT_AUTHENTICATION_FAILED",
            BT_BAD_PADDING => c"BT_BAD_PADDING",
            BT_UNKNOWN_CONTENT_TYPE => c"BT_UNKNOWN_CONTENT_TYPE",
            BT_PLAINTEXT_TOO_LARGE => c"BT_PLAINTEXT_TOO_LARGE",
            BT_COUNTER_EXHAUSTED => c"BT_COUNTER_EXHAUSTED",
            BT_UNKNOWN_RECEIPT_KIND => c"BT_UNKNOWN_RECEIPT_KIND",
            BT_INVALID_ID_COUNT => c"BT_INVALID_ID_COUNT",
            BT_NON_CANONICAL_IDS => c"BT_NON_CANONICAL_IDS",
            BT_UNKNOWN_MESSAGE_ID => c"BT_UNKNOWN_MESSAGE_ID",
            BT_WRONG_STORAGE_KEY => c"BT_WRONG_STORAGE_KEY",
            BT_STORE_CORRUPT => c"BT_STORE_CORRUPT",
            BT_NO_ACCOUNT => c"BT_NO_ACCOUNT",
            BT_ACCOUNT_EXISTS => c"BT_ACCOUNT_EXISTS",
            BT_DATABASE => c"BT_DATABASE",
            BT_UNTRUSTED_IDENTITY => c"BT_UNTRUSTED_IDENTITY",
            BT_ALREADY_RECEIVED => c"BT_ALREADY_RECEIVED",
            BT_UNKNOWN_MESSAGE => c"BT_UNKNOWN_MESSAGE",
            BT_DIGEST_MISMATCH => c"BT_DIGEST_MISMATCH",
            BT_SIZE_MISMATCH => c"BT_SIZE_MISMATCH",
            BT_ATTACHMENT_TOO_LARGE => c"BT_ATTACHMENT_TOO_LARGE",
            BT_IO => c"BT_IO",
            BT_INVALID_BODY => c"BT_INVALID_BODY",
            BT_STALE_DEVICE_LIST => c"BT_STALE_DEVICE_LIST",
            BT_DEVICE_NOT_LISTED => c"BT_DEVICE_NOT_LISTED",
            BT_UNKNOWN_PQ_KIND => c"BT_UNKNOWN_PQ_KIND",
            BT_SHORT_PQ_BLOCK => c"BT_SHORT_PQ_BLOCK",
            BT_PQ_INDEX_OUT_OF_RANGE => c"BT_PQ_INDEX_OUT_OF_RANGE",
            BT_PQ_FUTURE_EPOCH => c"BT_PQ_FUTURE_EPOCH",
            BT_PQ_WRONG_KIND => c"BT_PQ_WRONG_KIND",
            BT_PQ_UNEXPECTED_CHUNK => c"BT_PQ_UNEXPECTED_CHUNK",
            BT_INVALID_PQ_KEY => c"BT_INVALID_PQ_KEY",
            BT_INVALID_PQ_EPOCH => c"BT_INVALID_PQ_EPOCH",
            BT_FOREIGN_TRANSCRIPT => c"BT_FOREIGN_TRANSCRIPT",
            BT_UNKNOWN_DISTRIBUTION => c"BT_UNKNOWN_DISTRIBUTION",
            BT_WRONG_CHAIN_ID => c"BT_WRONG_CHAIN_ID",
            BT_INVALID_GROUP_ID => c"BT_INVALID_GROUP_ID",
            BT_DISTRIBUTION_CONFLICT => c"BT_DISTRIBUTION_CONFLICT",
            BT_NULL_ARGUMENT => c"BT_NULL_ARGUMENT",
            BT_INVALID_ARGUMENT => c"BT_INVALID_ARGUMENT",
            BT_BUFFER => c"BT_BUFFER",
            BT_PANIC => c"BT_PANIC",
            BT_INTERNAL => c"BT_INTERNAL",
            BT_RELAY_PROTOCOL => c"BT_RELAY_PROTOCOL",
            BT_RELAY_NOT_CONNECTED => c"BT_RELAY_NOT_CONNECTED",
        }
    }

    /// The status with this number, if any.
    pub(crate) fn from_number(n: c_int) -> Option<Self> {
        ALL_STATUSES.iter().copied().find(|s| *s as c_int == n)
    }
}

/// The name of a status value, such as `"BT_WRONG_STORAGE_KEY"`, or `"BT_UNKNOWN_STATUS"`
/// for a number that is no status. Takes an `int` so any number is safe to pass.
///
/// Returns a static NUL-terminated string: never null, never freed.
#[no_mangle]
pub extern "C" fn bt_status_name(status: c_int) -> *const c_char {
    crate::boundary::guard(c"BT_PANIC".as_ptr(), || {
        bt_status::from_number(status)
            .map_or(c"BT_UNKNOWN_STATUS", bt_status::name)
            .as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `BT_` and the screaming-snake spelling of a kind's name.
    fn expected_name(kind: ErrorKind) -> String {
        let mut out = String::from("BT_");
        for (i, c) in kind.name().chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_uppercase());
        }
        out
    }

    /// Every kind the core declares, in its declaration order.
    const KINDS: [ErrorKind; 55] = [
        ErrorKind::Truncated,
        ErrorKind::TrailingBytes,
        ErrorKind::UnknownMessageType,
        ErrorKind::UnsupportedVersion,
        ErrorKind::InvalidFlag,
        ErrorKind::CiphertextTooShort,
        ErrorKind::MessageTooLong,
        ErrorKind::InvalidValue,
        ErrorKind::InvalidIdentityKey,
        ErrorKind::BadSignature,
        ErrorKind::LowOrderKey,
        ErrorKind::NonCanonicalKey,
        ErrorKind::InvalidKemKey,
        ErrorKind::UnknownPreKey,
        ErrorKind::PreKeyReplay,
        ErrorKind::NoSession,
        ErrorKind::DuplicateMessage,
        ErrorKind::TooManySkipped,
        ErrorKind::AuthenticationFailed,
        ErrorKind::BadPadding,
        ErrorKind::UnknownContentType,
        ErrorKind::PlaintextTooLarge,
        ErrorKind::CounterExhausted,
        ErrorKind::UnknownReceiptKind,
        ErrorKind::InvalidIdCount,
        ErrorKind::NonCanonicalIds,
        ErrorKind::UnknownMessageId,
        ErrorKind::WrongStorageKey,
        ErrorKind::StoreCorrupt,
        ErrorKind::NoAccount,
        ErrorKind::AccountExists,
        ErrorKind::Database,
        ErrorKind::UntrustedIdentity,
        ErrorKind::AlreadyReceived,
        ErrorKind::UnknownMessage,
        ErrorKind::DigestMismatch,
        ErrorKind::SizeMismatch,
        ErrorKind::AttachmentTooLarge,
        ErrorKind::Io,
        ErrorKind::InvalidBody,
        ErrorKind::StaleDeviceList,
        ErrorKind::DeviceNotListed,
        ErrorKind::UnknownPqKind,
        ErrorKind::ShortPqBlock,
        ErrorKind::PqIndexOutOfRange,
        ErrorKind::PqFutureEpoch,
        ErrorKind::PqWrongKind,
        ErrorKind::PqUnexpectedChunk,
        ErrorKind::InvalidPqKey,
        ErrorKind::InvalidPqEpoch,
        ErrorKind::ForeignTranscript,
        ErrorKind::UnknownDistribution,
        ErrorKind::WrongChainId,
        ErrorKind::InvalidGroupId,
        ErrorKind::DistributionConflict,
    ];

    #[test]
    fn every_kind_has_its_own_status_named_after_it_numbered_in_order() {
        for (i, kind) in KINDS.iter().enumerate() {
            let status = bt_status::of_kind(*kind);
            assert_eq!(status as usize, i + 1, "{kind:?}");
            assert_eq!(status.name().to_str().unwrap(), expected_name(*kind));
        }
    }

    #[test]
    fn numbers_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for s in ALL_STATUSES {
            assert!(seen.insert(s as c_int), "{s:?} repeats a number");
            assert_eq!(bt_status::from_number(s as c_int), Some(s));
            assert!(s.name().to_str().unwrap().starts_with("BT_"));
        }
        assert_eq!(bt_status::from_number(-1), None);
        assert_eq!(bt_status::from_number(56), None);
        assert_eq!(bt_status::BT_NULL_ARGUMENT as c_int, 100);
        assert_eq!(bt_status::BT_INTERNAL as c_int, 104);
        assert_eq!(bt_status::BT_RELAY_NOT_CONNECTED as c_int, 106);
    }

    #[test]
    fn status_name_is_static_and_total() {
        let name = |n| {
            // SAFETY: bt_status_name returns a static NUL-terminated string.
            unsafe { core::ffi::CStr::from_ptr(bt_status_name(n)) }
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(name(0), "BT_OK");
        assert_eq!(name(28), "BT_WRONG_STORAGE_KEY");
        assert_eq!(name(103), "BT_PANIC");
        assert_eq!(name(9999), "BT_UNKNOWN_STATUS");
        assert_eq!(name(c_int::MIN), "BT_UNKNOWN_STATUS");
    }
}
