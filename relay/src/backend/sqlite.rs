//! The embedded backend: one SQLite database in WAL mode with `synchronous = FULL`, so a
//! send is acknowledged only after its commit is on disk. It stores routing data and
//! public keys only: addresses, identity keys, prekey uploads, certificates, device lists,
//! and wires as the opaque bytes the devices sent.

use std::path::Path;
use std::sync::{Arc, Mutex};

use bluetick::{Address, MessageId, PreKeyUpload};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{trim_front, BackendError, Binding, EnqueueError, QueueLimits, Queued, RelayBackend};

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA secure_delete = ON;
CREATE TABLE IF NOT EXISTS devices (
    user BLOB NOT NULL,
    device INTEGER NOT NULL,
    identity BLOB NOT NULL,
    prekeys BLOB,
    certificate BLOB,
    queued_count INTEGER NOT NULL DEFAULT 0,
    queued_bytes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user, device)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS device_lists (
    user BLOB PRIMARY KEY,
    list BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user BLOB NOT NULL,
    device INTEGER NOT NULL,
    id BLOB NOT NULL,
    sender_user BLOB NOT NULL,
    sender_device INTEGER NOT NULL,
    wire BLOB,
    stored_ms INTEGER NOT NULL,
    UNIQUE (user, device, id)
);
CREATE INDEX IF NOT EXISTS queue_waiting ON queue (user, device, seq) WHERE wire IS NOT NULL;
CREATE INDEX IF NOT EXISTS queue_age ON queue (stored_ms);
";

/// The SQLite backend. One connection behind a mutex: SQLite serializes writers anyway,
/// and every call is a short transaction.
pub struct SqliteBackend {
    db: Mutex<Connection>,
    pending: Mutex<Vec<Job>>,
}

impl core::fmt::Debug for SqliteBackend {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SqliteBackend").finish_non_exhaustive()
    }
}

fn ms(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl SqliteBackend {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, BackendError> {
        let db = Connection::open(path)?;
        db.busy_timeout(std::time::Duration::from_secs(5))?;
        db.execute_batch(SCHEMA)?;
        Ok(Self {
            db: Mutex::new(db),
            pending: Mutex::new(Vec::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction half-done (SQLite
        // rolls it back), so a poisoned lock is still usable.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl RelayBackend for SqliteBackend {
    fn bind(
        &self,
        address: &Address,
        identity: &[u8; 32],
        max_devices: usize,
    ) -> Result<Binding, BackendError> {
        let mut db = self.lock();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let bound: Option<Vec<u8>> = tx
            .query_row(
                "SELECT identity FROM devices WHERE user = ?1 AND device = ?2",
                params![address.user, address.device],
                |r| r.get(0),
            )
            .optional()?;
        let outcome = match bound {
            Some(k) if k == identity => Binding::Same,
            Some(_) => Binding::Other,
            None => {
                let n: i64 = tx.query_row(
                    "SELECT COUNT(*) FROM devices WHERE user = ?1",
                    params![address.user],
                    |r| r.get(0),
                )?;
                if usize::try_from(n).unwrap_or(usize::MAX) >= max_devices {
                    Binding::TooManyDevices
                } else {
                    tx.execute(
                        "INSERT INTO devices (user, device, identity) VALUES (?1, ?2, ?3)",
                        params![address.user, address.device, identity.as_slice()],
                    )?;
                    Binding::New
                }
            }
        };
        tx.commit()?;
        Ok(outcome)
    }

    fn identity(&self, address: &Address) -> Result<Option<[u8; 32]>, BackendError> {
        let db = self.lock();
        let k: Option<Vec<u8>> = db
            .query_row(
                "SELECT identity FROM devices WHERE user = ?1 AND device = ?2",
                params![address.user, address.device],
                |r| r.get(0),
            )
            .optional()?;
        k.map(|k| <[u8; 32]>::try_from(k.as_slice()).map_err(|_| BackendError::Corrupt("device")))
            .transpose()
    }

    fn devices(&self, user: &[u8]) -> Result<Vec<u32>, BackendError> {
        let db = self.lock();
        let mut stmt =
            db.prepare_cached("SELECT device FROM devices WHERE user = ?1 ORDER BY device")?;
        let rows = stmt.query_map(params![user], |r| r.get::<_, u32>(0))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn store_prekeys(
        &self,
        address: &Address,
        upload: PreKeyUpload,
        max_one_time: usize,
    ) -> Result<(), BackendError> {
        let mut db = self.lock();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let old: Option<Option<Vec<u8>>> = tx
            .query_row(
                "SELECT prekeys FROM devices WHERE user = ?1 AND device = ?2",
                params![address.user, address.device],
                |r| r.get(0),
            )
            .optional()?;
        let mut merged = match old.flatten() {
            Some(bytes) => {
                let mut stored = PreKeyUpload::from_bytes(&bytes)
                    .map_err(|_| BackendError::Corrupt("prekeys"))?;
                stored.merge(upload);
                stored
            }
            None => upload,
        };
        trim_front(&mut merged.one_time_prekeys, max_one_time);
        trim_front(&mut merged.one_time_pq_prekeys, max_one_time);
        tx.execute(
            "UPDATE devices SET prekeys = ?3 WHERE user = ?1 AND device = ?2",
            params![address.user, address.device, merged.to_bytes()],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn take_bundle(&self, address: &Address) -> Result<Option<Vec<u8>>, BackendError> {
        let mut db = self.lock();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stored: Option<Option<Vec<u8>>> = tx
            .query_row(
                "SELECT prekeys FROM devices WHERE user = ?1 AND device = ?2",
                params![address.user, address.device],
                |r| r.get(0),
            )
            .optional()?;
        let Some(bytes) = stored.flatten() else {
            return Ok(None);
        };
        let mut upload =
            PreKeyUpload::from_bytes(&bytes).map_err(|_| BackendError::Corrupt("prekeys"))?;
        let bundle = upload.take_bundle().to_bytes();
        // The one-time keys just handed out leave the store in the same transaction: no
        // key is handed out twice, even across a crash.
        tx.execute(
            "UPDATE devices SET prekeys = ?3 WHERE user = ?1 AND device = ?2",
            params![address.user, address.device, upload.to_bytes()],
        )?;
        tx.commit()?;
        Ok(Some(bundle))
    }

    fn store_certificate(&self, address: &Address, certificate: &[u8]) -> Result<(), BackendError> {
        self.lock().execute(
            "UPDATE devices SET certificate = ?3 WHERE user = ?1 AND device = ?2",
            params![address.user, address.device, certificate],
        )?;
        Ok(())
    }

    fn certificate(&self, address: &Address) -> Result<Option<Vec<u8>>, BackendError> {
        let c: Option<Option<Vec<u8>>> = self
            .lock()
            .query_row(
                "SELECT certificate FROM devices WHERE user = ?1 AND device = ?2",
                params![address.user, address.device],
                |r| r.get(0),
            )
            .optional()?;
        Ok(c.flatten())
    }

    fn device_list(&self, user: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT list FROM device_lists WHERE user = ?1",
                params![user],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn replace_device_list(
        &self,
        user: &[u8],
        expected: Option<&[u8]>,
        list: &[u8],
    ) -> Result<bool, BackendError> {
        let mut db = self.lock();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: Option<Vec<u8>> = tx
            .query_row(
                "SELECT list FROM device_lists WHERE user = ?1",
                params![user],
                |r| r.get(0),
            )
            .optional()?;
        if current.as_deref() != expected {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO device_lists (user, list) VALUES (?1, ?2)
             ON CONFLICT (user) DO UPDATE SET list = excluded.list",
            params![user, list],
        )?;
        tx.commit()?;
        Ok(true)
    }

    fn enqueue(
        &self,
        sender: &Address,
        recipients: &[Address],
        id: &MessageId,
        wire: &[u8],
        now_ms: u64,
        limits: &QueueLimits,
    ) -> Result<(), EnqueueError> {
        // Group commit: the job waits in `pending`; whoever holds the database next runs
        // every waiting job in one transaction (each in a savepoint of its own, so a
        // refused job leaves the others stored) and pays one durable commit for all.
        let slot: Slot = Arc::default();
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Job {
                sender: sender.clone(),
                recipients: recipients.to_vec(),
                id: *id,
                wire: wire.to_vec(),
                now_ms,
                limits: *limits,
                slot: Arc::clone(&slot),
            });
        let mut db = self.lock();
        if let Some(done) = take(&slot) {
            return done; // committed by the job that held the database before
        }
        let jobs = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        let outcome = run_jobs(&mut db, &jobs);
        for (job, result) in jobs.iter().zip(outcome) {
            *job.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        }
        drop(db);
        take(&slot).unwrap_or_else(|| Err(EnqueueError::Backend("send lost".to_owned())))
    }

    fn pending(
        &self,
        recipient: &Address,
        after: u64,
        limit: usize,
        now_ms: u64,
        limits: &QueueLimits,
    ) -> Result<Vec<Queued>, BackendError> {
        let db = self.lock();
        let mut stmt = db.prepare_cached(
            "SELECT seq, id, sender_user, sender_device, wire FROM queue
             WHERE user = ?1 AND device = ?2 AND seq > ?3 AND wire IS NOT NULL AND stored_ms >= ?4
             ORDER BY seq LIMIT ?5",
        )?;
        let cutoff = ms(now_ms.saturating_sub(limits.max_age_ms));
        let rows = stmt.query_map(
            params![
                recipient.user,
                recipient.device,
                ms(after),
                cutoff,
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, u32>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, id, user, device, wire) = row?;
            let id =
                <[u8; 16]>::try_from(id.as_slice()).map_err(|_| BackendError::Corrupt("queue"))?;
            out.push(Queued {
                seq: u64::try_from(seq).map_err(|_| BackendError::Corrupt("queue"))?,
                id: MessageId(id),
                sender: Address::new(user, device),
                wire,
            });
        }
        Ok(out)
    }

    fn acknowledge(&self, recipient: &Address, ids: &[MessageId]) -> Result<usize, BackendError> {
        let mut db = self.lock();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut n = 0usize;
        for id in ids {
            let len: Option<i64> = tx
                .query_row(
                    "SELECT LENGTH(wire) FROM queue
                     WHERE user = ?1 AND device = ?2 AND id = ?3 AND wire IS NOT NULL",
                    params![recipient.user, recipient.device, id.as_bytes().as_slice()],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(len) = len else { continue };
            // The wire goes; the id stays (until the age limit) so a late resend of the
            // same message is not stored and delivered again.
            tx.execute(
                "UPDATE queue SET wire = NULL WHERE user = ?1 AND device = ?2 AND id = ?3",
                params![recipient.user, recipient.device, id.as_bytes().as_slice()],
            )?;
            tx.execute(
                "UPDATE devices SET queued_count = queued_count - 1, queued_bytes = queued_bytes - ?3
                 WHERE user = ?1 AND device = ?2",
                params![recipient.user, recipient.device, len],
            )?;
            n += 1;
        }
        tx.commit()?;
        Ok(n)
    }

    fn queued(&self, recipient: &Address) -> Result<u64, BackendError> {
        let n: Option<i64> = self
            .lock()
            .query_row(
                "SELECT queued_count FROM devices WHERE user = ?1 AND device = ?2",
                params![recipient.user, recipient.device],
                |r| r.get(0),
            )
            .optional()?;
        Ok(n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
    }

    fn expire(&self, now_ms: u64, limits: &QueueLimits) -> Result<usize, BackendError> {
        let cutoff = ms(now_ms.saturating_sub(limits.max_age_ms));
        let mut db = self.lock();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE devices SET
                queued_count = queued_count - (SELECT COUNT(*) FROM queue q
                    WHERE q.user = devices.user AND q.device = devices.device
                    AND q.wire IS NOT NULL AND q.stored_ms < ?1),
                queued_bytes = queued_bytes - (SELECT COALESCE(SUM(LENGTH(q.wire)), 0) FROM queue q
                    WHERE q.user = devices.user AND q.device = devices.device
                    AND q.wire IS NOT NULL AND q.stored_ms < ?1)
             WHERE EXISTS (SELECT 1 FROM queue q WHERE q.user = devices.user
                    AND q.device = devices.device AND q.stored_ms < ?1)",
            params![cutoff],
        )?;
        let n = tx.execute("DELETE FROM queue WHERE stored_ms < ?1", params![cutoff])?;
        tx.commit()?;
        Ok(n)
    }
}

type Slot = Arc<Mutex<Option<Result<(), EnqueueError>>>>;

/// One send waiting for the next group commit.
struct Job {
    sender: Address,
    recipients: Vec<Address>,
    id: MessageId,
    wire: Vec<u8>,
    now_ms: u64,
    limits: QueueLimits,
    slot: Slot,
}

fn take(slot: &Slot) -> Option<Result<(), EnqueueError>> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// Runs `jobs` in one transaction, each in its own savepoint, and commits once.
fn run_jobs(db: &mut Connection, jobs: &[Job]) -> Vec<Result<(), EnqueueError>> {
    let backend = |e: rusqlite::Error| EnqueueError::Backend(e.to_string());
    let failed_all = |e: rusqlite::Error| {
        let msg = e.to_string();
        jobs.iter()
            .map(|_| Err(EnqueueError::Backend(msg.clone())))
            .collect()
    };
    let mut tx = match db.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return failed_all(e),
    };
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        let result = match tx.savepoint() {
            Ok(mut sp) => match enqueue_one(&mut sp, job) {
                Ok(()) => sp.commit().map_err(backend),
                Err(e) => Err(e), // the savepoint rolls back on drop
            },
            Err(e) => Err(backend(e)),
        };
        results.push(result);
    }
    match tx.commit() {
        Ok(()) => results,
        Err(e) => failed_all(e),
    }
}

/// Stores one send for all its recipients, or for none.
fn enqueue_one(tx: &mut rusqlite::Savepoint<'_>, job: &Job) -> Result<(), EnqueueError> {
    let backend = |e: rusqlite::Error| EnqueueError::Backend(e.to_string());
    let Job {
        sender,
        recipients,
        id,
        wire,
        now_ms,
        limits,
        slot: _,
    } = job;
    let (now_ms, limits) = (*now_ms, limits);
    let len = i64::try_from(wire.len()).unwrap_or(i64::MAX);
    for to in recipients {
        let totals: Option<(i64, i64)> = tx
            .query_row(
                "SELECT queued_count, queued_bytes FROM devices WHERE user = ?1 AND device = ?2",
                params![to.user, to.device],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(backend)?;
        let Some((count, bytes)) = totals else {
            return Err(EnqueueError::UnknownRecipient(to.clone()));
        };
        let seen: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM queue WHERE user = ?1 AND device = ?2 AND id = ?3",
                params![to.user, to.device, id.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        if seen.is_some() {
            continue; // a resend: stored once
        }
        if count.saturating_add(1) > ms(limits.max_count)
            || bytes.saturating_add(len) > ms(limits.max_bytes)
        {
            return Err(EnqueueError::QueueFull(to.clone()));
        }
        tx.execute(
            "INSERT INTO queue (user, device, id, sender_user, sender_device, wire, stored_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                to.user,
                to.device,
                id.as_bytes().as_slice(),
                sender.user,
                sender.device,
                wire,
                ms(now_ms)
            ],
        )
        .map_err(backend)?;
        tx.execute(
            "UPDATE devices SET queued_count = queued_count + 1, queued_bytes = queued_bytes + ?3
                 WHERE user = ?1 AND device = ?2",
            params![to.user, to.device, len],
        )
        .map_err(backend)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn backend() -> (tempfile::TempDir, SqliteBackend) {
        let dir = tempfile::tempdir().unwrap();
        let b = SqliteBackend::open(dir.path().join("relay.db")).unwrap();
        (dir, b)
    }

    #[test]
    fn binding_is_first_come_and_bounded_per_user() {
        let (_d, b) = backend();
        let a = Address::new("alice", 1);
        assert_eq!(b.bind(&a, &[1; 32], 2).unwrap(), Binding::New);
        assert_eq!(b.bind(&a, &[1; 32], 2).unwrap(), Binding::Same);
        assert_eq!(b.bind(&a, &[2; 32], 2).unwrap(), Binding::Other);
        assert_eq!(
            b.bind(&Address::new("alice", 2), &[2; 32], 2).unwrap(),
            Binding::New
        );
        assert_eq!(
            b.bind(&Address::new("alice", 3), &[3; 32], 2).unwrap(),
            Binding::TooManyDevices
        );
        assert_eq!(b.devices(b"alice").unwrap(), [1, 2]);
    }

    #[test]
    fn sends_are_idempotent_limited_and_erased_only_on_acknowledgement() {
        let (_d, b) = backend();
        let (a, bob, carol) = (
            Address::new("alice", 1),
            Address::new("bob", 1),
            Address::new("carol", 1),
        );
        for x in [&a, &bob, &carol] {
            b.bind(x, &[1; 32], 16).unwrap();
        }
        let limits = QueueLimits {
            max_count: 2,
            max_bytes: 1_000,
            max_age_ms: 1_000,
        };
        let w1 = b"wire one".to_vec();
        let id1 = MessageId::of(&w1);
        // Group fan-out: one copy per device; a resend is stored once.
        b.enqueue(&a, &[bob.clone(), carol.clone()], &id1, &w1, 10, &limits)
            .unwrap();
        b.enqueue(&a, &[bob.clone(), carol.clone()], &id1, &w1, 11, &limits)
            .unwrap();
        assert_eq!(b.queued(&bob).unwrap(), 1);
        assert_eq!(b.queued(&carol).unwrap(), 1);
        let got = b.pending(&bob, 0, 10, 20, &limits).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].id, &got[0].sender, &got[0].wire), (id1, &a, &w1));
        // Unknown recipient: nothing stored for anyone.
        let w2 = b"wire two".to_vec();
        let id2 = MessageId::of(&w2);
        assert_eq!(
            b.enqueue(
                &a,
                &[bob.clone(), Address::new("x", 1)],
                &id2,
                &w2,
                12,
                &limits
            ),
            Err(EnqueueError::UnknownRecipient(Address::new("x", 1)))
        );
        assert_eq!(b.queued(&bob).unwrap(), 1);
        // Count limit.
        b.enqueue(&a, std::slice::from_ref(&bob), &id2, &w2, 12, &limits)
            .unwrap();
        let w3 = b"wire three".to_vec();
        assert_eq!(
            b.enqueue(
                &a,
                std::slice::from_ref(&bob),
                &MessageId::of(&w3),
                &w3,
                12,
                &limits
            ),
            Err(EnqueueError::QueueFull(bob.clone()))
        );
        // Acknowledged: gone, and a late resend is not stored again.
        assert_eq!(b.acknowledge(&bob, &[id1, id1]).unwrap(), 1);
        assert_eq!(b.queued(&bob).unwrap(), 1);
        b.enqueue(&a, std::slice::from_ref(&bob), &id1, &w1, 13, &limits)
            .unwrap();
        let got = b.pending(&bob, 0, 10, 20, &limits).unwrap();
        assert_eq!(got.iter().map(|q| q.id).collect::<Vec<_>>(), [id2]);
        // Age: after 1 s the rest expires.
        assert!(b.pending(&bob, 0, 10, 2_000, &limits).unwrap().is_empty());
        assert_eq!(b.expire(2_000, &limits).unwrap(), 3);
        assert_eq!(b.queued(&bob).unwrap(), 0);
        assert_eq!(b.queued(&carol).unwrap(), 0);
    }

    #[test]
    fn concurrent_sends_share_commits_and_a_refused_one_leaves_the_others_stored() {
        let (_d, b) = backend();
        let b = Arc::new(b);
        let (a, bob) = (Address::new("alice", 1), Address::new("bob", 1));
        b.bind(&a, &[1; 32], 16).unwrap();
        b.bind(&bob, &[2; 32], 16).unwrap();
        let limits = QueueLimits::default();
        let threads: Vec<_> = (0..8u8)
            .map(|t| {
                let (b, a, bob) = (Arc::clone(&b), a.clone(), bob.clone());
                std::thread::spawn(move || {
                    (0..25u8)
                        .map(|i| {
                            let wire = vec![0x11, t, i];
                            // Every fifth send also names an unknown device: refused whole.
                            let mut to = vec![bob.clone()];
                            if i % 5 == 0 {
                                to.push(Address::new("ghost", 1));
                            }
                            let r = b.enqueue(&a, &to, &MessageId::of(&wire), &wire, 1, &limits);
                            (i % 5 == 0, r)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for t in threads {
            for (refused, r) in t.join().unwrap() {
                if refused {
                    assert!(matches!(r, Err(EnqueueError::UnknownRecipient(_))), "{r:?}");
                } else {
                    assert_eq!(r, Ok(()));
                }
            }
        }
        assert_eq!(b.queued(&bob).unwrap(), 8 * 20);
        assert_eq!(b.pending(&bob, 0, 1_000, 2, &limits).unwrap().len(), 8 * 20);
    }

    #[test]
    fn device_list_replaced_only_if_unchanged_since_verified() {
        let (_d, b) = backend();
        assert!(b.replace_device_list(b"u", None, b"v1").unwrap());
        assert!(!b.replace_device_list(b"u", None, b"v2").unwrap());
        assert!(b.replace_device_list(b"u", Some(b"v1"), b"v2").unwrap());
        assert_eq!(b.device_list(b"u").unwrap().as_deref(), Some(&b"v2"[..]));
    }
}
