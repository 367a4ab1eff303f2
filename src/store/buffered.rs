//! A transaction inside a transaction: writes are buffered and reach the enclosing
//! transaction only on [`BufferedTx::flush`], so one item of a batch can fail without
//! leaving a partial write behind (a savepoint, for any backend).

use std::collections::BTreeMap;

use super::{RawTransaction, Row, StoreError, Table};

/// Pending writes by table and key; `None` deletes.
type Changes = BTreeMap<Table, BTreeMap<Vec<u8>, Option<Vec<u8>>>>;

pub(crate) struct BufferedTx<'a> {
    inner: &'a mut dyn RawTransaction,
    /// Pending writes, by table, then key (looked up without copying the key).
    changes: Changes,
}

impl<'a> BufferedTx<'a> {
    pub(crate) fn new(inner: &'a mut dyn RawTransaction) -> Self {
        Self {
            inner,
            changes: BTreeMap::new(),
        }
    }

    /// Applies the buffered writes to the enclosing transaction.
    pub(crate) fn flush(self) -> Result<(), StoreError> {
        for (table, rows) in self.changes {
            for (key, value) in rows {
                match value {
                    Some(v) => self.inner.put_vec(table, &key, v)?,
                    None => self.inner.delete(table, &key)?,
                }
            }
        }
        Ok(())
    }
}

impl RawTransaction for BufferedTx<'_> {
    fn get(&mut self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.changes.get(&table).and_then(|rows| rows.get(key)) {
            Some(v) => Ok(v.clone()),
            None => self.inner.get(table, key),
        }
    }

    fn get_with(
        &mut self,
        table: Table,
        key: &[u8],
        f: &mut dyn FnMut(Option<&[u8]>),
    ) -> Result<(), StoreError> {
        match self.changes.get(&table).and_then(|rows| rows.get(key)) {
            Some(v) => {
                f(v.as_deref());
                Ok(())
            }
            None => self.inner.get_with(table, key, f),
        }
    }

    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.put_vec(table, key, value.to_vec())
    }

    fn put_vec(&mut self, table: Table, key: &[u8], value: Vec<u8>) -> Result<(), StoreError> {
        self.changes
            .entry(table)
            .or_default()
            .insert(key.to_vec(), Some(value));
        Ok(())
    }

    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StoreError> {
        self.changes
            .entry(table)
            .or_default()
            .insert(key.to_vec(), None);
        Ok(())
    }

    fn scan(&mut self, table: Table) -> Result<Vec<Row>, StoreError> {
        let mut rows: BTreeMap<Vec<u8>, Vec<u8>> = self.inner.scan(table)?.into_iter().collect();
        for (key, value) in self.changes.get(&table).into_iter().flatten() {
            match value {
                Some(v) => rows.insert(key.clone(), v.clone()),
                None => rows.remove(key),
            };
        }
        Ok(rows.into_iter().collect())
    }
}
