"""The error mapping: one enum per operation family, `kind` the precise cause, the message
the library's; arguments refused before anything runs."""

from __future__ import annotations

import pytest

import bluetick
from bluetick import Account, AccountConfig, AccountError, ErrorKind, Identity, ProtocolError, Session
from conftest import BOB, KEY_BOB, TINY
from helpers import raises


def test_families_are_exceptions_and_print_their_message():
    for family in (AccountError, ProtocolError):
        assert issubclass(family, Exception)
    e = AccountError.Decryption(ErrorKind.BAD_PADDING, "the plaintext's padding is malformed")
    assert isinstance(e, AccountError)
    assert str(e) == "the plaintext's padding is malformed [BAD_PADDING]"
    # Kinds carry the names of vectors/invalid.json.
    assert {k.name for k in ErrorKind} >= {"TRUNCATED", "BAD_PADDING", "WRONG_STORAGE_KEY", "UNKNOWN_MESSAGE"}


def test_default_config():
    assert AccountConfig() == AccountConfig(one_time_prekeys=50, one_time_pq_prekeys=50, low_water_mark=10)


def test_invalid_arguments(tmp_path, memory_account):
    e = raises(AccountError.InvalidArgument, ErrorKind.INVALID_ARGUMENT, Account.create_memory, bytes(31), TINY)
    assert "32" in str(e)
    raises(AccountError.InvalidArgument, ErrorKind.INVALID_ARGUMENT, Account.create_memory, bytes(33), TINY)
    raises(AccountError.Store, ErrorKind.DATABASE, Account.open_sqlite, str(tmp_path / "missing-dir" / "x.db"), KEY_BOB, TINY)
    raises(AccountError.Store, ErrorKind.NO_ACCOUNT, Account.open_sqlite, str(tmp_path / "empty.db"), KEY_BOB, TINY)
    account = memory_account(TINY)
    raises(AccountError.InvalidArgument, ErrorKind.INVALID_VALUE, account.encrypt,
           bluetick.Address(user=b"u" * 1025, device=1), b"x", None, 0)
    raises(AccountError.InvalidArgument, ErrorKind.INVALID_VALUE, account.conversation_inbox, b"u" * 1025)
    raises(AccountError.InvalidArgument, ErrorKind.INVALID_IDENTITY_KEY, account.trust_identity, BOB, bytes([0xFF]) * 32)
    e = raises(AccountError.InvalidArgument, ErrorKind.INVALID_ARGUMENT, account.mark_sent, bytes(15))
    assert "16 bytes" in str(e)
    e = raises(AccountError.InvalidArgument, ErrorKind.INVALID_IDENTITY_KEY, account.trust_identity, BOB, bytes(31))
    assert "32 bytes" in str(e)
    with pytest.raises(Exception):  # the device is a u32
        account.encrypt(bluetick.Address(user=b"bob", device=-1), b"x", None, 0)
    with pytest.raises(TypeError):
        account.encrypt(BOB, "a str body", None, 0)


def test_protocol_layer_arguments():
    raises(ProtocolError.InvalidArgument, ErrorKind.INVALID_ARGUMENT, Identity.from_seed, bytes(31))
    session = Session()
    raises(ProtocolError.Encryption, ErrorKind.NO_SESSION, session.encrypt, bluetick.ContentType.APPLICATION, b"x")
    raises(ProtocolError.Decode, ErrorKind.TRUNCATED, Session.from_bytes, b"\x03")  # the record version alone
    identity = Identity.from_seed(bytes(32))
    prekeys = bluetick.PreKeys()
    raises(ProtocolError.InvalidArgument, ErrorKind.INVALID_ARGUMENT, prekeys.bundle, identity)
    raises(ProtocolError.InvalidArgument, ErrorKind.INVALID_ARGUMENT, session.decrypt, identity, prekeys, b"\x11", b"")


def test_close_is_idempotent_and_a_closed_account_refuses_calls():
    account = Account.create_memory(KEY_BOB, TINY)
    with account as same:
        assert same is account
        assert len(account.identity()) == 32
    account.close_store()
    raises(AccountError.InvalidArgument, ErrorKind.CLOSED, account.identity)
    raises(AccountError.InvalidArgument, ErrorKind.CLOSED, account.inbox)
