//! An in-memory store, for tests and tools. A transaction's writes are buffered and applied
//! only on success.

use std::collections::HashMap;

use super::BufferedTx;
use std::sync::Mutex;

use super::{RawTransaction, Row, Store, StoreError, Table};

/// Per table (by [`Table::index`]), hashed, not ordered: lookups are the hot path, and a
/// scan sorts what it returns.
type Rows = [HashMap<Vec<u8>, Vec<u8>>; Table::COUNT];

/// Rows kept in memory.
#[derive(Debug)]
pub struct MemoryStore {
    rows: Mutex<Rows>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            rows: Mutex::new(std::array::from_fn(|_| HashMap::new())),
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every raw row, sorted: for tests that check an operation wrote nothing.
    pub fn dump(&self) -> Vec<(&'static str, Row)> {
        let rows = match self.rows.lock() {
            Ok(r) => r,
            Err(p) => p.into_inner(),
        };
        let mut out: Vec<(&'static str, Row)> = Table::ALL
            .iter()
            .zip(rows.iter())
            .flat_map(|(t, m)| {
                m.iter()
                    .map(move |(k, v)| (t.name(), (k.clone(), v.clone())))
            })
            .collect();
        out.sort();
        out
    }
}

/// The committed rows, read-only: a transaction's writes are buffered above it.
struct Committed<'a>(&'a Rows);

impl RawTransaction for Committed<'_> {
    fn get(&mut self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.0.get(table.index()).and_then(|t| t.get(key)).cloned())
    }

    fn put(&mut self, _: Table, _: &[u8], _: &[u8]) -> Result<(), StoreError> {
        Err(StoreError::Database(
            "memory store rows are written on commit only".into(),
        ))
    }

    fn delete(&mut self, _: Table, _: &[u8]) -> Result<(), StoreError> {
        Err(StoreError::Database(
            "memory store rows are written on commit only".into(),
        ))
    }

    fn scan(&mut self, table: Table) -> Result<Vec<Row>, StoreError> {
        let mut rows: Vec<Row> = self
            .0
            .get(table.index())
            .map(|t| t.clone().into_iter().collect())
            .unwrap_or_default();
        rows.sort();
        Ok(rows)
    }
}

impl Store for MemoryStore {
    fn write(
        &self,
        f: &mut dyn FnMut(&mut dyn RawTransaction) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut rows = self
            .rows
            .lock()
            .map_err(|_| StoreError::Database("memory store lock poisoned".into()))?;
        let mut committed = Committed(&rows);
        let mut tx = BufferedTx::new(&mut committed);
        f(&mut tx)?;
        for (table, changes) in tx.into_changes() {
            let Some(t) = rows.get_mut(table.index()) else {
                continue;
            };
            for (key, value) in changes {
                match value {
                    Some(v) => t.insert(key, v),
                    None => t.remove(&key),
                };
            }
        }
        Ok(())
    }
}
