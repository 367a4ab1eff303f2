//! The test vectors in `vectors/`: the checked-in files are exactly what the generator
//! produces, and every vector replays through the public API byte for byte.
//!
//! To regenerate after an intended change: `BLUETICK_WRITE_VECTORS=1 cargo test --release --test vectors`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod vectors_gen;

use std::path::PathBuf;

use serde_json::Value;
use vectors_gen::{
    evaluate_invalid, generate_all, play, pqxdh_case, receipt_case, script_of, unh, Keys, FILES,
};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn checked_in_vectors_are_what_the_generator_produces() {
    let write = std::env::var_os("BLUETICK_WRITE_VECTORS").is_some();
    for (name, text) in generate_all() {
        let path = dir().join(name);
        if write {
            std::fs::write(&path, &text).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == text,
            "{name} differs from the generator's output; regenerate with BLUETICK_WRITE_VECTORS=1"
        );
    }
}

#[test]
fn pqxdh_vectors_replay() {
    for case in load("pqxdh.json")["cases"].as_array().unwrap() {
        let inputs: serde_json::Map<String, Value> = case
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| {
                matches!(
                    k.as_str(),
                    "alice_identity_seed"
                        | "alice_ephemeral_private"
                        | "bob_identity_seed"
                        | "bob_signed_prekey_id"
                        | "bob_signed_prekey_private"
                        | "bob_one_time_prekey_id"
                        | "bob_one_time_prekey_private"
                        | "bob_pq_prekey_id"
                        | "bob_pq_prekey_seed"
                        | "kem_encaps_randomness"
                )
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(inputs.len(), 10);
        let again = pqxdh_case(case["name"].as_str().unwrap(), &Value::Object(inputs));
        assert_eq!(&again, case);
    }
}

#[test]
fn kdf_vectors_replay() {
    let v = load("kdf.json");
    for r in v["root"].as_array().unwrap() {
        let (rk, ck) = bluetick::hazmat::kdf_rk(
            &unh(&r["root_key"]).try_into().unwrap(),
            &unh(&r["dh_output"]).try_into().unwrap(),
        );
        assert_eq!(
            (rk.to_vec(), ck.to_vec()),
            (unh(&r["new_root_key"]), unh(&r["chain_key"]))
        );
    }
    for c in v["chain"].as_array().unwrap() {
        let (mk, next) = bluetick::hazmat::kdf_ck(&unh(&c["chain_key"]).try_into().unwrap());
        assert_eq!(
            (mk.to_vec(), next.to_vec()),
            (unh(&c["message_key"]), unh(&c["next_chain_key"]))
        );
    }
    for m in v["message_keys"].as_array().unwrap() {
        let (key, nonce) =
            bluetick::hazmat::message_keys(&unh(&m["message_key"]).try_into().unwrap());
        assert_eq!(
            (key.to_vec(), nonce.to_vec()),
            (unh(&m["aes_key"]), unh(&m["nonce"]))
        );
    }
}

#[test]
fn session_vectors_replay_every_wire_byte() {
    let cases = load("session.json")["cases"].as_array().unwrap().clone();
    assert!(cases.len() >= 6);
    for case in cases {
        let keys = Keys::of_case(&case);
        let (steps, used) = play(&case["pqxdh"], &keys, &script_of(&case));
        assert_eq!(
            used, keys,
            "{}: every recorded ratchet key and KEM input is used",
            case["name"]
        );
        assert_eq!(&Value::Array(steps), &case["steps"], "{}", case["name"]);
    }
}

#[test]
fn receipt_vectors_replay() {
    let cases = load("receipts.json")["cases"].as_array().unwrap().clone();
    assert!(cases.len() >= 8);
    for case in cases {
        let kind = bluetick::ReceiptKind::from_byte(case["kind"].as_u64().unwrap() as u8).unwrap();
        let peer = bluetick::IdentityKey::from_slice(&unh(&case["peer_identity_public"])).unwrap();
        let ids: Vec<bluetick::MessageId> = case["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| bluetick::MessageId(unh(i).try_into().unwrap()))
            .collect();
        let again = receipt_case(
            case["name"].as_str().unwrap(),
            &unh(&case["signer_identity_seed"]),
            &peer,
            kind,
            case["timestamp_ms"].as_u64().unwrap(),
            &ids,
        );
        assert_eq!(again, case);
        // And the receiver accepts it.
        let parsed = bluetick::Receipt::parse(&unh(&case["body"])).unwrap();
        let signer =
            bluetick::IdentityKey::from_slice(&unh(&case["signer_identity_public"])).unwrap();
        parsed
            .verify(&signer, &peer, |id| ids.contains(id))
            .unwrap();
    }
}

#[test]
fn invalid_vectors_are_rejected_with_the_named_error() {
    let cases = load("invalid.json")["cases"].as_array().unwrap().clone();
    assert!(cases.len() >= 30);
    for case in cases {
        let got = evaluate_invalid(case["kind"].as_str().unwrap(), &case["input"]);
        assert_eq!(
            got.map_err(|e| e.name()),
            Err(case["error"].as_str().unwrap()),
            "{}",
            case["name"]
        );
    }
}

#[test]
fn attachment_vectors_replay() {
    let file = load("attachments.json");
    assert_eq!(file["revision"], 3);
    let cases = file["cases"].as_array().unwrap().clone();
    let sizes: Vec<u64> = cases.iter().map(|c| c["size"].as_u64().unwrap()).collect();
    for required in [0, 1, 65_535, 65_536, 65_537, 1_000_000] {
        assert!(sizes.contains(&required), "size {required} missing");
    }
    for case in cases {
        let key: [u8; 32] = unh(&case["attachment_key"]).try_into().unwrap();
        let size = case["size"].as_u64().unwrap() as usize;
        assert_eq!(case["plaintext_rule"], "i mod 251");
        let again =
            vectors_gen::attachments::attachment_case(case["name"].as_str().unwrap(), &key, size);
        assert_eq!(again, case);
        // The receiver gets the plaintext back from the pointer and the blob.
        let pointer =
            bluetick::attachment::AttachmentPointer::parse(&unh(&case["pointer"])).unwrap();
        let (blob, _) = vectors_gen::attachments::seal(&key, size);
        assert_eq!(blob.len() as u64, case["ciphertext_size"].as_u64().unwrap());
        let mut out = Vec::new();
        bluetick::attachment::decrypt(&pointer, &mut blob.as_slice(), &mut out).unwrap();
        assert!(
            out == vectors_gen::attachments::plaintext(size),
            "{}",
            case["name"]
        );
    }
}

#[test]
fn every_vector_file_is_listed() {
    for f in FILES {
        assert!(dir().join(f).exists(), "{f} missing");
    }
}

#[test]
fn device_vectors_replay() {
    let file = load("devices.json");
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 3);
    for case in cases {
        let pinned =
            bluetick::IdentityKey::from_slice(&unh(&case["user_identity_public"])).unwrap();
        // The primary is one of the devices, and leads the list.
        assert_eq!(
            case["devices"][0]["identity_seed"],
            case["user_identity_seed"]
        );
        let list = bluetick::DeviceList::from_bytes(&unh(&case["device_list"])).unwrap();
        list.verify(&pinned).unwrap();
        assert_eq!(list.version, case["version"].as_u64().unwrap());
        assert_eq!(list.user, unh(&case["user_id"]));
        let devices = case["devices"].as_array().unwrap();
        let certificates = case["certificates"].as_array().unwrap();
        assert_eq!(devices.len(), certificates.len());
        for (device, cert) in devices.iter().zip(certificates) {
            let cert = bluetick::DeviceCertificate::from_bytes(&unh(cert)).unwrap();
            cert.verify(&pinned).unwrap();
            assert_eq!(
                u64::from(cert.device),
                device["device_id"].as_u64().unwrap()
            );
            assert_eq!(
                cert.identity.as_bytes()[..],
                unh(&device["identity_public"])[..]
            );
            list.check_device(cert.device, &cert.identity).unwrap();
        }
        // The same inputs sign the same bytes again.
        let user = vectors_gen::devices::User {
            user: unh(&case["user_id"]),
            devices: devices
                .iter()
                .map(|d| {
                    (
                        d["device_id"].as_u64().unwrap() as u32,
                        unh(&d["identity_seed"]),
                    )
                })
                .collect(),
        };
        let again = vectors_gen::devices::device_case(
            case["name"].as_str().unwrap(),
            &user,
            case["version"].as_u64().unwrap(),
            case["issued_at_ms"].as_u64().unwrap(),
        );
        assert_eq!(&again, case);
    }
}

#[test]
fn group_vectors_replay_every_wire_byte() {
    use vectors_gen::groups::{group_case, inputs_of, script_of};
    let file = load("groups.json");
    assert_eq!(file["revision"], 3);
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 4);
    let has = |f: &dyn Fn(&Value) -> bool| cases.iter().any(f);
    // In order, out of order with skipped iterations, a rotation, a 16 KiB body.
    assert!(has(&|c| c["steps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s.get("rotate").is_some())));
    assert!(has(&|c| c["steps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["send"]["body"]
            .as_str()
            .is_some_and(|b| b.len() == 2 * 16 * 1024))));
    assert!(has(&|c| {
        let received: Vec<u64> = c["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["receive"].as_u64())
            .collect();
        received.windows(2).any(|w| w[1] < w[0])
    }));
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let again = group_case(
            name,
            &unh(&case["group_id"]),
            &inputs_of(case),
            &script_of(case),
        );
        assert_eq!(&again, case, "{name}");
    }
}
