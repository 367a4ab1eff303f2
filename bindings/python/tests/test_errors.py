"""Statuses map to exception classes; the message is the library's; arguments the C side
would read past are refused before the call; handles close once."""

from __future__ import annotations

import gc
import pickle
import warnings

import pytest

import bluetick
from bluetick import (
    STATUS_ERRORS,
    Account,
    BluetickError,
    ClosedError,
    InternalError,
    InvalidArgumentError,
    PanicError,
    Status,
    error_for,
    status_name,
)
from helpers import KEY_BOB, TINY


def test_every_status_has_its_own_class_named_as_the_library_names_it():
    failures = [s for s in Status if s is not Status.OK]
    assert set(STATUS_ERRORS) == set(failures)
    assert len(set(STATUS_ERRORS.values())) == len(failures)  # one class per status
    for status, cls in STATUS_ERRORS.items():
        assert status_name(status) == "BT_" + status.name
        err = error_for(status, "why")
        assert type(err) is cls and isinstance(err, BluetickError)
        assert (err.status, err.status_name, err.message) == (status, "BT_" + status.name, "why")
        assert str(err) == f"BT_{status.name}: why"
    assert status_name(12345) == "BT_UNKNOWN_STATUS"
    assert type(error_for(36)) is InternalError  # a status newer than this binding


@pytest.mark.parametrize(
    "status, group",
    [
        (Status.TRUNCATED, bluetick.MalformedInputError),
        (Status.LOW_ORDER_KEY, bluetick.InvalidKeyError),
        (Status.LOW_ORDER_KEY, bluetick.MalformedInputError),
        (Status.AUTHENTICATION_FAILED, bluetick.AuthenticationError),
        (Status.BAD_SIGNATURE, bluetick.AuthenticationError),
        (Status.UNKNOWN_MESSAGE_ID, bluetick.AuthenticationError),
        (Status.PRE_KEY_REPLAY, bluetick.SessionError),
        (Status.ALREADY_RECEIVED, bluetick.DuplicateMessageError),
        (Status.WRONG_STORAGE_KEY, bluetick.StoreError),
        (Status.DATABASE, bluetick.StoreError),
        (Status.NULL_ARGUMENT, InvalidArgumentError),
        (Status.INVALID_ARGUMENT, ValueError),
        (Status.UNTRUSTED_IDENTITY, bluetick.UntrustedIdentityError),
    ],
)
def test_statuses_are_grouped_by_what_the_caller_can_do(status, group):
    assert isinstance(error_for(status), group)


def test_errors_pickle_with_their_fields():
    err = pickle.loads(pickle.dumps(error_for(Status.WRONG_STORAGE_KEY, "no")))
    assert type(err) is bluetick.WrongStorageKeyError
    assert (err.status, err.status_name, err.message) == (28, "BT_WRONG_STORAGE_KEY", "no")


def test_a_panic_in_the_library_is_contained():
    with pytest.raises(PanicError) as e:
        bluetick.trigger_panic()
    assert "deliberate panic" in e.value.message
    # The library goes on.
    assert bluetick.default_config() == bluetick.AccountConfig(50, 50, 10)
    assert bluetick.library_version()


def test_invalid_arguments(tmp_path, memory_account):
    # Checked by the library.
    with pytest.raises(InvalidArgumentError) as e:
        Account.create_memory(bytes(31))
    assert e.value.status == Status.INVALID_ARGUMENT and "32" in e.value.message
    with pytest.raises(InvalidArgumentError):
        Account.create_memory(bytes(33))
    with pytest.raises(bluetick.DatabaseError):
        Account.open_sqlite(tmp_path / "missing-dir" / "x.db", KEY_BOB)
    with pytest.raises(bluetick.NoAccountError):
        Account.open_sqlite(tmp_path / "empty.db", KEY_BOB)
    account = memory_account(TINY)
    with pytest.raises(InvalidArgumentError):
        account.encrypt("u" * 1025, 1, b"x")  # user ids are at most 1024 bytes
    with pytest.raises(bluetick.InvalidIdentityKeyError):
        account.trust_identity("bob", 1, bytes([0xFF]) * 32)
    # Checked here, because the C side would read a fixed number of bytes.
    with pytest.raises(InvalidArgumentError, match="16 bytes"):
        account.mark_sent(bytes(15))
    with pytest.raises(InvalidArgumentError, match="32 bytes"):
        account.trust_identity("bob", 1, bytes(31))
    with pytest.raises(InvalidArgumentError, match="device"):
        account.encrypt("bob", -1, b"x")
    with pytest.raises(InvalidArgumentError, match="NUL"):
        Account.create_sqlite(str(tmp_path / "a\0b.db"), KEY_BOB)
    with pytest.raises(TypeError):
        account.encrypt("bob", 1, "a str body")


def test_close_is_idempotent_and_a_closed_account_refuses_calls():
    account = Account.create_memory(KEY_BOB, TINY)
    with account as same:
        assert same is account
        assert len(account.identity) == 32
    assert account.closed
    account.close()
    with pytest.raises(ClosedError):
        account.identity
    with pytest.raises(ValueError):  # ClosedError is a ValueError, like a closed file's
        account.inbox()


def test_an_unclosed_account_is_freed_by_the_garbage_collector_with_a_warning():
    account = Account.create_memory(KEY_BOB, TINY)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del account
        gc.collect()
    assert any(issubclass(w.category, ResourceWarning) for w in caught)
