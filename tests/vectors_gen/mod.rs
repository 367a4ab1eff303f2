//! The test-vector generator. Every private value comes from a seeded ChaCha20 generator
//! and is written into the vectors; the protocol code receives it through a scripted
//! generator, so the same public API that apps call produces every byte.
#![allow(dead_code)]

pub(crate) mod attachments;
pub(crate) mod devices;
pub(crate) mod groups;
pub(crate) mod rngs;

use bluetick::hazmat;
use bluetick::primitives::kem768;
use bluetick::primitives::secret::SecretBytes;
use bluetick::primitives::x25519::X25519KeyPair;
use bluetick::receipt::{signed_payload, Receipt, ReceiptKind};
use bluetick::wire::plaintext;
use bluetick::wire::{Message, PreKeyMessage};
use bluetick::{
    ContentType, ErrorKind, IdentityKey, IdentityKeyPair, InMemoryPreKeyStore, MessageId,
    OneTimePreKey, PqPreKey, PqPreKeyKind, PreKeyBundle, Secret32, SessionRecord, SignedPreKey,
};
use serde_json::{json, Value};

use rngs::{KemRng, RecordingRng, ScriptedRng};

pub(crate) const FILES: [&str; 8] = [
    "pqxdh.json",
    "kdf.json",
    "session.json",
    "receipts.json",
    "invalid.json",
    "attachments.json",
    "devices.json",
    "groups.json",
];

pub(crate) fn h(bytes: &[u8]) -> Value {
    Value::String(hex::encode(bytes))
}

pub(crate) fn unh(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

pub(crate) fn arr<const N: usize>(v: &Value) -> [u8; N] {
    unh(v).try_into().expect("length")
}

fn identity(seed: &Value) -> IdentityKeyPair {
    IdentityKeyPair::from_seed(Secret32::from_slice(&unh(seed)).unwrap())
}

// ---------------------------------------------------------------- PQXDH inputs and parties

/// PQXDH inputs as spec §9 names them.
pub(crate) fn pqxdh_inputs(rng: &mut RecordingRng, with_opk: bool) -> Value {
    json!({
        "alice_identity_seed": h(&rng.bytes(32)),
        "alice_ephemeral_private": h(&rng.bytes(32)),
        "bob_identity_seed": h(&rng.bytes(32)),
        "bob_signed_prekey_id": 1 + (rng.bytes(1)[0] as u32),
        "bob_signed_prekey_private": h(&rng.bytes(32)),
        "bob_one_time_prekey_id": if with_opk { json!(100 + (rng.bytes(1)[0] as u32)) } else { Value::Null },
        "bob_one_time_prekey_private": if with_opk { h(&rng.bytes(32)) } else { Value::Null },
        "bob_pq_prekey_id": 500 + (rng.bytes(1)[0] as u32),
        "bob_pq_prekey_seed": h(&rng.bytes(64)),
        "kem_encaps_randomness": h(&rng.bytes(32)),
    })
}

/// Alice's identity, Bob's identity, Bob's prekeys and the bundle they publish.
pub(crate) struct Parties {
    pub(crate) alice: IdentityKeyPair,
    pub(crate) bob: IdentityKeyPair,
    pub(crate) bob_prekeys: InMemoryPreKeyStore,
    pub(crate) bundle: PreKeyBundle,
    pub(crate) bob_signed_prekey: SignedPreKey,
    pub(crate) bob_pq_prekey: PqPreKey,
    pub(crate) bob_one_time_prekey: Option<OneTimePreKey>,
}

pub(crate) fn parties(p: &Value) -> Parties {
    let alice = identity(&p["alice_identity_seed"]);
    let bob = identity(&p["bob_identity_seed"]);
    let spk = SignedPreKey::from_private(
        &bob,
        p["bob_signed_prekey_id"].as_u64().unwrap() as u32,
        &mut arr(&p["bob_signed_prekey_private"]),
    );
    // One-time, so the session vectors also show its consumption.
    let pq = PqPreKey::from_seed(
        &bob,
        p["bob_pq_prekey_id"].as_u64().unwrap() as u32,
        PqPreKeyKind::OneTime,
        SecretBytes::<64>::from_slice(&unh(&p["bob_pq_prekey_seed"])).unwrap(),
    );
    let opk = p["bob_one_time_prekey_id"].as_u64().map(|id| {
        OneTimePreKey::from_private(id as u32, &mut arr(&p["bob_one_time_prekey_private"]))
    });
    let mut bob_prekeys = InMemoryPreKeyStore::new();
    bob_prekeys.add_signed_prekey(spk.clone());
    bob_prekeys.add_pq_prekey(pq.clone());
    if let Some(k) = &opk {
        bob_prekeys.add_one_time_prekey(k.clone());
    }
    let bundle = bob_prekeys.bundle(&bob).unwrap();
    Parties {
        alice,
        bob,
        bob_prekeys,
        bundle,
        bob_signed_prekey: spk,
        bob_pq_prekey: pq,
        bob_one_time_prekey: opk,
    }
}

// ---------------------------------------------------------------- pqxdh.json

pub(crate) fn pqxdh_case(name: &str, inputs: &Value) -> Value {
    let ps = parties(inputs);
    let init = hazmat::initiate_with(
        &ps.alice,
        &ps.bundle,
        X25519KeyPair::from_private(&mut arr(&inputs["alice_ephemeral_private"])),
        &Secret32::from_slice(&unh(&inputs["kem_encaps_randomness"])).unwrap(),
    )
    .unwrap();
    let t = &init.transcript;
    // Bob must derive the same secrets from his private keys.
    let bob_side = hazmat::respond(
        &ps.bob,
        &ps.bob_signed_prekey,
        &ps.bob_pq_prekey,
        ps.bob_one_time_prekey.as_ref(),
        ps.alice.public(),
        &init.base_key,
        &init.kem_ciphertext,
    )
    .unwrap();
    assert_eq!(bob_side.shared_key, t.shared_key);
    assert_eq!(bob_side.associated_data, t.associated_data);

    let mut case = inputs.clone();
    let o = case.as_object_mut().unwrap();
    o.insert("name".into(), json!(name));
    let results = json!({
        "alice_identity_public": h(ps.alice.public().as_bytes()),
        "bob_identity_public": h(ps.bob.public().as_bytes()),
        "bob_signed_prekey_public": h(&ps.bundle.signed_prekey.public),
        "bob_signed_prekey_signature": h(&ps.bundle.signed_prekey.signature),
        "bob_pq_prekey_public": h(&ps.bundle.pq_prekey.public[..]),
        "bob_pq_prekey_signature": h(&ps.bundle.pq_prekey.signature),
        "kem_ciphertext": h(&init.kem_ciphertext[..]),
        "kem_shared_secret": h(t.kem_shared_secret.expose()),
        "dh1": h(t.dh1.expose()),
        "dh2": h(t.dh2.expose()),
        "dh3": h(t.dh3.expose()),
        "dh4": t.dh4.as_ref().map_or(Value::Null, |d| h(d.expose())),
        "shared_key": h(t.shared_key.expose()),
        "associated_data": h(&t.associated_data),
        // Extra, for implementers: the X25519 forms of both identities and the base key.
        "alice_identity_x25519": h(ps.alice.public().x25519()),
        "bob_identity_x25519": h(ps.bob.public().x25519()),
        "alice_ephemeral_public": h(&init.base_key),
    });
    o.extend(results.as_object().unwrap().clone());
    case
}

fn gen_pqxdh() -> Value {
    let mut rng = RecordingRng::new(0x5051_5844);
    let mut cases = Vec::new();
    for (i, with_opk) in [true, false, true, false].into_iter().enumerate() {
        let name = format!(
            "{}_{}",
            if with_opk {
                "with_one_time_prekey"
            } else {
                "without_one_time_prekey"
            },
            i / 2
        );
        cases.push(pqxdh_case(&name, &pqxdh_inputs(&mut rng, with_opk)));
    }
    json!({ "cases": cases })
}

// ---------------------------------------------------------------- kdf.json

fn gen_kdf() -> Value {
    let mut rng = RecordingRng::new(0x004b_4446);
    let root: Vec<Value> = (0..4)
        .map(|_| {
            let (rk, dh) = (arr::<32>(&h(&rng.bytes(32))), arr::<32>(&h(&rng.bytes(32))));
            let (new_rk, ck) = hazmat::kdf_rk(&rk, &dh);
            json!({"root_key": h(&rk), "dh_output": h(&dh), "new_root_key": h(&new_rk), "chain_key": h(&ck)})
        })
        .collect();
    // A chain walked five steps, plus an unrelated key.
    let mut chain = Vec::new();
    let mut ck: [u8; 32] = rng.bytes(32).try_into().unwrap();
    for _ in 0..5 {
        let (mk, next) = hazmat::kdf_ck(&ck);
        chain.push(json!({"chain_key": h(&ck), "message_key": h(&mk), "next_chain_key": h(&next)}));
        ck = next;
    }
    let message_keys: Vec<Value> = (0..4)
        .map(|_| {
            let mk: [u8; 32] = rng.bytes(32).try_into().unwrap();
            let (key, nonce) = hazmat::message_keys(&mk);
            json!({"message_key": h(&mk), "aes_key": h(&key), "nonce": h(&nonce)})
        })
        .collect();
    // Revision 3 (spec §14): PQS_e over a real ML-KEM-768 exchange, and KDF_RK_PQ.
    let pq_secret: Vec<Value> = (1..=3u32)
        .map(|epoch| {
            let seed = SecretBytes::<64>::from_slice(&rng.bytes(64)).unwrap();
            let m = Secret32::from_slice(&rng.bytes(32)).unwrap();
            let ek = kem768::public_key(&seed);
            let (ct, ss) = kem768::encapsulate(&ek, &m).unwrap();
            assert_eq!(kem768::decapsulate(&seed, &ct), ss);
            let pqs = hazmat::pq_secret(ss.expose(), epoch, &ek[..], &ct[..]).unwrap();
            json!({
                "kem_shared_secret": h(ss.expose()),
                "epoch": epoch,
                "ek": h(&ek[..]),
                "ct": h(&ct[..]),
                "pq_secret": h(&pqs),
                // Extra, for implementers: the ML-KEM-768 inputs that made ek, ct and ss.
                "kem_seed": h(seed.expose()),
                "encaps_randomness": h(m.expose()),
            })
        })
        .collect();
    let root_pq: Vec<Value> = (0..4)
        .map(|_| {
            let rk = arr::<32>(&h(&rng.bytes(32)));
            let dh = arr::<32>(&h(&rng.bytes(32)));
            let pqs = arr::<32>(&h(&rng.bytes(32)));
            let (new_rk, ck) = hazmat::kdf_rk_pq(&rk, &dh, &pqs);
            json!({"root_key": h(&rk), "dh_output": h(&dh), "pq_secret": h(&pqs),
                   "new_root_key": h(&new_rk), "chain_key": h(&ck)})
        })
        .collect();
    json!({"root": root, "chain": chain, "message_keys": message_keys,
           "pq_secret": pq_secret, "root_pq": root_pq})
}

// ---------------------------------------------------------------- session.json

/// One scripted action of a conversation.
#[derive(Clone, Debug)]
pub(crate) enum Action {
    /// (sender is Alice, content type, body)
    Send(bool, u8, Vec<u8>),
    Receive(usize),
}

/// The private randomness of a conversation, in the order each side draws it: ratchet
/// keys (drawn while decrypting), and the PQ ratchet's KEM seeds and encapsulation
/// randomness (drawn while encrypting, spec §14).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Keys {
    pub(crate) alice_ratchet: Vec<Vec<u8>>,
    pub(crate) bob_ratchet: Vec<Vec<u8>>,
    pub(crate) alice_kem_seeds: Vec<Vec<u8>>,
    pub(crate) bob_kem_seeds: Vec<Vec<u8>>,
    pub(crate) alice_encaps: Vec<Vec<u8>>,
    pub(crate) bob_encaps: Vec<Vec<u8>>,
}

fn list(v: &Value) -> Vec<Vec<u8>> {
    v.as_array()
        .map(|a| a.iter().map(unh).collect())
        .unwrap_or_default()
}

impl Keys {
    /// Pools of `n` of each, from the recording generator.
    pub(crate) fn pools(rng: &mut RecordingRng, n: usize) -> Self {
        let mut take = |len: usize| (0..n).map(|_| rng.bytes(len)).collect::<Vec<_>>();
        Self {
            alice_ratchet: take(32),
            bob_ratchet: take(32),
            alice_kem_seeds: take(64),
            bob_kem_seeds: take(64),
            alice_encaps: take(32),
            bob_encaps: take(32),
        }
    }

    /// The lists a case (or a session-kind invalid input) records.
    pub(crate) fn of_case(case: &Value) -> Self {
        Self {
            alice_ratchet: list(&case["alice_ratchet_privates"]),
            bob_ratchet: list(&case["bob_ratchet_privates"]),
            alice_kem_seeds: list(&case["alice_kem_seeds"]),
            bob_kem_seeds: list(&case["bob_kem_seeds"]),
            alice_encaps: list(&case["alice_encaps_randomness"]),
            bob_encaps: list(&case["bob_encaps_randomness"]),
        }
    }

    /// The first `used` of each list.
    fn truncated(&self, used: &Keys) -> Self {
        let cut = |v: &Vec<Vec<u8>>, u: &Vec<Vec<u8>>| v[..u.len()].to_vec();
        Self {
            alice_ratchet: cut(&self.alice_ratchet, &used.alice_ratchet),
            bob_ratchet: cut(&self.bob_ratchet, &used.bob_ratchet),
            alice_kem_seeds: cut(&self.alice_kem_seeds, &used.alice_kem_seeds),
            bob_kem_seeds: cut(&self.bob_kem_seeds, &used.bob_kem_seeds),
            alice_encaps: cut(&self.alice_encaps, &used.alice_encaps),
            bob_encaps: cut(&self.bob_encaps, &used.bob_encaps),
        }
    }

    /// The six lists under their spec §9 / §14 names.
    pub(crate) fn to_json(&self) -> serde_json::Map<String, Value> {
        let hs = |v: &Vec<Vec<u8>>| Value::Array(v.iter().map(|k| h(k)).collect());
        let mut m = serde_json::Map::new();
        m.insert("alice_ratchet_privates".into(), hs(&self.alice_ratchet));
        m.insert("bob_ratchet_privates".into(), hs(&self.bob_ratchet));
        m.insert("alice_kem_seeds".into(), hs(&self.alice_kem_seeds));
        m.insert("bob_kem_seeds".into(), hs(&self.bob_kem_seeds));
        m.insert("alice_encaps_randomness".into(), hs(&self.alice_encaps));
        m.insert("bob_encaps_randomness".into(), hs(&self.bob_encaps));
        m
    }
}

/// Two live parties built from a case's inputs.
pub(crate) struct Conversation {
    pub(crate) ps: Parties,
    pub(crate) alice: SessionRecord,
    pub(crate) bob: SessionRecord,
    alice_rng: ScriptedRng,
    bob_rng: ScriptedRng,
    alice_kem: KemRng,
    bob_kem: KemRng,
    keys: Keys,
    alice_prekeys: InMemoryPreKeyStore,
    /// (sent by Alice, wire)
    pub(crate) sent: Vec<(bool, Vec<u8>)>,
}

impl Conversation {
    /// Alice starts the session at once, drawing `EK`, `m` and her first ratchet key.
    pub(crate) fn new(pqxdh: &Value, keys: &Keys) -> Self {
        let ps = parties(pqxdh);
        let mut alice_draws = vec![
            unh(&pqxdh["alice_ephemeral_private"]),
            unh(&pqxdh["kem_encaps_randomness"]),
        ];
        alice_draws.extend(keys.alice_ratchet.iter().cloned());
        let mut alice_rng = ScriptedRng::new(alice_draws);
        let mut alice = SessionRecord::new();
        alice
            .start_session(&ps.alice, &ps.bundle, &mut alice_rng)
            .unwrap();
        Self {
            ps,
            alice,
            bob: SessionRecord::new(),
            alice_rng,
            bob_rng: ScriptedRng::new(keys.bob_ratchet.clone()),
            alice_kem: KemRng::new(keys.alice_kem_seeds.clone(), keys.alice_encaps.clone()),
            bob_kem: KemRng::new(keys.bob_kem_seeds.clone(), keys.bob_encaps.clone()),
            keys: keys.clone(),
            alice_prekeys: InMemoryPreKeyStore::new(),
            sent: Vec::new(),
        }
    }

    /// What each side has drawn so far.
    pub(crate) fn used(&self) -> Keys {
        let k = &self.keys;
        let (a_seeds, a_encaps) = self.alice_kem.remaining();
        let (b_seeds, b_encaps) = self.bob_kem.remaining();
        let first = |v: &Vec<Vec<u8>>, left: usize| v[..v.len() - left].to_vec();
        Keys {
            alice_ratchet: first(&k.alice_ratchet, self.alice_rng.remaining()),
            bob_ratchet: first(&k.bob_ratchet, self.bob_rng.remaining()),
            alice_kem_seeds: first(&k.alice_kem_seeds, a_seeds),
            bob_kem_seeds: first(&k.bob_kem_seeds, b_seeds),
            alice_encaps: first(&k.alice_encaps, a_encaps),
            bob_encaps: first(&k.bob_encaps, b_encaps),
        }
    }

    pub(crate) fn send(&mut self, from_alice: bool, content_type: u8, body: &[u8]) -> Value {
        let ct = ContentType::from_byte(content_type).unwrap();
        let (record, kem) = if from_alice {
            (&mut self.alice, &mut self.alice_kem)
        } else {
            (&mut self.bob, &mut self.bob_kem)
        };
        let (out, trace) = record.encrypt_with_trace(ct, body, kem).unwrap();
        let header_at = if out.wire[0] == 0x12 {
            PreKeyMessage::parse(&out.wire).unwrap().prefix.len()
        } else {
            0
        };
        let msg = Message::parse(&out.wire[header_at..]).unwrap();
        assert_eq!(&trace.header[..], msg.header_bytes);
        assert_eq!(
            &trace.padded_plaintext[..],
            &plaintext::pad_pq(trace.pq_chunk.as_ref(), ct, body)[..]
        );
        let mut pq_block = Vec::new();
        bluetick::wire::pq_block::write(trace.pq_chunk.as_ref(), &mut pq_block);
        self.sent.push((from_alice, out.wire.clone()));
        json!({"send": {
            "sender": if from_alice { "alice" } else { "bob" },
            "content_type": content_type,
            "body": h(body),
            "padded_plaintext": h(&trace.padded_plaintext),
            "header_dh": h(&msg.header.ratchet_key),
            "pn": msg.header.previous_count,
            "n": msg.header.counter,
            "pe": msg.header.pq_epoch,
            "pq_block": h(&pq_block),
            "message_key": h(&trace.message_key),
            "wire": h(&out.wire),
            "message_id": h(out.id().as_bytes()),
        }})
    }

    /// Delivers a wire message to Alice or Bob.
    pub(crate) fn deliver(
        &mut self,
        to_alice: bool,
        wire: &[u8],
    ) -> Result<bluetick::Decrypted, ErrorKind> {
        let result = if to_alice {
            self.alice.decrypt(
                &self.ps.alice,
                &mut self.alice_prekeys,
                wire,
                &mut self.alice_rng,
            )
        } else {
            self.bob.decrypt(
                &self.ps.bob,
                &mut self.ps.bob_prekeys,
                wire,
                &mut self.bob_rng,
            )
        };
        result.map_err(|e| e.kind())
    }

    pub(crate) fn receive(&mut self, i: usize, expected_body: &[u8], expected_type: u8) {
        let (from_alice, wire) = self.sent[i].clone();
        let got = self.deliver(!from_alice, &wire).unwrap();
        assert_eq!(got.body, expected_body);
        assert_eq!(got.content_type.to_byte(), expected_type);
    }
}

/// Runs a script, returning the steps and what each side drew.
pub(crate) fn play(pqxdh: &Value, keys: &Keys, script: &[Action]) -> (Vec<Value>, Keys) {
    let mut c = Conversation::new(pqxdh, keys);
    let mut steps = Vec::new();
    let mut bodies: Vec<(u8, Vec<u8>)> = Vec::new();
    for a in script {
        match a {
            Action::Send(from_alice, ct, body) => {
                steps.push(c.send(*from_alice, *ct, body));
                bodies.push((*ct, body.clone()));
            }
            Action::Receive(i) => {
                c.receive(*i, &bodies[*i].1, bodies[*i].0);
                steps.push(json!({"receive": i}));
            }
        }
    }
    (steps, c.used())
}

fn text(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn session_scripts() -> Vec<(&'static str, bool, Vec<Action>)> {
    use Action::{Receive as R, Send as S};
    let a = |s: &str| S(true, 1, text(s));
    let b = |s: &str| S(false, 1, text(s));
    let mut scripts = Vec::new();

    scripts.push((
        "in_order",
        true,
        vec![
            a("hello bob"),
            R(0),
            a("how are you?"),
            R(1),
            b("fine, thanks"),
            R(2),
            b("and you?"),
            R(3),
            a("great"),
            R(4),
        ],
    ));

    let mut alternating = Vec::new();
    for i in 0..12 {
        alternating.push(S(i % 2 == 0, 1, format!("turn {i}").into_bytes()));
        alternating.push(R(i));
    }
    scripts.push(("alternating_senders", true, alternating));

    let mut burst: Vec<Action> = (0..40).map(|i| a(&format!("burst {i}"))).collect();
    burst.extend((0..40).map(R));
    burst.extend([b("got them all"), R(40), a("good"), R(41)]);
    scripts.push(("long_burst", false, burst));

    scripts.push((
        "out_of_order_across_ratchet_steps",
        true,
        vec![
            a("a0"),
            a("a1"),
            a("a2"),
            R(2),
            b("b0"),
            b("b1"),
            R(4),
            R(3),
            a("a3"),
            a("a4"),
            R(6),
            R(0),
            R(1),
            R(5),
            b("b2"),
            R(7),
        ],
    ));

    scripts.push((
        "skipped_and_never_delivered",
        true,
        vec![
            a("m0"),
            a("m1 lost"),
            a("m2 lost"),
            a("m3"),
            R(0),
            R(3),
            b("reply"),
            R(4),
            a("m4"),
            R(5),
        ],
    ));

    scripts.push((
        "empty_and_16_kib_bodies",
        true,
        vec![
            S(true, 1, vec![]),
            R(0),
            S(false, 1, vec![0x42; 16 * 1024]),
            R(1),
            S(true, 1, vec![0x17; 16 * 1024]),
            R(2),
            S(false, 1, vec![]),
            R(3),
        ],
    ));
    scripts
}

/// Three complete PQ epochs (spec §14: both parties in both roles) with out-of-order
/// delivery and lost messages. The script is found by playing it: a side whose message
/// carries a chunk sends a burst of 12, one with nothing to send a single message; every
/// other burst arrives in reverse order, and one message of every third burst is never
/// delivered (chunk cycling covers it).
fn three_epochs_script(pqxdh: &Value, keys: &Keys) -> Vec<Action> {
    let mut c = Conversation::new(pqxdh, keys);
    let mut script = Vec::new();
    let mut sent = 0usize;
    let mut burst_no = 0usize;
    let mixed = |r: &SessionRecord| r.current_session().map_or(0, |s| s.pq_last_mixed());
    let mut from_alice = true;
    while mixed(&c.alice) < 3 || mixed(&c.bob) < 3 {
        assert!(sent < 1200, "three epochs did not complete");
        let mut burst = Vec::new();
        loop {
            let body = format!("{} {sent}", if from_alice { "a" } else { "b" }).into_bytes();
            let step = c.send(from_alice, 1, &body);
            script.push(Action::Send(from_alice, 1, body));
            burst.push(sent);
            sent += 1;
            let carries = step["send"]["pq_block"] != "00";
            if !carries || burst.len() == 12 {
                break;
            }
        }
        if burst_no % 2 == 1 {
            burst.reverse();
        }
        if burst_no % 3 == 2 && burst.len() > 2 {
            burst.remove(1);
        }
        for i in burst {
            let (alice_sent, wire) = c.sent[i].clone();
            c.deliver(!alice_sent, &wire).unwrap();
            script.push(Action::Receive(i));
        }
        burst_no += 1;
        from_alice = !from_alice;
    }
    script
}

/// The receipts case needs message ids, so it is built in two passes.
fn receipts_in_session(pqxdh: &Value, keys: &Keys) -> Vec<Action> {
    use Action::{Receive as R, Send as S};
    let first = vec![
        S(true, 1, text("photo")),
        S(true, 1, text("caption")),
        R(0),
        R(1),
    ];
    let mut c = Conversation::new(pqxdh, keys);
    let w0 = c.send(true, 1, b"photo");
    let w1 = c.send(true, 1, b"caption");
    let ids: Vec<MessageId> = [w0, w1]
        .iter()
        .map(|s| MessageId(arr(&s["send"]["message_id"])))
        .collect();
    let delivered = Receipt::create(
        &c.ps.bob,
        c.ps.alice.public(),
        ReceiptKind::Delivered,
        1_790_000_000_000,
        &ids,
    )
    .unwrap();
    let read = Receipt::create(
        &c.ps.bob,
        c.ps.alice.public(),
        ReceiptKind::Read,
        1_790_000_005_000,
        &ids[..1],
    )
    .unwrap();
    let mut script = first;
    script.extend([
        S(false, 2, delivered.to_bytes()),
        R(2),
        S(false, 2, read.to_bytes()),
        R(3),
        S(true, 1, text("seen")),
        R(4),
    ]);
    script
}

fn gen_session() -> Value {
    let mut rng = RecordingRng::new(0x5345_5353);
    let mut cases = Vec::new();
    let mut scripts = session_scripts();
    scripts.push(("receipts_inside_the_session", true, Vec::new()));
    scripts.push((
        "three_pq_epochs_out_of_order_with_losses",
        false,
        Vec::new(),
    ));
    for (name, with_opk, script) in scripts {
        let pqxdh = pqxdh_inputs(&mut rng, with_opk);
        let pools = Keys::pools(&mut rng, 160);
        let script = match (script.is_empty(), name) {
            (true, "receipts_inside_the_session") => receipts_in_session(&pqxdh, &pools),
            (true, _) => three_epochs_script(&pqxdh, &pools),
            (false, _) => script,
        };
        let (steps, used) = play(&pqxdh, &pools, &script);
        let mut pq = pqxdh.clone();
        pq.as_object_mut().unwrap().remove("name");
        let mut case = serde_json::Map::new();
        case.insert("name".into(), json!(name));
        case.insert("pqxdh".into(), pq);
        case.extend(pools.truncated(&used).to_json());
        case.insert("steps".into(), Value::Array(steps));
        cases.push(Value::Object(case));
    }
    json!({ "cases": cases })
}

/// Reads a case's steps back into a script.
pub(crate) fn script_of(case: &Value) -> Vec<Action> {
    case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| match s.get("send") {
            Some(send) => Action::Send(
                send["sender"] == "alice",
                send["content_type"].as_u64().unwrap() as u8,
                unh(&send["body"]),
            ),
            None => Action::Receive(s["receive"].as_u64().unwrap() as usize),
        })
        .collect()
}

// ---------------------------------------------------------------- receipts.json

pub(crate) fn receipt_case(
    name: &str,
    signer_seed: &[u8],
    peer: &IdentityKey,
    kind: ReceiptKind,
    ts: u64,
    ids: &[MessageId],
) -> Value {
    let signer = IdentityKeyPair::from_seed(Secret32::from_slice(signer_seed).unwrap());
    let r = Receipt::create(&signer, peer, kind, ts, ids).unwrap();
    let payload = kind
        .is_signed()
        .then(|| signed_payload(signer.public(), peer, kind, ts, &r.ids));
    json!({
        "name": name,
        "signer_identity_seed": h(signer_seed),
        "signer_identity_public": h(signer.public().as_bytes()),
        "peer_identity_public": h(peer.as_bytes()),
        "kind": kind.to_byte(),
        "timestamp_ms": ts,
        "ids": r.ids.iter().map(|i| h(i.as_bytes())).collect::<Vec<_>>(),
        "signed_payload": payload.map_or(Value::Null, |p| h(&p)),
        "signature": r.signature.map_or(Value::Null, |s| h(&s)),
        "body": h(&r.to_bytes()),
    })
}

fn random_ids(rng: &mut RecordingRng, n: usize) -> Vec<MessageId> {
    let mut ids: Vec<MessageId> = (0..n)
        .map(|_| MessageId(rng.bytes(16).try_into().unwrap()))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn gen_receipts() -> Value {
    let mut rng = RecordingRng::new(0x5243_5054);
    let mut cases = Vec::new();
    let kinds = [
        ReceiptKind::Delivered,
        ReceiptKind::Read,
        ReceiptKind::DeniableDelivered,
        ReceiptKind::DeniableRead,
    ];
    for kind in kinds {
        for n in [1usize, 1024] {
            let seed = rng.bytes(32);
            let peer = *identity(&h(&rng.bytes(32))).public();
            let ts = 1_790_000_000_000 + u64::from(rng.bytes(2)[0]) * 1000;
            let ids = random_ids(&mut rng, n);
            assert_eq!(ids.len(), n);
            let name = format!("{kind:?}_{n}_ids").to_lowercase();
            cases.push(receipt_case(&name, &seed, &peer, kind, ts, &ids));
        }
    }
    for kind in [ReceiptKind::Delivered, ReceiptKind::Read] {
        let seed = rng.bytes(32);
        let peer = *identity(&h(&rng.bytes(32))).public();
        let ids = random_ids(&mut rng, 100);
        cases.push(receipt_case(
            &format!("{kind:?}_100_ids").to_lowercase(),
            &seed,
            &peer,
            kind,
            0,
            &ids,
        ));
    }
    json!({ "cases": cases })
}

// ---------------------------------------------------------------- invalid.json

/// Runs one invalid case through the public API; `Err` names the rejection.
pub(crate) fn evaluate_invalid(kind: &str, input: &Value) -> Result<(), ErrorKind> {
    match kind {
        "identity_key" => IdentityKey::from_slice(&unh(input))
            .map(|_| ())
            .map_err(|e| e.kind()),
        "bundle" => {
            let b = PreKeyBundle::from_bytes(&unh(input)).map_err(|e| e.kind())?;
            b.verify().map_err(|e| e.kind())
        }
        "wire" => bluetick::wire::WireMessage::parse(&unh(input))
            .map(|_| ())
            .map_err(|e| e.kind()),
        "plaintext" => plaintext::unpad(&unh(input))
            .map(|_| ())
            .map_err(|e| e.kind()),
        // A decrypted plaintext of an application message whose body the account reads
        // (spec §10): it must carry `lamport (u64) || sent_at_ms (u64)`.
        "application_body" => {
            let padded = unh(input);
            let (content_type, body) = plaintext::unpad(&padded).map_err(|e| e.kind())?;
            assert_eq!(content_type, ContentType::Application);
            bluetick::ApplicationBody::parse(body)
                .map(|_| ())
                .map_err(|e| e.kind())
        }
        "receipt" => {
            let r = Receipt::parse(&unh(&input["body"])).map_err(|e| e.kind())?;
            let signer = IdentityKey::from_slice(&unh(&input["signer_identity_public"])).unwrap();
            let receiver =
                IdentityKey::from_slice(&unh(&input["receiver_identity_public"])).unwrap();
            let sent: Vec<MessageId> = input["sent_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| MessageId(arr(v)))
                .collect();
            r.verify(&signer, &receiver, |id| sent.contains(id))
                .map_err(|e| e.kind())
        }
        "session" => {
            let mut c = Conversation::new(&input["pqxdh"], &Keys::of_case(input));
            let deliveries = input["deliveries"].as_array().unwrap();
            for (i, d) in deliveries.iter().enumerate() {
                let result = c.deliver(d["to"] == "alice", &unh(&d["wire"]));
                if i + 1 < deliveries.len() {
                    result.expect("every delivery but the last succeeds");
                } else {
                    return result.map(|_| ());
                }
            }
            Ok(())
        }
        "attachment" | "attachment_pointer" => attachments::evaluate(kind, input),
        "device_list" | "device_list_update" | "device_check" | "device_certificate" => {
            devices::evaluate(kind, input)
        }
        "group" => groups::evaluate(input),
        other => panic!("unknown invalid kind {other}"),
    }
}

/// A session-kind invalid input: the inputs, the randomness each side may draw, and the
/// deliveries, of which only the last fails.
fn session_input(pqxdh: &Value, keys: &Keys, deliveries: Vec<(&str, &[u8])>) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("pqxdh".into(), pqxdh.clone());
    m.extend(keys.to_json());
    m.insert(
        "deliveries".into(),
        deliveries
            .into_iter()
            .map(|(to, w)| json!({"to": to, "wire": h(w)}))
            .collect(),
    );
    Value::Object(m)
}

struct Invalid {
    cases: Vec<Value>,
}

impl Invalid {
    fn add(&mut self, name: &str, kind: &str, input: Value, error: ErrorKind) {
        let got = evaluate_invalid(kind, &input);
        assert_eq!(got, Err(error), "invalid case {name}");
        self.cases
            .push(json!({"name": name, "kind": kind, "input": input, "error": error.name()}));
    }
}

fn with(bytes: &[u8], f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut v = bytes.to_vec();
    f(&mut v);
    v
}

/// Bundle offsets: version 0, IK 1..33, SPK id 33, SPK 37..69, SPK sig 69..133,
/// PQ id 133, PQ key 137..1705, PQ sig 1705..1769, has_OPK 1769, OPK id 1770, OPK 1774..1806.
fn resign(bob: &IdentityKeyPair, mut bundle: PreKeyBundle) -> Vec<u8> {
    use bluetick::constants::{
        EC_KEY_TYPE, KEM_KEY_TYPE, PQ_PREKEY_CONTEXT, SIGNED_PREKEY_CONTEXT,
    };
    bundle.signed_prekey.signature = bob.sign(&[
        SIGNED_PREKEY_CONTEXT,
        &[EC_KEY_TYPE],
        &bundle.signed_prekey.public,
    ]);
    bundle.pq_prekey.signature = bob.sign(&[
        PQ_PREKEY_CONTEXT,
        &[KEM_KEY_TYPE],
        &bundle.pq_prekey.public[..],
    ]);
    bundle.to_bytes()
}

fn gen_invalid() -> Value {
    use ErrorKind as E;
    let mut rng = RecordingRng::new(0x494e_5641);
    let mut v = Invalid { cases: Vec::new() };

    // Identity keys.
    let mut small = [0u8; 32];
    small[0] = 1;
    v.add(
        "identity_key_neutral_point",
        "identity_key",
        h(&small),
        E::InvalidIdentityKey,
    );
    let mut minus_one = [0xffu8; 32];
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    v.add(
        "identity_key_order_two",
        "identity_key",
        h(&minus_one),
        E::InvalidIdentityKey,
    );
    let mut non_canonical = [0xffu8; 32];
    non_canonical[0] = 0xee;
    non_canonical[31] = 0x7f;
    v.add(
        "identity_key_non_canonical_y",
        "identity_key",
        h(&non_canonical),
        E::InvalidIdentityKey,
    );
    let valid = *identity(&h(&rng.bytes(32))).public();
    let p = curve25519_dalek::edwards::CompressedEdwardsY(valid.to_bytes())
        .decompress()
        .unwrap();
    let torsion = (p + curve25519_dalek::constants::EIGHT_TORSION[1])
        .compress()
        .to_bytes();
    v.add(
        "identity_key_with_torsion_component",
        "identity_key",
        h(&torsion),
        E::InvalidIdentityKey,
    );
    let not_on_curve = (2u8..=255)
        .map(|y| {
            let mut b = [0u8; 32];
            b[0] = y;
            b
        })
        .find(|b| {
            curve25519_dalek::edwards::CompressedEdwardsY(*b)
                .decompress()
                .is_none()
        })
        .unwrap();
    v.add(
        "identity_key_not_on_curve",
        "identity_key",
        h(&not_on_curve),
        E::InvalidIdentityKey,
    );
    v.add(
        "identity_key_short",
        "identity_key",
        h(&valid.to_bytes()[..31]),
        E::InvalidIdentityKey,
    );

    // Bundles.
    let ps = parties(&pqxdh_inputs(&mut rng, true));
    let good = ps.bundle.to_bytes();
    assert_eq!(evaluate_invalid("bundle", &h(&good)), Ok(()));
    v.add("bundle_truncated", "bundle", h(&good[..1805]), E::Truncated);
    v.add("bundle_empty", "bundle", h(&[]), E::Truncated);
    v.add(
        "bundle_trailing_byte",
        "bundle",
        h(&with(&good, |b| b.push(0))),
        E::TrailingBytes,
    );
    v.add(
        "bundle_version_2",
        "bundle",
        h(&with(&good, |b| b[0] = 2)),
        E::UnsupportedVersion,
    );
    v.add(
        "bundle_has_opk_2",
        "bundle",
        h(&with(&good, |b| b[1769] = 2)),
        E::InvalidFlag,
    );
    v.add(
        "bundle_invalid_identity",
        "bundle",
        h(&with(&good, |b| b[1..33].copy_from_slice(&small))),
        E::InvalidIdentityKey,
    );
    v.add(
        "bundle_forged_signed_prekey_signature",
        "bundle",
        h(&with(&good, |b| b[100] ^= 1)),
        E::BadSignature,
    );
    v.add(
        "bundle_signed_prekey_swapped",
        "bundle",
        h(&with(&good, |b| b[40] ^= 1)),
        E::BadSignature,
    );
    v.add(
        "bundle_forged_pq_prekey_signature",
        "bundle",
        h(&with(&good, |b| b[1730] ^= 1)),
        E::BadSignature,
    );
    v.add(
        "bundle_pq_prekey_swapped",
        "bundle",
        h(&with(&good, |b| b[500] ^= 1)),
        E::BadSignature,
    );
    let mut low = ps.bundle.clone();
    low.signed_prekey.public = [0u8; 32];
    v.add(
        "bundle_low_order_signed_prekey_validly_signed",
        "bundle",
        h(&resign(&ps.bob, low)),
        E::LowOrderKey,
    );
    let mut nc = ps.bundle.clone();
    nc.signed_prekey.public[31] |= 0x80;
    v.add(
        "bundle_non_canonical_signed_prekey_validly_signed",
        "bundle",
        h(&resign(&ps.bob, nc)),
        E::NonCanonicalKey,
    );
    let mut bad_kem = ps.bundle.clone();
    bad_kem.pq_prekey.public[0] = 0xff;
    bad_kem.pq_prekey.public[1] |= 0x0f;
    v.add(
        "bundle_pq_prekey_fails_fips203_check_validly_signed",
        "bundle",
        h(&resign(&ps.bob, bad_kem)),
        E::InvalidKemKey,
    );
    let mut one = [0u8; 32];
    one[0] = 1;
    v.add(
        "bundle_low_order_one_time_prekey",
        "bundle",
        h(&with(&good, |b| b[1774..1806].copy_from_slice(&one))),
        E::LowOrderKey,
    );
    v.add(
        "bundle_non_canonical_one_time_prekey",
        "bundle",
        h(&with(&good, |b| b[1805] |= 0x80)),
        E::NonCanonicalKey,
    );

    // Wire messages.
    let pqxdh = pqxdh_inputs(&mut rng, true);
    let keys = Keys::pools(&mut rng, 4);
    let mut c = Conversation::new(&pqxdh, &keys);
    let first = unh(&c.send(true, 1, b"first")["send"]["wire"]);
    c.deliver(false, &first).unwrap();
    let reply = unh(&c.send(false, 1, b"reply")["send"]["wire"]);
    v.add("wire_empty", "wire", h(&[]), E::Truncated);
    v.add(
        "wire_unknown_type",
        "wire",
        // 0x13 is the GroupMessage from revision 2 on; 0x14 is unassigned.
        h(&with(&reply, |b| b[0] = 0x14)),
        E::UnknownMessageType,
    );
    v.add(
        "wire_version_2",
        "wire",
        h(&with(&reply, |b| b[0] = 0x21)),
        E::UnknownMessageType,
    );
    v.add(
        "wire_header_truncated",
        "wire",
        h(&reply[..30]),
        E::Truncated,
    );
    v.add(
        "wire_ciphertext_shorter_than_tag",
        "wire",
        h(&reply[..1 + 40 + 15]),
        E::CiphertextTooShort,
    );
    v.add(
        "wire_prekey_has_opk_2",
        "wire",
        h(&with(&first, |b| b[73] = 2)),
        E::InvalidFlag,
    );
    v.add(
        "wire_prekey_truncated_in_kem_ciphertext",
        "wire",
        h(&first[..1000]),
        E::Truncated,
    );
    v.add(
        "wire_prekey_inner_message_unknown_type",
        "wire",
        h(&with(&first, |b| b[78 + 1568] = 0x12)),
        E::UnknownMessageType,
    );

    // Plaintext framing.
    v.add("plaintext_empty", "plaintext", h(&[]), E::BadPadding);
    v.add(
        "plaintext_not_multiple_of_64",
        "plaintext",
        h(&with(
            &plaintext::pad(ContentType::Application, b"x"),
            |b| b.truncate(63),
        )),
        E::BadPadding,
    );
    v.add(
        "plaintext_all_zero",
        "plaintext",
        h(&[0u8; 64]),
        E::BadPadding,
    );
    v.add(
        "plaintext_no_0x80_marker",
        "plaintext",
        h(&with(
            &plaintext::pad(ContentType::Application, b"xyz"),
            |b| b[4] = 0x81,
        )),
        E::BadPadding,
    );
    v.add(
        "plaintext_marker_only",
        "plaintext",
        h(&with(&[0u8; 64], |b| b[0] = 0x80)),
        E::BadPadding,
    );
    v.add(
        "plaintext_unknown_content_type",
        "plaintext",
        h(&with(
            &plaintext::pad(ContentType::Application, b"x"),
            // 0x03 and 0x04 are distributions and transcripts from revision 2 on.
            |b| b[0] = 0x05,
        )),
        E::UnknownContentType,
    );

    // Application bodies shorter than their clock (spec §10, from revision 2), as the
    // padded plaintexts they decrypt to.
    for (name, body) in [
        ("application_body_empty", &[][..]),
        ("application_body_one_byte", &[0x01][..]),
        (
            "application_body_lamport_only",
            &[0, 0, 0, 0, 0, 0, 0, 7][..],
        ),
        ("application_body_15_bytes", &[0x2a; 15][..]),
    ] {
        v.add(
            name,
            "application_body",
            h(&plaintext::pad(ContentType::Application, body)),
            E::InvalidBody,
        );
    }

    // Receipts: Bob acknowledges messages Alice sent him.
    let alice = identity(&h(&rng.bytes(32)));
    let bob = identity(&h(&rng.bytes(32)));
    let carol = identity(&h(&rng.bytes(32)));
    let sent = random_ids(&mut rng, 3);
    let receipt = |body: Vec<u8>, receiver: &IdentityKeyPair| {
        json!({
            "body": h(&body),
            "signer_identity_public": h(bob.public().as_bytes()),
            "receiver_identity_public": h(receiver.public().as_bytes()),
            "sent_ids": sent.iter().map(|i| h(i.as_bytes())).collect::<Vec<_>>(),
        })
    };
    let good = Receipt::create(
        &bob,
        alice.public(),
        ReceiptKind::Delivered,
        1_790_000_000_000,
        &sent,
    )
    .unwrap()
    .to_bytes();
    assert_eq!(
        evaluate_invalid("receipt", &receipt(good.clone(), &alice)),
        Ok(())
    );
    v.add(
        "receipt_truncated_signature",
        "receipt",
        receipt(good[..good.len() - 1].to_vec(), &alice),
        E::Truncated,
    );
    v.add(
        "receipt_trailing_byte",
        "receipt",
        receipt(with(&good, |b| b.push(0)), &alice),
        E::TrailingBytes,
    );
    v.add(
        "receipt_unknown_kind",
        "receipt",
        receipt(with(&good, |b| b[0] = 0x03), &alice),
        E::UnknownReceiptKind,
    );
    v.add(
        "receipt_zero_ids",
        "receipt",
        receipt(
            with(&good[..11], |b| b[9..11].copy_from_slice(&[0, 0])),
            &alice,
        ),
        E::InvalidIdCount,
    );
    v.add(
        "receipt_1025_ids",
        "receipt",
        receipt(
            with(&good, |b| b[9..11].copy_from_slice(&1025u16.to_be_bytes())),
            &alice,
        ),
        E::InvalidIdCount,
    );
    v.add(
        "receipt_forged_signature",
        "receipt",
        receipt(with(&good, |b| *b.last_mut().unwrap() ^= 1), &alice),
        E::BadSignature,
    );
    v.add(
        "receipt_for_another_peer",
        "receipt",
        receipt(good.clone(), &carol),
        E::BadSignature,
    );
    v.add(
        "receipt_timestamp_changed",
        "receipt",
        receipt(with(&good, |b| b[8] ^= 1), &alice),
        E::BadSignature,
    );
    // Non-canonical and unknown ids under a valid signature (signed by hand, bypassing create()).
    let sign_raw = |kind: ReceiptKind, ids: &[MessageId]| {
        let payload = signed_payload(bob.public(), alice.public(), kind, 7, ids);
        let mut body = payload[bluetick::constants::RECEIPT_CONTEXT.len() + 64..].to_vec();
        body.extend_from_slice(&bob.sign(&[&payload]));
        body
    };
    v.add(
        "receipt_duplicate_ids",
        "receipt",
        receipt(sign_raw(ReceiptKind::Read, &[sent[0], sent[0]]), &alice),
        E::NonCanonicalIds,
    );
    v.add(
        "receipt_descending_ids",
        "receipt",
        receipt(sign_raw(ReceiptKind::Read, &[sent[1], sent[0]]), &alice),
        E::NonCanonicalIds,
    );
    let unknown = MessageId([0xee; 16]);
    let mut with_unknown = vec![sent[0], unknown];
    with_unknown.sort();
    v.add(
        "receipt_unknown_message_id",
        "receipt",
        receipt(sign_raw(ReceiptKind::Read, &with_unknown), &alice),
        E::UnknownMessageId,
    );
    let deniable = Receipt::create(
        &bob,
        alice.public(),
        ReceiptKind::DeniableRead,
        9,
        &with_unknown,
    )
    .unwrap()
    .to_bytes();
    v.add(
        "receipt_deniable_unknown_message_id",
        "receipt",
        receipt(deniable, &alice),
        E::UnknownMessageId,
    );

    // Sessions: deliveries between one Alice and one Bob.
    let pqxdh = pqxdh_inputs(&mut rng, true);
    let keys = Keys::pools(&mut rng, 4);
    let mut c = Conversation::new(&pqxdh, &keys);
    let m0 = unh(&c.send(true, 1, b"m0")["send"]["wire"]);
    let m1 = unh(&c.send(true, 1, b"m1")["send"]["wire"]);
    c.deliver(false, &m0).unwrap();
    let b0 = unh(&c.send(false, 1, b"b0")["send"]["wire"]);
    c.deliver(true, &b0).unwrap();
    let a2 = unh(&c.send(true, 1, b"a2")["send"]["wire"]);
    let session = |deliveries: Vec<(&str, &[u8])>| session_input(&pqxdh, &keys, deliveries);
    let last = m0.len() - 1;
    v.add(
        "session_first_prekey_message_tag_altered",
        "session",
        session(vec![("bob", &with(&m0, |b| b[last] ^= 1))]),
        E::AuthenticationFailed,
    );
    v.add(
        "session_first_prekey_message_kem_ciphertext_altered",
        "session",
        session(vec![("bob", &with(&m0, |b| b[200] ^= 1))]),
        E::AuthenticationFailed,
    );
    v.add(
        "session_first_prekey_message_header_altered",
        "session",
        session(vec![("bob", &with(&m0, |b| b[78 + 1568 + 36] ^= 1))]),
        E::AuthenticationFailed,
    );
    v.add(
        "session_duplicate_prekey_message",
        "session",
        session(vec![("bob", &m0), ("bob", &m0)]),
        E::DuplicateMessage,
    );
    v.add(
        "session_reply_ciphertext_altered",
        "session",
        session(vec![("bob", &m0), ("alice", &with(&b0, |b| b[60] ^= 0x20))]),
        E::AuthenticationFailed,
    );
    v.add(
        "session_duplicate_message_after_ratchet_step",
        "session",
        session(vec![
            ("bob", &m0),
            ("alice", &b0),
            ("bob", &a2),
            ("bob", &a2),
        ]),
        E::DuplicateMessage,
    );
    v.add(
        "session_message_for_the_wrong_party",
        "session",
        session(vec![("bob", &m0), ("bob", &b0)]),
        E::AuthenticationFailed,
    );
    v.add(
        "session_second_prekey_message_after_skip_then_duplicate",
        "session",
        session(vec![("bob", &m1), ("bob", &m0), ("bob", &m1)]),
        E::DuplicateMessage,
    );
    // Beyond MAX_SKIP: Alice's message number 2001 arrives first.
    let mut far = Conversation::new(&pqxdh, &keys);
    let mut wire = Vec::new();
    for _ in 0..=2001 {
        wire = unh(&far.send(true, 1, b"")["send"]["wire"]);
    }
    v.add(
        "session_skips_more_than_max_skip",
        "session",
        session(vec![("bob", &wire)]),
        E::TooManySkipped,
    );

    // The post-quantum ratchet (revision 3, §14): messages from a peer that breaks its
    // rules, authentic (made with the session's own keys) so that only the PQ checks can
    // refuse them. Alice's first message carries no chunk, so she is still `Unsampled`.
    let pqxdh = pqxdh_inputs(&mut rng, true);
    let keys = Keys::pools(&mut rng, 4);
    let mut c = Conversation::new(&pqxdh, &keys);
    let forge = |record: &mut SessionRecord, block: &[u8], pe: Option<u32>, body: &[u8]| {
        hazmat::encrypt_forged(record, block, pe, ContentType::Application, body)
            .unwrap()
            .wire
    };
    let chunk = |kind: u8, epoch: u32, index: u8, fill: u8| {
        let mut b = vec![kind];
        b.extend_from_slice(&epoch.to_be_bytes());
        b.push(index);
        b.extend_from_slice(&[fill; 32]);
        b
    };
    let q0 = forge(&mut c.alice, &[0], None, b"quiet");
    c.deliver(false, &q0).unwrap();
    let pq = |deliveries: Vec<(&str, &[u8])>| session_input(&pqxdh, &keys, deliveries);
    /// (name, pq_block, PE override, body, error)
    type Forged<'a> = (&'a str, Vec<u8>, Option<u32>, &'a [u8], E);
    let bob_cases: [Forged<'_>; 8] = [
        (
            "session_pq_unknown_kind",
            vec![0x03],
            None,
            b"x",
            E::UnknownPqKind,
        ),
        (
            "session_pq_short_block",
            vec![0x01, 0, 0, 0, 1],
            None,
            b"",
            E::ShortPqBlock,
        ),
        (
            "session_pq_index_out_of_range",
            chunk(0x01, 1, 37, 0),
            None,
            b"x",
            E::PqIndexOutOfRange,
        ),
        (
            "session_pq_chunk_of_a_future_epoch",
            chunk(0x02, 2, 0, 0),
            None,
            b"x",
            E::PqFutureEpoch,
        ),
        (
            "session_pq_ek_chunk_sent_by_the_c_side",
            chunk(0x01, 1, 0, 0),
            None,
            b"x",
            E::PqWrongKind,
        ),
        (
            "session_pq_ct_chunk_before_the_e_side_made_its_key",
            chunk(0x02, 1, 0, 0),
            None,
            b"x",
            E::PqUnexpectedChunk,
        ),
        (
            "session_pq_pe_two_ahead",
            vec![0],
            Some(2),
            b"x",
            E::InvalidPqEpoch,
        ),
        (
            "session_pq_pe_one_ahead_without_a_held_secret",
            vec![0],
            Some(1),
            b"x",
            E::InvalidPqEpoch,
        ),
    ];
    for (name, block, pe, body, error) in bob_cases {
        let m = forge(&mut c.bob, &block, pe, body);
        v.add(
            name,
            "session",
            pq(vec![("bob", &q0), ("alice", &m)]),
            error,
        );
    }
    // An ek whose coefficients are all above q: its last chunk fails the input check.
    let reply = unh(&c.send(false, 1, b"reply")["send"]["wire"]);
    c.deliver(true, &reply).unwrap();
    let bad_ek: Vec<Vec<u8>> = (0..37)
        .map(|i| forge(&mut c.alice, &chunk(0x01, 1, i, 0xFF), None, b"k"))
        .collect();
    let mut deliveries: Vec<(&str, &[u8])> = vec![("bob", &q0), ("alice", &reply)];
    deliveries.extend(bad_ek.iter().map(|w| ("bob", w.as_slice())));
    v.add(
        "session_pq_ek_failing_the_input_check",
        "session",
        pq(deliveries),
        E::InvalidPqKey,
    );

    // Attachments (revision 2, §13).
    for (name, kind, input, error) in attachments::invalid_cases() {
        v.add(&name, kind, input, error);
    }

    // Device lists and certificates (revision 2, §11).
    for (name, kind, input, error) in devices::invalid_cases() {
        v.add(&name, kind, input, error);
    }

    // Group messages and sender-key distributions (revision 2, §12).
    for (name, kind, input, error) in groups::invalid_cases() {
        v.add(&name, kind, input, error);
    }

    json!({ "cases": v.cases })
}

/// The spec revision the vectors follow.
pub(crate) const REVISION: u64 = 3;

/// Every vector file, pretty-printed, in a fixed order.
pub(crate) fn generate_all() -> Vec<(&'static str, String)> {
    let values = [
        gen_pqxdh(),
        gen_kdf(),
        gen_session(),
        gen_receipts(),
        gen_invalid(),
        attachments::gen_attachments(),
        devices::gen_devices(),
        groups::gen_groups(),
    ];
    FILES
        .iter()
        .zip(values)
        .map(|(name, mut v)| {
            // Every file names the spec revision it follows (spec §9, from revision 2).
            if let Some(object) = v.as_object_mut() {
                object.insert("revision".into(), json!(REVISION));
            }
            (*name, serde_json::to_string_pretty(&v).unwrap() + "\n")
        })
        .collect()
}
