//! Application bodies and causal order (spec §10): messages delivered out of order are
//! shown in the order they were written, a reply written after a message carries a larger
//! clock, every device shows one conversation in the same order, a body without its clock
//! is refused and changes nothing, and the clock survives reopening the store.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use bluetick::{
    os_rng, Account, AccountConfig, AccountError, Address, ApplicationBody, ContentType,
    DisplayKey, ErrorKind, IdentityKeyPair, Incoming, MemoryStore, Outgoing, PreKeyUpload,
    Received, Secret32, SessionRecord, SqliteStore,
};

fn key(b: u8) -> Secret32 {
    Secret32::from_slice(&[b; 32]).unwrap()
}

fn config() -> AccountConfig {
    AccountConfig {
        one_time_prekeys: 3,
        one_time_pq_prekeys: 3,
        low_water_mark: 1,
    }
}

fn account() -> Account {
    Account::create(Box::new(MemoryStore::new()), &key(1), config()).unwrap()
}

fn bundle_of(account: &Account) -> bluetick::PreKeyBundle {
    PreKeyUpload::from_bytes(&account.prekey_upload().unwrap().to_bytes())
        .unwrap()
        .take_bundle()
}

/// `(lamport, sent_at_ms, body)` of a received application message.
fn clock_of(incoming: &Incoming) -> (u64, u64, Vec<u8>) {
    match &incoming.received {
        Received::Message {
            lamport,
            sent_at_ms,
            body,
            ..
        } => (*lamport, *sent_at_ms, body.clone()),
        other => panic!("expected a message, got {other:?}"),
    }
}

fn alice_addr() -> Address {
    Address::new("alice", 1)
}

fn bob_addr() -> Address {
    Address::new("bob", 1)
}

#[test]
fn messages_delivered_out_of_order_are_listed_in_the_order_written() {
    let (alice, bob) = (account(), account());
    let bundle = bundle_of(&bob);
    let texts = ["one", "two", "three", "four"];
    let sent: Vec<Outgoing> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let b = (i == 0).then_some(&bundle);
            alice
                .encrypt(&bob_addr(), t.as_bytes(), b, 1_000 + i as u64)
                .unwrap()
        })
        .collect();
    assert_eq!(
        sent.iter().map(|o| o.lamport).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    // The relay hands them over newest first; message 2 comes before message 1.
    for (i, m) in sent.iter().enumerate().rev() {
        let got = clock_of(&bob.decrypt(&alice_addr(), &m.wire).unwrap());
        assert_eq!(
            got,
            (i as u64 + 1, 1_000 + i as u64, texts[i].as_bytes().to_vec())
        );
    }
    let shown = bob.conversation_inbox(b"alice").unwrap();
    assert_eq!(
        shown.iter().map(|e| e.body.as_slice()).collect::<Vec<_>>(),
        texts.map(str::as_bytes)
    );
    for (i, e) in shown.iter().enumerate() {
        assert_eq!(e.id, sent[i].id);
        assert_eq!(e.from, alice_addr());
        assert_eq!(e.lamport, i as u64 + 1);
        assert_eq!(e.sent_at_ms, 1_000 + i as u64);
    }
    // The whole inbox carries the same fields; another user's conversation is empty.
    assert_eq!(bob.inbox().unwrap().len(), 4);
    assert!(bob.conversation_inbox(b"carol").unwrap().is_empty());
    // Acknowledged entries leave the listing; the clock stays.
    bob.acknowledge(&sent[0].id).unwrap();
    assert_eq!(bob.conversation_inbox(b"alice").unwrap()[0].body, b"two");
    assert_eq!(bob.conversation_clock(b"alice").unwrap(), 4);
}

#[test]
fn a_reply_written_after_receiving_carries_a_larger_clock() {
    let (alice, bob) = (account(), account());
    let bundle = bundle_of(&bob);
    let mut last = None;
    for i in 0..5u8 {
        let b = (i == 0).then_some(&bundle);
        last = Some(alice.encrypt(&bob_addr(), &[i], b, 0).unwrap());
    }
    let last = last.unwrap();
    // Bob has written nothing, but he has seen Alice's fifth message.
    assert_eq!(
        clock_of(&bob.decrypt(&alice_addr(), &last.wire).unwrap()).0,
        5
    );
    let reply = bob.encrypt(&alice_addr(), b"got it", None, 0).unwrap();
    assert!(reply.lamport > last.lamport);
    assert_eq!(reply.lamport, 6);
    assert_eq!(
        clock_of(&alice.decrypt(&bob_addr(), &reply.wire).unwrap()).0,
        6
    );
    let ack = alice
        .create_receipt(&bob_addr(), bluetick::ReceiptKind::Read, &[reply.id], 7)
        .unwrap();
    assert_eq!(ack.lamport, 0);
    // A receipt carries no clock and moves none.
    assert_eq!(alice.conversation_clock(b"bob").unwrap(), 6);
    bob.decrypt(&alice_addr(), &ack.wire).unwrap();
    assert_eq!(bob.conversation_clock(b"bob").unwrap(), 0);
    assert_eq!(bob.conversation_clock(b"alice").unwrap(), 6);
    // Alice's next message comes after Bob's reply.
    assert_eq!(
        alice.encrypt(&bob_addr(), b"ok", None, 0).unwrap().lamport,
        7
    );
}

/// One line of a chat as a device draws it: its display key and text.
type Line = (u64, Address, Vec<u8>);

/// A device's view: what it sent (with its own address) and its conversation inbox, in
/// the display order of §10.
fn view(own: &Address, sent: &[(u64, &[u8])], account: &Account, peer_user: &[u8]) -> Vec<Line> {
    let mut lines: Vec<Line> = sent
        .iter()
        .map(|(l, t)| (*l, own.clone(), t.to_vec()))
        .collect();
    lines.extend(
        account
            .conversation_inbox(peer_user)
            .unwrap()
            .into_iter()
            .map(|e| (e.lamport, e.from, e.body)),
    );
    lines.sort_by(|a, b| DisplayKey::new(a.0, &a.1).cmp(&DisplayKey::new(b.0, &b.1)));
    lines
}

#[test]
fn both_devices_show_the_conversation_in_the_same_causal_order() {
    let (alice, bob) = (account(), account());
    let (a, b) = (alice_addr(), bob_addr());
    let alice_bundle = bundle_of(&alice);
    let bob_bundle = bundle_of(&bob);
    // Both write first, concurrently: each carries 1.
    let a1 = alice.encrypt(&b, b"a1", Some(&bob_bundle), 0).unwrap();
    let b1 = bob.encrypt(&a, b"b1", Some(&alice_bundle), 0).unwrap();
    assert_eq!((a1.lamport, b1.lamport), (1, 1));
    // Bob reads a1 and answers; Alice gets the answer before b1.
    bob.decrypt(&a, &a1.wire).unwrap();
    let b2 = bob.encrypt(&a, b"b2 (after a1)", None, 0).unwrap();
    assert_eq!(b2.lamport, 2);
    alice.decrypt(&b, &b2.wire).unwrap();
    alice.decrypt(&b, &b1.wire).unwrap();
    let a2 = alice.encrypt(&b, b"a2 (after b2)", None, 0).unwrap();
    assert_eq!(a2.lamport, 3);
    bob.decrypt(&a, &a2.wire).unwrap();

    let alice_view = view(
        &a,
        &[(a1.lamport, b"a1"), (a2.lamport, b"a2 (after b2)")],
        &alice,
        b"bob",
    );
    let bob_view = view(
        &b,
        &[(b1.lamport, b"b1"), (b2.lamport, b"b2 (after a1)")],
        &bob,
        b"alice",
    );
    let texts = |v: &[Line]| v.iter().map(|l| l.2.clone()).collect::<Vec<_>>();
    // The concurrent pair (both 1) is ordered by user id, shorter first: "bob" < "alice".
    let expected: Vec<Vec<u8>> = [b"b1".as_slice(), b"a1", b"b2 (after a1)", b"a2 (after b2)"]
        .iter()
        .map(|t| t.to_vec())
        .collect();
    assert_eq!(texts(&alice_view), expected);
    assert_eq!(texts(&bob_view), expected);
    assert_eq!(
        alice_view
            .iter()
            .map(|l| (l.0, l.1.clone()))
            .collect::<Vec<_>>(),
        bob_view
            .iter()
            .map(|l| (l.0, l.1.clone()))
            .collect::<Vec<_>>()
    );
}

/// A peer that talks to an account through a bare session, to send bodies an account
/// never would.
struct RawAlice {
    identity: IdentityKeyPair,
    record: SessionRecord,
}

impl RawAlice {
    fn new(bob: &Account) -> Self {
        let mut rng = os_rng();
        let identity = IdentityKeyPair::generate(&mut rng);
        let mut record = SessionRecord::new();
        record
            .start_session(&identity, &bundle_of(bob), &mut rng)
            .unwrap();
        Self { identity, record }
    }

    fn send(&mut self, body: &[u8]) -> Vec<u8> {
        self.record
            .encrypt(ContentType::Application, body, &mut os_rng())
            .unwrap()
            .wire
    }
}

#[test]
fn a_body_shorter_than_its_clock_is_refused_and_changes_nothing() {
    let store = Arc::new(MemoryStore::new());
    let bob = Account::create(Box::new(Arc::clone(&store)), &key(2), config()).unwrap();
    let mut alice = RawAlice::new(&bob);
    for len in [0usize, 1, 15] {
        let wire = alice.send(&vec![7u8; len]);
        let before = store.dump();
        for _ in 0..2 {
            // The same message is refused the same way each time: it changed nothing.
            match bob.decrypt(&alice_addr(), &wire) {
                Err(AccountError::InvalidBody(e)) => {
                    assert_eq!(e.len, len);
                    assert_eq!(e.kind(), ErrorKind::InvalidBody);
                }
                other => panic!("a {len}-byte body gave {other:?}"),
            }
            assert_eq!(store.dump(), before);
        }
        // In a batch it fails alone, and commits nothing either.
        let results = bob.decrypt_batch(&[(alice_addr(), wire.clone())]).unwrap();
        assert_eq!(
            results[0].as_ref().unwrap_err().kind(),
            ErrorKind::InvalidBody
        );
        assert_eq!(store.dump(), before);
    }
    assert!(bob.inbox().unwrap().is_empty());
    assert_eq!(bob.conversation_clock(b"alice").unwrap(), 0);
    assert!(bob.peer_identity(&alice_addr()).unwrap().is_none());
    // A genuine next message, exactly the clock with no data, is accepted.
    let body = ApplicationBody {
        lamport: 41,
        sent_at_ms: 1_234,
        data: b"",
    }
    .to_bytes();
    let got = bob.decrypt(&alice_addr(), &alice.send(&body)).unwrap();
    assert_eq!(clock_of(&got), (41, 1_234, Vec::new()));
    assert_eq!(got.sender, *alice.identity.public());
    assert_eq!(bob.conversation_clock(b"alice").unwrap(), 41);
    assert_eq!(
        bob.encrypt(&alice_addr(), b"reply", None, 0)
            .unwrap()
            .lamport,
        42
    );
}

#[test]
fn the_clock_survives_reopening_the_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (dir.path().join("alice.db"), dir.path().join("bob.db"));
    let sqlite = |p: &std::path::Path| Box::new(SqliteStore::open(p).unwrap());
    {
        let alice = Account::create(sqlite(&pa), &key(1), config()).unwrap();
        let bob = Account::create(sqlite(&pb), &key(2), config()).unwrap();
        let bundle = bundle_of(&bob);
        for i in 0..3u8 {
            let m = alice
                .encrypt(&bob_addr(), &[i], (i == 0).then_some(&bundle), 0)
                .unwrap();
            bob.decrypt(&alice_addr(), &m.wire).unwrap();
        }
    }
    let alice = Account::open(sqlite(&pa), &key(1), config()).unwrap();
    let bob = Account::open(sqlite(&pb), &key(2), config()).unwrap();
    alice.verify_store().unwrap();
    bob.verify_store().unwrap();
    assert_eq!(alice.conversation_clock(b"bob").unwrap(), 3);
    assert_eq!(bob.conversation_clock(b"alice").unwrap(), 3);
    // The unacknowledged inbox comes back with its clocks and times.
    let shown = bob.conversation_inbox(b"alice").unwrap();
    assert_eq!(
        shown
            .iter()
            .map(|e| (e.lamport, e.body.clone()))
            .collect::<Vec<_>>(),
        [(1, vec![0]), (2, vec![1]), (3, vec![2])]
    );
    let next = alice
        .encrypt(&bob_addr(), b"after reopen", None, 99)
        .unwrap();
    assert_eq!(next.lamport, 4);
    assert_eq!(
        clock_of(&bob.decrypt(&alice_addr(), &next.wire).unwrap()),
        (4, 99, b"after reopen".to_vec())
    );
    assert_eq!(
        bob.encrypt(&alice_addr(), b"hi", None, 0).unwrap().lamport,
        5
    );
}

#[test]
fn a_batch_merges_every_clock_it_commits() {
    let (alice, bob) = (account(), account());
    let bundle = bundle_of(&bob);
    let sent: Vec<Outgoing> = (0..4u8)
        .map(|i| {
            alice
                .encrypt(&bob_addr(), &[i], (i == 0).then_some(&bundle), 0)
                .unwrap()
        })
        .collect();
    let mut batch: Vec<(Address, Vec<u8>)> = sent
        .iter()
        .map(|m| (alice_addr(), m.wire.clone()))
        .collect();
    batch.reverse();
    // A garbled message in the middle fails alone.
    batch.insert(2, (alice_addr(), vec![0x11; 100]));
    let results = bob.decrypt_batch(&batch).unwrap();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 4);
    assert_eq!(bob.conversation_clock(b"alice").unwrap(), 4);
    let shown = bob.conversation_inbox(b"alice").unwrap();
    assert_eq!(
        shown.iter().map(|e| e.body.clone()).collect::<Vec<_>>(),
        [vec![0], vec![1], vec![2], vec![3]]
    );
    assert_eq!(
        bob.encrypt(&alice_addr(), b"ok", None, 0).unwrap().lamport,
        5
    );
}
