//! ML-KEM-1024 (FIPS 203) through libcrux-ml-kem, deterministic from caller randomness.

use libcrux_ml_kem::mlkem1024::{
    self, MlKem1024Ciphertext, MlKem1024PrivateKey, MlKem1024PublicKey,
};
use zeroize::Zeroize;

use super::secret::{Secret32, SecretBytes};
use crate::constants::{KEM_CIPHERTEXT_LEN, KEM_PUBLIC_KEY_LEN};

/// The encapsulation key fails the FIPS 203 modulus check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidKemKey;

/// An ML-KEM-1024 key pair made from a 64-byte seed `d || z`. The seed and the expanded
/// decapsulation key are erased on drop.
pub struct KemKeyPair {
    seed: SecretBytes<64>,
    private: Box<MlKem1024PrivateKey>,
    public: Box<[u8; KEM_PUBLIC_KEY_LEN]>,
}

impl KemKeyPair {
    /// Key generation from `d || z` (FIPS 203 ML-KEM.KeyGen_internal).
    pub fn from_seed(seed: SecretBytes<64>) -> Self {
        // libcrux takes the seed by value and returns the key pair by value: erase the
        // copies this frame holds (the library's own frames are beyond reach).
        let mut randomness = *seed.expose();
        let pair = mlkem1024::generate_key_pair(randomness);
        randomness.zeroize();
        let (mut private, public) = pair.into_parts();
        let boxed = Box::new(MlKem1024PrivateKey::from(private.as_slice()));
        private[0..].zeroize();
        Self {
            seed,
            private: boxed,
            public: Box::new(*public.as_slice()),
        }
    }

    /// The seed it was made from (what is stored).
    pub fn seed(&self) -> &SecretBytes<64> {
        &self.seed
    }

    /// The 1568-byte encapsulation key.
    pub fn public(&self) -> &[u8; KEM_PUBLIC_KEY_LEN] {
        &self.public
    }

    /// Decapsulation; ML-KEM's implicit rejection returns a pseudorandom secret for a bad
    /// ciphertext, which then fails authentication further on.
    pub fn decapsulate(&self, ciphertext: &[u8; KEM_CIPHERTEXT_LEN]) -> Secret32 {
        let ct = MlKem1024Ciphertext::from(ciphertext);
        let mut ss = mlkem1024::decapsulate(&self.private, &ct);
        Secret32::from_array(&mut ss)
    }
}

impl Clone for KemKeyPair {
    fn clone(&self) -> Self {
        Self {
            seed: self.seed.clone(),
            private: self.private.clone(),
            public: self.public.clone(),
        }
    }
}

impl Drop for KemKeyPair {
    fn drop(&mut self) {
        self.private[0..].zeroize();
    }
}

/// The seed erases itself and `Drop` erases the decapsulation key.
impl zeroize::ZeroizeOnDrop for KemKeyPair {}

impl core::fmt::Debug for KemKeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            seed: _,
            private: _,
            public,
        } = self;
        f.debug_struct("KemKeyPair")
            .field("public", &super::hex_prefix(&public[..]))
            .finish_non_exhaustive()
    }
}

/// The FIPS 203 encapsulation key check (every coefficient below q).
pub fn validate_public(public: &[u8; KEM_PUBLIC_KEY_LEN]) -> Result<(), InvalidKemKey> {
    if mlkem1024::validate_public_key(&MlKem1024PublicKey::from(public)) {
        Ok(())
    } else {
        Err(InvalidKemKey)
    }
}

/// Encapsulation to a key that passed [`validate_public`], with randomness `m`.
/// Returns `(ciphertext, shared_secret)`.
pub fn encapsulate(
    public: &[u8; KEM_PUBLIC_KEY_LEN],
    m: &Secret32,
) -> Result<(Box<[u8; KEM_CIPHERTEXT_LEN]>, Secret32), InvalidKemKey> {
    let key = MlKem1024PublicKey::from(public);
    if !mlkem1024::validate_public_key(&key) {
        return Err(InvalidKemKey);
    }
    let mut randomness = *m.expose();
    let (ct, mut ss) = mlkem1024::encapsulate(&key, randomness);
    randomness.zeroize();
    Ok((Box::new(*ct.as_slice()), Secret32::from_array(&mut ss)))
}
