"""``Account``: one device's identity, prekeys, sessions, message statuses and inbox, in a
sealed store (``bt_account`` of the C ABI)."""

from __future__ import annotations

import ctypes
import os
import threading
import time
from contextlib import contextmanager
from ctypes import byref, c_bool, c_size_t, c_uint8, c_void_p
from typing import Callable, Iterable, Iterator, Optional, Sequence, Tuple, Union

from . import _native
from ._util import (
    BytesLike,
    ClosedError,
    Handle,
    User,
    as_bytes,
    buffers,
    copy_out,
    device_id,
    id_list,
    key,
    message_id,
    take,
    u64,
    user_id,
)
from .errors import BluetickError, Status, check, error_for, invalid_argument
from .model import (
    AccountConfig,
    InboxEntry,
    Incoming,
    Message,
    MessageStatus,
    PrekeyCounts,
    Receipt,
    ReceiptKind,
    Sent,
)

#: ``policy(user, device, trusted_key, new_key) -> bool``: True trusts the new key.
IdentityPolicy = Callable[[bytes, int, bytes, bytes], bool]

# Set while an identity policy runs on this thread: calling the account from inside it
# would deadlock in the library, so `_use` refuses instead.
_in_policy = threading.local()


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _native_config(config: Optional[AccountConfig]):
    if config is None:
        return None
    if not isinstance(config, AccountConfig):
        raise TypeError("config must be an AccountConfig or None")
    native = _native.bt_account_config(
        config.one_time_prekeys, config.one_time_pq_prekeys, config.low_water_mark
    )
    return byref(native)


def _path(path: Union[str, bytes, os.PathLike]) -> bytes:
    raw = os.fsencode(path)
    if b"\0" in raw:
        raise invalid_argument("path contains a NUL byte")
    return raw


def _incoming(native: _native.bt_incoming, user: bytes, device: int) -> Incoming:
    """Copies a filled ``bt_incoming`` into a Message or Receipt (the caller frees it)."""
    ident = bytes(native.id)
    sender = bytes(native.sender)
    if native.kind == _native.INCOMING_RECEIPT:
        raw = copy_out(native.updates.ptr, native.updates.len)
        step = _native.UPDATE_LEN
        try:
            kind = ReceiptKind(native.receipt_kind)
            updates = [
                (raw[i : i + 16], MessageStatus(raw[i + 16]))
                for i in range(0, len(raw) - step + 1, step)
            ]
        except ValueError as e:  # a kind or status newer than this binding
            raise error_for(Status.INTERNAL, f"cannot read the receipt: {e}") from e
        return Receipt(
            id=ident,
            user=user,
            device=device,
            sender=sender,
            kind=kind,
            timestamp_ms=native.timestamp_ms,
            updates=updates,
            replenish_prekeys=bool(native.replenish_prekeys),
        )
    if native.kind != _native.INCOMING_MESSAGE:
        raise error_for(Status.INTERNAL, f"unknown bt_incoming kind {native.kind}")
    return Message(
        id=ident,
        user=user,
        device=device,
        sender=sender,
        body=copy_out(native.body.ptr, native.body.len),
        replenish_prekeys=bool(native.replenish_prekeys),
    )


class Account(Handle):
    """One device's account. Open it with :meth:`create_sqlite`, :meth:`open_sqlite` or
    :meth:`create_memory`, and close it with ``with`` or :meth:`close`.

    Thread-safe: several threads may use one account at once (the library locks inside and
    ctypes releases the GIL during each call). :meth:`close` waits for calls in flight.

    A peer is ``(user, device)``: ``user`` is the app's user id as bytes (or a str, sent
    as UTF-8), at most 1024 bytes; ``device`` a 32-bit device number.
    """

    _kind = "account"

    def __init__(self, ptr: int) -> None:
        # Use the constructors; this takes ownership of a live `bt_account *`.
        super().__init__(ptr, _native.lib().bt_account_free)
        self._policy_callback = None  # keeps the ctypes callback alive while installed

    # -- opening --------------------------------------------------------------------------

    @classmethod
    def create_sqlite(
        cls,
        path: Union[str, bytes, os.PathLike],
        storage_key: BytesLike,
        config: Optional[AccountConfig] = None,
    ) -> "Account":
        """Creates a new account in the SQLite database at ``path`` (created if missing;
        ``AccountExistsError`` if it holds one). ``storage_key``: 32 bytes from the
        platform's key store; it seals every record."""
        storage_key = as_bytes(storage_key, "storage_key")
        out = c_void_p()
        check(
            _native.lib().bt_account_create_sqlite(
                _path(path), storage_key, len(storage_key), _native_config(config), byref(out)
            )
        )
        return cls(out.value)

    @classmethod
    def open_sqlite(
        cls,
        path: Union[str, bytes, os.PathLike],
        storage_key: BytesLike,
        config: Optional[AccountConfig] = None,
    ) -> "Account":
        """Opens the account at ``path``: ``WrongStorageKeyError``, ``NoAccountError``,
        ``StoreCorruptError`` or ``DatabaseError`` when it cannot."""
        storage_key = as_bytes(storage_key, "storage_key")
        out = c_void_p()
        check(
            _native.lib().bt_account_open_sqlite(
                _path(path), storage_key, len(storage_key), _native_config(config), byref(out)
            )
        )
        return cls(out.value)

    @classmethod
    def create_memory(
        cls, storage_key: BytesLike, config: Optional[AccountConfig] = None
    ) -> "Account":
        """A new account held in memory only (tests, demos, bots): gone when closed."""
        storage_key = as_bytes(storage_key, "storage_key")
        out = c_void_p()
        check(
            _native.lib().bt_account_create_memory(
                storage_key, len(storage_key), _native_config(config), byref(out)
            )
        )
        return cls(out.value)

    @contextmanager
    def _use(self) -> Iterator[int]:
        if getattr(_in_policy, "active", False):
            raise RuntimeError(
                "an identity policy must not call the account (it runs inside an account "
                "call, and would deadlock); decide from its arguments alone"
            )
        with super()._use() as ptr:
            yield ptr

    def close(self) -> None:
        """Closes the account and frees the handle. Idempotent. Everything was committed
        when each call returned, so nothing is lost."""
        if getattr(_in_policy, "active", False):
            raise RuntimeError("an identity policy must not close the account")
        super().close()

    def _closed_hook(self) -> None:
        self._policy_callback = None

    # -- identity -------------------------------------------------------------------------

    @property
    def identity(self) -> bytes:
        """This account's identity key (32-byte Ed25519 public key)."""
        out = (c_uint8 * _native.KEY_LEN)()
        with self._use() as ptr:
            check(_native.lib().bt_account_identity(ptr, out))
        return bytes(out)

    def peer_identity(self, user: User, device: int) -> Optional[bytes]:
        """The identity key trusted for a peer, or None if the account knows none."""
        user = user_id(user)
        out = (c_uint8 * _native.KEY_LEN)()
        found = c_bool(False)
        with self._use() as ptr:
            check(
                _native.lib().bt_account_peer_identity(
                    ptr, user, len(user), device_id(device), out, byref(found)
                )
            )
        return bytes(out) if found.value else None

    def trust_identity(self, user: User, device: int, identity_key: BytesLike) -> None:
        """Trusts ``identity_key`` for the peer (after comparing safety numbers), replacing
        any key trusted before."""
        user = user_id(user)
        identity_key = key(identity_key, "identity_key")
        with self._use() as ptr:
            check(
                _native.lib().bt_account_trust_identity(
                    ptr, user, len(user), device_id(device), identity_key
                )
            )

    def safety_number(self, user: User, device: int) -> Optional[str]:
        """The 60-digit safety number of this account and the peer (show it in twelve
        groups of five), or None if the peer's identity is not known yet."""
        user = user_id(user)
        out = ctypes.create_string_buffer(_native.SAFETY_NUMBER_SIZE)
        found = c_bool(False)
        with self._use() as ptr:
            check(
                _native.lib().bt_account_safety_number(
                    ptr, user, len(user), device_id(device), out, len(out), byref(found)
                )
            )
        return out.value.decode("ascii") if found.value else None

    def set_identity_policy(self, policy: Optional[IdentityPolicy]) -> None:
        """Installs ``policy(user, device, trusted_key, new_key) -> bool``, asked when a
        peer's identity key differs from the trusted one (during ``encrypt`` with a bundle,
        or ``decrypt``). True trusts the new key; False refuses
        (``UntrustedIdentityError``). None removes it: changes are refused until
        :meth:`trust_identity`.

        The policy runs inside that ``encrypt``/``decrypt`` call, on its thread, while the
        library holds the peer's lock: it must return promptly and must not use this
        account (that raises ``RuntimeError`` here instead of deadlocking). If it raises,
        the change is refused and the exception is chained to the
        ``UntrustedIdentityError``. With several threads it may run on several at once.
        """
        if policy is None:
            callback = _native.bt_identity_policy()  # NULL
        else:
            if not callable(policy):
                raise TypeError("policy must be callable or None")
            callback = _native.bt_identity_policy(_policy_trampoline(policy))
        with self._use() as ptr:
            check(_native.lib().bt_account_set_identity_policy(ptr, callback, None))
            # The library calls the old policy under a lock that setting waits for, so
            # once set returns the old callback is no longer running and may go.
            self._policy_callback = callback if policy is not None else None

    # -- prekeys --------------------------------------------------------------------------

    def prekey_upload(self) -> bytes:
        """Everything to publish (identity, signed, last-resort PQ and every one-time
        prekey) as upload bytes for the relay. Upload once after creating the account."""
        return self._upload(_native.lib().bt_account_prekey_upload)

    def replenish_prekeys(self) -> bytes:
        """Generates one-time prekeys up to the configured counts; returns upload bytes
        with only the new ones, for the relay to merge."""
        return self._upload(_native.lib().bt_account_replenish_prekeys)

    def rotate_signed_prekey(self, now_ms: Optional[int] = None) -> bytes:
        """Makes a new signed prekey current (the old one retires at ``now_ms``, default
        now); returns upload bytes."""
        now = u64(_now_ms() if now_ms is None else now_ms, "now_ms")
        return self._upload(_native.lib().bt_account_rotate_signed_prekey, now)

    def rotate_last_resort_pq_prekey(self, now_ms: Optional[int] = None) -> bytes:
        """Makes a new last-resort PQ prekey current; returns upload bytes."""
        now = u64(_now_ms() if now_ms is None else now_ms, "now_ms")
        return self._upload(_native.lib().bt_account_rotate_last_resort_pq_prekey, now)

    def _upload(self, function, *args) -> bytes:
        with buffers() as (buf,), self._use() as ptr:
            check(function(ptr, *args, byref(buf)))
            return take(buf)

    def prune_retired_prekeys(self, keep_for_ms: int, now_ms: Optional[int] = None) -> int:
        """Deletes signed and last-resort prekeys retired at least ``keep_for_ms`` before
        ``now_ms`` (default now); returns how many."""
        now = u64(_now_ms() if now_ms is None else now_ms, "now_ms")
        deleted = c_size_t(0)
        with self._use() as ptr:
            check(
                _native.lib().bt_account_prune_retired_prekeys(
                    ptr, now, u64(keep_for_ms, "keep_for_ms"), byref(deleted)
                )
            )
        return deleted.value

    def prekey_counts(self) -> PrekeyCounts:
        """How many one-time prekeys are left, and whether to replenish."""
        out = _native.bt_prekey_counts()
        with self._use() as ptr:
            check(_native.lib().bt_account_prekey_counts(ptr, byref(out)))
        return PrekeyCounts(out.one_time_prekeys, out.one_time_pq_prekeys, bool(out.low))

    # -- messages -------------------------------------------------------------------------

    def encrypt(
        self, user: User, device: int, body: BytesLike, bundle: Optional[BytesLike] = None
    ) -> Sent:
        """Encrypts ``body`` for the peer. With ``bundle`` (bytes from the relay) it starts
        a new session first (PQXDH); without, it uses the current one
        (``NoSessionError`` if there is none). The message is ``PENDING`` until
        :meth:`mark_sent`. Returns ``(id, wire)``."""
        user = user_id(user)
        body = as_bytes(body, "body")
        bundle = b"" if bundle is None else as_bytes(bundle, "bundle")
        out_id = (c_uint8 * _native.MESSAGE_ID_LEN)()
        with buffers() as (wire,), self._use() as ptr:
            self._checked_policy_call(
                _native.lib().bt_account_encrypt,
                ptr,
                user,
                len(user),
                device_id(device),
                body,
                len(body),
                bundle or None,
                len(bundle),
                out_id,
                byref(wire),
            )
            return Sent(bytes(out_id), take(wire))

    def mark_sent(self, message: BytesLike) -> MessageStatus:
        """Records the relay's acknowledgement of an outgoing message; returns its status
        now (at least ``SENT``). ``UnknownMessageError`` for an id never sent."""
        status = c_uint8(0)
        ident = message_id(message)
        with self._use() as ptr:
            check(_native.lib().bt_account_mark_sent(ptr, ident, byref(status)))
        return MessageStatus(status.value)

    def message_status(self, message: BytesLike) -> Optional[MessageStatus]:
        """The status of an outgoing message, or None if the account never sent it."""
        status = c_uint8(0)
        found = c_bool(False)
        ident = message_id(message)
        with self._use() as ptr:
            check(
                _native.lib().bt_account_message_status(ptr, ident, byref(status), byref(found))
            )
        return MessageStatus(status.value) if found.value else None

    def decrypt(self, user: User, device: int, wire: BytesLike) -> Incoming:
        """Decrypts a wire message from the peer: a :class:`Message` (now in the inbox) or
        a :class:`Receipt` (already applied). Everything is committed when this returns;
        only then tell the relay to drop the message. A failure changes nothing."""
        user = user_id(user)
        wire = as_bytes(wire, "wire")
        native = _native.bt_incoming()
        free = _native.lib().bt_incoming_free
        try:
            with self._use() as ptr:
                self._checked_policy_call(
                    _native.lib().bt_account_decrypt,
                    ptr,
                    user,
                    len(user),
                    device_id(device),
                    wire,
                    len(wire),
                    byref(native),
                )
            return _incoming(native, user, device)
        finally:
            free(byref(native))

    def decrypt_batch(
        self, messages: Sequence[Tuple[User, int, BytesLike]]
    ) -> list[Union[Incoming, BluetickError]]:
        """Decrypts many ``(user, device, wire)`` messages with one durable commit. Each
        succeeds or fails on its own: the result list holds, in order, a
        :class:`Message` / :class:`Receipt`, or the :class:`BluetickError` (not raised)
        for that message. After it returns, the relay may drop every message whose result
        is not an error or is an ``AlreadyReceivedError``. Raises only when nothing was
        committed (a store failure, an invalid argument)."""
        items = [(user_id(u), device_id(d), as_bytes(w, "wire")) for u, d, w in messages]
        count = len(items)
        if count == 0:
            return []
        batch = (_native.bt_batch_message * count)()
        for slot, (user, device, wire) in zip(batch, items):
            slot.user, slot.user_len, slot.device = user, len(user), device
            slot.wire, slot.wire_len = wire, len(wire)
        results = (_native.bt_incoming * count)()
        statuses = (_native.bt_status * count)()
        free = _native.lib().bt_incoming_free
        try:
            with self._use() as ptr:
                self._checked_policy_call(
                    _native.lib().bt_account_decrypt_batch, ptr, batch, count, results, statuses
                )
            out: list[Union[Incoming, BluetickError]] = []
            for (user, device, _), native, status in zip(items, results, statuses):
                if status == Status.OK:
                    out.append(_incoming(native, user, device))
                else:
                    out.append(error_for(status))
            return out
        finally:
            for native in results:
                free(byref(native))

    def acknowledge(self, message: BytesLike) -> None:
        """Marks an inbox message as stored by the app: its body leaves the account's
        store and a redelivery raises ``AlreadyReceivedError``. Call it before telling the
        relay to drop the message."""
        ident = message_id(message)
        with self._use() as ptr:
            check(_native.lib().bt_account_acknowledge(ptr, ident))

    def inbox(self) -> list[InboxEntry]:
        """The received messages not yet acknowledged (after a crash, store these
        first)."""
        lib = _native.lib()
        handle = c_void_p()
        try:
            with self._use() as ptr:
                check(lib.bt_account_inbox(ptr, byref(handle)))
            entries = []
            entry = _native.bt_inbox_entry()
            for i in range(lib.bt_inbox_len(handle)):
                check(lib.bt_inbox_get(handle, i, byref(entry)))
                entries.append(
                    InboxEntry(
                        id=bytes(entry.id),
                        user=copy_out(entry.user, entry.user_len),
                        device=entry.device,
                        body=copy_out(entry.body, entry.body_len),
                    )
                )
            return entries
        finally:
            lib.bt_inbox_free(handle)

    def create_receipt(
        self,
        user: User,
        device: int,
        kind: ReceiptKind,
        ids: Iterable[BytesLike],
        now_ms: Optional[int] = None,
    ) -> Sent:
        """Encrypts a receipt of ``kind`` to the peer for messages received from it
        (1 to 1024 ids, any order); send the wire bytes like any message."""
        user = user_id(user)
        joined, count = id_list(ids)
        now = u64(_now_ms() if now_ms is None else now_ms, "now_ms")
        kind_byte = int(kind)
        if not 0 <= kind_byte <= 0xFF:
            raise invalid_argument(f"receipt kind {kind_byte} is not a ReceiptKind")
        out_id = (c_uint8 * _native.MESSAGE_ID_LEN)()
        with buffers() as (wire,), self._use() as ptr:
            check(
                _native.lib().bt_account_create_receipt(
                    ptr,
                    user,
                    len(user),
                    device_id(device),
                    kind_byte,
                    joined or None,
                    count,
                    now,
                    out_id,
                    byref(wire),
                )
            )
            return Sent(bytes(out_id), take(wire))

    # -- policy plumbing ------------------------------------------------------------------

    @staticmethod
    def _checked_policy_call(function, *args) -> None:
        """Calls an operation that may consult the identity policy; an exception the
        policy raised becomes the cause of the error."""
        _in_policy.error = None
        status = function(*args)
        if status == Status.OK:
            _in_policy.error = None
            return
        raised = getattr(_in_policy, "error", None)
        _in_policy.error = None
        try:
            check(status)
        except BluetickError as e:
            if raised is not None:
                raise e from raised
            raise

    def __repr__(self) -> str:
        return f"<bluetick.Account {'closed' if self.closed else 'open'}>"


def _policy_trampoline(policy: IdentityPolicy):
    """Adapts a Python policy to ``bt_identity_policy``: copies the borrowed arguments,
    never lets an exception reach C (it refuses instead), and forbids re-entry."""

    def trampoline(_user_data, user, user_len, device, trusted_key, new_key) -> bool:
        _in_policy.active = True
        try:
            answer = policy(
                copy_out(user, user_len),
                int(device),
                copy_out(trusted_key, _native.KEY_LEN),
                copy_out(new_key, _native.KEY_LEN),
            )
            return bool(answer)
        except BaseException as e:  # noqa: BLE001 - must not unwind into C
            _in_policy.error = e
            return False
        finally:
            _in_policy.active = False

    return trampoline
