"""Every vector file replayed through the generated protocol layer: `session.json` and
`receipts.json` byte for byte, `pqxdh.json` (the bundle carries the recorded keys and the
recorded ephemeral key and KEM ciphertext come out in Alice's first message, which Bob
opens), and `invalid.json` (each case fails with its recorded kind). `kdf.json` and the
`plaintext` cases of `invalid.json` concern values inside the ratchet that no public call
takes or returns; the Rust suite and `vectors/check.py` cover them."""

from __future__ import annotations

import json

import pytest

from bluetick import (
    ContentType,
    ErrorKind,
    Identity,
    PqPreKeyKind,
    PreKeys,
    ProtocolError,
    ReceiptKind,
    Session,
    create_receipt_body,
    verify_receipt_body,
)
from conftest import vectors_dir

CONTENT = {1: ContentType.APPLICATION, 2: ContentType.RECEIPT}
RECEIPT_KINDS = {1: ReceiptKind.DELIVERED, 2: ReceiptKind.READ, 0x81: ReceiptKind.DENIABLE_DELIVERED,
                 0x82: ReceiptKind.DENIABLE_READ}


def _cases(name: str, kind: str | None = None) -> list[dict]:
    path = vectors_dir() / name
    if not path.is_file():  # reported by the `vectors` fixture, with the path
        return [{"name": "missing"}]
    cases = json.loads(path.read_text())["cases"]
    return [c for c in cases if kind is None or c["kind"] == kind]


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def kind_of(name: str) -> ErrorKind:
    """The ErrorKind named as in invalid.json (`BadPadding` -> BAD_PADDING)."""
    snake = "".join("_" + c if c.isupper() else c for c in name).lstrip("_").upper()
    return ErrorKind[snake]


class Party:
    """One side of a session vector: identity, prekeys, session, and its ratchet privates
    handed out in order."""

    def __init__(self, identity_seed: str, ratchet_privates: list[str]) -> None:
        self.identity = Identity.from_seed(h(identity_seed))
        self.prekeys = PreKeys()
        self.session = Session()
        self.privates = [h(p) for p in ratchet_privates]
        self.next_private = 0
        # Revision 3: the KEM randomness this side draws while sending, in order.
        self.kem_seeds: list[bytes] = []
        self.encaps: list[bytes] = []
        self.objects_started: set[tuple[int, int]] = set()

    def kem_script(self, pq_block: bytes) -> bytes | None:
        """The KEM randomness a send draws: a seed with the first `ek` chunk of an epoch,
        `m` with the first `ct` chunk (spec §14); nothing for any other message."""
        if len(pq_block) < 6:
            return None
        key = (pq_block[0], int.from_bytes(pq_block[1:5], "big"))
        if key in self.objects_started:
            return None
        self.objects_started.add(key)
        return self.kem_seeds.pop(0) if pq_block[0] == 1 else self.encaps.pop(0)

    def take_private(self) -> bytes:
        private = self.privates[self.next_private]
        self.next_private += 1
        return private

    def receive(self, wire: bytes):
        script = self.privates[self.next_private] if self.next_private < len(self.privates) else None
        got = self.session.decrypt(self.identity, self.prekeys, wire, script)
        assert got.randomness_used in (0, 32)
        if got.randomness_used == 32:
            self.next_private += 1
        return got


def parties(p: dict, alice_privates: list[str], bob_privates: list[str]) -> tuple[Party, Party]:
    """Alice and Bob of a PQXDH input, Alice's session started from Bob's bundle."""
    alice = Party(p["alice_identity_seed"], alice_privates)
    bob = Party(p["bob_identity_seed"], bob_privates)
    bob.prekeys.add_signed(bob.identity, p["bob_signed_prekey_id"], h(p["bob_signed_prekey_private"]))
    if p.get("bob_one_time_prekey_private"):
        bob.prekeys.add_one_time(p["bob_one_time_prekey_id"], h(p["bob_one_time_prekey_private"]))
    bob.prekeys.add_pq(bob.identity, p["bob_pq_prekey_id"], PqPreKeyKind.ONE_TIME, h(p["bob_pq_prekey_seed"]))
    bundle = bob.prekeys.bundle(bob.identity)
    script = h(p["alice_ephemeral_private"]) + h(p["kem_encaps_randomness"]) + alice.take_private()
    assert alice.session.start(alice.identity, bundle, script) == 96
    return alice, bob


@pytest.mark.parametrize("case", _cases("session.json"), ids=lambda c: c["name"])
def test_session_vector(case, vectors):
    alice, bob = parties(case["pqxdh"], case["alice_ratchet_privates"], case["bob_ratchet_privates"])
    for party, side in ((alice, "alice"), (bob, "bob")):
        party.kem_seeds = [h(v) for v in case.get(f"{side}_kem_seeds", [])]
        party.encaps = [h(v) for v in case.get(f"{side}_encaps_randomness", [])]
    by_name = {"alice": alice, "bob": bob}
    sent: list[dict] = []
    for step in case["steps"]:
        if "send" in step:
            send = step["send"]
            sender = by_name[send["sender"]]
            script = sender.kem_script(h(send["pq_block"]))
            got = sender.session.encrypt(CONTENT[send["content_type"]], h(send["body"]), script)
            assert got.wire.hex() == send["wire"], f"wire of message {len(sent)}"
            assert got.id.hex() == send["message_id"]
            sent.append(send)
        else:
            send = sent[step["receive"]]
            sender = by_name[send["sender"]]
            receiver = bob if sender is alice else alice
            got = receiver.receive(h(send["wire"]))
            assert got.body == h(send["body"]), f"body of message {step['receive']}"
            assert got.content_type == CONTENT[send["content_type"]]
            assert got.sender == sender.identity.public_key()
    # Every ratchet private and KEM input recorded was used, and nothing more.
    assert alice.next_private == len(alice.privates)
    assert bob.next_private == len(bob.privates)
    assert not (alice.kem_seeds or alice.encaps or bob.kem_seeds or bob.encaps)


@pytest.mark.parametrize("case", _cases("receipts.json"), ids=lambda c: c["name"])
def test_receipt_vector(case, vectors):
    body = h(case["body"])
    ids = [h(i) for i in case["ids"]]
    verified = verify_receipt_body(body, h(case["signer_identity_public"]), h(case["peer_identity_public"]), ids)
    assert verified.kind == RECEIPT_KINDS[case["kind"]]
    assert verified.timestamp_ms == case["timestamp_ms"]
    signer = Identity.from_seed(h(case["signer_identity_seed"]))
    assert signer.public_key() == h(case["signer_identity_public"])
    made = create_receipt_body(
        signer, h(case["peer_identity_public"]), RECEIPT_KINDS[case["kind"]], case["timestamp_ms"], ids
    )
    assert made == body


@pytest.mark.parametrize("case", _cases("pqxdh.json"), ids=lambda c: c["name"])
def test_pqxdh_vector(case, vectors):
    alice, bob = parties(case, ["11" * 32], ["22" * 32])
    assert alice.identity.public_key() == h(case["alice_identity_public"])
    assert bob.identity.public_key() == h(case["bob_identity_public"])
    bundle = bob.prekeys.bundle(bob.identity)
    for recorded in ("bob_signed_prekey_public", "bob_signed_prekey_signature", "bob_pq_prekey_public",
                     "bob_pq_prekey_signature"):
        assert h(case[recorded]) in bundle, recorded
    first = alice.session.encrypt(ContentType.APPLICATION, b"pqxdh")
    assert h(case["alice_ephemeral_public"]) in first.wire
    assert h(case["kem_ciphertext"]) in first.wire
    got = bob.receive(first.wire)
    assert (got.body, got.sender) == (b"pqxdh", alice.identity.public_key())


def _fails_with(error: str, call, *args) -> None:
    with pytest.raises(ProtocolError) as e:
        call(*args)
    assert e.value.kind == kind_of(error), str(e.value)


@pytest.mark.parametrize("case", _cases("invalid.json", "identity_key"), ids=lambda c: c["name"])
def test_invalid_identity_key(case, vectors):
    signer = Identity.from_seed(bytes(32))
    _fails_with(case["error"], create_receipt_body, signer, h(case["input"]), ReceiptKind.READ, 1, [bytes(16)])


@pytest.mark.parametrize("case", _cases("invalid.json", "bundle"), ids=lambda c: c["name"])
def test_invalid_bundle(case, vectors):
    _fails_with(case["error"], Session().start, Identity.from_seed(bytes(32)), h(case["input"]), None)


@pytest.mark.parametrize("case", _cases("invalid.json", "wire"), ids=lambda c: c["name"])
def test_invalid_wire(case, vectors):
    _fails_with(case["error"], Session().decrypt, Identity.from_seed(bytes(32)), PreKeys(), h(case["input"]), None)


@pytest.mark.parametrize("case", _cases("invalid.json", "receipt"), ids=lambda c: c["name"])
def test_invalid_receipt(case, vectors):
    i = case["input"]
    _fails_with(case["error"], verify_receipt_body, h(i["body"]), h(i["signer_identity_public"]),
                h(i["receiver_identity_public"]), [h(x) for x in i["sent_ids"]])


@pytest.mark.parametrize("case", _cases("invalid.json", "session"), ids=lambda c: c["name"])
def test_invalid_session(case, vectors):
    i = case["input"]
    alice, bob = parties(i["pqxdh"], i["alice_ratchet_privates"], i["bob_ratchet_privates"])
    to = {"alice": alice, "bob": bob}
    *good, last = i["deliveries"]
    for d in good:
        to[d["to"]].receive(h(d["wire"]))
    _fails_with(case["error"], to[last["to"]].receive, h(last["wire"]))
