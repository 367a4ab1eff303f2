"""Bluetick: end-to-end encrypted messaging (PQXDH, Double Ratchet, signed receipts).

The API is generated with UniFFI from the Rust definition crate (``bindings/uniffi``), the
same one the Kotlin and Swift layers come from; the native library is inside this package.
This file adds only Python idioms:

- ``with Account.create_sqlite(path, key, AccountConfig()) as account:`` closes the
  store at the end of the block (``close_store``);
- errors print their message: ``str(e)`` is what was wrong and what to do, ``e.kind`` the
  precise :class:`ErrorKind`.

Threading: every call blocks its thread until done (SQLite commits, PQXDH); an
:class:`Account` may be shared between threads. In asyncio code run calls with
``await asyncio.to_thread(account.decrypt, peer, wire)``.
"""

from .bluetick import *  # noqa: F401,F403  (the generated API)
from .bluetick import Account, AccountError, PolicyError, ProtocolError


def _enter(self):
    return self


def _exit(self, *exc):
    self.close_store()
    return False


Account.__enter__ = _enter
Account.__exit__ = _exit


def _message(self):
    return f"{self.detail} [{self.kind.name}]"


for _family in (AccountError, ProtocolError):
    _family.__str__ = _message
PolicyError.__str__ = lambda self: str(getattr(self, "detail", ""))
del _family
