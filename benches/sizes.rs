//! Sizes (issue 8): wire overhead, PreKeyMessage, bundle and serialized session sizes.
//! Not timed; prints a table. Run:
//! `CARGO_TARGET_DIR=/tmp/bench-target cargo bench --bench sizes`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use bluetick::rand_core::SeedableRng;
use bluetick::{
    ContentType, IdentityKeyPair, InMemoryPreKeyStore, OneTimePreKey, PqPreKey, PqPreKeyKind,
    SessionRecord, SignedPreKey,
};
use chacha20::ChaCha20Rng;

struct Party {
    identity: IdentityKeyPair,
    prekeys: InMemoryPreKeyStore,
    record: SessionRecord,
    rng: ChaCha20Rng,
}

impl Party {
    fn new(seed: u64, one_time: u32) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let identity = IdentityKeyPair::generate(&mut rng);
        let mut prekeys = InMemoryPreKeyStore::new();
        prekeys.add_signed_prekey(SignedPreKey::generate(&identity, 1, &mut rng));
        prekeys.add_pq_prekey(PqPreKey::generate(
            &identity,
            1000,
            PqPreKeyKind::LastResort,
            &mut rng,
        ));
        for id in 1..=one_time {
            prekeys.add_one_time_prekey(OneTimePreKey::generate(id, &mut rng));
            prekeys.add_pq_prekey(PqPreKey::generate(
                &identity,
                id,
                PqPreKeyKind::OneTime,
                &mut rng,
            ));
        }
        Self {
            identity,
            prekeys,
            record: SessionRecord::new(),
            rng,
        }
    }

    fn send(&mut self, body: &[u8]) -> Vec<u8> {
        self.record
            .encrypt(ContentType::Application, body)
            .unwrap()
            .wire
    }

    fn receive(&mut self, wire: &[u8]) {
        self.record
            .decrypt(&self.identity, &mut self.prekeys, wire, &mut self.rng)
            .unwrap();
    }
}

fn line(what: &str, bytes: usize, note: &str) {
    println!("| {what:<58} | {bytes:>6} | {note}");
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing. Both just print.
    let mut alice = Party::new(1, 0);
    let mut bob = Party::new(2, 2);
    let bundle = bob.prekeys.bundle(&bob.identity).unwrap();
    let bundle_no_opk = Party::new(3, 0)
        .prekeys
        .bundle(&Party::new(3, 0).identity)
        .unwrap();

    alice
        .record
        .start_session(&alice.identity, &bundle, &mut alice.rng)
        .unwrap();
    let initiator_fresh = alice.record.to_bytes().len();
    let hello = alice.send(b"hello");
    let prekey_1k = {
        let mut a = Party::new(1, 0);
        a.record
            .start_session(&a.identity, &bundle, &mut a.rng)
            .unwrap();
        a.send(&[0x42; 1024]).len()
    };
    bob.receive(&hello);
    let responder_fresh = bob.record.to_bytes().len();
    let hi = bob.send(b"hi");
    let responder_after_reply = bob.record.to_bytes().len();
    alice.receive(&hi);
    let initiator_established = alice.record.to_bytes().len();

    let mut probe = alice.record.clone();
    let mut overhead = |len: usize| {
        let m = probe
            .encrypt(ContentType::Application, &vec![0x42; len])
            .unwrap();
        m.wire.len() - len
    };
    let (o0, o64, o1k, o64k) = (overhead(0), overhead(64), overhead(1024), overhead(65536));

    // 1000 skipped keys on Bob's side.
    let skipped_sender = alice.record.clone();
    let mut sender = Party {
        identity: alice.identity.clone(),
        prekeys: InMemoryPreKeyStore::new(),
        record: skipped_sender,
        rng: ChaCha20Rng::seed_from_u64(7),
    };
    for _ in 0..1000 {
        sender.send(b"x");
    }
    bob.receive(&sender.send(b"x"));
    let skipped = bob.record.to_bytes().len();
    let count = bob.record.current_session().unwrap().skipped_key_count();
    assert_eq!(count, 1000);

    println!();
    println!("Bluetick sizes (bytes)");
    println!("| {:<58} | {:>6} | note", "what", "bytes");
    println!("| {:-<58} | {:->6} | ----", "", "");
    line("prekey bundle, with OPK", bundle.to_bytes().len(), "");
    line(
        "prekey bundle, without OPK",
        bundle_no_opk.to_bytes().len(),
        "",
    );
    line("PreKeyMessage, 5 B body (\"hello\")", hello.len(), "");
    line("PreKeyMessage, 1 KiB body", prekey_1k, "");
    line(
        "PreKeyMessage prefix (before the inner Message)",
        prekey_1k - 1024 - o1k,
        "1568 of it is the ML-KEM ciphertext",
    );
    line(
        "Message overhead, empty body",
        o0,
        "type + header + padding + tag",
    );
    line("Message overhead, 64 B body", o64, "");
    line("Message overhead, 1 KiB body", o1k, "");
    line("Message overhead, 64 KiB body", o64k, "");
    line(
        "session record, fresh responder",
        responder_fresh,
        "after the 1st PreKeyMessage",
    );
    line(
        "session record, responder after its first reply",
        responder_after_reply,
        "",
    );
    line(
        "session record, fresh initiator",
        initiator_fresh,
        "holds the PreKeyMessage prefix (CT) until answered",
    );
    line(
        "session record, initiator after the first reply",
        initiator_established,
        "",
    );
    line(
        &format!("session record, responder with {count} skipped keys"),
        skipped,
        "68 bytes per skipped key",
    );
}
