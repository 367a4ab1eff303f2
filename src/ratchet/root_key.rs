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

impl RootKey {
    /// `KDF_RK_PQ(RK, dh, pqs) = HKDF(RK, dh || pqs, "Bluetick_Ratchet_PQ_v1", 64)` (spec
    /// §14), split as `KDF_RK`.
    pub(crate) fn advance_pq(
        &self,
        dh_output: &Secret32,
        pq_secret: &Secret32,
    ) -> (RootKey, ChainKey) {
        let mut ikm = crate::primitives::secret::SecretBytes::<64>::zeroed();
        let (dh, pqs) = ikm.expose_mut().split_at_mut(32);
        dh.copy_from_slice(dh_output.expose());
        pqs.copy_from_slice(pq_secret.expose());
        let mut okm = crate::primitives::secret::SecretBytes::<64>::zeroed();
        hkdf_sha256(
            self.0.expose(),
            ikm.expose(),
            crate::constants::RATCHET_PQ_INFO,
            okm.expose_mut(),
        );
        let (root, chain) = okm.expose().split_at(32);
        let root = Secret32::from_slice(root).unwrap_or_else(Secret32::zeroed);
        let chain = Secret32::from_slice(chain).unwrap_or_else(Secret32::zeroed);
        (RootKey(root), ChainKey::new(chain, 0))
    }
}
