//! An in-memory store, for tests and tools. A transaction writes in place and keeps what it
//! overwrote, so a failed one (or one that panics) is rolled back; every row a transaction
//! touches costs one hash lookup, however many rows it writes.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::ops::Range;
use std::sync::{Mutex, MutexGuard};

use super::{RawTransaction, Row, Store, StoreError, Table};

/// Per table (by [`Table::index`]), hashed, not ordered: lookups are the hot path, and a
/// scan sorts what it returns.
type Rows = [HashMap<Vec<u8>, Vec<u8>, RowHashing>; Table::COUNT];

/// Rows kept in memory.
#[derive(Debug)]
pub struct MemoryStore {
    state: Mutex<State>,
}

/// The rows, and the undo buffers a transaction fills, kept between transactions so that
/// an ordinary one allocates nothing for them.
#[derive(Debug)]
struct State {
    rows: Rows,
    undo: Vec<Undo>,
    undo_keys: Vec<u8>,
}

/// What one write replaced: its table, its key (a range of the undo keys), its old value.
type Undo = (Table, Range<usize>, Option<Vec<u8>>);

impl Default for MemoryStore {
    fn default() -> Self {
        let hashing = RowHashing::new();
        Self {
            state: Mutex::new(State {
                rows: std::array::from_fn(|_| HashMap::with_hasher(hashing.clone())),
                undo: Vec::new(),
                undo_keys: Vec::new(),
            }),
        }
    }
}

/// The hash of a row key. The keys the account writes are HMAC outputs, uniform and
/// unknown to anyone without the storage key, so a multiply-and-rotate mix over a seed
/// drawn per store spreads them as well as SipHash does, at a fraction of its cost.
#[derive(Clone)]
struct RowHashing(u64);

impl core::fmt::Debug for RowHashing {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The seed is what keeps the spread unpredictable: not shown.
        f.write_str("RowHashing(..)")
    }
}

impl RowHashing {
    fn new() -> Self {
        Self(std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64))
    }
}

impl BuildHasher for RowHashing {
    type Hasher = RowHasher;

    fn build_hasher(&self) -> RowHasher {
        RowHasher(self.0)
    }
}

struct RowHasher(u64);

const MIX: u64 = 0x9e37_79b9_7f4a_7c15;

impl RowHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(MIX).rotate_left(31);
    }
}

impl Hasher for RowHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.add(u64::from_le_bytes(w));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            if let Some(head) = w.get_mut(..rest.len()) {
                head.copy_from_slice(rest);
            }
            self.add(u64::from_le_bytes(w) ^ (rest.len() as u64) << 56);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        let h = self.0 ^ (self.0 >> 32);
        h.wrapping_mul(MIX) ^ (h >> 29)
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The state, even after a transaction panicked: a panicking transaction is rolled back
    /// before the lock is released, so the rows are consistent.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every raw row, sorted: for tests that check an operation wrote nothing.
    pub fn dump(&self) -> Vec<(&'static str, Row)> {
        let state = self.state();
        let mut out: Vec<(&'static str, Row)> = Table::ALL
            .iter()
            .zip(state.rows.iter())
            .flat_map(|(t, m)| {
                m.iter()
                    .map(move |(k, v)| (t.name(), (k.clone(), v.clone())))
            })
            .collect();
        out.sort();
        out
    }
}

/// A transaction over the rows: writes land in place; `undo` holds what each write replaced
/// (its key in `undo_keys`), applied newest first unless the transaction commits.
struct MemoryTx<'a> {
    rows: &'a mut Rows,
    undo: &'a mut Vec<Undo>,
    undo_keys: &'a mut Vec<u8>,
    committed: bool,
}

impl MemoryTx<'_> {
    fn table(
        &mut self,
        table: Table,
    ) -> Result<&mut HashMap<Vec<u8>, Vec<u8>, RowHashing>, StoreError> {
        self.rows
            .get_mut(table.index())
            .ok_or_else(|| StoreError::Database(format!("no table {}", table.name())))
    }

    fn remember(&mut self, table: Table, key: &[u8], old: Option<Vec<u8>>) {
        let start = self.undo_keys.len();
        self.undo_keys.extend_from_slice(key);
        self.undo.push((table, start..self.undo_keys.len(), old));
    }
}

impl Drop for MemoryTx<'_> {
    fn drop(&mut self) {
        if self.committed {
            self.undo.clear();
            self.undo_keys.clear();
            return;
        }
        while let Some((table, key, old)) = self.undo.pop() {
            let (Some(rows), Some(key)) =
                (self.rows.get_mut(table.index()), self.undo_keys.get(key))
            else {
                continue;
            };
            match old {
                Some(value) => {
                    rows.insert(key.to_vec(), value);
                }
                None => {
                    rows.remove(key);
                }
            }
        }
        self.undo_keys.clear();
    }
}

impl RawTransaction for MemoryTx<'_> {
    fn get(&mut self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.table(table)?.get(key).cloned())
    }

    fn get_with(
        &mut self,
        table: Table,
        key: &[u8],
        f: &mut dyn FnMut(Option<&[u8]>),
    ) -> Result<(), StoreError> {
        f(self.table(table)?.get(key).map(Vec::as_slice));
        Ok(())
    }

    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.put_vec(table, key, value.to_vec())
    }

    fn put_vec(&mut self, table: Table, key: &[u8], value: Vec<u8>) -> Result<(), StoreError> {
        let rows = self.table(table)?;
        let old = match rows.get_mut(key) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                rows.insert(key.to_vec(), value);
                None
            }
        };
        self.remember(table, key, old);
        Ok(())
    }

    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StoreError> {
        if let Some(old) = self.table(table)?.remove(key) {
            self.remember(table, key, Some(old));
        }
        Ok(())
    }

    fn scan(&mut self, table: Table) -> Result<Vec<Row>, StoreError> {
        let mut rows: Vec<Row> = self
            .table(table)?
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        rows.sort();
        Ok(rows)
    }
}

impl Store for MemoryStore {
    fn write(
        &self,
        f: &mut dyn FnMut(&mut dyn RawTransaction) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        let State {
            rows,
            undo,
            undo_keys,
        } = &mut *state;
        let mut tx = MemoryTx {
            rows,
            undo,
            undo_keys,
            committed: false,
        };
        f(&mut tx)?;
        tx.committed = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_transaction_leaves_every_row_as_it_was() -> Result<(), StoreError> {
        let store = MemoryStore::new();
        store.write(&mut |tx| {
            tx.put(Table::Meta, b"kept", b"one")?;
            tx.put(Table::Meta, b"changed", b"before")
        })?;
        let before = store.dump();
        let failed = store.write(&mut |tx| {
            tx.put(Table::Meta, b"changed", b"after")?;
            tx.put(Table::Meta, b"changed", b"again")?;
            tx.delete(Table::Meta, b"kept")?;
            tx.put(Table::Inbox, b"new", b"row")?;
            Err(StoreError::Aborted)
        });
        assert!(matches!(failed, Err(StoreError::Aborted)));
        assert_eq!(store.dump(), before);
        Ok(())
    }

    #[test]
    fn a_panicking_transaction_is_rolled_back_and_the_store_stays_usable() -> Result<(), StoreError>
    {
        let store = std::sync::Arc::new(MemoryStore::new());
        store.write(&mut |tx| tx.put(Table::Meta, b"k", b"v"))?;
        let before = store.dump();
        let shared = std::sync::Arc::clone(&store);
        let panicked = std::thread::spawn(move || {
            let _ = shared.write(&mut |tx| {
                tx.put(Table::Meta, b"k", b"other")?;
                tx.put(Table::Meta, b"x", b"y")?;
                // A bug in a transaction: it unwinds through the store.
                std::panic::resume_unwind(Box::new("a transaction that panics"))
            });
        })
        .join();
        assert!(panicked.is_err());
        assert_eq!(store.dump(), before);
        let mut read = None;
        store.write(&mut |tx| {
            read = tx.get(Table::Meta, b"k")?;
            Ok(())
        })?;
        assert_eq!(read.as_deref(), Some(&b"v"[..]));
        Ok(())
    }

    #[test]
    fn row_hashes_spread_keys_of_any_length() {
        let hashing = RowHashing(7);
        let mut seen = std::collections::HashSet::new();
        for len in 0..40usize {
            for fill in 0..8u8 {
                seen.insert(hashing.hash_one(vec![fill; len]));
            }
        }
        assert_eq!(
            seen.len(),
            40 * 8 - 7,
            "only the eight empty keys may collide"
        );
    }
}
