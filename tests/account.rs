//! The Account API over both stores: a whole conversation with statuses and receipts,
//! persistence, storage-key and corruption errors, identity changes, prekey upkeep, and
//! eight threads on shared accounts.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use bluetick::receipt::ReceiptKind;
use bluetick::{
    Account, AccountConfig, AccountError, Address, ErrorKind, MemoryStore, MessageId,
    MessageStatus, PreKeyUpload, Received, Secret32, SqliteStore, StoreError,
};

fn key(b: u8) -> Secret32 {
    Secret32::from_slice(&[b; 32]).unwrap()
}

fn small() -> AccountConfig {
    AccountConfig {
        one_time_prekeys: 3,
        one_time_pq_prekeys: 3,
        low_water_mark: 2,
    }
}

fn memory_account() -> Account {
    Account::create(Box::new(MemoryStore::new()), &key(1), small()).unwrap()
}

/// The relay's copy of a device's published prekeys.
fn published(account: &Account) -> PreKeyUpload {
    let upload = PreKeyUpload::from_bytes(&account.prekey_upload().unwrap().to_bytes()).unwrap();
    upload.verify().unwrap();
    upload
}

fn message_of(incoming: &bluetick::Incoming) -> (MessageId, Vec<u8>) {
    match &incoming.received {
        Received::Message { id, body, .. } => (*id, body.clone()),
        other => panic!("expected a message, got {other:?}"),
    }
}

fn receipt_updates(incoming: &bluetick::Incoming) -> Vec<(MessageId, MessageStatus)> {
    match &incoming.received {
        Received::Receipt { updated, .. } => updated.clone(),
        other => panic!("expected a receipt, got {other:?}"),
    }
}

#[test]
fn account_is_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Account>();
    shareable::<Arc<Account>>();
}

#[test]
fn a_whole_conversation_with_ticks() {
    let (alice, bob) = (memory_account(), memory_account());
    let (a, b) = (Address::new("alice", 1), Address::new("bob", 1));
    let mut bob_on_relay = published(&bob);

    // One grey tick: Pending, then Sent once the relay acknowledges.
    let m1 = alice
        .encrypt(&b, b"hi bob", Some(&bob_on_relay.take_bundle()), 0)
        .unwrap();
    assert_eq!(
        alice.message_status(&m1.id).unwrap(),
        Some(MessageStatus::Pending)
    );
    assert_eq!(alice.mark_sent(&m1.id).unwrap(), MessageStatus::Sent);
    let m2 = alice.encrypt(&b, b"are you there?", None, 0).unwrap();
    alice.mark_sent(&m2.id).unwrap();

    let got = bob.decrypt(&a, &m1.wire).unwrap();
    assert_eq!(message_of(&got), (m1.id, b"hi bob".to_vec()));
    assert_eq!(got.sender, *alice.identity());
    bob.decrypt(&a, &m2.wire).unwrap();
    assert_eq!(bob.inbox().unwrap().len(), 2);

    // Two grey ticks, then blue ticks.
    let delivered = bob
        .create_receipt(&a, ReceiptKind::Delivered, &[m1.id, m2.id], 1_000)
        .unwrap();
    let read = bob
        .create_receipt(&a, ReceiptKind::Read, &[m1.id], 2_000)
        .unwrap();
    let mut updates = receipt_updates(&alice.decrypt(&b, &delivered.wire).unwrap());
    updates.sort();
    let mut expected = vec![
        (m1.id, MessageStatus::Delivered),
        (m2.id, MessageStatus::Delivered),
    ];
    expected.sort();
    assert_eq!(updates, expected);
    assert_eq!(
        receipt_updates(&alice.decrypt(&b, &read.wire).unwrap()),
        vec![(m1.id, MessageStatus::Read)]
    );
    assert_eq!(
        alice.message_status(&m1.id).unwrap(),
        Some(MessageStatus::Read)
    );
    assert_eq!(
        alice.message_status(&m2.id).unwrap(),
        Some(MessageStatus::Delivered)
    );

    // Replies both ways.
    let r = bob.encrypt(&a, b"yes!", None, 0).unwrap();
    assert_eq!(message_of(&alice.decrypt(&b, &r.wire).unwrap()).1, b"yes!");
    let m3 = alice.encrypt(&b, b"great", None, 0).unwrap();
    assert_eq!(message_of(&bob.decrypt(&a, &m3.wire).unwrap()).1, b"great");

    // Safety numbers agree.
    assert_eq!(
        alice.safety_number(&b).unwrap(),
        bob.safety_number(&a).unwrap()
    );
    assert!(alice
        .safety_number(&Address::new("nobody", 1))
        .unwrap()
        .is_none());
}

#[test]
fn receipts_out_of_order_and_twice_only_move_forward() {
    let (alice, bob) = (memory_account(), memory_account());
    let (a, b) = (Address::new("alice", 1), Address::new("bob", 1));
    let m = alice
        .encrypt(&b, b"x", Some(&published(&bob).take_bundle()), 0)
        .unwrap();
    bob.decrypt(&a, &m.wire).unwrap();
    let delivered = bob
        .create_receipt(&a, ReceiptKind::Delivered, &[m.id], 1)
        .unwrap();
    let read = bob
        .create_receipt(&a, ReceiptKind::DeniableRead, &[m.id], 2)
        .unwrap();
    // Read arrives first; the later delivery receipt changes nothing.
    assert_eq!(
        receipt_updates(&alice.decrypt(&b, &read.wire).unwrap()),
        vec![(m.id, MessageStatus::Read)]
    );
    assert!(receipt_updates(&alice.decrypt(&b, &delivered.wire).unwrap()).is_empty());
    assert_eq!(
        alice.message_status(&m.id).unwrap(),
        Some(MessageStatus::Read)
    );
    // The same receipt again was already received, like a redelivered message.
    assert!(matches!(
        alice.decrypt(&b, &read.wire),
        Err(AccountError::AlreadyReceived(id)) if id == read.id
    ));
    // A relay acknowledgement after Read does not move it back.
    assert_eq!(alice.mark_sent(&m.id).unwrap(), MessageStatus::Read);
}

/// A Bob built from the protocol layer, so the tests can make him send any receipt body
/// inside a real session with Alice's account.
struct RawPeer {
    identity: bluetick::IdentityKeyPair,
    prekeys: bluetick::InMemoryPreKeyStore,
    sessions: std::collections::HashMap<Address, bluetick::SessionRecord>,
    rng: bluetick::OsRng,
}

impl RawPeer {
    fn new() -> Self {
        let mut rng = bluetick::os_rng();
        let identity = bluetick::IdentityKeyPair::generate(&mut rng);
        let mut prekeys = bluetick::InMemoryPreKeyStore::new();
        prekeys.add_signed_prekey(bluetick::SignedPreKey::generate(&identity, 1, &mut rng));
        prekeys.add_pq_prekey(bluetick::PqPreKey::generate(
            &identity,
            1,
            bluetick::PqPreKeyKind::LastResort,
            &mut rng,
        ));
        Self {
            identity,
            prekeys,
            sessions: Default::default(),
            rng,
        }
    }

    fn bundle(&self) -> bluetick::PreKeyBundle {
        self.prekeys.bundle(&self.identity).unwrap()
    }

    fn receive(&mut self, from: &Address, wire: &[u8]) {
        let record = self.sessions.entry(from.clone()).or_default();
        record
            .decrypt(&self.identity, &mut self.prekeys, wire, &mut self.rng)
            .unwrap();
    }

    fn send_receipt_body(&mut self, to: &Address, body: &[u8]) -> Vec<u8> {
        let record = self.sessions.get_mut(to).unwrap();
        record
            .encrypt(bluetick::ContentType::Receipt, body, &mut self.rng)
            .unwrap()
            .wire
    }

    /// A signed receipt body with any ids, in any order, for any addressee.
    fn body(&self, addressee: &bluetick::IdentityKey, ids: &[MessageId]) -> Vec<u8> {
        let payload = bluetick::receipt::signed_payload(
            self.identity.public(),
            addressee,
            ReceiptKind::Read,
            9,
            ids,
        );
        let mut body = payload[bluetick::constants::RECEIPT_CONTEXT.len() + 64..].to_vec();
        body.extend_from_slice(&self.identity.sign(&[&payload]));
        body
    }
}

#[test]
fn invalid_receipts_are_rejected_and_change_nothing() {
    let alice = memory_account();
    let carol = memory_account();
    let mut bob = RawPeer::new();
    let (a, b, c) = (
        Address::new("alice", 1),
        Address::new("bob", 1),
        Address::new("carol", 1),
    );
    let mut ids = Vec::new();
    for body in [&b"one"[..], b"two"] {
        let bundle = bob.bundle();
        let m = alice
            .encrypt(
                &b,
                body,
                if ids.is_empty() { Some(&bundle) } else { None },
                0,
            )
            .unwrap();
        bob.receive(&a, &m.wire);
        ids.push(m.id);
    }
    ids.sort();
    // Alice also sent a message to Carol: its id is not Bob's to acknowledge.
    let to_carol = alice
        .encrypt(&c, b"for carol", Some(&published(&carol).take_bundle()), 0)
        .unwrap();

    let statuses = |alice: &Account| {
        ids.iter()
            .map(|i| alice.message_status(i).unwrap())
            .collect::<Vec<_>>()
    };
    let before = statuses(&alice);
    let mallory = bluetick::IdentityKeyPair::from_seed(key(66));
    let forged = {
        let payload = bluetick::receipt::signed_payload(
            mallory.public(),
            alice.identity(),
            ReceiptKind::Read,
            9,
            &ids,
        );
        let mut body = payload[bluetick::constants::RECEIPT_CONTEXT.len() + 64..].to_vec();
        body.extend_from_slice(&mallory.sign(&[&payload]));
        body
    };
    let mut count_zero = bob.body(alice.identity(), &ids[..1]);
    count_zero.truncate(11);
    count_zero[9..11].copy_from_slice(&[0, 0]);
    let mut count_over = bob.body(alice.identity(), &ids);
    count_over[9..11].copy_from_slice(&1025u16.to_be_bytes());
    let mut with_carol = vec![ids[0], to_carol.id];
    with_carol.sort();
    let cases: Vec<(&str, Vec<u8>, ErrorKind)> = vec![
        ("forged signature", forged, ErrorKind::BadSignature),
        (
            "addressed to another peer",
            bob.body(carol.identity(), &ids),
            ErrorKind::BadSignature,
        ),
        (
            "unknown id",
            {
                let mut v = vec![ids[0], MessageId([0xee; 16])];
                v.sort();
                bob.body(alice.identity(), &v)
            },
            ErrorKind::UnknownMessageId,
        ),
        (
            "id sent to someone else",
            bob.body(alice.identity(), &with_carol),
            ErrorKind::UnknownMessageId,
        ),
        (
            "duplicate ids",
            bob.body(alice.identity(), &[ids[0], ids[0]]),
            ErrorKind::NonCanonicalIds,
        ),
        (
            "descending ids",
            bob.body(alice.identity(), &[ids[1], ids[0]]),
            ErrorKind::NonCanonicalIds,
        ),
        ("zero ids", count_zero, ErrorKind::InvalidIdCount),
        ("over-long batch", count_over, ErrorKind::InvalidIdCount),
    ];
    for (what, body, kind) in cases {
        let wire = bob.send_receipt_body(&a, &body);
        let err = alice.decrypt(&b, &wire).unwrap_err();
        assert_eq!(err.kind(), kind, "{what}: {err}");
        assert_eq!(statuses(&alice), before, "{what} changed a status");
    }
    // The session was not advanced by any of them: a valid receipt still works.
    let wire = bob.send_receipt_body(&a, &bob.body(alice.identity(), &ids));
    assert_eq!(receipt_updates(&alice.decrypt(&b, &wire).unwrap()).len(), 2);
    assert_eq!(statuses(&alice), vec![Some(MessageStatus::Read); 2]);
}

#[test]
fn a_receipt_replayed_into_another_conversation_is_rejected() {
    // Bob's valid receipt for Alice's messages, re-sent by Bob inside his session with
    // Carol: it names Alice as addressee and ids Carol never sent.
    let alice = memory_account();
    let carol = memory_account();
    let mut bob = RawPeer::new();
    let (a, b, c) = (
        Address::new("alice", 1),
        Address::new("bob", 1),
        Address::new("carol", 1),
    );
    let m = alice.encrypt(&b, b"hi", Some(&bob.bundle()), 0).unwrap();
    bob.receive(&a, &m.wire);
    let mc = carol.encrypt(&b, b"hello", Some(&bob.bundle()), 0).unwrap();
    bob.receive(&c, &mc.wire);
    let body = bob.body(alice.identity(), &[m.id]);
    let replayed = bob.send_receipt_body(&c, &body);
    assert_eq!(
        carol.decrypt(&b, &replayed).unwrap_err().kind(),
        ErrorKind::BadSignature
    );
    assert_eq!(
        carol.message_status(&mc.id).unwrap(),
        Some(MessageStatus::Pending)
    );
    let genuine = bob.send_receipt_body(&a, &body);
    assert_eq!(
        receipt_updates(&alice.decrypt(&b, &genuine).unwrap()),
        vec![(m.id, MessageStatus::Read)]
    );
}

#[test]
fn receipts_can_only_be_created_for_received_messages() {
    let (alice, bob) = (memory_account(), memory_account());
    let (a, b) = (Address::new("alice", 1), Address::new("bob", 1));
    let m = alice
        .encrypt(&b, b"x", Some(&published(&bob).take_bundle()), 0)
        .unwrap();
    bob.decrypt(&a, &m.wire).unwrap();
    assert!(matches!(
        bob.create_receipt(&a, ReceiptKind::Read, &[MessageId([7; 16])], 1),
        Err(AccountError::UnknownMessage(_))
    ));
    assert!(matches!(
        bob.create_receipt(&a, ReceiptKind::Read, &[], 1),
        Err(AccountError::Receipt(_))
    ));
    bob.create_receipt(&a, ReceiptKind::Read, &[m.id, m.id], 1)
        .unwrap();
}

#[test]
fn sqlite_account_persists_across_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (dir.path().join("alice.db"), dir.path().join("bob.db"));
    let (a, b) = (Address::new("alice", 1), Address::new("bob", 1));
    let (m1, bob_identity) = {
        let alice =
            Account::create(Box::new(SqliteStore::open(&pa).unwrap()), &key(1), small()).unwrap();
        let bob =
            Account::create(Box::new(SqliteStore::open(&pb).unwrap()), &key(2), small()).unwrap();
        let m1 = alice
            .encrypt(&b, b"before", Some(&published(&bob).take_bundle()), 0)
            .unwrap();
        bob.decrypt(&a, &m1.wire).unwrap();
        (m1, *bob.identity())
    };
    let alice = Account::open(Box::new(SqliteStore::open(&pa).unwrap()), &key(1), small()).unwrap();
    let bob = Account::open(Box::new(SqliteStore::open(&pb).unwrap()), &key(2), small()).unwrap();
    assert_eq!(*bob.identity(), bob_identity);
    assert_eq!(bob.inbox().unwrap()[0].body, b"before");
    // The redelivered message comes back from the inbox, not as an error.
    assert_eq!(message_of(&bob.decrypt(&a, &m1.wire).unwrap()).1, b"before");
    bob.acknowledge(&m1.id).unwrap();
    assert!(bob.inbox().unwrap().is_empty());
    assert!(matches!(
        bob.decrypt(&a, &m1.wire),
        Err(AccountError::AlreadyReceived(_))
    ));
    let r = bob.encrypt(&a, b"after reopen", None, 0).unwrap();
    assert_eq!(
        message_of(&alice.decrypt(&b, &r.wire).unwrap()).1,
        b"after reopen"
    );
    // Creating over an existing account is refused.
    let again = Account::create(Box::new(SqliteStore::open(&pa).unwrap()), &key(1), small());
    assert_eq!(again.unwrap_err().kind(), ErrorKind::AccountExists);
}

#[test]
fn wrong_storage_key_and_corrupted_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    drop(
        Account::create(
            Box::new(SqliteStore::open(&path).unwrap()),
            &key(1),
            small(),
        )
        .unwrap(),
    );
    let wrong = Account::open(
        Box::new(SqliteStore::open(&path).unwrap()),
        &key(2),
        small(),
    );
    assert!(matches!(
        wrong,
        Err(AccountError::Store(StoreError::WrongKey))
    ));
    let empty = Account::open(
        Box::new(SqliteStore::open(dir.path().join("new.db")).unwrap()),
        &key(1),
        small(),
    );
    assert!(matches!(
        empty,
        Err(AccountError::Store(StoreError::NoAccount))
    ));

    // Swap two sealed records inside the database: caught, never misread.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let rows: Vec<(String, Vec<u8>, Vec<u8>)> = conn
            .prepare(
                "SELECT tbl, key, value FROM records WHERE tbl = 'one_time_prekeys' ORDER BY key",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(rows.len() >= 2);
        conn.execute(
            "UPDATE records SET value = ?1 WHERE tbl = ?2 AND key = ?3",
            rusqlite::params![rows[1].2, rows[0].0, rows[0].1],
        )
        .unwrap();
        conn.execute("UPDATE records SET value = ?1 WHERE tbl = 'meta' AND key = (SELECT key FROM records WHERE tbl = 'meta' LIMIT 1)", rusqlite::params![rows[0].2]).unwrap();
    }
    let opened = Account::open(
        Box::new(SqliteStore::open(&path).unwrap()),
        &key(1),
        small(),
    );
    match opened {
        Ok(acc) => assert_eq!(
            acc.prekey_upload().unwrap_err().kind(),
            ErrorKind::StoreCorrupt
        ),
        Err(e) => assert!(
            matches!(
                e.kind(),
                ErrorKind::StoreCorrupt | ErrorKind::WrongStorageKey
            ),
            "{e}"
        ),
    }

    // A file that is not a database at all.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![0xAB; 8192]).unwrap();
    let r = SqliteStore::open(&junk).map(|s| Account::open(Box::new(s), &key(1), small()));
    assert!(matches!(r, Err(StoreError::Database(_)) | Ok(Err(_))));
}

#[test]
fn a_changed_identity_needs_the_apps_trust() {
    let alice = memory_account();
    let b = Address::new("bob", 1);
    let bob1 = memory_account();
    alice
        .encrypt(&b, b"x", Some(&published(&bob1).take_bundle()), 0)
        .unwrap();
    // Bob reinstalls: a new identity under the same address.
    let bob2 = memory_account();
    let err = alice
        .encrypt(&b, b"y", Some(&published(&bob2).take_bundle()), 0)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UntrustedIdentity);
    assert_eq!(alice.peer_identity(&b).unwrap(), Some(*bob1.identity()));
    // The app's policy accepts it (or the user compared safety numbers).
    alice.set_identity_policy(Box::new(|_, _, _| true));
    alice
        .encrypt(&b, b"y", Some(&published(&bob2).take_bundle()), 0)
        .unwrap();
    assert_eq!(alice.peer_identity(&b).unwrap(), Some(*bob2.identity()));
}

#[test]
fn no_session_error_tells_the_app_to_fetch_a_bundle() {
    let alice = memory_account();
    let err = alice
        .encrypt(&Address::new("bob", 1), b"x", None, 0)
        .unwrap_err();
    assert!(matches!(err, AccountError::NoSession(_)));
    assert!(err.to_string().contains("fetch the peer's prekey bundle"));
    let bob = memory_account();
    let garbage = [0x11u8; 100];
    assert!(bob
        .decrypt(&Address::new("alice", 1), &garbage)
        .unwrap_err()
        .to_string()
        .contains("start a new session"));
}

#[test]
fn prekeys_run_low_are_replenished_and_rotation_keeps_old_keys_for_a_while() {
    let bob = memory_account();
    let b = Address::new("bob", 1);
    let mut relay = published(&bob);
    assert_eq!(relay.one_time_prekeys.len(), 3);
    let mut replenish_seen = false;
    for i in 0..3 {
        let alice = memory_account();
        let m = alice
            .encrypt(&b, b"x", Some(&relay.take_bundle()), 0)
            .unwrap();
        let got = bob
            .decrypt(&Address::new(format!("alice{i}"), 1), &m.wire)
            .unwrap();
        replenish_seen |= got.replenish_prekeys;
    }
    assert!(replenish_seen);
    let counts = bob.prekey_counts().unwrap();
    assert_eq!(
        (
            counts.one_time_prekeys,
            counts.one_time_pq_prekeys,
            counts.low
        ),
        (0, 0, true)
    );
    // With no one-time keys left the relay hands out the last-resort PQ prekey.
    let last_resort = relay.take_bundle();
    assert!(last_resort.one_time_prekey.is_none());
    let late = memory_account();
    let in_flight = late
        .encrypt(&b, b"sent before rotation", Some(&last_resort), 0)
        .unwrap();

    let fresh = bob.replenish_prekeys().unwrap();
    assert_eq!(fresh.one_time_prekeys.len(), 3);
    relay.merge(fresh);
    assert!(!bob.prekey_counts().unwrap().low);

    // Rotation: the old signed and last-resort keys still open messages in flight.
    let up = bob.rotate_signed_prekey(1_000).unwrap();
    relay.merge(up);
    let up = bob.rotate_last_resort_pq_prekey(1_000).unwrap();
    relay.merge(up);
    assert_eq!(bob.prune_retired_prekeys(1_500, 1_000).unwrap(), 0);
    assert_eq!(
        message_of(
            &bob.decrypt(&Address::new("late", 1), &in_flight.wire)
                .unwrap()
        )
        .1,
        b"sent before rotation"
    );
    // After the grace period they are deleted, and a message still using them fails with
    // an error that says what to do.
    let later = memory_account();
    let stale = later
        .encrypt(&b, b"too late", Some(&last_resort), 0)
        .unwrap();
    assert_eq!(bob.prune_retired_prekeys(2_000, 1_000).unwrap(), 2);
    let err = bob
        .decrypt(&Address::new("later", 1), &stale.wire)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownPreKey);
    // New bundles use the new keys.
    let newer = memory_account();
    let m = newer
        .encrypt(&b, b"new keys", Some(&relay.take_bundle()), 0)
        .unwrap();
    bob.decrypt(&Address::new("newer", 1), &m.wire).unwrap();
}

#[test]
fn eight_threads_on_shared_accounts_decrypt_every_message_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let open = |name: &str, k: u8| -> Arc<Account> {
        let store = SqliteStore::open(dir.path().join(name)).unwrap();
        Arc::new(Account::create(Box::new(store), &key(k), small()).unwrap())
    };
    let (alice, bob, carol) = (open("a.db", 1), open("b.db", 2), open("c.db", 3));
    let (a, b, c) = (
        Address::new("alice", 1),
        Address::new("bob", 1),
        Address::new("carol", 1),
    );
    // Sessions first, so every thread finds one.
    let first_b = alice
        .encrypt(&b, b"start", Some(&published(&bob).take_bundle()), 0)
        .unwrap();
    bob.decrypt(&a, &first_b.wire).unwrap();
    let first_c = alice
        .encrypt(&c, b"start", Some(&published(&carol).take_bundle()), 0)
        .unwrap();
    carol.decrypt(&a, &first_c.wire).unwrap();

    type Queue = Arc<Mutex<Vec<(Vec<u8>, Vec<u8>)>>>;
    let to_bob: Queue = Arc::default();
    let to_carol: Queue = Arc::default();
    let to_alice: Queue = Arc::default();
    let sent_to_bob = Arc::new(Mutex::new(HashSet::new()));
    let got_by_bob = Arc::new(Mutex::new(Vec::new()));
    const N: usize = 60;

    std::thread::scope(|s| {
        // Two threads encrypt from Alice to Bob, one from Alice to Carol.
        for t in 0..2 {
            let (alice, b, q, sent) = (
                alice.clone(),
                b.clone(),
                to_bob.clone(),
                sent_to_bob.clone(),
            );
            s.spawn(move || {
                for i in 0..N {
                    let body = format!("t{t} m{i}").into_bytes();
                    let m = alice.encrypt(&b, &body, None, 0).unwrap();
                    sent.lock().unwrap().insert(m.id);
                    q.lock().unwrap().push((m.wire, body));
                }
            });
        }
        {
            let (alice, c, q) = (alice.clone(), c.clone(), to_carol.clone());
            s.spawn(move || {
                for i in 0..N {
                    let body = format!("carol m{i}").into_bytes();
                    q.lock()
                        .unwrap()
                        .push((alice.encrypt(&c, &body, None, 0).unwrap().wire, body));
                }
            });
        }
        // Two threads decrypt for Bob, taking messages in whatever order they find them.
        for _ in 0..2 {
            let (bob, a, q, got, back) = (
                bob.clone(),
                a.clone(),
                to_bob.clone(),
                got_by_bob.clone(),
                to_alice.clone(),
            );
            s.spawn(move || {
                let mut idle = 0;
                while idle < 2000 {
                    let next = q.lock().unwrap().pop();
                    let Some((wire, body)) = next else {
                        idle += 1;
                        std::thread::yield_now();
                        std::thread::sleep(std::time::Duration::from_millis(1));
                        continue;
                    };
                    idle = 0;
                    let incoming = bob.decrypt(&a, &wire).unwrap();
                    let (id, got_body) = message_of(&incoming);
                    assert_eq!(got_body, body);
                    got.lock().unwrap().push(id);
                    bob.acknowledge(&id).unwrap();
                    // A receipt for every message, and a reply for some.
                    let r = bob.create_receipt(&a, ReceiptKind::Read, &[id], 1).unwrap();
                    back.lock().unwrap().push((r.wire, vec![]));
                }
            });
        }
        // One thread decrypts for Carol.
        {
            let (carol, a, q) = (carol.clone(), a.clone(), to_carol.clone());
            s.spawn(move || {
                let mut done = 0;
                while done < N {
                    let next = q.lock().unwrap().pop();
                    match next {
                        Some((wire, body)) => {
                            assert_eq!(message_of(&carol.decrypt(&a, &wire).unwrap()).1, body);
                            done += 1;
                        }
                        None => std::thread::sleep(std::time::Duration::from_millis(1)),
                    }
                }
            });
        }
        // Two threads read Bob's receipts on Alice's side.
        for _ in 0..2 {
            let (alice, b, q) = (alice.clone(), b.clone(), to_alice.clone());
            s.spawn(move || {
                let mut idle = 0;
                while idle < 3000 {
                    let next = q.lock().unwrap().pop();
                    match next {
                        Some((wire, _)) => {
                            idle = 0;
                            let incoming = alice.decrypt(&b, &wire).unwrap();
                            assert_eq!(receipt_updates(&incoming).len(), 1);
                        }
                        None => {
                            idle += 1;
                            std::thread::sleep(std::time::Duration::from_millis(1));
                        }
                    }
                }
            });
        }
    });

    let got = got_by_bob.lock().unwrap().clone();
    let unique: HashSet<_> = got.iter().copied().collect();
    assert_eq!(got.len(), unique.len(), "a message was decrypted twice");
    assert_eq!(unique, *sent_to_bob.lock().unwrap(), "a message was lost");
    for id in unique {
        assert_eq!(
            alice.message_status(&id).unwrap(),
            Some(MessageStatus::Read)
        );
    }
}

#[test]
fn a_batch_commits_once_and_each_message_succeeds_or_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let alice = memory_account();
    let bob = Account::create(
        Box::new(SqliteStore::open(dir.path().join("b.db")).unwrap()),
        &key(2),
        small(),
    )
    .unwrap();
    let (a, b) = (Address::new("alice", 1), Address::new("bob", 1));
    let carol = memory_account();
    let c = Address::new("carol", 1);
    let mut relay = published(&bob);
    let mut batch = Vec::new();
    let mut ids = Vec::new();
    for i in 0..20u8 {
        let bundle = relay.take_bundle();
        let m = alice
            .encrypt(&b, &[i], (i == 0).then_some(&bundle), 0)
            .unwrap();
        ids.push(m.id);
        batch.push((a.clone(), m.wire));
    }
    let mc = carol
        .encrypt(&b, b"from carol", Some(&relay.take_bundle()), 0)
        .unwrap();
    batch.push((c.clone(), mc.wire));
    // A tampered copy in the middle, and a duplicate at the end.
    let mut tampered = batch[7].1.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    batch.insert(7, (a.clone(), tampered));
    batch.push(batch[3].clone());

    let results = bob.decrypt_batch(&batch).unwrap();
    assert_eq!(results.len(), batch.len());
    assert_eq!(
        results[7].as_ref().unwrap_err().kind(),
        ErrorKind::AuthenticationFailed
    );
    let ok: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(
        ok.len(),
        22,
        "20 from Alice, 1 from Carol, and the duplicate returned from the inbox"
    );
    assert_eq!(
        message_of(results.last().unwrap().as_ref().unwrap()),
        message_of(results[3].as_ref().unwrap())
    );
    // Committed: a fresh handle on the same file sees all 21 in the inbox.
    drop(bob);
    let bob = Account::open(
        Box::new(SqliteStore::open(dir.path().join("b.db")).unwrap()),
        &key(2),
        small(),
    )
    .unwrap();
    assert_eq!(bob.inbox().unwrap().len(), 21);
    // The tampered message's genuine twin was in the batch; the session is intact.
    let next = alice.encrypt(&b, b"after the batch", None, 0).unwrap();
    assert_eq!(
        message_of(&bob.decrypt(&a, &next.wire).unwrap()).1,
        b"after the batch"
    );
}
