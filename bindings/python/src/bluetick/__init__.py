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

Attachments: ``pointer = encrypt_attachment(infile, outfile)`` and
``decrypt_attachment(pointer, infile, outfile)`` over binary file objects.

Relay: :class:`RelayClient` is the relay protocol's connection state machine for an app
that owns its WebSocket; ``client.drain_transmit()`` lists the frames to write now and
``client.drain_events()`` the events waiting (see README.md for the loop).
"""

from .bluetick import *  # noqa: F401,F403  (the generated API)
from .bluetick import (
    Account,
    AccountError,
    AttachmentDecryptor,
    AttachmentEncryptor,
    AttachmentError,
    FinishedAttachment,
    PolicyError,
    ProtocolError,
    RelayClient,
    RelayError,
)


def _enter(self):
    return self


def _exit(self, *exc):
    self.close_store()
    return False


Account.__enter__ = _enter
Account.__exit__ = _exit


def _message(self):
    return f"{self.detail} [{self.kind.name}]"


for _family in (AccountError, ProtocolError, AttachmentError):
    _family.__str__ = _message
PolicyError.__str__ = lambda self: str(getattr(self, "detail", ""))
RelayError.__str__ = lambda self: str(getattr(self, "detail", ""))
del _family


def _finished_str(self):
    # The pointer holds the attachment key: never printed.
    return f"FinishedAttachment(sealed=<{len(self.sealed)} bytes>, pointer=<redacted>)"


FinishedAttachment.__str__ = _finished_str
FinishedAttachment.__repr__ = _finished_str


# How much the attachment helpers read at a time: one chunk of plaintext.
_ATTACHMENT_PIECE = 65536


def _pieces(infile):
    while True:
        piece = infile.read(_ATTACHMENT_PIECE)
        if not piece:
            return
        yield bytes(piece)


def encrypt_attachment(infile, outfile) -> bytes:
    """Encrypts an attachment under a fresh key: reads the binary file object ``infile`` to
    its end, writes the blob to upload to ``outfile`` and returns the 72-byte pointer to
    send inside a message (it holds the key: never log it). Memory is a chunk or two,
    whatever the size. Raises :class:`AttachmentError` past 2^40 bytes."""
    encryptor = AttachmentEncryptor()
    for piece in _pieces(infile):
        outfile.write(encryptor.update(piece))
    last = encryptor.finish()
    outfile.write(last.sealed)
    outfile.flush()
    return last.pointer


def decrypt_attachment(pointer: bytes, infile, outfile) -> None:
    """Decrypts the blob read from ``infile`` for the attachment ``pointer`` names, writing
    the plaintext to ``outfile``: only chunks whose tag verified are written, and the last
    one only once the blob's digest and size match the pointer. Raises
    :class:`AttachmentError` (``Pointer`` or ``Blob``, with ``kind``); then discard what
    was written."""
    decryptor = AttachmentDecryptor(bytes(pointer))
    for piece in _pieces(infile):
        outfile.write(decryptor.update(piece))
    outfile.write(decryptor.finish())
    outfile.flush()


def _drain_transmit(self) -> list:
    """Every frame the relay client wants written now, in order: send each as one binary
    WebSocket message. Call it after every other call on the client."""
    frames = []
    while (frame := self.poll_transmit()) is not None:
        frames.append(frame)
    return frames


def _drain_events(self) -> list:
    """Every event waiting, in order."""
    events = []
    while (event := self.poll_event()) is not None:
        events.append(event)
    return events


RelayClient.drain_transmit = _drain_transmit
RelayClient.drain_events = _drain_events
