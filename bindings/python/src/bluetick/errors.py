"""Exceptions: one class per ``bt_status``, grouped by what the caller can do about it.

Every failure of the library raises a :class:`BluetickError` carrying the status number
(``status``), its name from ``bt_status_name`` (``status_name``) and the library's message
from ``bt_last_error_message`` read right after the failed call (``message``).

The hierarchy::

    BluetickError
    ├── MalformedInputError              bytes that do not parse or are out of range
    │   ├── TruncatedError, TrailingBytesError, UnknownMessageTypeError,
    │   │   UnsupportedVersionError, InvalidFlagError, CiphertextTooShortError,
    │   │   MessageTooLongError, InvalidValueError, BadPaddingError,
    │   │   UnknownContentTypeError, UnknownReceiptKindError, InvalidIdCountError,
    │   │   NonCanonicalIdsError
    │   └── InvalidKeyError              a key that is not a valid key
    │       └── InvalidIdentityKeyError, LowOrderKeyError, NonCanonicalKeyError,
    │           InvalidKemKeyError
    ├── AuthenticationError              altered, forged, or not for us
    │   └── AuthenticationFailedError, BadSignatureError, UnknownMessageIdError
    ├── SessionError                     the session or prekey state refuses it
    │   └── NoSessionError, UnknownPreKeyError, PreKeyReplayError,
    │       TooManySkippedError, CounterExhaustedError
    ├── DuplicateMessageError            seen before: tell the relay to drop it
    │   └── AlreadyReceivedError
    ├── UntrustedIdentityError           a peer's identity key changed
    ├── UnknownMessageError              an id this account never sent or received
    ├── StoreError                       the account's store
    │   └── WrongStorageKeyError, StoreCorruptError, NoAccountError,
    │       AccountExistsError, DatabaseError
    ├── InvalidArgumentError (ValueError)   a bad argument from the caller
    │   └── NullArgumentError, BufferTooSmallError, PlaintextTooLargeError
    ├── PanicError                       a bug inside the library, contained
    └── InternalError                    a status newer than this binding

``STATUS_ERRORS`` maps each status number to its exact class; :func:`error_for` builds the
exception for a status.
"""

from __future__ import annotations

import enum

from . import _native


class Status(enum.IntEnum):
    """Every ``bt_status`` value of ``bluetick.h`` (the numbers never change meaning)."""

    OK = 0
    TRUNCATED = 1
    TRAILING_BYTES = 2
    UNKNOWN_MESSAGE_TYPE = 3
    UNSUPPORTED_VERSION = 4
    INVALID_FLAG = 5
    CIPHERTEXT_TOO_SHORT = 6
    MESSAGE_TOO_LONG = 7
    INVALID_VALUE = 8
    INVALID_IDENTITY_KEY = 9
    BAD_SIGNATURE = 10
    LOW_ORDER_KEY = 11
    NON_CANONICAL_KEY = 12
    INVALID_KEM_KEY = 13
    UNKNOWN_PRE_KEY = 14
    PRE_KEY_REPLAY = 15
    NO_SESSION = 16
    DUPLICATE_MESSAGE = 17
    TOO_MANY_SKIPPED = 18
    AUTHENTICATION_FAILED = 19
    BAD_PADDING = 20
    UNKNOWN_CONTENT_TYPE = 21
    PLAINTEXT_TOO_LARGE = 22
    COUNTER_EXHAUSTED = 23
    UNKNOWN_RECEIPT_KIND = 24
    INVALID_ID_COUNT = 25
    NON_CANONICAL_IDS = 26
    UNKNOWN_MESSAGE_ID = 27
    WRONG_STORAGE_KEY = 28
    STORE_CORRUPT = 29
    NO_ACCOUNT = 30
    ACCOUNT_EXISTS = 31
    DATABASE = 32
    UNTRUSTED_IDENTITY = 33
    ALREADY_RECEIVED = 34
    UNKNOWN_MESSAGE = 35
    NULL_ARGUMENT = 100
    INVALID_ARGUMENT = 101
    BUFFER = 102
    PANIC = 103
    INTERNAL = 104


def status_name(status: int) -> str:
    """The library's name of a status number, such as ``"BT_WRONG_STORAGE_KEY"``
    (``"BT_UNKNOWN_STATUS"`` for a number that is none)."""
    return _native.lib().bt_status_name(int(status)).decode("ascii")


class BluetickError(Exception):
    """A call into the library failed.

    Attributes:
        status: the ``bt_status`` number.
        status_name: its name, such as ``"BT_AUTHENTICATION_FAILED"``.
        message: what went wrong and what to do, from ``bt_last_error_message``.
    """

    def __init__(self, status: int, message: str, name: str | None = None) -> None:
        self.status = int(status)
        self.status_name = name if name is not None else status_name(self.status)
        self.message = message
        super().__init__(f"{self.status_name}: {message}" if message else self.status_name)

    def __reduce__(self):  # keeps the exception picklable (for multiprocessing)
        return (type(self), (self.status, self.message, self.status_name))


# Groups.


class MalformedInputError(BluetickError):
    """Bytes (a wire message, bundle, upload, receipt or plaintext) that do not parse, or
    hold a value out of range. Drop the input; nothing changed."""


class InvalidKeyError(MalformedInputError):
    """A key that is not a valid key of its kind."""


class AuthenticationError(BluetickError):
    """The input does not authenticate: altered, forged, or not meant for this session or
    identity. Drop it; nothing changed."""


class SessionError(BluetickError):
    """The session or prekey state cannot take this message (no session, a prekey gone or
    reused, too many skipped keys, an exhausted counter)."""


class DuplicateMessageError(BluetickError):
    """The message was already decrypted (or its key dropped): a duplicate or replay.
    The relay may drop it. Also the exact class of ``BT_DUPLICATE_MESSAGE``."""


class StoreError(BluetickError):
    """The account's sealed store: wrong key, corruption, missing or existing account,
    database failure."""


class InvalidArgumentError(BluetickError, ValueError):
    """An argument out of its allowed range (also a ``ValueError``). Also the exact class
    of ``BT_INVALID_ARGUMENT``."""


class UntrustedIdentityError(BluetickError):
    """A peer's identity key changed and the identity policy did not trust the new one:
    compare safety numbers, then ``Account.trust_identity``."""


class UnknownMessageError(BluetickError):
    """A message id this account never sent (``mark_sent``) or received
    (``acknowledge``, ``create_receipt``)."""


class PanicError(BluetickError):
    """The library panicked (a bug). The panic was contained; the process may go on."""


class InternalError(BluetickError):
    """A status this binding does not know (an error kind newer than it)."""


# Exact classes.


class TruncatedError(MalformedInputError):
    """Input ended before the structure did."""


class TrailingBytesError(MalformedInputError):
    """Bytes followed the end of the structure."""


class UnknownMessageTypeError(MalformedInputError):
    """The first byte of a wire message is not a known (version, type)."""


class UnsupportedVersionError(MalformedInputError):
    """A versioned encoding carries a version this build does not read."""


class InvalidFlagError(MalformedInputError):
    """A flag byte is neither 0 nor 1."""


class CiphertextTooShortError(MalformedInputError):
    """A ciphertext is shorter than the AEAD tag."""


class MessageTooLongError(MalformedInputError):
    """A message is longer than the largest allowed plaintext permits."""


class InvalidValueError(MalformedInputError):
    """A field of an encoding holds a value outside its allowed range."""


class BadPaddingError(MalformedInputError):
    """The decrypted plaintext is not correctly padded."""


class UnknownContentTypeError(MalformedInputError):
    """The decrypted plaintext carries an unknown content type."""


class UnknownReceiptKindError(MalformedInputError):
    """A receipt kind byte is unknown."""


class InvalidIdCountError(MalformedInputError):
    """A receipt acknowledges zero or more than 1024 ids."""


class NonCanonicalIdsError(MalformedInputError):
    """Receipt ids are not strictly ascending."""


class InvalidIdentityKeyError(InvalidKeyError):
    """An identity key is not a valid, canonical, torsion-free Ed25519 point."""


class LowOrderKeyError(InvalidKeyError):
    """An X25519 key has small order."""


class NonCanonicalKeyError(InvalidKeyError):
    """An X25519 public key is not canonically encoded."""


class InvalidKemKeyError(InvalidKeyError):
    """An ML-KEM-1024 encapsulation key fails the FIPS 203 input check."""


class AuthenticationFailedError(AuthenticationError):
    """The message does not authenticate: altered, or not for this session."""


class BadSignatureError(AuthenticationError):
    """A signature does not verify under the identity key."""


class UnknownMessageIdError(AuthenticationError):
    """A receipt acknowledges an id never sent to that peer."""


class NoSessionError(SessionError):
    """No session with the peer: fetch its bundle and pass it to ``Account.encrypt``."""


class UnknownPreKeyError(SessionError):
    """A PreKeyMessage names a prekey this device no longer holds."""


class PreKeyReplayError(SessionError):
    """A PreKeyMessage reuses a base key already accepted."""


class TooManySkippedError(SessionError):
    """The message skips more keys than the limits allow."""


class CounterExhaustedError(SessionError):
    """A counter would overflow: start a new session."""


class AlreadyReceivedError(DuplicateMessageError):
    """The message was already received and acknowledged: tell the relay to drop it."""


class WrongStorageKeyError(StoreError):
    """The storage key does not open the store."""


class StoreCorruptError(StoreError):
    """A stored record is corrupt."""


class NoAccountError(StoreError):
    """The store holds no account: create one."""


class AccountExistsError(StoreError):
    """The store already holds an account: open it."""


class DatabaseError(StoreError):
    """The database failed (path, permissions, free space)."""


class NullArgumentError(InvalidArgumentError):
    """A pointer argument that must not be null was null (a bug in a binding)."""


class BufferTooSmallError(InvalidArgumentError):
    """A caller-provided output buffer is too small (a bug in a binding)."""


class PlaintextTooLargeError(InvalidArgumentError):
    """The plaintext is larger than the protocol allows (16 MiB)."""


#: The exact exception class of each status.
STATUS_ERRORS: dict[Status, type[BluetickError]] = {
    Status.TRUNCATED: TruncatedError,
    Status.TRAILING_BYTES: TrailingBytesError,
    Status.UNKNOWN_MESSAGE_TYPE: UnknownMessageTypeError,
    Status.UNSUPPORTED_VERSION: UnsupportedVersionError,
    Status.INVALID_FLAG: InvalidFlagError,
    Status.CIPHERTEXT_TOO_SHORT: CiphertextTooShortError,
    Status.MESSAGE_TOO_LONG: MessageTooLongError,
    Status.INVALID_VALUE: InvalidValueError,
    Status.INVALID_IDENTITY_KEY: InvalidIdentityKeyError,
    Status.BAD_SIGNATURE: BadSignatureError,
    Status.LOW_ORDER_KEY: LowOrderKeyError,
    Status.NON_CANONICAL_KEY: NonCanonicalKeyError,
    Status.INVALID_KEM_KEY: InvalidKemKeyError,
    Status.UNKNOWN_PRE_KEY: UnknownPreKeyError,
    Status.PRE_KEY_REPLAY: PreKeyReplayError,
    Status.NO_SESSION: NoSessionError,
    Status.DUPLICATE_MESSAGE: DuplicateMessageError,
    Status.TOO_MANY_SKIPPED: TooManySkippedError,
    Status.AUTHENTICATION_FAILED: AuthenticationFailedError,
    Status.BAD_PADDING: BadPaddingError,
    Status.UNKNOWN_CONTENT_TYPE: UnknownContentTypeError,
    Status.PLAINTEXT_TOO_LARGE: PlaintextTooLargeError,
    Status.COUNTER_EXHAUSTED: CounterExhaustedError,
    Status.UNKNOWN_RECEIPT_KIND: UnknownReceiptKindError,
    Status.INVALID_ID_COUNT: InvalidIdCountError,
    Status.NON_CANONICAL_IDS: NonCanonicalIdsError,
    Status.UNKNOWN_MESSAGE_ID: UnknownMessageIdError,
    Status.WRONG_STORAGE_KEY: WrongStorageKeyError,
    Status.STORE_CORRUPT: StoreCorruptError,
    Status.NO_ACCOUNT: NoAccountError,
    Status.ACCOUNT_EXISTS: AccountExistsError,
    Status.DATABASE: DatabaseError,
    Status.UNTRUSTED_IDENTITY: UntrustedIdentityError,
    Status.ALREADY_RECEIVED: AlreadyReceivedError,
    Status.UNKNOWN_MESSAGE: UnknownMessageError,
    Status.NULL_ARGUMENT: NullArgumentError,
    Status.INVALID_ARGUMENT: InvalidArgumentError,
    Status.BUFFER: BufferTooSmallError,
    Status.PANIC: PanicError,
    Status.INTERNAL: InternalError,
}


def error_for(status: int, message: str = "") -> BluetickError:
    """The exception for a failed status (``InternalError`` for a number this binding
    does not know)."""
    try:
        cls = STATUS_ERRORS[Status(status)]
    except (ValueError, KeyError):
        cls = InternalError
    return cls(status, message)


def invalid_argument(message: str) -> InvalidArgumentError:
    """An argument error found by the binding itself, before calling the library (for
    example a message id that is not 16 bytes, which C would read past)."""
    return InvalidArgumentError(Status.INVALID_ARGUMENT, message)


def check(status: int) -> None:
    """Raises the exception for ``status`` unless it is ``BT_OK``. Must be called right
    after the native call, on the same thread, before any other status-returning call:
    it reads that call's ``bt_last_error_message``."""
    if status == 0:
        return
    raw = _native.lib().bt_last_error_message()
    message = raw.decode("utf-8", errors="replace") if raw else ""
    raise error_for(status, message)
