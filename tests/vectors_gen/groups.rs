//! `vectors/groups.json` and the group cases of `vectors/invalid.json` (spec §9, §12). Every
//! sender key's parts come from a seeded generator; every wire comes from the crate's public
//! group API (Ed25519 signatures are deterministic, so the bytes replay).

use bluetick::constants::MAX_GROUP_SKIP;
use bluetick::group::{GroupId, GroupKeys, GroupSendTrace, SenderKey};
use bluetick::{Address, ErrorKind, Secret32};
use serde_json::{json, Value};

use super::rngs::RecordingRng;
use super::{arr, h, unh};

/// The receiving device's clock in every case (nothing in the cases depends on its value,
/// only that it stays within the hour a replaced key is kept).
pub(crate) const NOW_MS: u64 = 1_764_000_000_000;

/// The address the receiver knows the sender by (the pairwise session's peer).
fn sender_address(label: &str) -> Address {
    let (user, device) = label.rsplit_once('.').expect("user.device");
    Address::new(
        user.as_bytes().to_vec(),
        device.parse().expect("device number"),
    )
}

/// A sender key's inputs, as a case (or a rotate step) records them.
fn key_inputs(rng: &mut RecordingRng, initial_iteration: u32) -> Value {
    let distribution_id = rng.bytes(16);
    let chain_id = rng.bytes(4);
    let chain_key = rng.bytes(32);
    let signing_seed = rng.bytes(32);
    json!({
        "distribution_id": h(&distribution_id),
        "chain_id": u32::from_be_bytes(chain_id.try_into().unwrap()),
        "initial_iteration": initial_iteration,
        "initial_chain_key": h(&chain_key),
        "signing_seed": h(&signing_seed),
    })
}

/// The sender key a case's (or rotate step's) inputs describe.
pub(crate) fn sender_key(inputs: &Value) -> SenderKey {
    SenderKey::from_parts(
        arr(&inputs["distribution_id"]),
        inputs["chain_id"].as_u64().unwrap() as u32,
        inputs["initial_iteration"].as_u64().unwrap() as u32,
        Secret32::from_slice(&unh(&inputs["initial_chain_key"])).unwrap(),
        Secret32::from_slice(&unh(&inputs["signing_seed"])).unwrap(),
        0,
    )
}

/// The inputs and their results: the signing public key and the distribution body.
fn key_with_results(inputs: &Value, group: &GroupId) -> Value {
    let key = sender_key(inputs);
    let mut m = inputs.as_object().unwrap().clone();
    m.insert("signing_public".into(), h(key.signing_public()));
    m.insert(
        "distribution".into(),
        h(&key.distribution(group).to_bytes()),
    );
    Value::Object(m)
}

/// One step of a group case's script.
#[derive(Clone, Debug)]
pub(crate) enum GroupAction {
    /// The sender encrypts this application body under its current key.
    Send(Vec<u8>),
    /// The receiver decrypts the i-th sent message (counting sends only).
    Receive(usize),
    /// The sender replaces its key with one made from these inputs; the receiver accepts the
    /// new distribution (the old key's skipped keys stay for late messages).
    Rotate(Value),
}

/// Plays a case: the sender's key from `inputs`, the receiver given its distribution.
pub(crate) fn group_case(
    name: &str,
    group: &[u8],
    inputs: &Value,
    script: &[GroupAction],
) -> Value {
    let group_id = GroupId::new(group).unwrap();
    let sender = sender_address("alice.1");
    let mut key = sender_key(inputs);
    let mut receiver = GroupKeys::new();
    receiver
        .process_distribution(&sender, &key.distribution(&group_id).to_bytes(), NOW_MS)
        .unwrap();
    let mut sent: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut steps = Vec::new();
    for action in script {
        match action {
            GroupAction::Send(body) => {
                let mut trace = GroupSendTrace::default();
                let out = key.encrypt_traced(body, &mut trace).unwrap();
                steps.push(json!({"send": {
                    "iteration": out.iteration,
                    "content_type": 1,
                    "body": h(body),
                    "padded_plaintext": h(&trace.padded_plaintext),
                    "message_key": h(&trace.message_key),
                    "aes_key": h(&trace.aes_key),
                    "nonce": h(&trace.nonce),
                    "wire": h(&out.wire),
                    "message_id": h(out.message_id.as_bytes()),
                }}));
                sent.push((out.wire, body.clone()));
            }
            GroupAction::Receive(i) => {
                let (wire, body) = &sent[*i];
                let got = receiver.decrypt(wire, NOW_MS).unwrap();
                assert_eq!(&got.body, body, "{name}: receive {i}");
                assert_eq!(got.sender, sender);
                steps.push(json!({ "receive": i }));
            }
            GroupAction::Rotate(next) => {
                key = sender_key(next);
                receiver
                    .process_distribution(&sender, &key.distribution(&group_id).to_bytes(), NOW_MS)
                    .unwrap();
                steps.push(json!({ "rotate": key_with_results(next, &group_id) }));
            }
        }
    }
    let mut m = serde_json::Map::new();
    m.insert("name".into(), json!(name));
    m.insert("group_id".into(), h(group));
    m.extend(
        key_with_results(inputs, &group_id)
            .as_object()
            .unwrap()
            .clone(),
    );
    m.insert("steps".into(), Value::Array(steps));
    Value::Object(m)
}

/// The script a case records, to replay it.
pub(crate) fn script_of(case: &Value) -> Vec<GroupAction> {
    case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            if let Some(send) = s.get("send") {
                GroupAction::Send(unh(&send["body"]))
            } else if let Some(i) = s.get("receive") {
                GroupAction::Receive(i.as_u64().unwrap() as usize)
            } else {
                let r = &s["rotate"];
                GroupAction::Rotate(json!({
                    "distribution_id": r["distribution_id"],
                    "chain_id": r["chain_id"],
                    "initial_iteration": r["initial_iteration"],
                    "initial_chain_key": r["initial_chain_key"],
                    "signing_seed": r["signing_seed"],
                }))
            }
        })
        .collect()
}

/// A case's sender-key inputs (the fields `group_case` takes).
pub(crate) fn inputs_of(case: &Value) -> Value {
    json!({
        "distribution_id": case["distribution_id"],
        "chain_id": case["chain_id"],
        "initial_iteration": case["initial_iteration"],
        "initial_chain_key": case["initial_chain_key"],
        "signing_seed": case["signing_seed"],
    })
}

/// An application body: the §10 clock (lamport, sent_at_ms) and text.
fn app_body(lamport: u64, text: &[u8]) -> Vec<u8> {
    let mut b = lamport.to_be_bytes().to_vec();
    b.extend_from_slice(&(NOW_MS + lamport).to_be_bytes());
    b.extend_from_slice(text);
    b
}

pub(crate) fn gen_groups() -> Value {
    use GroupAction::{Receive, Rotate, Send};
    let mut rng = RecordingRng::new(0x4752_4f55);
    let in_order = key_inputs(&mut rng, 0);
    let out_of_order = key_inputs(&mut rng, 41);
    let rotation_first = key_inputs(&mut rng, 0);
    let rotation_second = key_inputs(&mut rng, 0);
    let large = key_inputs(&mut rng, 7);
    let long_group = key_inputs(&mut rng, 0);
    let big: Vec<u8> = (0..16 * 1024).map(|i| (i % 251) as u8).collect();
    let cases = vec![
        group_case(
            "in_order",
            b"family",
            &in_order,
            &[
                Send(app_body(1, b"hello, group")),
                Receive(0),
                Send(app_body(2, b"second")),
                Receive(1),
                Send(app_body(3, b"third")),
                Receive(2),
            ],
        ),
        group_case(
            "out_of_order_with_skipped_iterations",
            b"team-42",
            &out_of_order,
            &[
                Send(app_body(1, b"m0")),
                Send(app_body(2, b"m1")),
                Send(app_body(3, b"m2")),
                Send(app_body(4, b"m3")),
                Send(app_body(5, b"m4")),
                Send(app_body(6, b"m5, never delivered")),
                Send(app_body(7, b"m6")),
                Receive(3),
                Receive(0),
                Receive(6),
                Receive(1),
                Receive(4),
            ],
        ),
        group_case(
            "rotation_messages_under_both_keys",
            b"family",
            &rotation_first,
            &[
                Send(app_body(1, b"under the first key")),
                Send(app_body(2, b"late under the first key")),
                Send(app_body(3, b"last under the first key")),
                Receive(0),
                Receive(2),
                Rotate(rotation_second),
                Send(app_body(4, b"under the second key")),
                Send(app_body(5, b"again under the second key")),
                Receive(4),
                Receive(1),
                Receive(3),
            ],
        ),
        group_case(
            "body_of_16_kib",
            b"photos",
            &large,
            &[Send(big), Receive(0)],
        ),
        group_case(
            "empty_body_and_64_byte_group_id",
            &[b'g'; 64],
            &long_group,
            &[
                Send(Vec::new()),
                Send(app_body(1, b"")),
                Receive(1),
                Receive(0),
            ],
        ),
    ];
    json!({ "cases": cases })
}

// ---------------------------------------------------------------- invalid.json

/// Runs a group case of invalid.json: every event but the last succeeds, the last's error
/// is returned.
pub(crate) fn evaluate(input: &Value) -> Result<(), ErrorKind> {
    let now = input["now_ms"].as_u64().unwrap();
    let events = input["events"].as_array().unwrap();
    let mut keys = GroupKeys::new();
    for (i, e) in events.iter().enumerate() {
        let before = keys.to_bytes();
        let result = if let Some(d) = e.get("distribution") {
            keys.process_distribution(&sender_address(e["sender"].as_str().unwrap()), &unh(d), now)
                .map(|_| ())
        } else {
            keys.decrypt(&unh(&e["message"]), now).map(|_| ())
        };
        if i + 1 < events.len() {
            result.expect("every event but the last succeeds");
        } else {
            if result.is_err() {
                assert_eq!(keys.to_bytes(), before, "a refusal changed the keys");
            }
            return result.map_err(|e| e.kind());
        }
    }
    Ok(())
}

fn distribution_event(sender: &str, body: &[u8]) -> Value {
    json!({"sender": sender, "distribution": h(body)})
}

fn message_event(wire: &[u8]) -> Value {
    json!({ "message": h(wire) })
}

fn events(list: Vec<Value>) -> Value {
    json!({"now_ms": NOW_MS, "events": list})
}

pub(crate) fn invalid_cases() -> Vec<(String, &'static str, Value, ErrorKind)> {
    use ErrorKind as E;
    let mut rng = RecordingRng::new(0x4756_4e44);
    let group = GroupId::new(b"family").unwrap();
    let inputs = key_inputs(&mut rng, 0);
    let mut key = sender_key(&inputs);
    let dist = key.distribution(&group).to_bytes().to_vec();
    let m0 = key.encrypt(&app_body(1, b"m0")).unwrap().wire;
    let m1 = key.encrypt(&app_body(2, b"m1")).unwrap().wire;
    let with_dist = |more: Vec<Value>| {
        let mut list = vec![distribution_event("alice.1", &dist)];
        list.extend(more);
        events(list)
    };
    let mut out = Vec::new();
    let mut add = |name: &str, input: Value, error: ErrorKind| {
        out.push((name.to_string(), "group", input, error));
    };

    let mut bad_sig = m0.clone();
    *bad_sig.last_mut().unwrap() ^= 0x01;
    add(
        "group_message_bad_signature",
        with_dist(vec![message_event(&bad_sig)]),
        E::BadSignature,
    );
    let mut bad_ct = m0.clone();
    bad_ct[30] ^= 0x01;
    add(
        "group_message_ciphertext_altered",
        with_dist(vec![message_event(&bad_ct)]),
        E::BadSignature,
    );

    // A member who holds the chain key but not the sender's signing key.
    let forger_inputs = {
        let mut f = inputs.clone();
        f["signing_seed"] = h(&rng.bytes(32));
        f
    };
    let forged = sender_key(&forger_inputs)
        .encrypt(&app_body(1, b"forged"))
        .unwrap()
        .wire;
    add(
        "group_message_signed_by_another_key",
        with_dist(vec![message_event(&forged)]),
        E::BadSignature,
    );

    let stranger = key_inputs(&mut rng, 0);
    let unknown = sender_key(&stranger)
        .encrypt(&app_body(1, b"?"))
        .unwrap()
        .wire;
    add(
        "group_message_unknown_distribution",
        with_dist(vec![message_event(&unknown)]),
        E::UnknownDistribution,
    );

    let mut far_key = sender_key(&inputs);
    for _ in 0..=MAX_GROUP_SKIP {
        far_key.encrypt(b"").unwrap();
    }
    let far = far_key.encrypt(&app_body(1, b"too far")).unwrap().wire;
    add(
        "group_message_iteration_beyond_max_skip",
        with_dist(vec![message_event(&far)]),
        E::TooManySkipped,
    );

    add(
        "group_message_replayed_iteration",
        with_dist(vec![
            message_event(&m1),
            message_event(&m0),
            message_event(&m0),
        ]),
        E::DuplicateMessage,
    );

    // A device given the key at iteration 1 cannot read iteration 0.
    let mut joiner_key = sender_key(&inputs);
    joiner_key.encrypt(b"").unwrap();
    let joined = joiner_key.distribution(&group).to_bytes().to_vec();
    add(
        "group_message_before_the_distributed_iteration",
        events(vec![
            distribution_event("dave.1", &joined),
            message_event(&m0),
        ]),
        E::DuplicateMessage,
    );

    let mut other_chain = inputs.clone();
    other_chain["chain_id"] = json!((inputs["chain_id"].as_u64().unwrap() as u32 ^ 1) as u64);
    let wrong_chain = sender_key(&other_chain)
        .encrypt(&app_body(1, b"m0"))
        .unwrap()
        .wire;
    add(
        "group_message_wrong_chain_id",
        with_dist(vec![message_event(&wrong_chain)]),
        E::WrongChainId,
    );

    add(
        "group_message_truncated_in_its_signature",
        with_dist(vec![message_event(&m0[..25 + 63])]),
        E::Truncated,
    );
    add(
        "group_message_ciphertext_shorter_than_the_tag",
        with_dist(vec![message_event(
            &[&m0[..25 + 15], &m0[m0.len() - 64..]].concat(),
        )]),
        E::CiphertextTooShort,
    );
    let mut wrong_type = m0.clone();
    wrong_type[0] = 0x11;
    add(
        "group_message_wrong_first_byte",
        with_dist(vec![message_event(&wrong_type)]),
        E::UnknownMessageType,
    );

    // Distribution bodies.
    let mut empty_group = vec![0u8];
    empty_group.extend_from_slice(&dist[7..]);
    add(
        "group_distribution_empty_group_id",
        events(vec![distribution_event("alice.1", &empty_group)]),
        E::InvalidGroupId,
    );
    let mut long_group = vec![65u8];
    long_group.extend_from_slice(&[b'g'; 65]);
    long_group.extend_from_slice(&dist[7..]);
    add(
        "group_distribution_group_id_of_65_bytes",
        events(vec![distribution_event("alice.1", &long_group)]),
        E::InvalidGroupId,
    );
    add(
        "group_distribution_truncated",
        events(vec![distribution_event("alice.1", &dist[..dist.len() - 1])]),
        E::Truncated,
    );
    let mut trailing = dist.clone();
    trailing.push(0);
    add(
        "group_distribution_trailing_bytes",
        events(vec![distribution_event("alice.1", &trailing)]),
        E::TrailingBytes,
    );
    let mut small_order = dist.clone();
    let n = small_order.len();
    small_order[n - 32..].copy_from_slice(&[0u8; 32]);
    small_order[n - 32] = 1; // the identity point: small order
    add(
        "group_distribution_small_order_signing_key",
        events(vec![distribution_event("alice.1", &small_order)]),
        E::InvalidValue,
    );
    add(
        "group_distribution_id_held_for_another_sender",
        events(vec![
            distribution_event("alice.1", &dist),
            distribution_event("mallory.1", &dist),
        ]),
        E::DistributionConflict,
    );
    add(
        "group_distribution_id_held_for_another_device_of_the_same_user",
        events(vec![
            distribution_event("alice.1", &dist),
            distribution_event("alice.2", &dist),
        ]),
        E::DistributionConflict,
    );
    out
}
