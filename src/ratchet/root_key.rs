//! The root key and `KDF_RK` (spec §4).

use crate::constants::RATCHET_INFO;
use crate::primitives::kdf::hkdf_sha256;
use crate::primitives::secret::Secret32;

use super::chain_key::ChainKey;

/// `RK`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RootKey(pub(crate) Secret32);

impl RootKey {
    /// `KDF_RK(RK, dh) = HKDF(RK, dh, "Bluetick_Ratchet_v1", 64)`: the new root key and a
    /// chain key starting at index 0.
    pub(crate) fn advance(&self, dh_output: &Secret32) -> (RootKey, ChainKey) {
        let mut okm = crate::primitives::secret::SecretBytes::<64>::zeroed();
        hkdf_sha256(
            self.0.expose(),
            dh_output.expose(),
            RATCHET_INFO,
            okm.expose_mut(),
        );
        let (root, chain) = okm.expose().split_at(32);
        let root = Secret32::from_slice(root).unwrap_or_else(Secret32::zeroed);
        let chain = Secret32::from_slice(chain).unwrap_or_else(Secret32::zeroed);
        (RootKey(root), ChainKey::new(chain, 0))
    }
}
