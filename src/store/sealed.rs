//! The sealing layer: blinds row keys and encrypts every value with keys derived from the
//! app's 32-byte storage key. A fresh random nonce is drawn for every write, so no nonce is
//! reused under a key (the random-nonce bound of 2^32 writes per key is far beyond what an
//! account writes).

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{RawTransaction, StoreError, Table};
use crate::primitives::aead;
use crate::primitives::kdf::{hkdf_sha256, hmac_sha256};
use crate::primitives::secret::Secret32;

const CONTEXT: &[u8] = b"Bluetick_Store_v1";
const ROW_KEY_LEN: usize = 16;

/// An opened record: `(logical key, value)`.
pub type Record = (Vec<u8>, Zeroizing<Vec<u8>>);

/// The keys derived from the app's storage key. Erased on drop.
#[derive(Clone, Debug)]
pub(crate) struct StorageKeys {
    seal: Secret32,
    index: Secret32,
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
        Self { seal, index }
    }
}

/// A write transaction that seals what it writes and opens what it reads.
pub(crate) struct SealedTx<'a> {
    pub(crate) raw: &'a mut dyn RawTransaction,
    pub(crate) keys: &'a StorageKeys,
    pub(crate) rng: &'a mut (dyn CryptoRng + Send),
}

fn row_key(keys: &StorageKeys, table: Table, key: &[u8]) -> [u8; ROW_KEY_LEN] {
    let mut data = Vec::with_capacity(table.name().len() + 1 + key.len());
    data.extend_from_slice(table.name().as_bytes());
    data.push(0);
    data.extend_from_slice(key);
    let mut mac = [0u8; 32];
    hmac_sha256(keys.index.expose(), &data, &mut mac);
    let mut out = [0u8; ROW_KEY_LEN];
    out.copy_from_slice(mac.get(..ROW_KEY_LEN).unwrap_or(&[0u8; ROW_KEY_LEN]));
    out
}

fn associated_data(table: Table, row: &[u8]) -> Vec<u8> {
    [CONTEXT, table.name().as_bytes(), &[0], row].concat()
}

fn corrupt(table: Table) -> StoreError {
    StoreError::Corrupt {
        table: table.name(),
    }
}

/// Opens a sealed value: `(logical key, value)`.
fn open(keys: &StorageKeys, table: Table, row: &[u8], sealed: &[u8]) -> Result<Record, StoreError> {
    if sealed.len() < 12 {
        return Err(corrupt(table));
    }
    let (nonce, ciphertext) = sealed.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().map_err(|_| corrupt(table))?;
    let plain = Zeroizing::new(
        aead::open(
            keys.seal.expose(),
            &nonce,
            &associated_data(table, row),
            ciphertext,
        )
        .map_err(|_| corrupt(table))?,
    );
    let (len, rest) = plain
        .split_first_chunk::<2>()
        .ok_or_else(|| corrupt(table))?;
    let len = usize::from(u16::from_be_bytes(*len));
    if rest.len() < len {
        return Err(corrupt(table));
    }
    let (key, value) = rest.split_at(len);
    // The embedded key must be the one the row stands for.
    if row_key(keys, table, key)[..] != *row {
        return Err(corrupt(table));
    }
    Ok((key.to_vec(), Zeroizing::new(value.to_vec())))
}

impl SealedTx<'_> {
    pub(crate) fn get(
        &mut self,
        table: Table,
        key: &[u8],
    ) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        let row = row_key(self.keys, table, key);
        match self.raw.get(table, &row)? {
            None => Ok(None),
            Some(sealed) => open(self.keys, table, &row, &sealed).map(|(_, v)| Some(v)),
        }
    }

    pub(crate) fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let row = row_key(self.keys, table, key);
        let key_len = u16::try_from(key.len())
            .map_err(|_| StoreError::Database("record key over 64 KiB".into()))?;
        let mut plain = Zeroizing::new(Vec::with_capacity(2 + key.len() + value.len()));
        plain.extend_from_slice(&key_len.to_be_bytes());
        plain.extend_from_slice(key);
        plain.extend_from_slice(value);
        let mut nonce = [0u8; 12];
        self.rng.fill_bytes(&mut nonce);
        let mut sealed = nonce.to_vec();
        aead::seal(
            self.keys.seal.expose(),
            &nonce,
            &associated_data(table, &row),
            &plain,
            &mut sealed,
        );
        self.raw.put(table, &row, &sealed)
    }

    pub(crate) fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StoreError> {
        let row = row_key(self.keys, table, key);
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
