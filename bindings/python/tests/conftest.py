"""Shared fixtures: the vectors folder, and accounts in memory closed after each test.

The native library comes from ``BLUETICK_LIB`` (or the checkout's ``target/release``);
the vectors from ``BLUETICK_VECTORS``, by default ``../../vectors`` relative to
``bindings/python`` (the repository's ``vectors/``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bluetick import Account, AccountConfig
from helpers import KEY_BOB, SMALL, vectors_dir


@pytest.fixture(scope="session")
def vectors() -> Path:
    path = vectors_dir()
    if not (path / "session.json").is_file():
        pytest.fail(f"test vectors not found in {path}: set BLUETICK_VECTORS to the vectors/ folder")
    return path


@pytest.fixture
def memory_account():
    """Makes accounts in memory, closed at the end of the test."""
    made: list[Account] = []

    def make(config: AccountConfig = SMALL, key: bytes = KEY_BOB) -> Account:
        account = Account.create_memory(key, config)
        made.append(account)
        return account

    yield make
    for account in made:
        account.close()
