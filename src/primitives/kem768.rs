//! ML-KEM-768 (FIPS 203) for the post-quantum ratchet (spec §14), through libcrux-ml-kem,
//! deterministic from caller randomness.

use libcrux_ml_kem::mlkem768::{self, MlKem768Ciphertext, MlKem768PublicKey};
use zeroize::Zeroize;

use super::kem::InvalidKemKey;
use super::secret::{Secret32, SecretBytes};
use crate::constants::{PQ_CT_LEN, PQ_EK_LEN};

/// `KeyGen(seed)`: the 1184-byte encapsulation key for a 64-byte seed `d || z`. The
/// decapsulation key is not kept: [`decapsulate`] makes it again from the seed, once per
/// epoch, so a stored epoch holds 64 secret bytes instead of 2400.
pub fn public_key(seed: &SecretBytes<64>) -> Box<[u8; PQ_EK_LEN]> {
    let mut randomness = *seed.expose();
    let pair = mlkem768::generate_key_pair(randomness);
    randomness.zeroize();
    let (mut private, public) = pair.into_parts();
    private[0..].zeroize();
    Box::new(*public.as_slice())
}

/// The FIPS 203 encapsulation key check (every coefficient below q).
pub fn validate_public(public: &[u8; PQ_EK_LEN]) -> Result<(), InvalidKemKey> {
    if mlkem768::validate_public_key(&MlKem768PublicKey::from(public)) {
        Ok(())
    } else {
        Err(InvalidKemKey)
    }
}

/// `Encaps(ek, m)` to a key that passes the input check: `(ct, ss)`.
pub fn encapsulate(
    public: &[u8; PQ_EK_LEN],
    m: &Secret32,
) -> Result<(Box<[u8; PQ_CT_LEN]>, Secret32), InvalidKemKey> {
    let key = MlKem768PublicKey::from(public);
    if !mlkem768::validate_public_key(&key) {
        return Err(InvalidKemKey);
    }
    let mut randomness = *m.expose();
    let (ct, mut ss) = mlkem768::encapsulate(&key, randomness);
    randomness.zeroize();
    Ok((Box::new(*ct.as_slice()), Secret32::from_array(&mut ss)))
}

/// `Decaps(dk, ct)` with `dk` made from `seed`. ML-KEM's implicit rejection gives a
/// pseudorandom secret for a bad ciphertext, which then fails authentication further on.
pub fn decapsulate(seed: &SecretBytes<64>, ciphertext: &[u8; PQ_CT_LEN]) -> Secret32 {
    let mut randomness = *seed.expose();
    let pair = mlkem768::generate_key_pair(randomness);
    randomness.zeroize();
    let (mut private, _public) = pair.into_parts();
    let mut ss = mlkem768::decapsulate(&private, &MlKem768Ciphertext::from(ciphertext));
    private[0..].zeroize();
    Secret32::from_array(&mut ss)
}
