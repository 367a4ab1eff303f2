//! What the Account writes to its store, and what it keeps: a message rewrites only the rows
//! it changed; one peer cannot make the store hold more than its budget; a long run keeps
//! the store's size flat; a damaged row is corrupt, never an empty slot; a redelivery names
//! the identity that sent it; store nonces never come from the caller's generator; rows the
//! store layer remembers are always the rows the store holds.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bluetick::rand_core::SeedableRng;
use bluetick::receipt::ReceiptKind;
use bluetick::store::{RawTransaction, Row, Store, StoreError, Table};
use bluetick::{
    Account, AccountConfig, AccountError, Address, MemoryStore, PreKeyUpload, Received, Secret32,
};

fn key() -> Secret32 {
    Secret32::from_slice(&[9; 32]).unwrap()
}

fn config() -> AccountConfig {
    AccountConfig {
        one_time_prekeys: 2,
        one_time_pq_prekeys: 2,
        low_water_mark: 1,
    }
}

/// A memory store that counts the bytes each transaction writes.
#[derive(Default)]
struct Counting {
    inner: MemoryStore,
    written: Mutex<Vec<(Table, usize)>>,
}

struct CountingTx<'a> {
    inner: &'a mut dyn RawTransaction,
    written: Vec<(Table, usize)>,
}

impl RawTransaction for CountingTx<'_> {
    fn get(&mut self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(table, key)
    }
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.written.push((table, key.len() + value.len()));
        self.inner.put(table, key, value)
    }
    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StoreError> {
        self.inner.delete(table, key)
    }
    fn scan(&mut self, table: Table) -> Result<Vec<Row>, StoreError> {
        self.inner.scan(table)
    }
}

impl Store for Counting {
    fn write(
        &self,
        f: &mut dyn FnMut(&mut dyn RawTransaction) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut written = Vec::new();
        self.inner.write(&mut |raw| {
            let mut tx = CountingTx {
                inner: raw,
                written: Vec::new(),
            };
            let r = f(&mut tx);
            written = tx.written;
            r
        })?;
        *self.written.lock().unwrap() = written;
        Ok(())
    }
}

impl Counting {
    fn last_written(&self) -> Vec<(Table, usize)> {
        self.written.lock().unwrap().clone()
    }
}

fn bundle_of(account: &Account) -> bluetick::PreKeyBundle {
    PreKeyUpload::from_bytes(&account.prekey_upload().unwrap().to_bytes())
        .unwrap()
        .take_bundle()
}

fn addresses() -> (Address, Address) {
    (Address::new("alice", 1), Address::new("bob", 1))
}

/// Bytes per table of a memory store, and rows per table.
fn shape(store: &MemoryStore) -> HashMap<&'static str, (usize, usize)> {
    let mut out: HashMap<&'static str, (usize, usize)> = HashMap::new();
    for (table, (k, v)) in store.dump() {
        let e = out.entry(table).or_default();
        e.0 += 1;
        e.1 += k.len() + v.len();
    }
    out
}

fn total_bytes(store: &MemoryStore) -> usize {
    shape(store).values().map(|(_, b)| b).sum()
}

#[test]
fn a_message_rewrites_only_the_rows_it_changed() {
    let (a, b) = addresses();
    let alice = Account::create(Box::new(MemoryStore::new()), &key(), config()).unwrap();
    let store = Arc::new(Counting::default());
    let bob = Account::create(Box::new(store.clone()), &key(), config()).unwrap();
    // Forty-one sessions from Alice: Bob holds the current one and forty archived.
    for i in 0..41u8 {
        let m = alice.encrypt(&b, &[i], Some(&bundle_of(&bob)), 0).unwrap();
        bob.decrypt(&a, &m.wire).unwrap();
    }
    let reply = bob.encrypt(&a, b"reply", None, 0).unwrap();
    alice.decrypt(&b, &reply.wire).unwrap();

    let m = alice.encrypt(&b, b"one more", None, 0).unwrap();
    bob.decrypt(&a, &m.wire).unwrap();
    let written = store.last_written();
    // The session's row, the index (the message started a new chain, which routing needs),
    // the conversation's clock (8 bytes) and the inbox entry: no archived session, which a whole-record blob rewrote on every
    // message (41 sessions of about 470 bytes each, and their skipped keys).
    let tables: Vec<Table> = written.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        tables,
        vec![
            Table::SessionStates,
            Table::Sessions,
            Table::Conversations,
            Table::Inbox
        ]
    );
    let (_, state) = written[0];
    let (_, index) = written[1];
    // About 470 bytes of Double Ratchet state and the PQ ratchet's epoch state (spec §14),
    // at most 2345 bytes (an E side's seed, ek and ciphertext chunks).
    assert!(state < 600 + 2400, "{written:?}");
    assert!(index < 41 * 110, "{written:?}");

    // A steady message on the same chain does not even rewrite the index.
    let m = alice.encrypt(&b, b"and another", None, 0).unwrap();
    bob.decrypt(&a, &m.wire).unwrap();
    let tables: Vec<Table> = store.last_written().iter().map(|(t, _)| *t).collect();
    assert_eq!(
        tables,
        vec![Table::SessionStates, Table::Conversations, Table::Inbox]
    );
    // A message older than the clock (delivered late) leaves the clock row alone.
    let late = alice.encrypt(&b, b"late", None, 0).unwrap();
    let newer = alice.encrypt(&b, b"newer", None, 0).unwrap();
    bob.decrypt(&a, &newer.wire).unwrap();
    bob.decrypt(&a, &late.wire).unwrap();
    let tables: Vec<Table> = store.last_written().iter().map(|(t, _)| *t).collect();
    assert!(!tables.contains(&Table::Conversations), "{tables:?}");
}

#[test]
fn one_peer_cannot_make_the_store_hold_more_than_its_skipped_key_budget() {
    let (a, b) = addresses();
    let alice = Account::create(Box::new(MemoryStore::new()), &key(), config()).unwrap();
    let store = Arc::new(MemoryStore::new());
    let bob = Account::create(Box::new(store.clone()), &key(), config()).unwrap();
    // Five sessions, each leaving 2000 skipped keys behind: 10,000 keys without a budget.
    for round in 0..5u8 {
        let first = alice
            .encrypt(&b, &[round], Some(&bundle_of(&bob)), 0)
            .unwrap();
        bob.decrypt(&a, &first.wire).unwrap();
        for _ in 0..2000 {
            alice.encrypt(&b, b"lost", None, 0).unwrap();
        }
        let last = alice.encrypt(&b, b"arrives", None, 0).unwrap();
        bob.decrypt(&a, &last.wire).unwrap();
    }
    // A skipped key costs 36 bytes stored; 4000 of them, and the rows around them, fit in
    // 200 KB; 10,000 would not.
    let skipped = shape(&store)
        .get("skipped_keys")
        .copied()
        .unwrap_or_default();
    assert!(skipped.1 <= 4000 * 36 + skipped.0 * 128, "{skipped:?}");
    assert!(total_bytes(&store) < 200_000, "{}", total_bytes(&store));
}

#[test]
fn a_long_run_keeps_the_store_size_flat() {
    let (a, b) = addresses();
    let alice_store = Arc::new(MemoryStore::new());
    let bob_store = Arc::new(MemoryStore::new());
    let alice = Account::create(Box::new(alice_store.clone()), &key(), config()).unwrap();
    let bob = Account::create(Box::new(bob_store.clone()), &key(), config()).unwrap();
    let first = alice
        .encrypt(&b, b"hello", Some(&bundle_of(&bob)), 0)
        .unwrap();
    bob.decrypt(&a, &first.wire).unwrap();
    bob.acknowledge(&first.id).unwrap();
    let round = |n: usize| {
        for _ in 0..n {
            let m = alice.encrypt(&b, b"a message", None, 0).unwrap();
            alice.mark_sent(&m.id).unwrap();
            bob.decrypt(&a, &m.wire).unwrap();
            bob.acknowledge(&m.id).unwrap();
            let r = bob
                .create_receipt(&a, ReceiptKind::DeniableRead, &[m.id], 1)
                .unwrap();
            alice.decrypt(&b, &r.wire).unwrap();
        }
    };
    // Past the 10,000 statuses and tombstones kept, the tables stop growing.
    round(10_500);
    let (alice_then, bob_then) = (shape(&alice_store), shape(&bob_store));
    round(1_000);
    let rows = |s: &HashMap<&'static str, (usize, usize)>| {
        let mut v: Vec<_> = s.iter().map(|(t, (r, _))| (*t, *r)).collect();
        v.sort();
        v
    };
    assert_eq!(rows(&shape(&alice_store)), rows(&alice_then));
    assert_eq!(rows(&shape(&bob_store)), rows(&bob_then));
    assert!(alice_then.get("outgoing").unwrap().0 <= 10_000);
    assert!(bob_then.get("inbox").unwrap().0 <= 10_000);
}

#[test]
fn accepted_base_keys_go_with_their_signed_prekey() {
    let (a, b) = addresses();
    let alice = Account::create(Box::new(MemoryStore::new()), &key(), config()).unwrap();
    let store = Arc::new(MemoryStore::new());
    let bob = Account::create(Box::new(store.clone()), &key(), config()).unwrap();
    for i in 0..3u8 {
        let m = alice.encrypt(&b, &[i], Some(&bundle_of(&bob)), 0).unwrap();
        bob.decrypt(&a, &m.wire).unwrap();
    }
    assert_eq!(shape(&store).get("base_keys").unwrap().0, 3);
    bob.rotate_signed_prekey(1_000).unwrap();
    assert_eq!(bob.prune_retired_prekeys(2_000, 500).unwrap(), 1);
    assert_eq!(shape(&store).get("base_keys").map_or(0, |e| e.0), 0);
}

/// Replaces the key of one raw row of `table` by a key with one bit flipped.
fn flip_row_key(store: &MemoryStore, table: Table) {
    store
        .write(&mut |tx| {
            let (k, v) = tx.scan(table)?.into_iter().next().expect("a row");
            tx.delete(table, &k)?;
            let mut damaged = k.clone();
            damaged[0] ^= 1;
            tx.put(table, &damaged, &v)
        })
        .unwrap();
}

fn corrupt_table(e: AccountError) -> &'static str {
    match e {
        AccountError::Store(StoreError::Corrupt { table }) => table,
        other => panic!("expected a corrupt store, got {other:?}"),
    }
}

#[test]
fn a_damaged_row_key_is_corrupt_never_an_empty_slot() {
    let (a, b) = addresses();
    for table in [Table::Sessions, Table::SessionStates] {
        let alice = Account::create(Box::new(MemoryStore::new()), &key(), config()).unwrap();
        let store = Arc::new(MemoryStore::new());
        let bob = Account::create(Box::new(store.clone()), &key(), config()).unwrap();
        let m = alice.encrypt(&b, b"hi", Some(&bundle_of(&bob)), 0).unwrap();
        bob.decrypt(&a, &m.wire).unwrap();
        flip_row_key(&store, table);

        assert_eq!(corrupt_table(bob.verify_store().unwrap_err()), table.name());
        let reopened = Account::open(Box::new(store.clone()), &key(), config());
        assert_eq!(corrupt_table(reopened.unwrap_err()), table.name());
    }

    // A session row the index lists but the store lacks is corruption, not "no session":
    // the next message on that session, and the next send, say so and write nothing.
    let alice = Account::create(Box::new(MemoryStore::new()), &key(), config()).unwrap();
    let store = Arc::new(MemoryStore::new());
    let bob = Account::create(Box::new(store.clone()), &key(), config()).unwrap();
    let m = alice.encrypt(&b, b"hi", Some(&bundle_of(&bob)), 0).unwrap();
    bob.decrypt(&a, &m.wire).unwrap();
    flip_row_key(&store, Table::SessionStates);
    let again = alice.encrypt(&b, b"again", None, 0).unwrap();
    let before = store.dump();
    let err = bob.decrypt(&a, &again.wire).unwrap_err();
    assert_eq!(corrupt_table(err), "session_states");
    assert_eq!(store.dump(), before);
    let err = bob.encrypt(&a, b"reply", None, 0).unwrap_err();
    assert_eq!(corrupt_table(err), "session_states");
}

#[test]
fn a_redelivery_names_the_identity_that_sent_it() {
    let (a, b) = addresses();
    let alice = Account::create(Box::new(MemoryStore::new()), &key(), config()).unwrap();
    let bob = Account::create(Box::new(MemoryStore::new()), &key(), config()).unwrap();
    let m = alice
        .encrypt(&b, b"before", Some(&bundle_of(&bob)), 0)
        .unwrap();
    let first = bob.decrypt(&a, &m.wire).unwrap();
    assert_eq!(first.sender, *alice.identity());

    // Alice reinstalls with a new identity, which Bob's app decides to trust.
    let reinstalled = Account::create(Box::new(MemoryStore::new()), &key(), config()).unwrap();
    bob.set_identity_policy(Box::new(|_, _, _| true));
    let n = reinstalled
        .encrypt(&b, b"after", Some(&bundle_of(&bob)), 0)
        .unwrap();
    bob.decrypt(&a, &n.wire).unwrap();
    assert_eq!(
        bob.peer_identity(&a).unwrap(),
        Some(*reinstalled.identity())
    );

    // The first message again: it came from the first identity, whatever is trusted now.
    let again = bob.decrypt(&a, &m.wire).unwrap();
    assert_eq!(again.sender, *alice.identity());
    assert!(matches!(again.received, Received::Message { ref body, .. } if body == b"before"));
}

#[test]
fn store_nonces_never_come_from_the_given_generator() {
    let make = || {
        let store = Arc::new(MemoryStore::new());
        let rng = chacha20::ChaCha20Rng::seed_from_u64(7);
        let account =
            Account::create_with_rng(Box::new(store.clone()), &key(), config(), Box::new(rng))
                .unwrap();
        (store, account)
    };
    let (first, a1) = make();
    let (second, a2) = make();
    // The same generator gives the same identity and prekeys...
    assert_eq!(a1.identity(), a2.identity());
    // ...but no sealed record is repeated: a replayed generator repeats no store nonce.
    let sealed =
        |s: &MemoryStore| -> Vec<Vec<u8>> { s.dump().into_iter().map(|(_, (_, v))| v).collect() };
    let (x, y) = (sealed(&first), sealed(&second));
    assert!(!x.is_empty());
    assert!(x.iter().all(|v| !y.contains(v)));
}

/// Flips one bit in the sealed value of every raw row of `table`.
fn flip_row_values(store: &MemoryStore, table: Table) {
    store
        .write(&mut |tx| {
            for (k, mut v) in tx.scan(table)? {
                let last = v.len() - 1;
                v[last] ^= 1;
                tx.put(table, &k, &v)?;
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn rows_read_again_are_the_rows_in_the_store() {
    // The store layer remembers the rows it opened and wrote; what it hands back must
    // still be what the store holds. Two accounts on one store (as an app and its
    // extension): each sends on the session the other just moved forward. A stale session
    // would reuse a message number, which Bob refuses as a duplicate.
    let (a, b) = addresses();
    let store = Arc::new(MemoryStore::new());
    let alice = Account::create(Box::new(store.clone()), &key(), config()).unwrap();
    let bob = Account::create(Box::new(MemoryStore::new()), &key(), config()).unwrap();
    let first = alice.encrypt(&b, b"hi", Some(&bundle_of(&bob)), 0).unwrap();
    bob.decrypt(&a, &first.wire).unwrap();
    let reply = bob.encrypt(&a, b"hello", None, 0).unwrap();
    alice.decrypt(&b, &reply.wire).unwrap();
    let extension = Account::open(Box::new(store.clone()), &key(), config()).unwrap();
    for i in 0..60u8 {
        let sender = if i % 3 == 0 { &extension } else { &alice };
        let m = sender.encrypt(&b, &[i], None, u64::from(i)).unwrap();
        match bob.decrypt(&a, &m.wire).unwrap().received {
            Received::Message { body, lamport, .. } => {
                assert_eq!(body, vec![i]);
                // The clock, also remembered, moved with every send of either.
                assert_eq!(lamport, u64::from(i) + 3);
            }
            other => panic!("{other:?}"),
        }
    }

    // A row damaged after it was read (and remembered) is corrupt, never its old value.
    let m = alice.encrypt(&b, b"one more", None, 0).unwrap();
    bob.decrypt(&a, &m.wire).unwrap();
    flip_row_values(&store, Table::SessionStates);
    let err = alice.encrypt(&b, b"after the damage", None, 0).unwrap_err();
    assert_eq!(corrupt_table(err), "session_states");
    flip_row_values(&store, Table::Conversations);
    assert_eq!(
        corrupt_table(alice.conversation_clock(b"bob").unwrap_err()),
        "conversations"
    );
}
