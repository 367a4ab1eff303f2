//! Sizes: wire overhead, PreKeyMessage, bundle and serialized session sizes, and what a
//! session costs in the SQLite store. Not timed; prints a table. Run:
//! `CARGO_TARGET_DIR=/tmp/bench-target cargo bench --bench sizes`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use bluetick::rand_core::SeedableRng;
use bluetick::store::Table;
use bluetick::{
    Account, AccountConfig, Address, ContentType, IdentityKeyPair, InMemoryPreKeyStore,
    MemoryStore, OneTimePreKey, PqPreKey, PqPreKeyKind, PreKeyUpload, Received, Secret32,
    SessionRecord, SignedPreKey, SqliteStore,
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
            .encrypt(ContentType::Application, body, &mut self.rng)
            .unwrap()
            .wire
    }

    fn receive(&mut self, wire: &[u8]) {
        self.record
            .decrypt(&self.identity, &mut self.prekeys, wire, &mut self.rng)
            .unwrap();
    }
}

/// The post-quantum ratchet's cost in bytes (spec §14): each Message against the same body
/// in revision 2 (40-byte header, no pq_block), over three epochs of a strictly alternating
/// chat with bodies of 0 to 255 bytes. Returns (messages per epoch, average extra bytes,
/// worst extra bytes).
fn pq_overhead() -> (usize, f64, usize) {
    let mut alice = Party::new(11, 1);
    let bob = Party::new(12, 1);
    let bundle = bob.prekeys.bundle(&bob.identity).unwrap();
    alice
        .record
        .start_session(&alice.identity, &bundle, &mut alice.rng)
        .unwrap();
    let revision2 = |body: usize| 1 + 40 + (body + 2).div_ceil(64) * 64 + 16;
    let mixed = |p: &Party| p.record.current_session().unwrap().pq_last_mixed();
    let mut lcg = 12345u32;
    let (mut messages, mut extra, mut worst) = (0usize, 0usize, 0usize);
    let mut sides = [alice, bob];
    let mut turn = 0;
    while sides
        .iter()
        .any(|p| p.record.current_session().is_none() || mixed(p) < 3)
    {
        lcg = lcg.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let len = (lcg >> 16) as usize % 256;
        let body = vec![0x42; len];
        let [a, b] = &mut sides;
        let (sender, receiver) = if turn % 2 == 0 { (a, b) } else { (b, a) };
        let wire = sender.send(&body);
        receiver.receive(&wire);
        if wire[0] == 0x11 {
            let added = wire.len() - revision2(len);
            messages += 1;
            extra += added;
            worst = worst.max(added);
        }
        turn += 1;
        assert!(turn < 2000, "three epochs did not complete");
    }
    (turn / 3, extra as f64 / messages as f64, worst)
}

fn line(what: &str, bytes: usize, note: &str) {
    println!("| {what:<58} | {bytes:>6} | {note}");
}

/// Peers each hub account talks to, to average the store's cost per session.
const PEERS: u32 = 200;

/// The database's size once its write-ahead log is folded in.
fn database_bytes(path: &Path) -> u64 {
    let db = rusqlite::Connection::open(path).unwrap();
    db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let pages: i64 = db.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    let page: i64 = db.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
    u64::try_from(pages * page).unwrap()
}

/// Mean bytes of a table's rows (key and sealed value) in the hub's database.
fn mean_row_bytes(path: &Path, table: Table) -> f64 {
    let db = rusqlite::Connection::open(path).unwrap();
    db.query_row(
        "SELECT avg(length(key) + length(value)) FROM records WHERE tbl = ?1",
        [table.name()],
        |r| r.get(0),
    )
    .unwrap()
}

/// Decrypts `wire` from `from` and acknowledges it, as an app does once it has stored it.
fn deliver(to: &Account, from: &Address, wire: &[u8]) {
    if let Received::Message { id, .. } = to.decrypt(from, wire).unwrap().received {
        to.acknowledge(&id).unwrap();
    }
}

/// What one established session costs a SQLite-backed account, as the initiator (it
/// starts a session with each peer, which replies) and as the responder (each peer starts
/// one with it, and it replies). Every received message is acknowledged, as an app does.
/// The peers keep their state in memory; only the hub's database is measured.
/// Returns (mean sealed session row, database growth per peer) for (initiator, responder).
fn store_costs() -> ((f64, u64), (f64, u64)) {
    let dir = tempfile::tempdir().unwrap();
    let key = Secret32::from_slice(&[7; 32]).unwrap();
    // One one-time prekey of each kind: after the first, peers get bundles without them,
    // so the growth measured is the sessions' own and not the prekeys' deletion.
    let small = AccountConfig {
        one_time_prekeys: 1,
        one_time_pq_prekeys: 1,
        low_water_mark: 0,
    };
    let (initiator_db, responder_db) = (dir.path().join("i.db"), dir.path().join("r.db"));
    let on_disk =
        |path: &Path| Account::create(Box::new(SqliteStore::open(path).unwrap()), &key, small);
    let (initiator, responder) = (
        on_disk(&initiator_db).unwrap(),
        on_disk(&responder_db).unwrap(),
    );
    let (i_addr, r_addr) = (Address::new("initiator", 1), Address::new("responder", 1));
    let (i_before, r_before) = (database_bytes(&initiator_db), database_bytes(&responder_db));
    let mut responder_upload =
        PreKeyUpload::from_bytes(&responder.prekey_upload().unwrap().to_bytes()).unwrap();

    for n in 0..PEERS {
        let peer = Account::create(Box::new(MemoryStore::new()), &key, small).unwrap();
        let p_addr = Address::new(format!("peer-{n}"), 1);

        let mut upload =
            PreKeyUpload::from_bytes(&peer.prekey_upload().unwrap().to_bytes()).unwrap();
        let first = initiator
            .encrypt(&p_addr, b"hello", Some(&upload.take_bundle()), 0)
            .unwrap();
        deliver(&peer, &i_addr, &first.wire);
        let reply = peer.encrypt(&i_addr, b"hi", None, 0).unwrap();
        deliver(&initiator, &p_addr, &reply.wire);

        let first = peer
            .encrypt(&r_addr, b"hello", Some(&responder_upload.take_bundle()), 0)
            .unwrap();
        deliver(&responder, &p_addr, &first.wire);
        let reply = responder.encrypt(&p_addr, b"hi", None, 0).unwrap();
        deliver(&peer, &r_addr, &reply.wire);
    }
    drop((initiator, responder));
    let per_peer = |path: &Path, before: u64| (database_bytes(path) - before) / u64::from(PEERS);
    (
        (
            mean_row_bytes(&initiator_db, Table::Sessions),
            per_peer(&initiator_db, i_before),
        ),
        (
            mean_row_bytes(&responder_db, Table::Sessions),
            per_peer(&responder_db, r_before),
        ),
    )
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
    let mut probe_rng = ChaCha20Rng::seed_from_u64(23);
    let mut overhead = |len: usize| {
        let m = probe
            .encrypt(ContentType::Application, &vec![0x42; len], &mut probe_rng)
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

    let (per_epoch, average, worst) = pq_overhead();

    println!();
    println!("Bluetick sizes (bytes)");
    println!("| {:<58} | {:>6} | note", "what", "bytes");
    println!("| {:-<58} | {:->6} | ----", "", "");
    line(
        "PQ ratchet: messages per epoch, alternating chat",
        per_epoch,
        "both directions, over three epochs",
    );
    line(
        "PQ ratchet: extra bytes per Message vs revision 2, average",
        average.round() as usize,
        &format!("{average:.1}, bodies of 0..=255 bytes, alternating, three epochs"),
    );
    line(
        "PQ ratchet: extra bytes per Message vs revision 2, worst",
        worst,
        "a chunk that pushes the padding over a 64-byte boundary, plus PE",
    );
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

    let ((i_row, i_growth), (r_row, r_growth)) = store_costs();
    let row_note = "blinded key (16) + sealed value: nonce, address, record, tag";
    line(
        "store: session row, initiator after the first reply",
        i_row.round() as usize,
        row_note,
    );
    line(
        "store: session row, responder after its first reply",
        r_row.round() as usize,
        row_note,
    );
    let growth_note = |side: &str| {
        format!(
            "SQLite file growth over {PEERS} peers, per peer: session, identity, \
             sent status, inbox tombstone{side}"
        )
    };
    line(
        "store: bytes per peer, initiator",
        usize::try_from(i_growth).unwrap(),
        &growth_note(""),
    );
    line(
        "store: bytes per peer, responder",
        usize::try_from(r_growth).unwrap(),
        &growth_note(", accepted base key"),
    );
}
