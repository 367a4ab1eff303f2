//! `vectors/devices.json` and the device-list and certificate cases of `vectors/invalid.json`
//! (spec §9, §11). Seeds come from a seeded generator; every list and certificate comes from
//! the crate's public API (Ed25519 signatures are deterministic, so the bytes replay).

use bluetick::constants::{DEVICE_LIST_CONTEXT, MAX_DEVICES_PER_USER};
use bluetick::{DeviceCertificate, DeviceList, ErrorKind, IdentityKey, IdentityKeyPair, Secret32};
use serde_json::{json, Value};

use super::rngs::RecordingRng;
use super::{h, unh};

fn pair(seed: &[u8]) -> IdentityKeyPair {
    IdentityKeyPair::from_seed(Secret32::from_slice(seed).unwrap())
}

fn key(v: &Value) -> IdentityKey {
    IdentityKey::from_slice(&unh(v)).unwrap()
}

/// A user of the vectors: its id, its primary's seed, and its devices' `(id, seed)`, the
/// primary first.
pub(crate) struct User {
    pub(crate) user: Vec<u8>,
    pub(crate) devices: Vec<(u32, Vec<u8>)>,
}

impl User {
    fn new(rng: &mut RecordingRng, user: &[u8], device_ids: &[u32]) -> Self {
        Self {
            user: user.to_vec(),
            devices: device_ids.iter().map(|&d| (d, rng.bytes(32))).collect(),
        }
    }

    fn primary(&self) -> IdentityKeyPair {
        pair(&self.devices[0].1)
    }

    fn entries(&self) -> Vec<(u32, IdentityKey)> {
        self.devices
            .iter()
            .map(|(d, seed)| (*d, *pair(seed).public()))
            .collect()
    }

    fn list(&self, version: u64) -> DeviceList {
        DeviceList::sign(&self.primary(), &self.user, version, self.entries()).unwrap()
    }
}

/// One case of devices.json: the list and one certificate per device, in list order.
pub(crate) fn device_case(name: &str, user: &User, version: u64, issued_at_ms: u64) -> Value {
    let primary = user.primary();
    let certificates: Vec<Value> = user
        .devices
        .iter()
        .map(|(d, seed)| {
            let cert = DeviceCertificate::sign(
                &primary,
                &user.user,
                *d,
                pair(seed).public(),
                issued_at_ms,
            )
            .unwrap();
            h(&cert.to_bytes())
        })
        .collect();
    let devices: Vec<Value> = user
        .devices
        .iter()
        .map(|(d, seed)| {
            json!({
                "device_id": d,
                "identity_seed": h(seed),
                "identity_public": h(pair(seed).public().as_bytes()),
            })
        })
        .collect();
    json!({
        "name": name,
        "user_id": h(&user.user),
        "user_identity_seed": h(&user.devices[0].1),
        "user_identity_public": h(primary.public().as_bytes()),
        "version": version,
        "issued_at_ms": issued_at_ms,
        "devices": devices,
        "device_list": h(&user.list(version).to_bytes()),
        "certificates": certificates,
    })
}

pub(crate) fn gen_devices() -> Value {
    let mut rng = RecordingRng::new(0x4445_5643);
    let alone = User::new(&mut rng, b"alice", &[1]);
    let three = User::new(&mut rng, b"bob", &[1, 2, 0x8000_0001]);
    let full_ids: Vec<u32> = (0..MAX_DEVICES_PER_USER as u32).map(|i| 10 + i).collect();
    let full = User::new(&mut rng, b"carol", &full_ids);
    let long = User::new(&mut rng, &[0x75; 64], &[7, 3]);
    let cases = vec![
        device_case("one_device", &alone, 1, 1_764_000_000_000),
        device_case("primary_and_two_companions", &three, 7, 1_764_000_000_123),
        device_case("sixteen_devices", &full, 1 << 40, 1_764_000_001_000),
        device_case("user_id_of_64_bytes", &long, u64::MAX, 0),
    ];
    json!({ "cases": cases })
}

// ---------------------------------------------------------------- invalid.json

/// Runs a device case of invalid.json through the public API: `Err` names the rejection.
pub(crate) fn evaluate(kind: &str, input: &Value) -> Result<(), ErrorKind> {
    let list = |field: &str| DeviceList::from_bytes(&unh(&input[field])).map_err(|e| e.kind());
    let pinned = || key(&input["user_identity_public"]);
    match kind {
        "device_list" => list("device_list")?.verify(&pinned()).map_err(|e| e.kind()),
        "device_list_update" => {
            let current = list("current")?;
            current.verify(&pinned()).map_err(|e| e.kind())?;
            list("device_list")?
                .verify_update(&current)
                .map_err(|e| e.kind())
        }
        "device_check" => {
            let l = list("device_list")?;
            l.verify(&pinned()).map_err(|e| e.kind())?;
            let device = u32::try_from(input["device_id"].as_u64().unwrap()).unwrap();
            l.check_device(device, &key(&input["device_identity_public"]))
                .map_err(|e| e.kind())
        }
        "device_certificate" => DeviceCertificate::from_bytes(&unh(&input["certificate"]))
            .map_err(|e| e.kind())?
            .verify(&pinned())
            .map_err(|e| e.kind()),
        other => panic!("unknown device kind {other}"),
    }
}

/// A list's bytes with a signature made over whatever entries it is given, so that counts
/// the API refuses to sign can still carry a valid signature.
fn raw_list(
    signer: &IdentityKeyPair,
    user: &[u8],
    version: u64,
    entries: &[(u32, [u8; 32])],
) -> Vec<u8> {
    let mut out = vec![user.len() as u8];
    out.extend_from_slice(user);
    out.extend_from_slice(&version.to_be_bytes());
    out.push(entries.len() as u8);
    for (id, k) in entries {
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(k);
    }
    let signature = signer.sign(&[DEVICE_LIST_CONTEXT, &out]);
    out.extend_from_slice(&signature);
    out
}

/// `(name, kind, input, error)` for every device case of invalid.json.
pub(crate) fn invalid_cases() -> Vec<(String, &'static str, Value, ErrorKind)> {
    use ErrorKind as E;
    let mut rng = RecordingRng::new(0x4445_5649);
    let bob = User::new(&mut rng, b"bob", &[1, 2, 3]);
    let mallory = User::new(&mut rng, b"bob", &[1, 2]);
    let stranger = pair(&rng.bytes(32));
    let pinned = h(bob.primary().public().as_bytes());
    let v5 = bob.list(5).to_bytes();
    let mut cases = Vec::new();
    let mut add = |name: &str, kind: &'static str, input: Value, error: ErrorKind| {
        cases.push((name.to_string(), kind, input, error));
    };
    let list_case = |bytes: &[u8]| json!({"device_list": h(bytes), "user_identity_public": pinned});

    let mut flipped = v5.clone();
    *flipped.last_mut().unwrap() ^= 0x01;
    add(
        "device_list_bad_signature",
        "device_list",
        list_case(&flipped),
        E::BadSignature,
    );
    let mut entry = v5.clone();
    entry[1 + 3 + 8 + 1 + 36] ^= 0x01; // the second device's id: 2 becomes 0x01000002
    add(
        "device_list_entry_changed_after_signing",
        "device_list",
        list_case(&entry),
        E::BadSignature,
    );
    add(
        "device_list_of_another_user_identity",
        "device_list",
        list_case(&mallory.list(9).to_bytes()),
        E::UntrustedIdentity,
    );
    add(
        "device_list_truncated",
        "device_list",
        list_case(&v5[..v5.len() - 1]),
        E::Truncated,
    );
    add(
        "device_list_trailing_byte",
        "device_list",
        list_case(&[v5.as_slice(), &[0]].concat()),
        E::TrailingBytes,
    );
    let signer = bob.primary();
    let primary_key = *signer.public().as_bytes();
    let seventeen: Vec<(u32, [u8; 32])> = std::iter::once((1, primary_key))
        .chain(
            (0..MAX_DEVICES_PER_USER as u32)
                .map(|i| (100 + i, *pair(&[i as u8 + 1; 32]).public().as_bytes())),
        )
        .collect();
    add(
        "device_list_of_seventeen_devices",
        "device_list",
        list_case(&raw_list(&signer, b"bob", 6, &seventeen)),
        E::InvalidValue,
    );
    add(
        "device_list_of_no_device",
        "device_list",
        list_case(&raw_list(&signer, b"bob", 6, &[])),
        E::InvalidValue,
    );
    add(
        "device_list_naming_a_device_twice",
        "device_list",
        list_case(&raw_list(
            &signer,
            b"bob",
            6,
            &[(1, primary_key), (2, primary_key), (2, primary_key)],
        )),
        E::InvalidValue,
    );
    for (name, version) in [
        ("device_list_lower_version", 4),
        ("device_list_same_version", 5),
    ] {
        add(
            name,
            "device_list_update",
            json!({
                "current": h(&v5),
                "device_list": h(&bob.list(version).to_bytes()),
                "user_identity_public": pinned,
            }),
            E::StaleDeviceList,
        );
    }
    // A device the relay adds (a ghost), and a listed device with a changed key.
    add(
        "device_missing_from_the_list",
        "device_check",
        json!({
            "device_list": h(&v5),
            "user_identity_public": pinned,
            "device_id": 4,
            "device_identity_public": h(stranger.public().as_bytes()),
        }),
        E::DeviceNotListed,
    );
    add(
        "device_key_changed_without_a_new_list",
        "device_check",
        json!({
            "device_list": h(&v5),
            "user_identity_public": pinned,
            "device_id": 2,
            "device_identity_public": h(stranger.public().as_bytes()),
        }),
        E::DeviceNotListed,
    );
    let cert = DeviceCertificate::sign(
        &signer,
        b"bob",
        2,
        pair(&bob.devices[1].1).public(),
        1_764_000_000_000,
    )
    .unwrap()
    .to_bytes();
    let mut bad = cert.clone();
    *bad.last_mut().unwrap() ^= 0x80;
    add(
        "device_certificate_bad_signature",
        "device_certificate",
        json!({"certificate": h(&bad), "user_identity_public": pinned}),
        E::BadSignature,
    );
    let self_signed = DeviceCertificate::sign(
        &pair(&bob.devices[1].1),
        b"bob",
        2,
        pair(&bob.devices[1].1).public(),
        1_764_000_000_000,
    )
    .unwrap()
    .to_bytes();
    add(
        "device_certificate_signed_by_the_companion_itself",
        "device_certificate",
        json!({"certificate": h(&self_signed), "user_identity_public": pinned}),
        E::BadSignature,
    );
    add(
        "device_certificate_truncated",
        "device_certificate",
        json!({"certificate": h(&cert[..cert.len() - 1]), "user_identity_public": pinned}),
        E::Truncated,
    );
    cases
}
