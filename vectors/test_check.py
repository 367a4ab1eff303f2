"""Tests of the vector checker itself, on data it makes (run: python3 -m pytest vectors/).

The checker is only worth something if its own pieces are right, so each protocol piece
is tested here against published known answers, an independent implementation where one
is installed, or round trips and the rejections the spec requires.
"""

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bluetick_vector_check", HERE / "check.py")
check = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = check  # dataclasses look their module up there
_spec.loader.exec_module(check)
Reject = check.Reject


def rejects(name, fn, *args):
    with pytest.raises(Reject) as info:
        fn(*args)
    assert info.value.name == name, str(info.value)


def pqxdh_inputs(tag: int, with_opk: bool = True) -> dict:
    """Deterministic inputs; `tag` keeps different tests' keys apart."""
    b = lambda i, n=32: bytes([tag, i]) * (n // 2)
    return {
        "alice_identity_seed": b(1).hex(), "alice_ephemeral_private": b(2).hex(),
        "bob_identity_seed": b(3).hex(), "bob_signed_prekey_id": 7,
        "bob_signed_prekey_private": b(4).hex(),
        "bob_one_time_prekey_id": 9 if with_opk else None,
        "bob_one_time_prekey_private": b(5).hex() if with_opk else None,
        "bob_pq_prekey_id": 11, "bob_pq_prekey_seed": b(6, 64).hex(),
        "kem_encaps_randomness": b(8).hex(),
    }


def privates(tag: int, count: int = 12) -> list:
    return [bytes([tag, 0x40 + i]).hex() * 16 for i in range(count)]


def kem_draws(tag: int, size: int, count: int = 4) -> list:
    return [bytes([tag, 0x60 + i]).hex() * (size // 2) for i in range(count)]


def case_inputs(inputs: dict, tag: int) -> dict:
    """A case's randomness: ratchet privates and (revision 3) KEM seeds and m values."""
    return {"pqxdh": inputs, "alice_ratchet_privates": privates(tag),
            "bob_ratchet_privates": privates(tag + 100),
            "alice_kem_seeds": kem_draws(tag, 64), "bob_kem_seeds": kem_draws(tag + 100, 64),
            "alice_encaps_randomness": kem_draws(tag, 32),
            "bob_encaps_randomness": kem_draws(tag + 100, 32)}


def parties(tag: int, with_opk: bool = True):
    return check.build_parties(case_inputs(pqxdh_inputs(tag, with_opk), tag))


# --- Primitives against published known answers ---------------------------------------------

def test_ed25519_rfc8032_test_1():
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    ident = check.Identity(seed)
    assert ident.public.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert ident.sign(b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")


def test_x25519_rfc7748_section_6_1():
    a = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    b_pub = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    assert check.x25519_public(a).hex() == (
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    assert check.x25519(a, b_pub).hex() == (
        "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")


def test_hkdf_rfc5869_case_1():
    okm = check.hkdf(bytes(range(13)), b"\x0b" * 22, bytes(range(0xF0, 0xFA)), 42)
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                         "34007208d5b887185865")


def test_low_order_x25519_key_is_rejected():
    rejects("LowOrderKey", check.x25519, b"\x11" * 32, bytes(32))
    assert check.is_low_order_x25519(bytes(32))
    assert not check.is_low_order_x25519(check.x25519_public(b"\x22" * 32))


def test_identity_montgomery_form_is_the_dh_key():
    ident = check.Identity(b"\x33" * 32)
    assert check.x25519_public(ident.x_private) == ident.x_public
    assert check.identity_x25519_public(ident.public) == ident.x_public


def test_identity_key_validation():
    check.validate_identity_key(check.Identity(b"\x44" * 32).public)
    order8 = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
    for bad in (bytes(32), b"\x01" + bytes(31), order8, b"\xed" + b"\xff" * 30 + b"\x7f",
                b"\x01" * 31):
        rejects("InvalidIdentityKey", check.validate_identity_key, bad)
    import nacl.bindings
    mixed = nacl.bindings.crypto_core_ed25519_add(check.Identity(b"\x44" * 32).public, order8)
    rejects("InvalidIdentityKey", check.validate_identity_key, mixed)


# --- ML-KEM-1024 ----------------------------------------------------------------------------

def test_kem_round_trip_and_implicit_rejection():
    ek, dk = check.kem_keygen(bytes(range(64)))
    assert (len(ek), len(dk)) == (1568, 3168)
    ct, ss = check.kem_encaps(ek, b"\x07" * 32)
    assert check.kem_decaps(dk, ct) == ss
    assert check.kem_encaps(ek, b"\x07" * 32) == (ct, ss)  # deterministic from m
    assert check.kem_decaps(dk, bytes([ct[0] ^ 1]) + ct[1:]) != ss


def test_kem_agrees_with_an_independent_implementation():
    mlkem = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.mlkem")
    from cryptography.hazmat.backends.openssl.backend import backend
    if not backend.mlkem_supported():
        pytest.skip("this cryptography build has no ML-KEM")
    seed = bytes(range(100, 164))
    ek, dk = check.kem_keygen(seed)
    reference = mlkem.MLKEM1024PrivateKey.from_seed_bytes(seed)
    assert reference.public_key().public_bytes_raw() == ek
    ct, ss = check.kem_encaps(ek, b"\x09" * 32)
    assert reference.decapsulate(ct) == ss
    ss2, ct2 = reference.public_key().encapsulate()
    assert check.kem_decaps(dk, ct2) == ss2


def test_kem_key_check_rejects_coefficients_at_or_above_q():
    ek, _ = check.kem_keygen(bytes(64))
    check.check_kem_key(ek)

    def with_coefficients(c0, c1):
        triple = bytes([c0 & 0xFF, (c0 >> 8) | ((c1 & 0x0F) << 4), c1 >> 4])
        return triple + ek[3:]

    check.check_kem_key(with_coefficients(3328, 3328))
    rejects("InvalidKemKey", check.check_kem_key, with_coefficients(3329, 0))
    rejects("InvalidKemKey", check.check_kem_key, with_coefficients(0, 4095))
    rejects("InvalidKemKey", check.check_kem_key, ek[:-1])
    rejects("InvalidKemKey", check.kem_encaps, with_coefficients(3329, 0), bytes(32))


# --- Framing, wire, bundle, receipts -----------------------------------------------------------

@pytest.mark.parametrize("size", [0, 1, 61, 62, 63, 200])
def test_padding_round_trips(size):
    padded = check.pad_plaintext(0x01, b"\xaa" * size)
    assert len(padded) % 64 == 0 and len(padded) >= size + 2
    assert check.unpad_plaintext(padded) == (0x01, b"\xaa" * size)


def test_padding_parser_rejects_bad_padding():
    rejects("BadPadding", check.unpad_plaintext, b"")
    rejects("BadPadding", check.unpad_plaintext, b"\x01\x80" + bytes(61))
    rejects("BadPadding", check.unpad_plaintext, b"\x01" + bytes(63))
    rejects("BadPadding", check.unpad_plaintext, b"\x01\x80\x01" + bytes(61))
    rejects("BadPadding", check.unpad_plaintext, b"\x80" + bytes(63))
    rejects("UnknownContentType", check.unpad_plaintext, b"\x03\x80" + bytes(62))


def test_application_bodies_carry_their_clock():
    body = (7).to_bytes(8, "big") + (1234).to_bytes(8, "big") + b"hi"
    assert check.parse_application_body(body) == (7, 1234, b"hi")
    assert check.parse_application_body(body[:16]) == (7, 1234, b"")
    for n in (0, 1, 8, 15):
        rejects("InvalidBody", check.parse_application_body, body[:n])
        rejects("InvalidBody", check.run_invalid_application_body,
                check.pad_plaintext(1, body[:n]).hex())
    # A whole clock is accepted, so such a case would be flagged as not rejected.
    check.run_invalid_application_body(check.pad_plaintext(1, body[:16]).hex())


def test_wire_parser_rejections():
    alice, _ = parties(1)
    wire = alice.send(1, b"hello").wire
    assert isinstance(check.parse_wire(wire), check.PreKeyMessage)
    rejects("Truncated", check.parse_wire, b"")
    rejects("UnknownMessageType", check.parse_wire, b"\x21" + wire[1:])
    rejects("Truncated", check.parse_wire, wire[:500])
    rejects("InvalidFlag", check.parse_wire, wire[:73] + b"\x02" + wire[74:])
    rejects("Truncated", check.parse_wire, b"\x11" + bytes(39))
    rejects("CiphertextTooShort", check.parse_wire, b"\x11" + bytes(44 + 15))
    inner_start = len(wire) - (1 + 44 + 64 + 16)
    rejects("UnknownMessageType", check.parse_wire,
            wire[:inner_start] + b"\x12" + wire[inner_start + 1:])


def test_bundle_round_trip_and_rejections():
    keys = check.BobKeys(pqxdh_inputs(2))
    bundle = keys.bundle()
    data = check.encode_bundle(bundle)
    assert len(data) == 1806
    assert len(check.encode_bundle(check.BobKeys(pqxdh_inputs(2, False)).bundle())) == 1770
    check.verify_bundle(check.decode_bundle(data))
    rejects("Truncated", check.decode_bundle, data[:-1])
    rejects("TrailingBytes", check.decode_bundle, data + b"\x00")
    rejects("UnsupportedVersion", check.decode_bundle, b"\x02" + data[1:])
    rejects("InvalidFlag", check.decode_bundle, data[:1769] + b"\x05" + data[1770:])
    tampered = bytearray(data)
    tampered[50] ^= 1
    rejects("BadSignature", check.verify_bundle, check.decode_bundle(bytes(tampered)))
    low = copy.copy(bundle)
    low.spk_public = bytes(32)
    low.spk_signature = keys.identity.sign(check.signed_prekey_message(low.spk_public))
    rejects("LowOrderKey", check.verify_bundle, low)
    for encoding in (b"\xed" + b"\xff" * 30 + b"\x7f",  # p itself
                     check.x25519_public(b"\x21" * 32)[:31] + b"\x80"):  # bit 255 set
        high = copy.copy(bundle)
        high.opk_public = encoding
        rejects("NonCanonicalKey", check.verify_bundle, high)
    bad_kem = copy.copy(bundle)
    bad_kem.pq_public = b"\xff\xff" + bundle.pq_public[2:]
    bad_kem.pq_signature = keys.identity.sign(check.pq_prekey_message(bad_kem.pq_public))
    rejects("InvalidKemKey", check.verify_bundle, bad_kem)


def test_receipts_sign_parse_and_reject():
    signer, me = check.Identity(b"\x55" * 32), check.Identity(b"\x66" * 32).public
    ids = sorted(bytes([i]) * 16 for i in (3, 1, 2))
    payload, signature, body = check.build_receipt(signer, me, 0x02, 1234, ids)
    assert body == payload[len(check.RECEIPT_CONTEXT) + 64:] + signature
    assert check.verify_receipt(body, signer.public, me, set(ids)).ids == ids
    assert check.build_receipt(signer, me, 0x81, 1234, ids)[:2] == (None, None)
    _, _, for_other = check.build_receipt(signer, signer.public, 0x01, 1, ids)
    rejects("BadSignature", check.verify_receipt, for_other, signer.public, me, set(ids))
    rejects("UnknownMessageId", check.verify_receipt, body, signer.public, me, set(ids[:2]))
    rejects("NonCanonicalIds", check.verify_receipt,
            check.build_receipt(signer, me, 0x01, 1, ids[::-1])[2], signer.public, me, set(ids))
    rejects("InvalidIdCount", check.parse_receipt, check.build_receipt(signer, me, 1, 1, [])[2])
    rejects("UnknownReceiptKind", check.parse_receipt, b"\x03" + body[1:])
    rejects("Truncated", check.parse_receipt, body[:-1])
    rejects("TrailingBytes", check.parse_receipt, body + b"\x00")


# --- PQXDH and the Double Ratchet ----------------------------------------------------------------

@pytest.mark.parametrize("with_opk", [True, False])
def test_pqxdh_both_sides_agree(with_opk):
    results, bob_side = check.pqxdh_inputs_results(pqxdh_inputs(3, with_opk))
    assert bob_side == (results["shared_key"], results["associated_data"])
    assert (results["dh4"] is None) == (not with_opk)
    assert len(results["associated_data"]) == 96  # IK_A || IK_B || SHA-256(EncodeKEM(PQPK_B))


def test_ratchet_round_trip_with_out_of_order_and_lost_messages():
    alice, bob = parties(4)
    first = [alice.send(1, f"a{i}".encode()) for i in range(3)]
    assert all(s.wire[0] == 0x12 for s in first)
    assert bob.receive(first[2].wire) == (1, b"a2")  # skips a0, a1
    assert bob.receive(first[0].wire) == (1, b"a0")
    reply = bob.send(2, b"receipt")
    assert reply.wire[0] == 0x11 and reply.pn == 0 and reply.n == 0
    assert alice.receive(reply.wire) == (2, b"receipt")
    second = alice.send(1, b"after")  # Alice has heard from Bob: plain Messages now
    assert second.wire[0] == 0x11 and second.pn == 3 and second.n == 0
    assert bob.receive(second.wire) == (1, b"after")
    assert bob.receive(first[1].wire) == (1, b"a1")  # old chain, from the skipped keys
    # first[*] are never delivered twice; a lost message of Bob's is simply skipped over.
    bob.send(1, b"lost")
    assert alice.receive(bob.send(1, b"kept").wire) == (1, b"kept")


def test_decryption_is_transactional_and_rejects_duplicates():
    alice, bob = parties(5)
    m0, m1 = alice.send(1, b"x"), alice.send(1, b"y")
    bob.receive(m0.wire)
    tampered = m1.wire[:-1] + bytes([m1.wire[-1] ^ 1])
    before = copy.deepcopy(bob.current.ratchet)
    rejects("AuthenticationFailed", bob.receive, tampered)
    assert bob.current.ratchet == before
    rejects("DuplicateMessage", bob.receive, m0.wire)
    assert bob.receive(m1.wire) == (1, b"y")
    rejects("DuplicateMessage", bob.receive, m1.wire)


def test_skip_limit_is_max_skip_keys():
    alice, bob = parties(6)
    bob.receive(alice.send(1, b"start").wire)
    for _ in range(check.MAX_SKIP):
        alice.send(1, b"")
    at_limit = alice.send(1, b"ok")  # skips exactly MAX_SKIP keys
    assert bob.receive(at_limit.wire) == (1, b"ok")
    for _ in range(check.MAX_SKIP + 1):
        alice.send(1, b"")
    rejects("TooManySkipped", bob.receive, alice.send(1, b"too far").wire)
    assert len(bob.current.ratchet.skipped) == check.MAX_STORED_SKIPPED


def test_prekey_message_replay_with_another_identity_is_rejected():
    alice, bob = parties(7)
    wire = alice.send(1, b"hi").wire
    bob.receive(wire)
    other = check.Identity(b"\x77" * 32).public
    rejects("PreKeyReplay", bob.receive, wire[:1] + other + wire[33:])


# --- Attachments (spec §13) -------------------------------------------------------------------

def seal_attachment(size: int, key: bytes = b"\x05" * 32):
    plaintext = check.attachment_plaintext("i mod 251", size)
    blob = b"".join(check.attachment_encrypt(key, plaintext))
    return plaintext, blob, check.attachment_pointer(key, size, blob)


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 3 * 65536 + 5])
def test_attachment_round_trips_at_chunk_boundaries(size):
    plaintext, blob, pointer = seal_attachment(size)
    assert len(blob) == check.attachment_ciphertext_len(size)
    assert len(blob) == size + 16 * check.attachment_chunk_count(size)
    assert check.attachment_decrypt(pointer, blob) == plaintext


def test_attachment_chunks_bind_index_and_finality():
    key = b"\x06" * 32
    aes_key, prefix = check.attachment_keys(key)
    assert len(aes_key) == 32 and len(prefix) == 7
    assert check.attachment_nonce(prefix, 2, True) == prefix + b"\x00\x00\x00\x02\x01"
    chunks = check.attachment_encrypt(key, bytes(2 * 65536 + 1))
    assert [len(c) for c in chunks] == [65552, 65552, 17]
    # The same plaintext at another index, or as the final chunk, seals differently.
    assert chunks[0] != chunks[1]
    assert chunks[0] != check.attachment_encrypt(key, bytes(65536))[0]


def test_attachment_rejections_are_named():
    _, blob, pointer = seal_attachment(2 * 65536 + 100)
    flipped = bytearray(blob)
    flipped[70000] ^= 1
    rejects("AuthenticationFailed", check.attachment_decrypt, pointer, bytes(flipped))
    rejects("Truncated", check.attachment_decrypt, pointer, blob[:-1])
    rejects("Truncated", check.attachment_decrypt, pointer, blob[:2 * 65552])
    rejects("Truncated", check.attachment_decrypt, pointer, b"")
    rejects("TrailingBytes", check.attachment_decrypt, pointer, blob + b"\x00")
    swapped = blob[65552:2 * 65552] + blob[:65552] + blob[2 * 65552:]
    rejects("AuthenticationFailed", check.attachment_decrypt, pointer, swapped)
    rejects("DigestMismatch", check.attachment_decrypt, pointer[:-1] + bytes([pointer[-1] ^ 1]),
            blob)
    for size in (0, 2 * 65536 + 99, 2 * 65536 + 101):
        bad = pointer[:32] + size.to_bytes(8, "big") + pointer[40:]
        rejects("SizeMismatch", check.attachment_decrypt, bad, blob)
    rejects("Truncated", check.parse_attachment_pointer, pointer[:71])
    rejects("TrailingBytes", check.parse_attachment_pointer, pointer + b"\x00")
    huge = pointer[:32] + ((1 << 40) + 1).to_bytes(8, "big") + pointer[40:]
    rejects("AttachmentTooLarge", check.parse_attachment_pointer, huge)


def test_device_lists_verify_and_their_rejections_are_named():
    primary, phone, laptop = (check.Identity(bytes([i]) * 32) for i in (1, 2, 3))
    devices = [(1, primary.public), (2, phone.public)]
    v3 = check.parse_device_list(check.sign_device_list(primary, b"dana", 3, devices))
    check.verify_device_list(v3, primary.public)
    check.check_listed_device(v3, 2, phone.public)
    rejects("DeviceNotListed", check.check_listed_device, v3, 3, laptop.public)
    rejects("DeviceNotListed", check.check_listed_device, v3, 2, laptop.public)
    rejects("UntrustedIdentity", check.verify_device_list, v3, phone.public)
    v4 = check.parse_device_list(
        check.sign_device_list(primary, b"dana", 4, devices + [(3, laptop.public)]))
    check.verify_device_list_update(v4, v3)
    rejects("StaleDeviceList", check.verify_device_list_update, v3, v4)
    forged = check.sign_device_list(phone, b"dana", 9, [(1, primary.public)])
    rejects("BadSignature", check.verify_device_list, check.parse_device_list(forged),
            primary.public)
    raw = check.sign_device_list(primary, b"dana", 3, devices)
    rejects("Truncated", check.parse_device_list, raw[:-1])
    rejects("TrailingBytes", check.parse_device_list, raw + b"\x00")
    many = [(i, primary.public) for i in range(17)]
    rejects("InvalidValue", check.parse_device_list,
            check.sign_device_list(primary, b"dana", 3, many))
    twice = check.sign_device_list(primary, b"dana", 3, devices + [(2, laptop.public)])
    rejects("InvalidValue", check.parse_device_list, twice)
    cert = check.sign_device_certificate(primary, b"dana", 2, phone.public, 5)
    parsed = check.parse_device_certificate(cert)
    check.verify_signature(primary.public, check.DEVICE_CERTIFICATE_CONTEXT + parsed.signed,
                           parsed.signature)
    rejects("BadSignature", check.verify_signature, phone.public,
            check.DEVICE_CERTIFICATE_CONTEXT + parsed.signed, parsed.signature)


# --- The checker as a whole -------------------------------------------------------------------

def make_vectors(folder: Path) -> None:
    """A small vector set from the checker's own functions (tests the harness, not the crypto)."""
    inp = pqxdh_inputs(8)
    results, _ = check.pqxdh_inputs_results(inp)
    pq_case = dict(inp, name="p", **{k: v.hex() if isinstance(v, bytes) else v
                                     for k, v in results.items()})
    rk, ck = check.kdf_rk(b"\x01" * 32, b"\x02" * 32)
    mk, nck = check.kdf_ck(b"\x03" * 32)
    key, nonce = check.expand_message_key(mk)
    prk, pck = check.kdf_rk_pq(b"\x01" * 32, b"\x02" * 32, b"\x0c" * 32)
    pqs = check.pq_secret(b"\x0d" * 32, 1, b"\x0e" * 1184, b"\x0f" * 1088)
    kdf = {"root": [{"root_key": "01" * 32, "dh_output": "02" * 32, "new_root_key": rk.hex(),
                     "chain_key": ck.hex()}],
           "root_pq": [{"root_key": "01" * 32, "dh_output": "02" * 32, "pq_secret": "0c" * 32,
                        "new_root_key": prk.hex(), "chain_key": pck.hex()}],
           "pq_secret": [{"kem_shared_secret": "0d" * 32, "epoch": 1, "ek": "0e" * 1184,
                          "ct": "0f" * 1088, "pq_secret": pqs.hex()}],
           "chain": [{"chain_key": "03" * 32, "message_key": mk.hex(), "next_chain_key": nck.hex()}],
           "message_keys": [{"message_key": mk.hex(), "aes_key": key.hex(), "nonce": nonce.hex()}]}
    alice, bob = check.build_parties(case_inputs(inp, 8))
    steps, sent = [], []
    for who, body in (("alice", b"one"), ("alice", b"two")):
        s = alice.send(1, body)
        sent.append(s)
        steps.append({"send": dict(sender=who, content_type=1, body=body.hex(),
                                   **{k: v.hex() if isinstance(v, bytes) else v
                                      for k, v in vars(s).items()})})
    steps += [{"receive": 1}, {"receive": 0}]
    session = dict(case_inputs(inp, 8), name="s", steps=steps)
    signer = check.Identity(b"\x09" * 32)
    ids = [b"\x01" * 16]
    payload, sig, body = check.build_receipt(signer, b"\x0a" * 32, 1, 5, ids)
    receipt = {"signer_identity_seed": "09" * 32, "peer_identity_public": "0a" * 32, "kind": 1,
               "timestamp_ms": 5, "ids": ["01" * 16], "signed_payload": payload.hex(),
               "signature": sig.hex(), "body": body.hex()}
    invalid = [{"name": "i", "kind": "identity_key", "input": "00" * 32,
                "error": "InvalidIdentityKey"},
               {"name": "w", "kind": "wire", "input": "14", "error": "UnknownMessageType"},
               {"name": "d", "kind": "session", "error": "DuplicateMessage",
                "input": dict(case_inputs(inp, 8),
                              deliveries=[{"to": "bob", "wire": sent[0].wire.hex()}] * 2)}]
    key = b"\x0b" * 32
    plaintext, blob, pointer = seal_attachment(70000, key)
    aes_key, prefix = check.attachment_keys(key)
    chunks = check.attachment_encrypt(key, plaintext)
    attachment = {"name": "a", "attachment_key": key.hex(), "size": 70000,
                  "plaintext_rule": "i mod 251", "ciphertext_sha256": check.sha256(blob).hex(),
                  "chunks": [{"index": i, "last": i == 1,
                              "nonce": check.attachment_nonce(prefix, i, i == 1).hex(),
                              "ciphertext_hex_prefix": c[:64].hex()}
                             for i, c in enumerate(chunks)],
                  "pointer": pointer.hex()}
    invalid.append({"name": "x", "kind": "attachment", "error": "TrailingBytes",
                    "input": {"attachment_key": key.hex(), "size": 70000,
                              "plaintext_rule": "i mod 251", "pointer": pointer.hex(),
                              "blob": [{"genuine": [0, len(blob)]}, {"hex": "00"}]}})
    (folder / "attachments.json").write_text(json.dumps({"revision": 3, "cases": [attachment]}))
    primary, phone = check.Identity(b"\x0c" * 32), check.Identity(b"\x0d" * 32)
    listed = [(1, primary.public), (2, phone.public)]
    device_case = {
        "name": "u", "user_id": b"erin".hex(), "user_identity_seed": "0c" * 32, "version": 2,
        "issued_at_ms": 9,
        "devices": [{"device_id": 1, "identity_seed": "0c" * 32},
                    {"device_id": 2, "identity_seed": "0d" * 32}],
        "device_list": check.sign_device_list(primary, b"erin", 2, listed).hex(),
        "certificates": [check.sign_device_certificate(primary, b"erin", d, k, 9).hex()
                         for d, k in listed]}
    invalid.append({"name": "g", "kind": "device_check", "error": "DeviceNotListed",
                    "input": {"device_list": device_case["device_list"],
                              "user_identity_public": primary.public.hex(), "device_id": 3,
                              "device_identity_public": phone.public.hex()}})
    (folder / "devices.json").write_text(json.dumps({"revision": 3, "cases": [device_case]}))
    group_key = dict(distribution_id="0e" * 16, chain_id=5, initial_iteration=3,
                     initial_chain_key="0f" * 32, signing_seed="10" * 32)
    sender = check.GroupSender(b"\x0e" * 16, 5, 3, b"\x0f" * 32, b"\x10" * 32)
    group_steps = []
    for text in (b"first", b"second"):
        out = sender.encrypt(text)
        group_steps.append({"send": {k: v.hex() if isinstance(v, bytes) else v
                                     for k, v in out.items()}})
    group_steps += [{"receive": 1}, {"receive": 0}]
    group_case = dict(group_key, name="g", group_id=b"team".hex(),
                      signing_public=sender.signing_public.hex(),
                      distribution=check.GroupSender(b"\x0e" * 16, 5, 3, b"\x0f" * 32,
                                                     b"\x10" * 32).distribution(b"team").hex(),
                      steps=group_steps)
    invalid.append({"name": "gm", "kind": "group", "error": "DuplicateMessage",
                    "input": {"now_ms": 1, "events": [
                        {"sender": "alice.1", "distribution": group_case["distribution"]},
                        {"message": group_steps[0]["send"]["wire"]},
                        {"message": group_steps[0]["send"]["wire"]}]}})
    (folder / "groups.json").write_text(json.dumps({"revision": 3, "cases": [group_case]}))
    for name, data in (("pqxdh", {"cases": [pq_case]}), ("kdf", kdf),
                       ("session", {"cases": [session]}), ("receipts", {"cases": [receipt]}),
                       ("invalid", {"cases": invalid})):
        (folder / f"{name}.json").write_text(json.dumps(dict(data, revision=3)))


def run_checker(folder: Path):
    return subprocess.run([sys.executable, str(HERE / "check.py"), str(folder)],
                          capture_output=True, text=True, timeout=600)


def test_checker_passes_consistent_vectors_and_flags_a_changed_byte(tmp_path):
    make_vectors(tmp_path)
    ok = run_checker(tmp_path)
    assert ok.returncode == 0, ok.stdout
    assert ok.stdout.strip().splitlines()[-1] == "check.py: 17 passed, 0 failed"

    session = json.loads((tmp_path / "session.json").read_text())
    send = session["cases"][0]["steps"][1]["send"]
    send["wire"] = send["wire"][:-2] + ("00" if send["wire"][-2:] != "00" else "01")
    (tmp_path / "session.json").write_text(json.dumps(session))
    (tmp_path / "kdf.json").unlink()
    attachments = json.loads((tmp_path / "attachments.json").read_text())
    attachments["revision"] = 1
    attachments["cases"][0]["chunks"][1]["ciphertext_hex_prefix"] = "00"
    (tmp_path / "attachments.json").write_text(json.dumps(attachments))
    devices = json.loads((tmp_path / "devices.json").read_text())
    devices["cases"][0]["version"] = 3
    (tmp_path / "devices.json").write_text(json.dumps(devices))
    groups = json.loads((tmp_path / "groups.json").read_text())
    groups["cases"][0]["steps"][1]["send"]["aes_key"] = "00" * 32
    (tmp_path / "groups.json").write_text(json.dumps(groups))
    bad = run_checker(tmp_path)
    assert bad.returncode == 1
    assert "session.json: #0 s: steps[1].send.wire:" in bad.stdout
    assert "kdf.json: file missing" in bad.stdout
    assert "attachments.json: revision 1, this checker implements revision 3" in bad.stdout
    assert "attachments.json: #0 a: chunks[1].ciphertext_hex_prefix:" in bad.stdout
    assert "devices.json: #0 u: device_list:" in bad.stdout
    assert "groups.json: #0 g: steps[1].send.aes_key:" in bad.stdout


@pytest.mark.skipif(not all((HERE / f).is_file() for f in check.VECTOR_FILES),
                    reason="the generated vector files are not there yet")
def test_checker_accepts_the_committed_vectors():
    result = run_checker(HERE)
    assert result.returncode == 0, result.stdout[-5000:]


def test_pq_block_framing_and_rejections():
    chunk = (check.PQ_KIND_CT, 7, 33, b"\x09" * 32)
    padded = check.pad_pairwise(chunk, 0x01, b"body")
    assert len(padded) == 64
    assert check.unpad_pairwise(padded) == (chunk, 0x01, b"body")
    assert check.unpad_pairwise(check.pad_pairwise(None, 0x02, b"")) == (None, 0x02, b"")

    def framed(block: bytes) -> bytes:
        content = block + b"\x01x\x80"
        return content + bytes(-len(content) % 64)

    rejects("UnknownPqKind", check.unpad_pairwise, framed(b"\x03"))
    rejects("ShortPqBlock", check.unpad_pairwise, b"\x80" + bytes(63))
    rejects("ShortPqBlock", check.unpad_pairwise, framed(b"\x01\x00\x00\x00\x01"))
    rejects("PqIndexOutOfRange", check.unpad_pairwise,
            framed(b"\x01" + (1).to_bytes(4, "big") + bytes([37]) + bytes(32)))
    rejects("PqIndexOutOfRange", check.unpad_pairwise,
            framed(b"\x02" + (1).to_bytes(4, "big") + bytes([34]) + bytes(32)))


def test_an_epoch_completes_between_two_checker_parties():
    case = case_inputs(pqxdh_inputs(12), 12)
    # 80 round trips take 80 ratchet keys a side (each one distinct, none zero).
    case["alice_ratchet_privates"] = [bytes([12, i + 1]).hex() * 16 for i in range(200)]
    case["bob_ratchet_privates"] = [bytes([112, i + 1]).hex() * 16 for i in range(200)]
    alice, bob = check.build_parties(case)
    for _ in range(80):
        bob.receive(alice.send(1, b"a").wire)
        alice.receive(bob.send(1, b"b").wire)
    assert alice.session.ratchet.pq.mixed >= 1 and bob.current.ratchet.pq.mixed >= 1


def test_group_sender_keys_decrypt_once_and_refuse_without_changing_anything():
    sender = check.GroupSender(b"\x21" * 16, 9, 0, b"\x22" * 32, b"\x23" * 32)
    receiver = check.GroupReceiver()
    receiver.accept("alice.1", sender.distribution(b"family"))
    sent = [sender.encrypt(bytes([i]) * 20)["wire"] for i in range(5)]
    wire = sent[0]
    assert wire[0] == 0x13 and len(wire) == 25 + 64 + 16 + 64
    # The chain: MK_0 = HMAC(CK_0, 0x01), and the message key expands as §12 says.
    mk, _ = check.group_chain_step(b"\x22" * 32)
    assert mk == check.hmac_sha256(b"\x22" * 32, b"\x01")
    key, nonce = check.group_message_keys(mk)
    assert check.aead_open(key, nonce, wire[25:-64], wire[:25])[:1] == b"\x01"

    assert receiver.decrypt(sent[3]) == ("alice.1", b"\x03" * 20)
    assert receiver.decrypt(sent[0]) == ("alice.1", b"\x00" * 20)

    def unchanged(name, wire):
        before = copy.deepcopy(receiver.held)
        rejects(name, receiver.decrypt, wire)
        assert receiver.held == before

    unchanged("DuplicateMessage", sent[0])
    unchanged("DuplicateMessage", sent[3])
    unchanged("BadSignature", sent[1][:-1] + bytes([sent[1][-1] ^ 1]))
    unchanged("BadSignature", sent[1][:30] + bytes([sent[1][30] ^ 1]) + sent[1][31:])
    stranger = check.GroupSender(b"\x31" * 16, 9, 0, b"\x22" * 32, b"\x23" * 32)
    unchanged("UnknownDistribution", stranger.encrypt(b"x")["wire"])
    other_chain = check.GroupSender(b"\x21" * 16, 8, 1, b"\x22" * 32, b"\x23" * 32)
    unchanged("WrongChainId", other_chain.encrypt(b"x")["wire"])
    far = check.GroupSender(b"\x21" * 16, 9, 0, b"\x22" * 32, b"\x23" * 32)
    for _ in range(4 + 2001):
        far.encrypt(b"")
    unchanged("TooManySkipped", far.encrypt(b"")["wire"])
    unchanged("Truncated", wire[:25 + 63])
    unchanged("CiphertextTooShort", wire[:25 + 15] + wire[-64:])
    unchanged("UnknownMessageType", b"\x11" + wire[1:])
    assert receiver.decrypt(sent[1]) == ("alice.1", b"\x01" * 20)

    # Distribution bodies: strict, and a distribution id names one sender device's key.
    body = sender.distribution(b"family")
    rejects("InvalidGroupId", check.parse_distribution, b"\x00" + body[7:])
    rejects("InvalidGroupId", check.parse_distribution, b"\x41" + b"g" * 65 + body[7:])
    rejects("Truncated", check.parse_distribution, body[:-1])
    rejects("TrailingBytes", check.parse_distribution, body + b"\x00")
    rejects("DistributionConflict", receiver.accept, "mallory.1", body)
    rejects("InvalidValue", check.GroupReceiver().accept, "a.1",
            body[:-32] + b"\x01" + bytes(31))
