//! The sealing layer: blinds row keys and encrypts every value with keys derived from the
//! app's storage key. A fresh random nonce is drawn for every write, so no nonce is reused
//! under a key (the random-nonce bound of 2^32 writes per key is far beyond what an account
//! writes).
//!
//! The keys are expanded once per account (the AES key schedule, the HMAC key's padded
//! blocks), and nonces come from a ChaCha20 generator of the store's own, seeded by the
//! operating system: sealing makes no system call, and never draws from the generator a
//! caller gave the protocol (a replayed test generator must not repeat store nonces).

use std::sync::{Arc, Mutex};

use chacha20::ChaCha20Rng;
use hmac::{Hmac, KeyInit, Mac};
use rand_core::{CryptoRng, Rng, SeedableRng};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{RawTransaction, StoreError, Table};
use crate::constants::TAG_LEN;
use crate::primitives::aead::AeadKey;
use crate::primitives::kdf::hkdf_sha256;
use crate::primitives::secret::Secret32;

const CONTEXT: &[u8] = b"Bluetick_Store_v1";
pub(crate) use super::row_cache::Shared;
use super::row_cache::{keeps, Found, RowCache, ROW_KEY_LEN};
const NONCE_LEN: usize = 12;

/// An opened record: `(logical key, value)`.
pub type Record = (Vec<u8>, Zeroizing<Vec<u8>>);

/// The keys derived from the app's storage key, expanded, the nonce generator, and the memo
/// of row keys and opened rows ([`RowCache`]). Erased on drop.
pub(crate) struct StorageKeys {
    seal: AeadKey,
    index: Hmac<Sha256>,
    nonces: Mutex<ChaCha20Rng>,
    cache: Mutex<RowCache>,
}

impl core::fmt::Debug for StorageKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StorageKeys(..)")
    }
}

impl StorageKeys {
    pub(crate) fn derive(storage_key: &Secret32) -> Self {
        let mut seal = Secret32::zeroed();
        let mut index = Secret32::zeroed();
        hkdf_sha256(
            &[],
            storage_key.expose(),
            b"Bluetick_Store_Seal_v1",
            seal.expose_mut(),
        );
        hkdf_sha256(
            &[],
            storage_key.expose(),
            b"Bluetick_Store_Index_v1",
            index.expose_mut(),
        );
        let mut seed = Zeroizing::new([0u8; 32]);
        crate::rng::os_rng().fill_bytes(&mut *seed);
        Self {
            seal: AeadKey::new(seal.expose()),
            // HMAC takes keys of any length; a 32-byte key cannot be refused.
            index: <Hmac<Sha256> as KeyInit>::new_from_slice(index.expose())
                .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default())),
            nonces: Mutex::new(ChaCha20Rng::from_seed(*seed)),
            cache: Mutex::new(RowCache::default()),
        }
    }

    /// The cache, even if a thread panicked holding it: it is only a memo, checked on use.
    fn cache(&self) -> std::sync::MutexGuard<'_, RowCache> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The blinded row key of `(table, key)`, from the memo or computed.
    fn row(&self, table: Table, key: &[u8]) -> [u8; ROW_KEY_LEN] {
        self.cache()
            .row_or(table, key, || row_key(self, table, key))
    }

    fn nonce(&self) -> [u8; NONCE_LEN] {
        let mut nonce = [0u8; NONCE_LEN];
        match self.nonces.lock() {
            Ok(mut g) => g.fill_bytes(&mut nonce),
            // A poisoned generator is still a generator; never fall back to a fixed nonce.
            Err(poisoned) => poisoned.into_inner().fill_bytes(&mut nonce),
        }
        nonce
    }
}

/// A write transaction that seals what it writes and opens what it reads. `rng` is the
/// protocol's generator (keys, ratchet steps); store nonces never come from it.
pub(crate) struct SealedTx<'a> {
    pub(crate) raw: &'a mut dyn RawTransaction,
    pub(crate) keys: &'a StorageKeys,
    pub(crate) rng: &'a mut (dyn CryptoRng + Send),
}

fn row_key(keys: &StorageKeys, table: Table, key: &[u8]) -> [u8; ROW_KEY_LEN] {
    let mut mac = keys.index.clone();
    mac.update(table.name().as_bytes());
    mac.update(&[0]);
    mac.update(key);
    let tag = mac.finalize().into_bytes();
    let mut out = [0u8; ROW_KEY_LEN];
    out.copy_from_slice(tag.get(..ROW_KEY_LEN).unwrap_or(&[0u8; ROW_KEY_LEN]));
    out
}

/// The longest associated data: the context, the longest table name, 0x00, a row key.
const MAX_AD_LEN: usize = 64;

/// `CONTEXT || table || 0x00 || row`, on the stack (it is built for every row sealed or
/// opened).
struct AssociatedData {
    bytes: [u8; MAX_AD_LEN],
    len: usize,
}

impl AssociatedData {
    fn new(table: Table, row: &[u8]) -> Self {
        let mut out = Self {
            bytes: [0; MAX_AD_LEN],
            len: 0,
        };
        for part in [CONTEXT, table.name().as_bytes(), &[0], row] {
            let end = out.len + part.len();
            // Every table name and row key fits (checked by a test below).
            if let Some(slot) = out.bytes.get_mut(out.len..end) {
                slot.copy_from_slice(part);
                out.len = end;
            }
        }
        out
    }

    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

fn associated_data(table: Table, row: &[u8]) -> AssociatedData {
    AssociatedData::new(table, row)
}

fn corrupt(table: Table) -> StoreError {
    StoreError::Corrupt {
        table: table.name(),
    }
}

/// Opens a sealed value: `(logical key, value)`.
fn open(keys: &StorageKeys, table: Table, row: &[u8], sealed: &[u8]) -> Result<Record, StoreError> {
    open_checked(keys, table, row, sealed, None)
}

/// Opens a sealed value and checks that the key sealed inside is the one the row stands
/// for: `expected` when the caller asked for that key (a byte comparison), else by
/// recomputing the blinded row key (a scan learns the key from the record).
fn open_checked(
    keys: &StorageKeys,
    table: Table,
    row: &[u8],
    sealed: &[u8],
    expected: Option<&[u8]>,
) -> Result<Record, StoreError> {
    let (nonce, ciphertext) = sealed
        .split_first_chunk::<NONCE_LEN>()
        .ok_or_else(|| corrupt(table))?;
    let split = ciphertext
        .len()
        .checked_sub(TAG_LEN)
        .ok_or_else(|| corrupt(table))?;
    let (ciphertext, tag) = ciphertext.split_at(split);
    let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| corrupt(table))?;
    // Opened in place in an erased-on-drop copy; the tag is checked before any byte is
    // decrypted, so a failure leaves only ciphertext there.
    let mut plain = Zeroizing::new(ciphertext.to_vec());
    keys.seal
        .open_in_place(
            nonce,
            associated_data(table, row).as_slice(),
            &mut plain,
            tag,
        )
        .map_err(|_| corrupt(table))?;
    let (len, rest) = plain
        .split_first_chunk::<2>()
        .ok_or_else(|| corrupt(table))?;
    let len = usize::from(u16::from_be_bytes(*len));
    let key = rest.get(..len).ok_or_else(|| corrupt(table))?;
    // The embedded key must be the one the row stands for.
    let stands_for = match expected {
        Some(expected) => key == expected,
        None => row_key(keys, table, key)[..] == *row,
    };
    if !stands_for {
        return Err(corrupt(table));
    }
    let key = key.to_vec();
    // The value stays in the erased-on-drop buffer it was opened in.
    plain.drain(..2 + len);
    Ok((key, plain))
}

impl SealedTx<'_> {
    pub(crate) fn get(
        &mut self,
        table: Table,
        key: &[u8],
    ) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        Ok(self
            .get_shared(table, key)?
            .map(|v| Arc::try_unwrap(v).unwrap_or_else(|shared| (*shared).clone())))
    }

    /// [`SealedTx::get`], sharing the plaintext with the cache instead of copying it.
    pub(crate) fn get_shared(
        &mut self,
        table: Table,
        key: &[u8],
    ) -> Result<Option<Shared>, StoreError> {
        // The backend lends its bytes: a row this account wrote is recognised without a
        // copy, and only other bytes are copied out to be opened.
        let raw = &mut *self.raw;
        let (row, found) = self.keys.cache().read(
            table,
            key,
            || row_key(self.keys, table, key),
            |row, f| raw.get_with(table, row, f),
        )?;
        let sealed = match found {
            Found::Absent => return Ok(None),
            Found::Known(plain) => return Ok(Some(plain)),
            Found::Sealed(sealed) => sealed,
        };
        let (_, value) = open_checked(self.keys, table, &row, &sealed, Some(key))?;
        let value = Arc::new(value);
        self.keys
            .cache()
            .remember(table, key, row, Some((sealed, Arc::clone(&value))));
        Ok(Some(value))
    }

    pub(crate) fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.put_owned(table, key, Zeroizing::new(value.to_vec()))
    }

    /// [`SealedTx::put`] of a value the cache may keep without copying it.
    pub(crate) fn put_owned(
        &mut self,
        table: Table,
        key: &[u8],
        value: Zeroizing<Vec<u8>>,
    ) -> Result<(), StoreError> {
        self.put_sealed(table, key, value, keeps(table))
    }

    /// [`SealedTx::put_owned`] of a record that is rarely read again (an inbox tombstone):
    /// the cache lets go of the row instead of keeping it.
    pub(crate) fn put_once(
        &mut self,
        table: Table,
        key: &[u8],
        value: Zeroizing<Vec<u8>>,
    ) -> Result<(), StoreError> {
        self.put_sealed(table, key, value, false)?;
        self.keys.cache().forget(table, key);
        Ok(())
    }

    fn put_sealed(
        &mut self,
        table: Table,
        key: &[u8],
        value: Zeroizing<Vec<u8>>,
        remember: bool,
    ) -> Result<(), StoreError> {
        let row = self.keys.row(table, key);
        let key_len = u16::try_from(key.len())
            .map_err(|_| StoreError::Database("record key over 64 KiB".into()))?;
        let nonce = self.keys.nonce();
        // nonce || key_len || key || value, sealed in place after the nonce.
        let mut sealed = Zeroizing::new(Vec::with_capacity(
            NONCE_LEN + 2 + key.len() + value.len() + TAG_LEN,
        ));
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&key_len.to_be_bytes());
        sealed.extend_from_slice(key);
        sealed.extend_from_slice(value.as_slice());
        let tag = self
            .keys
            .seal
            .seal_in_place(
                &nonce,
                associated_data(table, &row).as_slice(),
                sealed.get_mut(NONCE_LEN..).unwrap_or_default(),
            )
            .map_err(|_| StoreError::Database("record over 64 GiB".into()))?;
        sealed.extend_from_slice(&tag);
        // Only ciphertext is left in the buffer now: it needs no erasing. The backend takes
        // the buffer; the cache keeps a copy to recognise the row by.
        let sealed = core::mem::take(&mut *sealed);
        let remembered = remember.then(|| sealed.clone());
        self.raw.put_vec(table, &row, sealed)?;
        // Remembered even if the transaction later fails: those bytes never reach the
        // backend, so they can never match what a later read finds there.
        if let Some(sealed) = remembered {
            self.keys
                .cache()
                .remember(table, key, row, Some((sealed, Arc::new(value))));
        }
        Ok(())
    }

    pub(crate) fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StoreError> {
        let row = self.keys.row(table, key);
        self.keys.cache().remember(table, key, row, None);
        self.raw.delete(table, &row)
    }

    /// Every record of `table` as `(logical key, value)`.
    pub(crate) fn scan(&mut self, table: Table) -> Result<Vec<Record>, StoreError> {
        self.raw
            .scan(table)?
            .into_iter()
            .map(|(row, sealed)| open(self.keys, table, &row, &sealed))
            .collect()
    }
}

/// Seals one record as the store would: `(row key, sealed value)`. For tools that migrate or
/// inspect a store, and for fuzzing the record parsers behind the seal.
pub fn seal_record<R: CryptoRng + Send>(
    storage_key: &Secret32,
    table: Table,
    key: &[u8],
    value: &[u8],
    rng: &mut R,
) -> Result<super::Row, StoreError> {
    struct One(Option<super::Row>);
    impl RawTransaction for One {
        fn get(&mut self, _: Table, _: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(None)
        }
        fn put(&mut self, _: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
            self.0 = Some((key.to_vec(), value.to_vec()));
            Ok(())
        }
        fn delete(&mut self, _: Table, _: &[u8]) -> Result<(), StoreError> {
            Ok(())
        }
        fn scan(&mut self, _: Table) -> Result<Vec<super::Row>, StoreError> {
            Ok(Vec::new())
        }
    }
    let keys = StorageKeys::derive(storage_key);
    let mut one = One(None);
    let mut tx = SealedTx {
        raw: &mut one,
        keys: &keys,
        rng,
    };
    tx.put(table, key, value)?;
    one.0.ok_or(StoreError::Aborted)
}

/// Opens one sealed row: `(logical key, value)`, or [`StoreError::Corrupt`].
pub fn open_record(
    storage_key: &Secret32,
    table: Table,
    row_key: &[u8],
    sealed: &[u8],
) -> Result<Record, StoreError> {
    open(&StorageKeys::derive(storage_key), table, row_key, sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_associated_data_of_every_table_fits_whole() {
        let row = [7u8; ROW_KEY_LEN];
        for table in Table::ALL {
            let expected = [CONTEXT, table.name().as_bytes(), &[0], &row].concat();
            assert_eq!(associated_data(table, &row).as_slice(), expected.as_slice());
        }
    }
}
