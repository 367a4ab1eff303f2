"""Shared fixtures: keys, small configurations, a relay standing in for the server, and the
vectors folder (``BLUETICK_VECTORS``, else the repository's ``vectors/``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bluetick import Account, AccountConfig, Address

KEY_ALICE = bytes([0x11]) * 32
KEY_BOB = bytes([0x22]) * 32
SMALL = AccountConfig(one_time_prekeys=3, one_time_pq_prekeys=3, low_water_mark=2)
TINY = AccountConfig(one_time_prekeys=0, one_time_pq_prekeys=0, low_water_mark=0)
ALICE = Address(user=b"alice", device=1)
BOB = Address(user=b"bob", device=1)
CAROL = Address(user=b"carol", device=1)


def vectors_dir() -> Path:
    configured = os.environ.get("BLUETICK_VECTORS")
    if configured:
        return Path(configured).resolve()
    return (Path(__file__).resolve().parent / ".." / ".." / ".." / "vectors").resolve()


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
        account.close_store()
