//! Device authentication to the relay: the device signs the relay's fresh nonce and its
//! own address with its identity key, under a context string of its own (spec §2: no
//! signature of one kind can be read as another).
//!
//! `signature = Sig(IK, "Bluetick_RelayAuth_v1" || nonce (32) || user len (u8) || user || device (u32))`

use super::NONCE_LEN;
use crate::account::{Account, Address};
use crate::identity::{IdentityKey, IdentityKeyPair};

/// Context of the relay authentication signature.
pub const RELAY_AUTH_CONTEXT: &[u8] = b"Bluetick_RelayAuth_v1";

/// The bytes signed after the context: `nonce || user len (u8) || user || device (u32)`.
/// A user id longer than 255 bytes is cut at 255 (the relay refuses ids over 64 anyway).
pub fn auth_message(nonce: &[u8; NONCE_LEN], address: &Address) -> Vec<u8> {
    let user = address.user.get(..255).unwrap_or(&address.user);
    let mut out = Vec::with_capacity(NONCE_LEN + 5 + user.len());
    out.extend_from_slice(nonce);
    out.push(u8::try_from(user.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(user);
    out.extend_from_slice(&address.device.to_be_bytes());
    out
}

/// Strictly verifies a device's authentication signature.
pub fn verify_auth(
    identity: &IdentityKey,
    nonce: &[u8; NONCE_LEN],
    address: &Address,
    signature: &[u8; 64],
) -> bool {
    identity.verify(
        &[RELAY_AUTH_CONTEXT, &auth_message(nonce, address)],
        signature,
    )
}

/// What can answer the relay's challenge: the holder of a device's identity key.
pub trait AuthSigner {
    /// The device's identity key.
    fn identity(&self) -> IdentityKey;
    /// `Sig(IK, "Bluetick_RelayAuth_v1" || auth_message(nonce, address))`.
    fn sign_relay_auth(&self, nonce: &[u8; NONCE_LEN], address: &Address) -> [u8; 64];
}

impl AuthSigner for IdentityKeyPair {
    fn identity(&self) -> IdentityKey {
        *self.public()
    }

    fn sign_relay_auth(&self, nonce: &[u8; NONCE_LEN], address: &Address) -> [u8; 64] {
        self.sign(&[RELAY_AUTH_CONTEXT, &auth_message(nonce, address)])
    }
}

impl AuthSigner for Account {
    fn identity(&self) -> IdentityKey {
        *Account::identity(self)
    }

    fn sign_relay_auth(&self, nonce: &[u8; NONCE_LEN], address: &Address) -> [u8; 64] {
        self.identity_key_pair()
            .sign(&[RELAY_AUTH_CONTEXT, &auth_message(nonce, address)])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::os_rng;

    #[test]
    fn a_signature_verifies_only_for_its_nonce_address_and_key() {
        let mut rng = os_rng();
        let ik = IdentityKeyPair::generate(&mut rng);
        let other = IdentityKeyPair::generate(&mut rng);
        let a = Address::new("alice", 1);
        let nonce = [7u8; 32];
        let sig = ik.sign_relay_auth(&nonce, &a);
        assert!(verify_auth(ik.public(), &nonce, &a, &sig));
        assert!(!verify_auth(other.public(), &nonce, &a, &sig));
        assert!(!verify_auth(ik.public(), &[8u8; 32], &a, &sig));
        assert!(!verify_auth(
            ik.public(),
            &nonce,
            &Address::new("alice", 2),
            &sig
        ));
        assert!(!verify_auth(
            ik.public(),
            &nonce,
            &Address::new("alicf", 1),
            &sig
        ));
        let mut bad = sig;
        bad[0] ^= 1;
        assert!(!verify_auth(ik.public(), &nonce, &a, &bad));
    }
}
