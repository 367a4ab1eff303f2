//! A peer's sessions in the store: an index row per peer, a row per session and a row per
//! ratchet key with skipped keys. A message reads the index, then only the session the
//! header names (spec §4), and writes back only the rows whose bytes changed; what one peer
//! can make the store hold is bounded.
//!
//! ```text
//! index   (table sessions,       key = address)
//!         = next slot (u32) || has_current (flag) || count (u8, <= 41) || entry*
//! entry   = slot (u32) || base key (32) || remote IK (32) || has_DHr (flag) || [DHr (32)]
//!           || runs (u16) || (ratchet key (32) || keys (u16))*
//! session (table session_states, key = address || slot)
//!         = generation (u64) || has_bulk (flag) || a session without skipped keys and
//!           without its large fields
//! bulk    (table session_states, key = address || slot || 0x01), when has_bulk
//!         = generation (u64) || the session's large fields
//! run     (table skipped_keys,   key = address || slot || ratchet key): (N (u32) || MK (32))*
//! ```
//!
//! The large fields (a pending PreKeyMessage's KEM ciphertext, the PQ ratchet's ML-KEM seed,
//! `ek` or `ct`: up to 2.8 KiB) stay the same for many messages, so they have a row of their
//! own, written only when they change; a steady message rewrites the session row alone
//! (about 300 bytes). The generation, raised whenever the bulk row is written, is in both
//! rows, so a bulk row that is not the one its session row was written with is corrupt.
//!
//! The entries list the current session first (when there is one), then the archived ones
//! newest first, like [`crate::SessionRecord`]. The index carries what routing needs (the
//! base key and identity a PreKeyMessage names, the chains a Message may belong to), so no
//! other session is read to route a message.

use zeroize::Zeroizing;

use super::AccountError;
use super::Address;
use crate::codec::{Reader, Writer};
use crate::constants::{MAX_ARCHIVED_SESSIONS, MAX_STORED_SKIPPED, MAX_STORED_SKIPPED_PER_PEER};
use crate::ratchet::skipped_keys::SkippedKey;
use crate::session::Session;
use crate::session_record::message_candidates;
use crate::session_serialization::{
    run_from_bytes, run_to_bytes, state_bulk, state_bulk_is, state_fields, state_from_parts,
};
use crate::store::{SealedTx, Shared, StoreError, Table};

fn corrupt(table: Table) -> AccountError {
    StoreError::Corrupt {
        table: table.name(),
    }
    .into()
}

/// What the index knows of one session.
#[derive(Clone, PartialEq, Eq)]
struct Entry {
    slot: u32,
    base_key: [u8; 32],
    identity: [u8; 32],
    remote_key: Option<[u8; 32]>,
    /// `(ratchet key, number of keys)`, oldest first.
    runs: Vec<([u8; 32], u16)>,
}

impl Entry {
    fn of(slot: u32, session: &Session) -> Self {
        Self {
            slot,
            base_key: session.base_key,
            identity: *session.remote_identity.as_bytes(),
            remote_key: session.ratchet.remote_key,
            runs: Vec::new(),
        }
    }

    fn knows_chain(&self, ratchet_key: &[u8; 32]) -> bool {
        self.remote_key.as_ref() == Some(ratchet_key)
            || self.runs.iter().any(|(k, _)| k == ratchet_key)
    }
}

/// A peer's index row, read once per operation and written back only if it changed.
pub(crate) struct PeerSessions {
    peer: Vec<u8>,
    next_slot: u32,
    has_current: bool,
    entries: Vec<Entry>,
    stored: Shared,
}

/// A run's row as read: its ratchet key and sealed-open bytes.
type StoredRun = ([u8; 32], Zeroizing<Vec<u8>>);

/// One session read from its rows, with the bytes it was read from.
pub(crate) struct LoadedSession {
    position: usize,
    pub(crate) session: Session,
    /// The session row as read (empty for a new session), shared with the store's cache.
    state: Shared,
    /// The bulk row as read (empty if none), and the generation.
    bulk: Shared,
    generation: u64,
    /// The runs as read, or `None` when they were not read (encryption needs none).
    runs: Option<Vec<StoredRun>>,
}

impl PeerSessions {
    /// Reads the index of `peer` (an empty one if the peer has no session).
    pub(crate) fn load(tx: &mut SealedTx<'_>, peer: &Address) -> Result<Self, AccountError> {
        let peer = peer.to_bytes();
        let Some(bytes) = tx.get_shared(Table::Sessions, &peer)? else {
            return Ok(Self {
                peer,
                next_slot: 0,
                has_current: false,
                entries: Vec::new(),
                stored: Shared::default(),
            });
        };
        let (next_slot, has_current, entries) =
            decode_index(&bytes).ok_or_else(|| corrupt(Table::Sessions))?;
        Ok(Self {
            peer,
            next_slot,
            has_current,
            entries,
            stored: bytes,
        })
    }

    fn state_key(&self, slot: u32) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.peer.len() + 4);
        k.put(&self.peer);
        k.put_u32(slot);
        k
    }

    fn bulk_key(&self, slot: u32) -> Vec<u8> {
        let mut k = self.state_key(slot);
        k.put_u8(BULK);
        k
    }

    fn run_key(&self, slot: u32, ratchet_key: &[u8; 32]) -> Vec<u8> {
        let mut k = self.state_key(slot);
        k.put(ratchet_key);
        k
    }

    /// The position of the current session, if any.
    pub(crate) fn current(&self) -> Option<usize> {
        self.has_current.then_some(0)
    }

    /// The identity key the current session was made with, if there is a current session.
    pub(crate) fn current_identity(&self) -> Option<&[u8; 32]> {
        self.entries
            .first()
            .filter(|_| self.has_current)
            .map(|e| &e.identity)
    }

    /// Archives the current session, if any, so that nothing is sent on it again (spec
    /// §11: its peer identity is no longer the accepted one); it stays in the index for
    /// routing, and the caller's identity checks refuse what it would decrypt.
    pub(crate) fn archive_current(&mut self, tx: &mut SealedTx<'_>) -> Result<(), AccountError> {
        if self.has_current {
            self.has_current = false;
            self.save(tx)?;
        }
        Ok(())
    }

    /// The session a PreKeyMessage with this base key and raw `IK_A` started, if any. The
    /// bytes are compared as they arrived: the stored identity was validated once, when
    /// the session was made, so a repeated PreKeyMessage costs no point decoding.
    pub(crate) fn find_prekey_session(
        &self,
        base_key: &[u8; 32],
        identity: &[u8; 32],
    ) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.base_key == *base_key && e.identity == *identity)
    }

    /// The positions a Message with `ratchet_key` is tried on (spec §4).
    pub(crate) fn message_candidates(&self, ratchet_key: &[u8; 32]) -> [Option<usize>; 2] {
        message_candidates(
            self.entries.iter().map(|e| e.knows_chain(ratchet_key)),
            self.has_current,
        )
    }

    /// Reads the session at `position`, with its skipped keys if `with_runs`. A session or
    /// run the index lists but the store lacks is corruption, never an empty slot.
    pub(crate) fn read(
        &self,
        tx: &mut SealedTx<'_>,
        position: usize,
        with_runs: bool,
    ) -> Result<LoadedSession, AccountError> {
        let entry = self
            .entries
            .get(position)
            .ok_or_else(|| corrupt(Table::Sessions))?;
        let state = tx
            .get_shared(Table::SessionStates, &self.state_key(entry.slot))?
            .ok_or_else(|| corrupt(Table::SessionStates))?;
        let (generation, has_bulk, fields) =
            split_state_row(&state).ok_or_else(|| corrupt(Table::SessionStates))?;
        let bulk = if has_bulk {
            let row = tx
                .get_shared(Table::SessionStates, &self.bulk_key(entry.slot))?
                .ok_or_else(|| corrupt(Table::SessionStates))?;
            match row.split_first_chunk::<8>() {
                Some((g, _)) if u64::from_be_bytes(*g) == generation => row,
                _ => return Err(corrupt(Table::SessionStates)),
            }
        } else {
            Shared::default()
        };
        let mut session = state_from_parts(fields, bulk_fields(&bulk))
            .map_err(|_| corrupt(Table::SessionStates))?;
        if session.base_key != entry.base_key
            || session.remote_identity.as_bytes() != &entry.identity
        {
            return Err(corrupt(Table::SessionStates));
        }
        // Only the most recently archived session keeps its PQ state (spec §14); an older
        // one that decrypts is written back without it.
        if position > usize::from(self.has_current) {
            session.ratchet.pq.drop_state();
        }
        let runs = if with_runs {
            let mut runs = Vec::with_capacity(entry.runs.len());
            let mut keys: Vec<SkippedKey> = Vec::new();
            for (ratchet_key, count) in &entry.runs {
                let bytes = tx
                    .get(Table::SkippedKeys, &self.run_key(entry.slot, ratchet_key))?
                    .ok_or_else(|| corrupt(Table::SkippedKeys))?;
                let run =
                    run_from_bytes(ratchet_key, &bytes).map_err(|_| corrupt(Table::SkippedKeys))?;
                if run.len() != usize::from(*count) {
                    return Err(corrupt(Table::SkippedKeys));
                }
                keys.extend(run);
                runs.push((*ratchet_key, bytes));
            }
            session.ratchet.skipped.extend(keys);
            Some(runs)
        } else {
            None
        };
        Ok(LoadedSession {
            position,
            session,
            state,
            bulk,
            generation,
            runs,
        })
    }

    /// Adds a new session as the current one (the previous current is archived, and
    /// sessions beyond the archive's limit are deleted with their rows). Commit it with
    /// [`PeerSessions::commit`].
    pub(crate) fn insert_new(
        &mut self,
        tx: &mut SealedTx<'_>,
        session: Session,
    ) -> Result<LoadedSession, AccountError> {
        let slot = self.next_slot;
        self.next_slot = self.next_slot.wrapping_add(1);
        self.entries.insert(0, Entry::of(slot, &session));
        self.has_current = true;
        while self.entries.len() > MAX_ARCHIVED_SESSIONS + 1 {
            if let Some(dropped) = self.entries.pop() {
                self.delete_rows(tx, &dropped)?;
            }
        }
        Ok(LoadedSession {
            position: 0,
            session,
            state: Shared::default(),
            bulk: Shared::default(),
            generation: 0,
            runs: Some(Vec::new()),
        })
    }

    fn delete_rows(&self, tx: &mut SealedTx<'_>, entry: &Entry) -> Result<(), AccountError> {
        tx.delete(Table::SessionStates, &self.state_key(entry.slot))?;
        tx.delete(Table::SessionStates, &self.bulk_key(entry.slot))?;
        for (ratchet_key, _) in &entry.runs {
            tx.delete(Table::SkippedKeys, &self.run_key(entry.slot, ratchet_key))?;
        }
        Ok(())
    }

    /// Writes back a session that encrypted or decrypted: its row and the runs whose bytes
    /// changed; makes it current; keeps the peer within its skipped-key budget; and writes
    /// the index if it changed.
    pub(crate) fn commit(
        &mut self,
        tx: &mut SealedTx<'_>,
        loaded: LoadedSession,
    ) -> Result<(), AccountError> {
        let LoadedSession {
            position,
            session,
            state,
            bulk,
            mut generation,
            runs,
        } = loaded;
        let slot = self
            .entries
            .get(position)
            .map(|e| e.slot)
            .ok_or_else(|| corrupt(Table::Sessions))?;
        // The large fields are compared in place and written only if they changed (a new
        // session has no rows yet: everything is written).
        let mut has_bulk = !bulk.is_empty();
        if state.is_empty() || !state_bulk_is(&session, bulk_fields(&bulk)) {
            generation = generation.wrapping_add(1);
            let new_bulk = state_bulk(&session);
            has_bulk = !new_bulk.is_empty();
            if has_bulk {
                let mut row = Zeroizing::new(Vec::with_capacity(8 + new_bulk.len()));
                row.put_u64(generation);
                row.put(&new_bulk);
                tx.put_owned(Table::SessionStates, &self.bulk_key(slot), row)?;
            } else {
                tx.delete(Table::SessionStates, &self.bulk_key(slot))?;
            }
        }
        let mut prefix = Vec::with_capacity(9);
        prefix.put_u64(generation);
        prefix.put_u8(u8::from(has_bulk));
        let new_state = state_fields(&session, &prefix);
        if **new_state != **state {
            tx.put_owned(Table::SessionStates, &self.state_key(slot), new_state)?;
        }
        let mut entry = Entry::of(slot, &session);
        match runs {
            Some(old) => {
                for (ratchet_key, keys) in session.ratchet.skipped.groups() {
                    let bytes = run_to_bytes(&keys);
                    let unchanged = old.iter().any(|(k, b)| *k == ratchet_key && **b == *bytes);
                    if !unchanged {
                        tx.put(
                            Table::SkippedKeys,
                            &self.run_key(slot, &ratchet_key),
                            &bytes,
                        )?;
                    }
                    // At most MAX_STORED_SKIPPED keys per session, so it fits a u16.
                    let count = u16::try_from(keys.len().min(MAX_STORED_SKIPPED)).unwrap_or(0);
                    entry.runs.push((ratchet_key, count));
                }
                for (ratchet_key, _) in &old {
                    if !entry.runs.iter().any(|(k, _)| k == ratchet_key) {
                        tx.delete(Table::SkippedKeys, &self.run_key(slot, ratchet_key))?;
                    }
                }
            }
            None => {
                entry.runs = self
                    .entries
                    .get(position)
                    .map(|e| e.runs.clone())
                    .unwrap_or_default();
            }
        }
        // The session that just worked becomes current (spec §4), as in `SessionRecord`.
        if position < self.entries.len() {
            self.entries.remove(position);
        }
        self.entries.insert(0, entry);
        self.has_current = true;
        self.keep_within_budget(tx)?;
        self.save(tx)
    }

    /// Drops the oldest runs of the oldest archived sessions until the peer holds at most
    /// `MAX_STORED_SKIPPED_PER_PEER` skipped keys. The current session keeps its keys.
    fn keep_within_budget(&mut self, tx: &mut SealedTx<'_>) -> Result<(), AccountError> {
        let mut total: usize = self
            .entries
            .iter()
            .flat_map(|e| e.runs.iter())
            .map(|(_, n)| usize::from(*n))
            .sum();
        while total > MAX_STORED_SKIPPED_PER_PEER {
            let skip = usize::from(self.has_current);
            let Some(entry) = self
                .entries
                .iter_mut()
                .skip(skip)
                .rev()
                .find(|e| !e.runs.is_empty())
            else {
                break;
            };
            let (ratchet_key, count) = entry.runs.remove(0);
            let slot = entry.slot;
            tx.delete(Table::SkippedKeys, &self.run_key(slot, &ratchet_key))?;
            total = total.saturating_sub(usize::from(count));
        }
        Ok(())
    }

    fn save(&mut self, tx: &mut SealedTx<'_>) -> Result<(), AccountError> {
        let bytes = encode_index(self.next_slot, self.has_current, &self.entries);
        if bytes.as_slice() != self.stored.as_slice() {
            tx.put(Table::Sessions, &self.peer, &bytes)?;
            self.stored = Shared::new(Zeroizing::new(bytes));
        }
        Ok(())
    }
}

/// The last byte of a bulk row's key (a session row's key ends with its slot).
const BULK: u8 = 0x01;

/// The large fields in a bulk row as read (after its generation; none if there is no row).
fn bulk_fields(row: &[u8]) -> &[u8] {
    row.get(8..).unwrap_or_default()
}

/// A session row: `(generation, has_bulk, the session's fields)`.
fn split_state_row(row: &[u8]) -> Option<(u64, bool, &[u8])> {
    let (generation, rest) = row.split_first_chunk::<8>()?;
    let (has_bulk, fields) = rest.split_first()?;
    let has_bulk = match has_bulk {
        0 => false,
        1 => true,
        _ => return None,
    };
    Some((u64::from_be_bytes(*generation), has_bulk, fields))
}

fn encode_index(next_slot: u32, has_current: bool, entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(6 + entries.len() * 80);
    out.put_u32(next_slot);
    out.put_u8(u8::from(has_current));
    // At most 41 entries (the current session and 40 archived).
    out.put_u8(u8::try_from(entries.len()).unwrap_or(u8::MAX));
    for e in entries {
        out.put_u32(e.slot);
        out.put(&e.base_key);
        out.put(&e.identity);
        out.put_u8(u8::from(e.remote_key.is_some()));
        if let Some(k) = &e.remote_key {
            out.put(k);
        }
        out.put_u16(u16::try_from(e.runs.len()).unwrap_or(u16::MAX));
        for (k, n) in &e.runs {
            out.put(k);
            out.put_u16(*n);
        }
    }
    out
}

fn decode_index(bytes: &[u8]) -> Option<(u32, bool, Vec<Entry>)> {
    let mut r = Reader::new(bytes, "session index");
    let next_slot = r.u32().ok()?;
    let has_current = r.flag().ok()?;
    let count = usize::from(r.u8().ok()?);
    if count > MAX_ARCHIVED_SESSIONS + 1 {
        return None;
    }
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let slot = r.u32().ok()?;
        let base_key = r.array().ok()?;
        let identity = r.array().ok()?;
        let remote_key = if r.flag().ok()? {
            Some(r.array().ok()?)
        } else {
            None
        };
        let runs_len = usize::from(r.u16().ok()?);
        if runs_len > MAX_STORED_SKIPPED {
            return None;
        }
        let mut runs = Vec::with_capacity(runs_len);
        for _ in 0..runs_len {
            runs.push((r.array().ok()?, r.u16().ok()?));
        }
        entries.push(Entry {
            slot,
            base_key,
            identity,
            remote_key,
            runs,
        });
    }
    r.finish().ok()?;
    Some((next_slot, has_current, entries))
}
