"""Loading the native library and declaring every function of ``bluetick.h`` for ctypes.

This module is the only place that knows the C signatures; it mirrors
``ffi/include/bluetick.h`` declaration by declaration (same order as the header), so a
change of the header shows up here as a one-line diff. Nothing here is public API.

Where the library is found, first match wins:

1. ``BLUETICK_LIB``: a path to ``libbluetick_ffi.so`` / ``.dylib`` / ``bluetick_ffi.dll``.
2. ``target/release`` of the repository, when this package runs from a checkout of it
   (found by walking up from this file to the folder holding ``ffi/include/bluetick.h``).
3. ``ctypes.util.find_library("bluetick_ffi")``: the system's library path.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char,
    c_char_p,
    c_int,
    c_size_t,
    c_uint8,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path

#: The ABI version this binding was written against (``BT_ABI_VERSION`` in the header).
ABI_VERSION = 1

KEY_LEN = 32
MESSAGE_ID_LEN = 16
SAFETY_NUMBER_SIZE = 61
UPDATE_LEN = 17
MAX_USER_LEN = 1024

INCOMING_MESSAGE = 1
INCOMING_RECEIPT = 2

ENV_LIB = "BLUETICK_LIB"


class LibraryNotFoundError(OSError):
    """The native library could not be found or loaded, or has the wrong ABI version."""


# ---------------------------------------------------------------------------------------
# Types of the header.

# `bt_status` is a C enum: an `int`.
bt_status = c_int


class bt_account_config(Structure):
    _fields_ = [
        ("one_time_prekeys", c_uint32),
        ("one_time_pq_prekeys", c_uint32),
        ("low_water_mark", c_uint32),
    ]


# bool (*)(void *user_data, const uint8_t *user, size_t user_len, uint32_t device,
#          const uint8_t *trusted_key, const uint8_t *new_key)
bt_identity_policy = CFUNCTYPE(
    c_bool, c_void_p, POINTER(c_uint8), c_size_t, c_uint32, POINTER(c_uint8), POINTER(c_uint8)
)


class bt_buffer(Structure):
    _fields_ = [("ptr", POINTER(c_uint8)), ("len", c_size_t)]


class bt_inbox_entry(Structure):
    _fields_ = [
        ("id", c_uint8 * MESSAGE_ID_LEN),
        ("user", POINTER(c_uint8)),
        ("user_len", c_size_t),
        ("device", c_uint32),
        ("body", POINTER(c_uint8)),
        ("body_len", c_size_t),
    ]


class bt_incoming(Structure):
    _fields_ = [
        ("kind", c_uint32),
        ("id", c_uint8 * MESSAGE_ID_LEN),
        ("sender", c_uint8 * KEY_LEN),
        ("body", bt_buffer),
        ("receipt_kind", c_uint8),
        ("timestamp_ms", c_uint64),
        ("updates", bt_buffer),
        ("replenish_prekeys", c_bool),
    ]


class bt_batch_message(Structure):
    _fields_ = [
        ("user", c_char_p),
        ("user_len", c_size_t),
        ("device", c_uint32),
        ("wire", c_char_p),
        ("wire_len", c_size_t),
    ]


class bt_prekey_counts(Structure):
    _fields_ = [
        ("one_time_prekeys", c_uint32),
        ("one_time_pq_prekeys", c_uint32),
        ("low", c_bool),
    ]


# Opaque handles are `void *` on the Python side.
HANDLE = c_void_p
OUT_HANDLE = POINTER(c_void_p)
# Byte inputs: `const uint8_t *`. c_char_p takes `bytes` without a copy, and None for NULL.
BYTES = c_char_p
# Fixed-size outputs (ids, keys) are ctypes arrays of c_uint8, passed as `uint8_t *`.
OUT_BYTES = POINTER(c_uint8)
BUF = POINTER(bt_buffer)

# name: (restype, argtypes), in the header's order.
_SIGNATURES = {
    "bt_abi_version": (c_uint32, []),
    "bt_version": (c_char_p, []),
    "bt_test_panic": (bt_status, []),
    "bt_account_config_default": (bt_status, [POINTER(bt_account_config)]),
    "bt_account_create_sqlite": (
        bt_status,
        [c_char_p, BYTES, c_size_t, POINTER(bt_account_config), OUT_HANDLE],
    ),
    "bt_account_open_sqlite": (
        bt_status,
        [c_char_p, BYTES, c_size_t, POINTER(bt_account_config), OUT_HANDLE],
    ),
    "bt_account_create_memory": (
        bt_status,
        [BYTES, c_size_t, POINTER(bt_account_config), OUT_HANDLE],
    ),
    "bt_account_free": (None, [HANDLE]),
    "bt_account_identity": (bt_status, [HANDLE, OUT_BYTES]),
    "bt_account_trust_identity": (bt_status, [HANDLE, BYTES, c_size_t, c_uint32, BYTES]),
    "bt_account_peer_identity": (
        bt_status,
        [HANDLE, BYTES, c_size_t, c_uint32, OUT_BYTES, POINTER(c_bool)],
    ),
    "bt_account_safety_number": (
        bt_status,
        [HANDLE, BYTES, c_size_t, c_uint32, POINTER(c_char), c_size_t, POINTER(c_bool)],
    ),
    "bt_account_set_identity_policy": (bt_status, [HANDLE, bt_identity_policy, c_void_p]),
    "bt_last_error_message": (c_char_p, []),
    "bt_buffer_free": (None, [BUF]),
    "bt_account_inbox": (bt_status, [HANDLE, OUT_HANDLE]),
    "bt_inbox_len": (c_size_t, [HANDLE]),
    "bt_inbox_get": (bt_status, [HANDLE, c_size_t, POINTER(bt_inbox_entry)]),
    "bt_inbox_free": (None, [HANDLE]),
    "bt_account_encrypt": (
        bt_status,
        [HANDLE, BYTES, c_size_t, c_uint32, BYTES, c_size_t, BYTES, c_size_t, OUT_BYTES, BUF],
    ),
    "bt_account_mark_sent": (bt_status, [HANDLE, BYTES, POINTER(c_uint8)]),
    "bt_account_message_status": (
        bt_status,
        [HANDLE, BYTES, POINTER(c_uint8), POINTER(c_bool)],
    ),
    "bt_account_decrypt": (
        bt_status,
        [HANDLE, BYTES, c_size_t, c_uint32, BYTES, c_size_t, POINTER(bt_incoming)],
    ),
    "bt_account_decrypt_batch": (
        bt_status,
        [HANDLE, POINTER(bt_batch_message), c_size_t, POINTER(bt_incoming), POINTER(bt_status)],
    ),
    "bt_incoming_free": (None, [POINTER(bt_incoming)]),
    "bt_account_acknowledge": (bt_status, [HANDLE, BYTES]),
    "bt_account_create_receipt": (
        bt_status,
        [HANDLE, BYTES, c_size_t, c_uint32, c_uint8, BYTES, c_size_t, c_uint64, OUT_BYTES, BUF],
    ),
    "bt_message_id_of": (bt_status, [BYTES, c_size_t, OUT_BYTES]),
    "bt_account_prekey_upload": (bt_status, [HANDLE, BUF]),
    "bt_account_replenish_prekeys": (bt_status, [HANDLE, BUF]),
    "bt_account_rotate_signed_prekey": (bt_status, [HANDLE, c_uint64, BUF]),
    "bt_account_rotate_last_resort_pq_prekey": (bt_status, [HANDLE, c_uint64, BUF]),
    "bt_account_prune_retired_prekeys": (
        bt_status,
        [HANDLE, c_uint64, c_uint64, POINTER(c_size_t)],
    ),
    "bt_account_prekey_counts": (bt_status, [HANDLE, POINTER(bt_prekey_counts)]),
    "bt_prekey_upload_verify": (bt_status, [BYTES, c_size_t]),
    "bt_prekey_upload_take_bundle": (bt_status, [BYTES, c_size_t, BUF, BUF]),
    "bt_prekey_upload_merge": (bt_status, [BYTES, c_size_t, BYTES, c_size_t, BUF]),
    "bt_identity_from_seed": (bt_status, [BYTES, OUT_HANDLE]),
    "bt_identity_public": (bt_status, [HANDLE, OUT_BYTES]),
    "bt_identity_free": (None, [HANDLE]),
    "bt_prekeys_new": (bt_status, [OUT_HANDLE]),
    "bt_prekeys_add_signed": (bt_status, [HANDLE, HANDLE, c_uint32, BYTES]),
    "bt_prekeys_add_one_time": (bt_status, [HANDLE, c_uint32, BYTES]),
    "bt_prekeys_add_pq": (bt_status, [HANDLE, HANDLE, c_uint32, c_bool, BYTES]),
    "bt_prekeys_bundle": (bt_status, [HANDLE, HANDLE, BUF]),
    "bt_prekeys_free": (None, [HANDLE]),
    "bt_session_new": (bt_status, [BYTES, c_size_t, OUT_HANDLE]),
    "bt_session_to_bytes": (bt_status, [HANDLE, BUF]),
    "bt_session_start": (
        bt_status,
        [HANDLE, HANDLE, BYTES, c_size_t, BYTES, c_size_t, POINTER(c_size_t)],
    ),
    "bt_session_encrypt": (bt_status, [HANDLE, c_uint8, BYTES, c_size_t, BUF, OUT_BYTES]),
    "bt_session_decrypt": (
        bt_status,
        [
            HANDLE,
            HANDLE,
            HANDLE,
            BYTES,
            c_size_t,
            BYTES,
            c_size_t,
            POINTER(c_size_t),
            POINTER(c_uint8),
            BUF,
            OUT_BYTES,
        ],
    ),
    "bt_session_free": (None, [HANDLE]),
    "bt_receipt_create": (
        bt_status,
        [HANDLE, BYTES, c_uint8, c_uint64, BYTES, c_size_t, BUF],
    ),
    "bt_receipt_verify": (
        bt_status,
        [BYTES, c_size_t, BYTES, BYTES, BYTES, c_size_t, POINTER(c_uint8), POINTER(c_uint64)],
    ),
    "bt_status_name": (c_char_p, [c_int]),
}


# ---------------------------------------------------------------------------------------
# Finding and loading the library.


def _library_file_names() -> list[str]:
    if sys.platform == "darwin":
        return ["libbluetick_ffi.dylib"]
    if sys.platform == "win32":
        return ["bluetick_ffi.dll"]
    return ["libbluetick_ffi.so"]


def _checkout_candidates() -> list[Path]:
    """``target/release/<lib>`` of the repository this file sits in, if it does."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "ffi" / "include" / "bluetick.h").is_file():
            return [parent / "target" / "release" / name for name in _library_file_names()]
    return []


def _find_library() -> tuple[str, list[str]]:
    """The path to load, and where was looked (for the error message)."""
    tried: list[str] = []
    explicit = os.environ.get(ENV_LIB)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise LibraryNotFoundError(
                f"{ENV_LIB}={explicit!r} does not name a file"
                f" (resolved to {path.resolve()}); point it at libbluetick_ffi, built with"
                " `cargo build --release -p bluetick-ffi`"
            )
        return str(path.resolve()), tried
    tried.append(f"${ENV_LIB} (not set)")
    for candidate in _checkout_candidates():
        tried.append(str(candidate))
        if candidate.is_file():
            return str(candidate), tried
    found = ctypes.util.find_library("bluetick_ffi")
    tried.append("ctypes.util.find_library('bluetick_ffi')")
    if found:
        return found, tried
    raise LibraryNotFoundError(
        "the native Bluetick library (libbluetick_ffi) was not found. Build it with"
        " `cargo build --release -p bluetick-ffi` and set "
        f"{ENV_LIB}=/path/to/{_library_file_names()[0]}. Looked in: " + "; ".join(tried)
    )


def _declare(lib: ctypes.CDLL) -> None:
    for name, (restype, argtypes) in _SIGNATURES.items():
        try:
            function = getattr(lib, name)
        except AttributeError as e:
            raise LibraryNotFoundError(
                f"{lib._name} does not export {name}: not a matching libbluetick_ffi"
            ) from e
        function.restype = restype
        function.argtypes = argtypes


_lock = threading.Lock()
_lib: ctypes.CDLL | None = None


def lib() -> ctypes.CDLL:
    """The loaded library with every function declared; loaded on first use."""
    global _lib
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is None:
            path, _ = _find_library()
            try:
                loaded = ctypes.CDLL(path)
            except OSError as e:
                raise LibraryNotFoundError(f"cannot load {path}: {e}") from e
            _declare(loaded)
            abi = loaded.bt_abi_version()
            if abi != ABI_VERSION:
                raise LibraryNotFoundError(
                    f"{path} has C ABI version {abi}; this binding needs {ABI_VERSION}"
                )
            _lib = loaded
    return _lib


def library_path() -> str:
    """Where the loaded library came from."""
    return lib()._name
