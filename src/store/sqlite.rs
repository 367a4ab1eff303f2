//! The SQLite store (rusqlite, SQLite compiled in). One table of blinded keys and sealed
//! values; WAL journaling with full sync, so a committed transaction survives a crash or a
//! power loss; `BEGIN IMMEDIATE` for every transaction, so two processes on one file (an
//! app and its notification extension) take turns instead of overwriting each other.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{RawTransaction, Row, Store, StoreError, Table};

/// A store in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    /// Idle connections, reused; one is opened per concurrent transaction.
    pool: Mutex<Vec<Connection>>,
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Reads through a memory map instead of a read system call per page.
    conn.pragma_update(None, "mmap_size", 268_435_456)?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS records (
            tbl TEXT NOT NULL,
            key BLOB NOT NULL,
            value BLOB NOT NULL,
            PRIMARY KEY (tbl, key)
        ) WITHOUT ROWID;",
    )?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let first = open_connection(&path)?;
        Ok(Self {
            path,
            pool: Mutex::new(vec![first]),
        })
    }

    fn take_connection(&self) -> Result<Connection, StoreError> {
        let idle = self
            .pool
            .lock()
            .map_err(|_| StoreError::Database("connection pool lock poisoned".into()))?
            .pop();
        match idle {
            Some(c) => Ok(c),
            None => open_connection(&self.path),
        }
    }

    fn return_connection(&self, conn: Connection) {
        if let Ok(mut pool) = self.pool.lock() {
            pool.push(conn);
        }
    }
}

struct SqliteTx<'a> {
    tx: rusqlite::Transaction<'a>,
}

impl RawTransaction for SqliteTx<'_> {
    fn get(&mut self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT value FROM records WHERE tbl = ?1 AND key = ?2")?;
        Ok(stmt
            .query_row(params![table.name(), key], |r| r.get(0))
            .optional()?)
    }

    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO records (tbl, key, value) VALUES (?1, ?2, ?3)",
        )?;
        stmt.execute(params![table.name(), key, value])?;
        Ok(())
    }

    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached("DELETE FROM records WHERE tbl = ?1 AND key = ?2")?;
        stmt.execute(params![table.name(), key])?;
        Ok(())
    }

    fn scan(&mut self, table: Table) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT key, value FROM records WHERE tbl = ?1 ORDER BY key")?;
        let rows = stmt.query_map(params![table.name()], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

impl Store for SqliteStore {
    fn write(
        &self,
        f: &mut dyn FnMut(&mut dyn RawTransaction) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut conn = self.take_connection()?;
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut t = SqliteTx { tx };
            f(&mut t)?;
            t.tx.commit()?;
            Ok(())
        })();
        self.return_connection(conn);
        result
    }
}
