"""The known-answer vectors (``vectors/session.json``, ``vectors/receipts.json``) through
the binding's protocol layer: every wire byte and message id, every receipt body, must come
out exactly as recorded."""

from __future__ import annotations

import json

import pytest

from bluetick import ContentType, Identity, PreKeys, ReceiptKind, Session, verify_receipt
from helpers import vectors_dir


def _cases(name: str) -> list[dict]:
    path = vectors_dir() / name
    if not path.is_file():  # reported by the `vectors` fixture, with the path
        return [{"name": "missing"}]
    return json.loads(path.read_text())["cases"]


def h(value: str) -> bytes:
    return bytes.fromhex(value)


class Party:
    """One side of a session vector: identity, prekeys, session, and its ratchet privates
    handed out in order."""

    def __init__(self, identity_seed: str, ratchet_privates: list[str]) -> None:
        self.identity = Identity.from_seed(h(identity_seed))
        self.prekeys = PreKeys()
        self.session = Session()
        self.privates = [h(p) for p in ratchet_privates]
        self.next_private = 0

    def take_private(self) -> bytes:
        private = self.privates[self.next_private]
        self.next_private += 1
        return private

    def close(self) -> None:
        for handle in (self.session, self.prekeys, self.identity):
            handle.close()


@pytest.mark.parametrize("case", _cases("session.json"), ids=lambda c: c["name"])
def test_session_vector(case, vectors):
    p = case["pqxdh"]
    alice = Party(p["alice_identity_seed"], case["alice_ratchet_privates"])
    bob = Party(p["bob_identity_seed"], case["bob_ratchet_privates"])
    try:
        bob.prekeys.add_signed(bob.identity, p["bob_signed_prekey_id"], h(p["bob_signed_prekey_private"]))
        if p.get("bob_one_time_prekey_private"):
            bob.prekeys.add_one_time(p["bob_one_time_prekey_id"], h(p["bob_one_time_prekey_private"]))
        bob.prekeys.add_pq(bob.identity, p["bob_pq_prekey_id"], h(p["bob_pq_prekey_seed"]), last_resort=False)

        # Alice: PQXDH from Bob's bundle with the recorded ephemeral key, encapsulation
        # randomness and her first ratchet private.
        bundle = bob.prekeys.bundle(bob.identity)
        script = h(p["alice_ephemeral_private"]) + h(p["kem_encaps_randomness"]) + alice.take_private()
        assert alice.session.start(alice.identity, bundle, randomness=script) == 96

        parties = {"alice": alice, "bob": bob}
        sent: list[dict] = []
        for step in case["steps"]:
            if "send" in step:
                send = step["send"]
                sender = parties[send["sender"]]
                got = sender.session.encrypt(h(send["body"]), ContentType(send["content_type"]))
                assert got.wire.hex() == send["wire"], f"wire of message {len(sent)}"
                assert got.id.hex() == send["message_id"]
                sent.append(send)
            else:
                send = sent[step["receive"]]
                sender = parties[send["sender"]]
                receiver = bob if sender is alice else alice
                private = receiver.privates[receiver.next_private : receiver.next_private + 1]
                got = receiver.session.decrypt(
                    receiver.identity,
                    receiver.prekeys,
                    h(send["wire"]),
                    randomness=private[0] if private else None,
                )
                assert got.body == h(send["body"]), f"body of message {step['receive']}"
                assert got.content_type == send["content_type"]
                assert got.sender == sender.identity.public_key
                assert got.randomness_used in (0, 32)
                if got.randomness_used == 32:
                    receiver.take_private()
        # Every ratchet private recorded was used, and nothing more.
        assert alice.next_private == len(alice.privates)
        assert bob.next_private == len(bob.privates)
    finally:
        alice.close()
        bob.close()


@pytest.mark.parametrize("case", _cases("receipts.json"), ids=lambda c: c["name"])
def test_receipt_vector(case, vectors):
    body = h(case["body"])
    ids = [h(i) for i in case["ids"]]
    verified = verify_receipt(
        body, h(case["signer_identity_public"]), h(case["peer_identity_public"]), ids
    )
    assert verified.kind == ReceiptKind(case["kind"])
    assert verified.timestamp_ms == case["timestamp_ms"]

    with Identity.from_seed(h(case["signer_identity_seed"])) as signer:
        assert signer.public_key == h(case["signer_identity_public"])
        made = signer.create_receipt(
            h(case["peer_identity_public"]), case["kind"], case["timestamp_ms"], ids
        )
    assert made == body
