"""Helpers shared by the wrappers: byte inputs, fixed-size checks, native buffers, and the
life cycle of a native handle. Not public API."""

from __future__ import annotations

import ctypes
import threading
import warnings
from contextlib import contextmanager
from typing import Callable, Iterator, Union

from . import _native
from .errors import invalid_argument

BytesLike = Union[bytes, bytearray, memoryview]
#: A user id: bytes, or a str (encoded as UTF-8).
User = Union[bytes, bytearray, memoryview, str]


def as_bytes(value: BytesLike, name: str) -> bytes:
    """A bytes-like argument as ``bytes`` (no copy when it already is)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{name} must be bytes-like, not {type(value).__name__}")


def fixed(value: BytesLike, length: int, name: str) -> bytes:
    """A fixed-size input: checked here, because C reads exactly ``length`` bytes."""
    data = as_bytes(value, name)
    if len(data) != length:
        raise invalid_argument(f"{name} must be {length} bytes, not {len(data)}")
    return data


def message_id(value: BytesLike, name: str = "id") -> bytes:
    return fixed(value, _native.MESSAGE_ID_LEN, name)


def key(value: BytesLike, name: str = "key") -> bytes:
    return fixed(value, _native.KEY_LEN, name)


def user_id(user: User) -> bytes:
    """A user id as bytes (a str is encoded as UTF-8). The library checks the length."""
    if isinstance(user, str):
        return user.encode("utf-8")
    return as_bytes(user, "user")


def device_id(device: int) -> int:
    if not isinstance(device, int) or not 0 <= device <= 0xFFFFFFFF:
        raise invalid_argument(f"device must be an integer from 0 to 2^32 - 1, not {device!r}")
    return device


def u64(value: int, name: str) -> int:
    if not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFFFFFFFFFF:
        raise invalid_argument(f"{name} must be an integer from 0 to 2^64 - 1, not {value!r}")
    return value


def u32(value: int, name: str) -> int:
    if not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
        raise invalid_argument(f"{name} must be an integer from 0 to 2^32 - 1, not {value!r}")
    return value


def id_list(ids, name: str = "ids") -> tuple[bytes, int]:
    """An iterable of 16-byte message ids, concatenated, and how many there are."""
    if isinstance(ids, (bytes, bytearray, memoryview, str)):
        raise TypeError(f"{name} must be an iterable of 16-byte ids, not a single value")
    items = [message_id(i, name + "[]") for i in ids]
    return b"".join(items), len(items)


def copy_out(ptr, length: int) -> bytes:
    """Copies ``length`` bytes from a native pointer (``b""`` for an empty one)."""
    if length == 0 or not ptr:
        return b""
    return ctypes.string_at(ptr, length)


@contextmanager
def buffers(count: int = 1) -> Iterator[list[_native.bt_buffer]]:
    """Output ``bt_buffer``s, each freed exactly once on the way out, whatever happens
    (``bt_buffer_free`` resets a freed buffer, and accepts empty ones)."""
    bufs = [_native.bt_buffer() for _ in range(count)]
    try:
        yield bufs
    finally:
        free = _native.lib().bt_buffer_free
        for buf in bufs:
            free(ctypes.byref(buf))


def take(buf: _native.bt_buffer) -> bytes:
    """The bytes of an output buffer (which ``buffers`` frees)."""
    return copy_out(buf.ptr, buf.len)


class ClosedError(ValueError):
    """An operation on an account, identity, prekeys or session that was closed."""


class Handle:
    """Owns one native handle: freed exactly once, by ``close()``, leaving a ``with``
    block, or (as a safety net, with a ``ResourceWarning``) garbage collection.

    Calls borrow the handle through ``_use()``, which counts them; ``close()`` waits for
    calls in flight on other threads before freeing, so a handle is never freed while the
    library still uses it (the C ABI requires that ``*_free`` overlaps no other use).
    """

    _kind = "handle"

    def __init__(self, ptr: int, free: Callable[[int], None]) -> None:
        self._ptr: int | None = ptr
        self._free = free
        self._users = 0
        self._cond = threading.Condition()

    @contextmanager
    def _use(self) -> Iterator[int]:
        with self._cond:
            if self._ptr is None:
                raise ClosedError(f"this {self._kind} is closed")
            self._users += 1
            ptr = self._ptr
        try:
            yield ptr
        finally:
            with self._cond:
                self._users -= 1
                if self._users == 0:
                    self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def close(self) -> None:
        """Frees the native handle (its secrets are wiped). Idempotent; waits for calls in
        flight on other threads to finish first."""
        with self._cond:
            if self._ptr is None:
                return
            ptr, self._ptr = self._ptr, None
            while self._users:
                self._cond.wait()
        self._free(ptr)
        self._closed_hook()

    def _closed_hook(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        # Safety net: a handle that was never closed. At interpreter exit the module
        # globals may be gone already; then the process is ending anyway.
        if getattr(self, "_ptr", None) is None:
            return
        try:
            warnings.warn(
                f"unclosed {self._kind}: use `with` or call close()",
                ResourceWarning,
                stacklevel=2,
            )
            self.close()
        except Exception:
            pass
