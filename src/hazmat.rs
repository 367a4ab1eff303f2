//! The protocol's key derivations as plain functions over byte arrays, for test vectors and
//! second implementations. Applications use [`crate::SessionRecord`]; nothing here erases
//! its outputs, which are secrets.

use crate::primitives::secret::Secret32;
use crate::ratchet::chain_key::ChainKey;
use crate::ratchet::root_key::RootKey;

pub use crate::pqxdh::{associated_data, initiate_with, respond, Initiation, PqxdhTranscript};

/// `KDF_RK(RK, dh)`: `(new root key, chain key)`.
pub fn kdf_rk(root_key: &[u8; 32], dh_output: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let rk = RootKey(Secret32::from_slice(root_key).unwrap_or_else(Secret32::zeroed));
    let dh = Secret32::from_slice(dh_output).unwrap_or_else(Secret32::zeroed);
    let (root, chain) = rk.advance(&dh);
    (*root.0.expose(), *chain.key.expose())
}

/// `KDF_CK(CK)`: `(message key, next chain key)`.
pub fn kdf_ck(chain_key: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let ck = ChainKey::new(
        Secret32::from_slice(chain_key).unwrap_or_else(Secret32::zeroed),
        0,
    );
    let mk = ck.message_key();
    let next = ck.next().map(|c| *c.key.expose()).unwrap_or_default();
    (*mk.key.expose(), next)
}

/// The message key expansion: `(AES-256 key, 96-bit nonce)`.
pub fn message_keys(message_key: &[u8; 32]) -> ([u8; 32], [u8; 12]) {
    let mk = crate::ratchet::message_key::MessageKey::new(
        Secret32::from_slice(message_key).unwrap_or_else(Secret32::zeroed),
        0,
    );
    let e = mk.expand();
    (*e.aes_key(), e.nonce())
}
