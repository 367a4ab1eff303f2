//! An in-memory store, for tests and tools. Transactions work on a copy of the changed rows
//! and apply them only on success.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::{RawTransaction, Row, Store, StoreError, Table};

type Rows = HashMap<Table, BTreeMap<Vec<u8>, Vec<u8>>>;

/// Rows kept in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    rows: Mutex<Rows>,
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
        let mut out: Vec<(&'static str, Row)> = rows
            .iter()
            .flat_map(|(t, m)| {
                m.iter()
                    .map(move |(k, v)| (t.name(), (k.clone(), v.clone())))
            })
            .collect();
        out.sort();
        out
    }
}

struct MemoryTx<'a> {
    base: &'a Rows,
    /// Pending writes: `None` deletes.
    changes: HashMap<(Table, Vec<u8>), Option<Vec<u8>>>,
}

impl RawTransaction for MemoryTx<'_> {
    fn get(&mut self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(change) = self.changes.get(&(table, key.to_vec())) {
            return Ok(change.clone());
        }
        Ok(self.base.get(&table).and_then(|t| t.get(key)).cloned())
    }

    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.changes
            .insert((table, key.to_vec()), Some(value.to_vec()));
        Ok(())
    }

    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StoreError> {
        self.changes.insert((table, key.to_vec()), None);
        Ok(())
    }

    fn scan(&mut self, table: Table) -> Result<Vec<Row>, StoreError> {
        let mut merged = self.base.get(&table).cloned().unwrap_or_default();
        for ((t, k), v) in &self.changes {
            if *t == table {
                match v {
                    Some(v) => merged.insert(k.clone(), v.clone()),
                    None => merged.remove(k),
                };
            }
        }
        Ok(merged.into_iter().collect())
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
        let mut tx = MemoryTx {
            base: &rows,
            changes: HashMap::new(),
        };
        f(&mut tx)?;
        let changes = tx.changes;
        for ((table, key), value) in changes {
            let t = rows.entry(table).or_default();
            match value {
                Some(v) => t.insert(key, v),
                None => t.remove(&key),
            };
        }
        Ok(())
    }
}
