"""Bluetick: end-to-end encrypted messaging (PQXDH, Double Ratchet, signed receipts), from
Python through the C ABI of ``libbluetick_ffi`` (ctypes, no compiled extension).

>>> from bluetick import Account, ReceiptKind
>>> with Account.create_memory(storage_key) as alice:      # doctest: +SKIP
...     sent = alice.encrypt("bob", 1, b"hello", bundle=bundle)

The native library is found through ``BLUETICK_LIB``, the repository's ``target/release``
when run from a checkout, or the system library path (see ``README.md``).
"""

import types as _types
from ctypes import byref as _byref

from . import _native
from ._native import ABI_VERSION, LibraryNotFoundError
from ._util import ClosedError
from .account import Account, IdentityPolicy
from .errors import (
    AccountExistsError,
    AlreadyReceivedError,
    AuthenticationError,
    AuthenticationFailedError,
    BadPaddingError,
    BadSignatureError,
    BluetickError,
    BufferTooSmallError,
    CiphertextTooShortError,
    CounterExhaustedError,
    DatabaseError,
    DuplicateMessageError,
    InternalError,
    InvalidArgumentError,
    InvalidFlagError,
    InvalidIdCountError,
    InvalidIdentityKeyError,
    InvalidKemKeyError,
    InvalidKeyError,
    InvalidValueError,
    LowOrderKeyError,
    MalformedInputError,
    MessageTooLongError,
    NoAccountError,
    NonCanonicalIdsError,
    NonCanonicalKeyError,
    NoSessionError,
    NullArgumentError,
    PanicError,
    PlaintextTooLargeError,
    PreKeyReplayError,
    SessionError,
    STATUS_ERRORS,
    Status,
    StoreCorruptError,
    StoreError,
    TooManySkippedError,
    TrailingBytesError,
    TruncatedError,
    UnknownContentTypeError,
    UnknownMessageError,
    UnknownMessageIdError,
    UnknownMessageTypeError,
    UnknownPreKeyError,
    UnknownReceiptKindError,
    UnsupportedVersionError,
    UntrustedIdentityError,
    WrongStorageKeyError,
    check as _check,
    error_for,
    status_name,
)
from .model import (
    AccountConfig,
    ContentType,
    Decrypted,
    InboxEntry,
    Incoming,
    Message,
    MessageStatus,
    PrekeyCounts,
    Receipt,
    ReceiptKind,
    Sent,
    VerifiedReceipt,
)
from .protocol import Identity, PreKeys, Session, verify_receipt
from .relay import PublishedPrekeys, merge_uploads, message_id_of, take_bundle, verify_upload

__version__ = "0.1.0"

KEY_LEN = _native.KEY_LEN
MESSAGE_ID_LEN = _native.MESSAGE_ID_LEN


def library_version() -> str:
    """The native library's version, such as ``"0.1.0"``."""
    return _native.lib().bt_version().decode("ascii")


def library_path() -> str:
    """The file the native library was loaded from."""
    return _native.library_path()


def default_config() -> AccountConfig:
    """The library's default prekey configuration (``bt_account_config_default``)."""
    out = _native.bt_account_config()
    _check(_native.lib().bt_account_config_default(_byref(out)))
    return AccountConfig(out.one_time_prekeys, out.one_time_pq_prekeys, out.low_water_mark)


def trigger_panic() -> None:
    """Makes the library panic on purpose (``bt_test_panic``): always raises
    :class:`PanicError`, so an app can check that it copes with the library's last-resort
    error. The process goes on."""
    _check(_native.lib().bt_test_panic())


__all__ = sorted(
    name
    for name, value in globals().items()
    if not name.startswith("_") and not isinstance(value, _types.ModuleType)
)
