"""The README's chat, as a new user writes it after `pip install ./bindings/python`: two
accounts, a bundle from the relay's copy of Bob's upload, a message, a read receipt."""

import os
import time
import tempfile

from bluetick import Account, AccountConfig, Address, MessageStatus, PreKeyUpload, ReceiptKind

with tempfile.TemporaryDirectory() as d:
    key = os.urandom(32)  # from the Keychain / Keystore in an app
    with Account.create_sqlite(os.path.join(d, "alice.db"), key, AccountConfig()) as alice, \
            Account.create_memory(os.urandom(32), AccountConfig()) as bob:
        a, b = Address(user=b"alice", device=1), Address(user=b"bob", device=1)
        relay = PreKeyUpload.from_bytes(bob.prekey_upload().to_bytes())  # what Bob uploaded
        hello = alice.encrypt(b, b"hi Bob", relay.take_bundle(), int(time.time() * 1000))
        alice.mark_sent(hello.id)
        got = bob.decrypt(a, hello.wire)
        assert got.received.body == b"hi Bob"
        bob.acknowledge(hello.id)
        read = bob.create_receipt(a, ReceiptKind.READ, [hello.id], 0)
        alice.decrypt(b, read.wire)
        assert alice.message_status(hello.id) == MessageStatus.READ
        print("python chat:", got.received.body.decode(), "->", alice.message_status(hello.id).name)
