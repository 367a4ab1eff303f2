// Errors: one `BluetickError` case per `bt_status` of bluetick.h, carrying the message of
// `bt_last_error_message()` read right after the failed call.
//
// The cases and numbers mirror the `bt_status` enum of the header one for one (written
// from it; re-check this list whenever scripts/sync-header.sh reports a change). A status
// this file does not know becomes `.unknown(status:message:)`.

import CBluetick
import Foundation

/// A failed call into Bluetick: the `bt_status` as a case, with the library's message.
public enum BluetickError: Error, Equatable, Sendable {
    /// `BT_TRUNCATED` (1): Input ended before the structure did.
    case truncated(message: String)
    /// `BT_TRAILING_BYTES` (2): Bytes followed the end of the structure.
    case trailingBytes(message: String)
    /// `BT_UNKNOWN_MESSAGE_TYPE` (3): The first byte of a wire message is not a known `(version, type)`.
    case unknownMessageType(message: String)
    /// `BT_UNSUPPORTED_VERSION` (4): A versioned encoding carries a version this build does not read.
    case unsupportedVersion(message: String)
    /// `BT_INVALID_FLAG` (5): A flag byte is neither 0 nor 1.
    case invalidFlag(message: String)
    /// `BT_CIPHERTEXT_TOO_SHORT` (6): A ciphertext is shorter than the AEAD tag.
    case ciphertextTooShort(message: String)
    /// `BT_MESSAGE_TOO_LONG` (7): A message is longer than the largest allowed plaintext permits.
    case messageTooLong(message: String)
    /// `BT_INVALID_VALUE` (8): A field of an encoding holds a value outside its allowed range.
    case invalidValue(message: String)
    /// `BT_INVALID_IDENTITY_KEY` (9): An identity key is not a valid, canonical, torsion-free Ed25519 point.
    case invalidIdentityKey(message: String)
    /// `BT_BAD_SIGNATURE` (10): A signature does not verify under the identity key.
    case badSignature(message: String)
    /// `BT_LOW_ORDER_KEY` (11): An X25519 key has small order.
    case lowOrderKey(message: String)
    /// `BT_NON_CANONICAL_KEY` (12): An X25519 public key is not canonically encoded.
    case nonCanonicalKey(message: String)
    /// `BT_INVALID_KEM_KEY` (13): An ML-KEM-1024 encapsulation key fails the FIPS 203 input check.
    case invalidKemKey(message: String)
    /// `BT_UNKNOWN_PRE_KEY` (14): A PreKeyMessage names a prekey this device no longer holds.
    case unknownPreKey(message: String)
    /// `BT_PRE_KEY_REPLAY` (15): A PreKeyMessage reuses a base key already accepted.
    case preKeyReplay(message: String)
    /// `BT_NO_SESSION` (16): No session with the peer: fetch its bundle and pass it to `bt_account_encrypt`.
    case noSession(message: String)
    /// `BT_DUPLICATE_MESSAGE` (17): The message was already decrypted, or its key was dropped: a duplicate or replay.
    case duplicateMessage(message: String)
    /// `BT_TOO_MANY_SKIPPED` (18): The message skips more keys than the limits allow.
    case tooManySkipped(message: String)
    /// `BT_AUTHENTICATION_FAILED` (19): The message does not authenticate: altered, or not for this session.
    case authenticationFailed(message: String)
    /// `BT_BAD_PADDING` (20): The decrypted plaintext is not correctly padded.
    case badPadding(message: String)
    /// `BT_UNKNOWN_CONTENT_TYPE` (21): The decrypted plaintext carries an unknown content type.
    case unknownContentType(message: String)
    /// `BT_PLAINTEXT_TOO_LARGE` (22): The plaintext is larger than the protocol allows (16 MiB).
    case plaintextTooLarge(message: String)
    /// `BT_COUNTER_EXHAUSTED` (23): A counter would overflow: start a new session.
    case counterExhausted(message: String)
    /// `BT_UNKNOWN_RECEIPT_KIND` (24): A receipt kind byte is unknown.
    case unknownReceiptKind(message: String)
    /// `BT_INVALID_ID_COUNT` (25): A receipt acknowledges zero or more than 1024 ids.
    case invalidIdCount(message: String)
    /// `BT_NON_CANONICAL_IDS` (26): Receipt ids are not strictly ascending.
    case nonCanonicalIds(message: String)
    /// `BT_UNKNOWN_MESSAGE_ID` (27): A receipt acknowledges an id never sent to that peer.
    case unknownMessageId(message: String)
    /// `BT_WRONG_STORAGE_KEY` (28): The storage key does not open the store.
    case wrongStorageKey(message: String)
    /// `BT_STORE_CORRUPT` (29): A stored record is corrupt.
    case storeCorrupt(message: String)
    /// `BT_NO_ACCOUNT` (30): The store holds no account: create one.
    case noAccount(message: String)
    /// `BT_ACCOUNT_EXISTS` (31): The store already holds an account: open it.
    case accountExists(message: String)
    /// `BT_DATABASE` (32): The database failed (path, permissions, free space).
    case database(message: String)
    /// `BT_UNTRUSTED_IDENTITY` (33): A peer's identity changed and the policy did not trust the new one.
    case untrustedIdentity(message: String)
    /// `BT_ALREADY_RECEIVED` (34): The message was already received and acknowledged: tell the relay to drop it.
    case alreadyReceived(message: String)
    /// `BT_UNKNOWN_MESSAGE` (35): A message id the account does not know.
    case unknownMessage(message: String)
    /// `BT_NULL_ARGUMENT` (100): A pointer argument that must not be null was null (or a byte pointer was null with a non-zero length).
    case nullArgument(message: String)
    /// `BT_INVALID_ARGUMENT` (101): An argument is out of its allowed range: a storage key that is not 32 bytes, a path that is not UTF-8, a user id over 1024 bytes, an unknown receipt kind, an index past the end.
    case invalidArgument(message: String)
    /// `BT_BUFFER` (102): A caller-provided output buffer is too small.
    case bufferTooSmall(message: String)
    /// `BT_PANIC` (103): The library panicked (a bug); the call had no effect that can be relied on, and the process may continue.
    case panic(message: String)
    /// `BT_INTERNAL` (104): An error this version of the C ABI has no status for (an error kind newer than the header); the message says what it was.
    case internalError(message: String)
    /// A status number newer than this binding.
    case unknown(status: Int32, message: String)

    /// The error for a status number (never `BT_OK`) and its message.
    public init(status: Int32, message: String) {
        switch status {
        case 1: self = .truncated(message: message)
        case 2: self = .trailingBytes(message: message)
        case 3: self = .unknownMessageType(message: message)
        case 4: self = .unsupportedVersion(message: message)
        case 5: self = .invalidFlag(message: message)
        case 6: self = .ciphertextTooShort(message: message)
        case 7: self = .messageTooLong(message: message)
        case 8: self = .invalidValue(message: message)
        case 9: self = .invalidIdentityKey(message: message)
        case 10: self = .badSignature(message: message)
        case 11: self = .lowOrderKey(message: message)
        case 12: self = .nonCanonicalKey(message: message)
        case 13: self = .invalidKemKey(message: message)
        case 14: self = .unknownPreKey(message: message)
        case 15: self = .preKeyReplay(message: message)
        case 16: self = .noSession(message: message)
        case 17: self = .duplicateMessage(message: message)
        case 18: self = .tooManySkipped(message: message)
        case 19: self = .authenticationFailed(message: message)
        case 20: self = .badPadding(message: message)
        case 21: self = .unknownContentType(message: message)
        case 22: self = .plaintextTooLarge(message: message)
        case 23: self = .counterExhausted(message: message)
        case 24: self = .unknownReceiptKind(message: message)
        case 25: self = .invalidIdCount(message: message)
        case 26: self = .nonCanonicalIds(message: message)
        case 27: self = .unknownMessageId(message: message)
        case 28: self = .wrongStorageKey(message: message)
        case 29: self = .storeCorrupt(message: message)
        case 30: self = .noAccount(message: message)
        case 31: self = .accountExists(message: message)
        case 32: self = .database(message: message)
        case 33: self = .untrustedIdentity(message: message)
        case 34: self = .alreadyReceived(message: message)
        case 35: self = .unknownMessage(message: message)
        case 100: self = .nullArgument(message: message)
        case 101: self = .invalidArgument(message: message)
        case 102: self = .bufferTooSmall(message: message)
        case 103: self = .panic(message: message)
        case 104: self = .internalError(message: message)
        default: self = .unknown(status: status, message: message)
        }
    }

    /// The `bt_status` number.
    public var status: Int32 {
        switch self {
        case .truncated: return 1
        case .trailingBytes: return 2
        case .unknownMessageType: return 3
        case .unsupportedVersion: return 4
        case .invalidFlag: return 5
        case .ciphertextTooShort: return 6
        case .messageTooLong: return 7
        case .invalidValue: return 8
        case .invalidIdentityKey: return 9
        case .badSignature: return 10
        case .lowOrderKey: return 11
        case .nonCanonicalKey: return 12
        case .invalidKemKey: return 13
        case .unknownPreKey: return 14
        case .preKeyReplay: return 15
        case .noSession: return 16
        case .duplicateMessage: return 17
        case .tooManySkipped: return 18
        case .authenticationFailed: return 19
        case .badPadding: return 20
        case .unknownContentType: return 21
        case .plaintextTooLarge: return 22
        case .counterExhausted: return 23
        case .unknownReceiptKind: return 24
        case .invalidIdCount: return 25
        case .nonCanonicalIds: return 26
        case .unknownMessageId: return 27
        case .wrongStorageKey: return 28
        case .storeCorrupt: return 29
        case .noAccount: return 30
        case .accountExists: return 31
        case .database: return 32
        case .untrustedIdentity: return 33
        case .alreadyReceived: return 34
        case .unknownMessage: return 35
        case .nullArgument: return 100
        case .invalidArgument: return 101
        case .bufferTooSmall: return 102
        case .panic: return 103
        case .internalError: return 104
        case .unknown(let status, _): return status
        }
    }

    /// The library's name of the status, such as `"BT_WRONG_STORAGE_KEY"`.
    public var statusName: String { String(cString: bt_status_name(status)) }

    /// What went wrong and what to do, from `bt_last_error_message()` (empty for the
    /// per-message results of `decryptBatch`, which carry only a status).
    public var message: String {
        switch self {
        case .truncated(let message),
             .trailingBytes(let message),
             .unknownMessageType(let message),
             .unsupportedVersion(let message),
             .invalidFlag(let message),
             .ciphertextTooShort(let message),
             .messageTooLong(let message),
             .invalidValue(let message),
             .invalidIdentityKey(let message),
             .badSignature(let message),
             .lowOrderKey(let message),
             .nonCanonicalKey(let message),
             .invalidKemKey(let message),
             .unknownPreKey(let message),
             .preKeyReplay(let message),
             .noSession(let message),
             .duplicateMessage(let message),
             .tooManySkipped(let message),
             .authenticationFailed(let message),
             .badPadding(let message),
             .unknownContentType(let message),
             .plaintextTooLarge(let message),
             .counterExhausted(let message),
             .unknownReceiptKind(let message),
             .invalidIdCount(let message),
             .nonCanonicalIds(let message),
             .unknownMessageId(let message),
             .wrongStorageKey(let message),
             .storeCorrupt(let message),
             .noAccount(let message),
             .accountExists(let message),
             .database(let message),
             .untrustedIdentity(let message),
             .alreadyReceived(let message),
             .unknownMessage(let message),
             .nullArgument(let message),
             .invalidArgument(let message),
             .bufferTooSmall(let message),
             .panic(let message),
             .internalError(let message):
            return message
        case .unknown(_, let message):
            return message
        }
    }

    /// Input that does not parse, holds a value out of range, or carries an invalid key:
    /// drop it; nothing changed.
    public var isMalformedInput: Bool {
        switch status {
        case 1...9, 11...13, 20, 21, 24...26: return true
        default: return false
        }
    }

    /// Altered, forged, or not for this session or identity (`authenticationFailed`,
    /// `badSignature`, `unknownMessageId`): drop it; nothing changed.
    public var isAuthenticationFailure: Bool { [10, 19, 27].contains(status) }

    /// Seen before (`duplicateMessage` or `alreadyReceived`): the relay may drop it.
    public var isDuplicate: Bool { status == 17 || status == 34 }

    /// A failure of the account's store: wrong key, corruption, no account, an existing
    /// account, the database.
    public var isStoreError: Bool { (28...32).contains(status) }
}

extension BluetickError: CustomStringConvertible {
    public var description: String { message.isEmpty ? statusName : "\(statusName): \(message)" }
}

extension BluetickError: LocalizedError {
    public var errorDescription: String? { description }
}

/// Throws the `BluetickError` for `status` unless it is `BT_OK`. Call it directly on the
/// result of a `bt_*` call: it reads that call's `bt_last_error_message()`, which is per
/// thread and replaced by the next status-returning call.
@inline(__always)
func check(_ status: bt_status) throws {
    if status == BT_OK { return }
    throw BluetickError(
        status: Int32(truncatingIfNeeded: status.rawValue),
        message: String(cString: bt_last_error_message()))
}

/// An argument error found by the binding before calling the library (a fixed-size input
/// of the wrong length, which C would read past).
func invalidArgument(_ message: String) -> BluetickError {
    .invalidArgument(message: message)
}
