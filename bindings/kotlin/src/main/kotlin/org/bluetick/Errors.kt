package org.bluetick

/**
 * Every `bt_status` of bluetick.h but `BT_OK`. The numbers are fixed by the C ABI: a value
 * never changes meaning. [Internal] also stands for any number this binding does not know
 * (a newer library), whose [BluetickException.code] is kept as the library returned it.
 */
enum class Status(val code: Int) {
    Truncated(1),
    TrailingBytes(2),
    UnknownMessageType(3),
    UnsupportedVersion(4),
    InvalidFlag(5),
    CiphertextTooShort(6),
    MessageTooLong(7),
    InvalidValue(8),
    InvalidIdentityKey(9),
    BadSignature(10),
    LowOrderKey(11),
    NonCanonicalKey(12),
    InvalidKemKey(13),
    UnknownPreKey(14),
    PreKeyReplay(15),
    NoSession(16),
    DuplicateMessage(17),
    TooManySkipped(18),
    AuthenticationFailed(19),
    BadPadding(20),
    UnknownContentType(21),
    PlaintextTooLarge(22),
    CounterExhausted(23),
    UnknownReceiptKind(24),
    InvalidIdCount(25),
    NonCanonicalIds(26),
    UnknownMessageId(27),
    WrongStorageKey(28),
    StoreCorrupt(29),
    NoAccount(30),
    AccountExists(31),
    Database(32),
    UntrustedIdentity(33),
    AlreadyReceived(34),
    UnknownMessage(35),
    NullArgument(100),
    InvalidArgument(101),
    Buffer(102),
    Panic(103),
    Internal(104),
    ;

    companion object {
        private val byCode = entries.associateBy { it.code }

        /** The status of a C code; [Internal] for a code this binding does not know. */
        fun of(code: Int): Status = byCode[code] ?: Internal
    }
}

/**
 * A failed call into the library: every `bt_status` other than `BT_OK` becomes one of the
 * subclasses below, grouped by what the app does about it. All carry:
 *
 * - [code]: the `bt_status` number (fixed by the C ABI) and [status], the same as an enum;
 * - [statusName]: its C name from `bt_status_name`, such as `"BT_WRONG_STORAGE_KEY"`;
 * - [detail]: `bt_last_error_message()`, read on the calling thread right after the call
 *   (what went wrong and what to do). `message` joins the three.
 *
 * The constructors are internal: only the binding creates these.
 */
sealed class BluetickException(
    val code: Int,
    val statusName: String,
    val detail: String,
) : Exception(if (detail.isEmpty()) "$statusName ($code)" else "$statusName ($code): $detail") {
    /** [code] as an enum ([Status.Internal] for a code newer than this binding). */
    val status: Status get() = Status.of(code)
}

/**
 * Bytes that do not parse: truncated, trailing bytes, an unknown message type, version,
 * flag, content type or receipt kind, a bad length or id list, an oversized message.
 * The input is damaged or not Bluetick's; drop it. Statuses 1-8, 21, 22, 24-26.
 */
class MalformedInputException internal constructor(code: Int, statusName: String, detail: String) :
    BluetickException(code, statusName, detail)

/**
 * Key material that is not valid: an identity key that is no canonical Ed25519 point, a
 * small-order or non-canonical X25519 key, an ML-KEM key failing the FIPS 203 check.
 * Statuses 9, 11-13.
 */
class InvalidKeyMaterialException internal constructor(code: Int, statusName: String, detail: String) :
    BluetickException(code, statusName, detail)

/**
 * Authentication or decryption failed: the message was altered or is not for this
 * session, a signature does not verify, the padding under the AEAD is wrong, or a receipt
 * names an id never sent. Nothing changed; the next genuine message still decrypts.
 * Statuses 10, 19, 20, 27.
 */
class AuthenticationException internal constructor(code: Int, statusName: String, detail: String) :
    BluetickException(code, statusName, detail)

/**
 * The session state does not allow it: no session with the peer (fetch its bundle and
 * encrypt with it), an unknown or replayed prekey, too many skipped messages, an exhausted
 * counter. Statuses 14-16, 18, 23.
 */
class SessionException internal constructor(code: Int, statusName: String, detail: String) :
    BluetickException(code, statusName, detail)

/**
 * A message seen before. [Status.DuplicateMessage]: already decrypted (or its key dropped),
 * a replay. [Status.AlreadyReceived]: received and acknowledged; tell the relay to drop it.
 * Statuses 17, 34.
 */
class DuplicateMessageException internal constructor(code: Int, statusName: String, detail: String) :
    BluetickException(code, statusName, detail) {
    /** True for [Status.AlreadyReceived]: safe to tell the relay to drop the message. */
    val alreadyReceived: Boolean get() = status == Status.AlreadyReceived
}

/**
 * A peer's identity key changed and the [IdentityPolicy] (or its absence) did not trust the
 * new one. Compare safety numbers, then [Account.trustIdentity]. Status 33.
 */
class UntrustedIdentityException internal constructor(code: Int, statusName: String, detail: String) :
    BluetickException(code, statusName, detail)

/** A message id the account never sent or received (acknowledge, markSent, receipts). Status 35. */
class UnknownMessageException internal constructor(code: Int, statusName: String, detail: String) :
    BluetickException(code, statusName, detail)

/**
 * The store failed: [Status.WrongStorageKey] (see [wrongStorageKey]), a corrupt record, no
 * account to open, an account already there, or the database itself (path, permissions,
 * free space). Statuses 28-32.
 */
class StoreException internal constructor(code: Int, statusName: String, detail: String) :
    BluetickException(code, statusName, detail) {
    /** True when the storage key does not open the store. */
    val wrongStorageKey: Boolean get() = status == Status.WrongStorageKey
}

/**
 * An argument out of range: a storage key that is not 32 bytes, a user id over 1024 bytes,
 * an out-of-range index or kind, a fixed-size key or seed of the wrong length (checked by
 * this binding before the call), too small an output. Statuses 101, 102.
 */
class InvalidArgumentException internal constructor(code: Int, statusName: String, detail: String) :
    BluetickException(code, statusName, detail)

/**
 * A null pointer reached the library. The Kotlin API passes none, so this means a binding
 * bug. Status 100.
 */
class NullArgumentException internal constructor(code: Int, statusName: String, detail: String) :
    BluetickException(code, statusName, detail)

/**
 * The library panicked (a bug in it): the panic was caught at the boundary, the call had no
 * effect that can be relied on, and the process goes on. Status 103.
 */
class PanicException internal constructor(code: Int, statusName: String, detail: String) :
    BluetickException(code, statusName, detail)

/**
 * An error kind newer than this binding (status 104, or a number it does not know); [detail]
 * names it.
 */
class InternalException internal constructor(code: Int, statusName: String, detail: String) :
    BluetickException(code, statusName, detail)

/** Builds the exception for a status (not `BT_OK`). */
internal fun exceptionFor(code: Int, detail: String): BluetickException {
    val name = Lib.bt.bt_status_name(code).utf8()
    return when (code) {
        in 1..8, 21, 22, in 24..26 -> MalformedInputException(code, name, detail)
        9, 11, 12, 13 -> InvalidKeyMaterialException(code, name, detail)
        10, 19, 20, 27 -> AuthenticationException(code, name, detail)
        14, 15, 16, 18, 23 -> SessionException(code, name, detail)
        17, 34 -> DuplicateMessageException(code, name, detail)
        33 -> UntrustedIdentityException(code, name, detail)
        35 -> UnknownMessageException(code, name, detail)
        in 28..32 -> StoreException(code, name, detail)
        100 -> NullArgumentException(code, name, detail)
        101, 102 -> InvalidArgumentException(code, name, detail)
        103 -> PanicException(code, name, detail)
        else -> InternalException(code, name, detail)
    }
}

/**
 * Throws for a failed status. Must run right after the C call, on the same thread, before
 * any other status-returning call: the last-error message is per thread and replaced by
 * the next call.
 */
internal fun checkStatus(code: Int) {
    if (code != 0) {
        val detail = Lib.bt.bt_last_error_message().utf8()
        throw exceptionFor(code, detail)
    }
}

/** An argument this binding rejects before calling the library (a fixed-size input). */
internal fun invalidArgument(detail: String): InvalidArgumentException =
    InvalidArgumentException(Status.InvalidArgument.code, "BT_INVALID_ARGUMENT", detail)

/** Checks the length of a fixed-size input, which the C side cannot check. */
internal fun requireLength(bytes: ByteArray, length: Int, what: String) {
    if (bytes.size != length) throw invalidArgument("$what must be $length bytes, got ${bytes.size}")
}
