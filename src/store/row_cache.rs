//! A memo of the sealing layer's two deterministic steps, kept per account: the blinded row
//! key of a logical key (an HMAC), and the plaintext of the sealed bytes last read or
//! written at that row (an AES-GCM open).
//!
//! A hit needs the backend's current bytes to equal, byte for byte, bytes this account
//! itself sealed or authenticated for that very row: AES-GCM decryption is a function of its
//! inputs, so the plaintext is the one a full open would give. Anything else (a row written
//! by another process, a damaged or rolled-back row, a write of a transaction that did not
//! commit) differs in its bytes, since every seal draws a fresh nonce, and is opened and
//! checked in full. The cache therefore changes no result, only the cost of reading rows this
//! account wrote itself: the Account's steady state.
//!
//! Bounded: at most [`MAX_ENTRIES`] rows and [`MAX_BYTES`] bytes; past either, it is emptied
//! (plaintexts are erased on drop). A deleted row's plaintext is dropped at once.

use std::collections::HashMap;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::{StoreError, Table};

/// The blinded row key's length.
pub(super) const ROW_KEY_LEN: usize = 16;
const MAX_ENTRIES: usize = 4096;
const MAX_BYTES: usize = 1 << 20;
/// Larger values are not kept (a long inbox body is read once, on acknowledgement).
const MAX_VALUE: usize = 16 * 1024;

/// A plaintext shared between the cache and its readers: reading one copies nothing, and
/// it is erased when the last holder drops it.
pub(crate) type Shared = Arc<Zeroizing<Vec<u8>>>;

struct Opened {
    sealed: Vec<u8>,
    plain: Shared,
}

struct Entry {
    row: [u8; ROW_KEY_LEN],
    opened: Option<Opened>,
}

impl Entry {
    fn size(key: &[u8], opened: Option<&Opened>) -> usize {
        key.len() + ROW_KEY_LEN + opened.map_or(0, |o| o.sealed.len() + o.plain.len())
    }
}

/// Per table, by logical key.
pub(super) struct RowCache {
    tables: [HashMap<Vec<u8>, Entry>; Table::COUNT],
    entries: usize,
    bytes: usize,
}

impl Default for RowCache {
    fn default() -> Self {
        Self {
            tables: std::array::from_fn(|_| HashMap::new()),
            entries: 0,
            bytes: 0,
        }
    }
}

/// Whether `table`'s rows are kept: the ones an operation reads again and again (also to
/// find them absent, as a user without a pinned identity), and the inbox, whose entry a
/// decryption writes and its acknowledgement reads back. Not the records written once per
/// message and read rarely (statuses, logical messages, retention pages), which would only
/// push the others out.
pub(super) fn keeps(table: Table) -> bool {
    matches!(
        table,
        Table::Meta
            | Table::Sessions
            | Table::SessionStates
            | Table::SkippedKeys
            | Table::PeerIdentities
            | Table::Conversations
            | Table::Inbox
            | Table::UserIdentities
            | Table::DeviceLists
            | Table::Groups
            | Table::GroupKeys
    )
}

/// What a read found at a row, compared with what the cache remembers there.
pub(super) enum Found {
    /// No row.
    Absent,
    /// The bytes this account last sealed or opened there: their plaintext.
    Known(Shared),
    /// Other bytes, to open in full.
    Sealed(Vec<u8>),
}

impl RowCache {
    /// The blinded row key of `(table, key)`, if known.
    pub(super) fn row(&self, table: Table, key: &[u8]) -> Option<[u8; ROW_KEY_LEN]> {
        self.tables.get(table.index())?.get(key).map(|e| e.row)
    }

    /// The blinded row key of `(table, key)`: remembered, or computed by `compute` (and
    /// remembered if the table is kept).
    pub(super) fn row_or(
        &mut self,
        table: Table,
        key: &[u8],
        compute: impl FnOnce() -> [u8; ROW_KEY_LEN],
    ) -> [u8; ROW_KEY_LEN] {
        if let Some(row) = self.row(table, key) {
            return row;
        }
        let row = compute();
        self.remember(table, key, row, None);
        row
    }

    /// Reads `(table, key)`: its row key (remembered, or computed by `compute`), and what
    /// `backend` finds at that row compared with the bytes remembered there. One lookup
    /// when the row is known; the backend lends its bytes to the comparison.
    pub(super) fn read(
        &mut self,
        table: Table,
        key: &[u8],
        compute: impl FnOnce() -> [u8; ROW_KEY_LEN],
        backend: impl FnOnce(
            &[u8; ROW_KEY_LEN],
            &mut dyn FnMut(Option<&[u8]>),
        ) -> Result<(), StoreError>,
    ) -> Result<([u8; ROW_KEY_LEN], Found), StoreError> {
        let mut found = Found::Absent;
        if let Some(entry) = self
            .tables
            .get(table.index())
            .and_then(|rows| rows.get(key))
        {
            let row = entry.row;
            backend(&row, &mut |value| {
                found = Self::against(entry.opened.as_ref(), value);
            })?;
            return Ok((row, found));
        }
        let row = compute();
        self.remember(table, key, row, None);
        backend(&row, &mut |value| found = Self::against(None, value))?;
        Ok((row, found))
    }

    /// What the backend's `value` is, against the bytes remembered at its row.
    fn against(opened: Option<&Opened>, value: Option<&[u8]>) -> Found {
        match (value, opened) {
            (None, _) => Found::Absent,
            (Some(value), Some(o)) if o.sealed == value => Found::Known(Arc::clone(&o.plain)),
            (Some(value), _) => Found::Sealed(value.to_vec()),
        }
    }

    /// The plaintext of `sealed` at `(table, key)` if these are the bytes last seen there.
    #[cfg(test)]
    pub(super) fn plain(&self, table: Table, key: &[u8], sealed: &[u8]) -> Option<Shared> {
        let opened = self.tables.get(table.index())?.get(key)?.opened.as_ref();
        match Self::against(opened, Some(sealed)) {
            Found::Known(plain) => Some(plain),
            Found::Absent | Found::Sealed(_) => None,
        }
    }

    /// Records that `(table, key)` is at `row`, holding `sealed` which opens to `plain`
    /// (`None`: nothing, or not kept).
    pub(super) fn remember(
        &mut self,
        table: Table,
        key: &[u8],
        row: [u8; ROW_KEY_LEN],
        opened: Option<(Vec<u8>, Shared)>,
    ) {
        if !keeps(table) {
            return;
        }
        let opened = opened
            .filter(|(_, plain)| plain.len() <= MAX_VALUE)
            .map(|(sealed, plain)| Opened { sealed, plain });
        let size = Entry::size(key, opened.as_ref());
        let entry = Entry { row, opened };
        let Some(rows) = self.tables.get_mut(table.index()) else {
            return;
        };
        match rows.get_mut(key) {
            Some(old) => {
                self.bytes = self
                    .bytes
                    .saturating_sub(Entry::size(key, old.opened.as_ref()))
                    .saturating_add(size);
                *old = entry;
            }
            None => {
                if self.entries >= MAX_ENTRIES || self.bytes.saturating_add(size) > MAX_BYTES {
                    self.clear();
                }
                if let Some(rows) = self.tables.get_mut(table.index()) {
                    rows.insert(key.to_vec(), entry);
                }
                self.entries += 1;
                self.bytes = self.bytes.saturating_add(size);
            }
        }
        if self.bytes > MAX_BYTES {
            self.clear();
        }
    }

    /// Lets go of `(table, key)`.
    pub(super) fn forget(&mut self, table: Table, key: &[u8]) {
        let Some(rows) = self.tables.get_mut(table.index()) else {
            return;
        };
        if let Some(old) = rows.remove(key) {
            self.entries = self.entries.saturating_sub(1);
            self.bytes = self
                .bytes
                .saturating_sub(Entry::size(key, old.opened.as_ref()));
        }
    }

    fn clear(&mut self) {
        for rows in &mut self.tables {
            rows.clear();
        }
        self.entries = 0;
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hit_needs_the_same_bytes_and_deletes_forget_the_plaintext() {
        let mut cache = RowCache::default();
        let plain = || Arc::new(Zeroizing::new(b"plain".to_vec()));
        cache.remember(Table::Meta, b"k", [1; 16], Some((vec![1, 2, 3], plain())));
        assert_eq!(cache.row(Table::Meta, b"k"), Some([1; 16]));
        assert_eq!(cache.row(Table::Sessions, b"k"), None);
        cache.remember(
            Table::Outgoing,
            b"k",
            [1; 16],
            Some((vec![1, 2, 3], plain())),
        );
        assert_eq!(cache.row(Table::Outgoing, b"k"), None);
        assert_eq!(
            cache.plain(Table::Meta, b"k", &[1, 2, 3]).as_deref(),
            Some(&*plain())
        );
        assert!(cache.plain(Table::Meta, b"k", &[1, 2, 4]).is_none());
        cache.remember(Table::Meta, b"k", [1; 16], None);
        assert!(cache.plain(Table::Meta, b"k", &[1, 2, 3]).is_none());
        assert_eq!(cache.row(Table::Meta, b"k"), Some([1; 16]));
    }

    #[test]
    fn it_stays_within_its_bounds() {
        let mut cache = RowCache::default();
        for i in 0..(MAX_ENTRIES as u32 * 3) {
            let key = i.to_be_bytes();
            let value = Arc::new(Zeroizing::new(vec![7; 600]));
            cache.remember(Table::Sessions, &key, [0; 16], Some((vec![0; 600], value)));
            assert!(cache.entries <= MAX_ENTRIES);
            assert!(cache.bytes <= MAX_BYTES);
        }
        let big = vec![0u8; MAX_VALUE + 1];
        let value = Arc::new(Zeroizing::new(big.clone()));
        cache.remember(Table::Sessions, b"big", [0; 16], Some((big.clone(), value)));
        assert!(cache.plain(Table::Sessions, b"big", &big).is_none());
    }
}
