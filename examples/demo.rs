//! A small Alice-Bob exchange: Bob publishes a bundle, Alice starts a PQXDH session and
//! both sides talk, with one message delivered out of order and one tampered with.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::ExitCode;

use bluetick::{
    os_rng, ContentType, DecryptionError, IdentityKeyPair, InMemoryPreKeyStore, OneTimePreKey,
    PqPreKey, PqPreKeyKind, PreKeyBundle, SafetyNumber, SessionRecord, SignedPreKey,
};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = os_rng();

    let bob = IdentityKeyPair::generate(&mut rng);
    let mut bob_prekeys = InMemoryPreKeyStore::new();
    bob_prekeys.add_signed_prekey(SignedPreKey::generate(&bob, 1, &mut rng));
    bob_prekeys.add_pq_prekey(PqPreKey::generate(&bob, 1, PqPreKeyKind::OneTime, &mut rng));
    bob_prekeys.add_pq_prekey(PqPreKey::generate(
        &bob,
        2,
        PqPreKeyKind::LastResort,
        &mut rng,
    ));
    bob_prekeys.add_one_time_prekey(OneTimePreKey::generate(1, &mut rng));
    let published = bob_prekeys
        .bundle(&bob)
        .ok_or("Bob has no bundle")?
        .to_bytes();
    println!("relay  <- Bob's prekey bundle ({} bytes)", published.len());

    let alice = IdentityKeyPair::generate(&mut rng);
    let mut alice_prekeys = InMemoryPreKeyStore::new();
    let bundle = PreKeyBundle::from_bytes(&published)?;
    let mut alice_session = SessionRecord::new();
    alice_session.start_session(&alice, &bundle, &mut rng)?;
    let mut bob_session = SessionRecord::new();

    let first = alice_session.encrypt(ContentType::Application, b"Hi Bob, it's Alice.")?;
    println!(
        "relay  <- Alice: PreKeyMessage {} bytes, id {}",
        first.wire.len(),
        first.id
    );
    let got = bob_session.decrypt(&bob, &mut bob_prekeys, &first.wire, &mut rng)?;
    println!("Bob    reads {:?}", String::from_utf8_lossy(&got.body));
    expect(
        got.new_session.is_some(),
        "the first message starts a session",
    )?;

    let reply = bob_session.encrypt(ContentType::Application, b"Hello Alice!")?;
    println!(
        "relay  <- Bob: Message {} bytes, id {}",
        reply.wire.len(),
        reply.id
    );
    let got = alice_session.decrypt(&alice, &mut alice_prekeys, &reply.wire, &mut rng)?;
    println!("Alice  reads {:?}", String::from_utf8_lossy(&got.body));

    let burst: Vec<_> = (1..=3)
        .map(|i| alice_session.encrypt(ContentType::Application, format!("burst {i}").as_bytes()))
        .collect::<Result<_, _>>()?;
    for m in burst.iter().rev() {
        let got = bob_session.decrypt(&bob, &mut bob_prekeys, &m.wire, &mut rng)?;
        println!(
            "Bob    reads {:?} (delivered out of order)",
            String::from_utf8_lossy(&got.body)
        );
    }

    let mut tampered = alice_session
        .encrypt(ContentType::Application, b"pay 10")?
        .wire;
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    match bob_session.decrypt(&bob, &mut bob_prekeys, &tampered, &mut rng) {
        Err(DecryptionError::AuthenticationFailed) => println!("Bob    rejects a tampered message"),
        other => return Err(format!("tampered message was not rejected: {other:?}").into()),
    }

    println!(
        "safety number: {}",
        SafetyNumber::new(alice.public(), bob.public())
    );
    Ok(())
}

fn expect(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("expected: {what}"))
    }
}
