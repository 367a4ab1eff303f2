//! Identity keys (spec §2): an Ed25519 key pair from a 32-byte seed, used in Montgomery form
//! for Diffie-Hellman.

use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::CryptoRng;
use zeroize::Zeroize;

use crate::error::KeyError;
use crate::primitives::secret::Secret32;
use crate::primitives::x25519::X25519KeyPair;
use crate::primitives::{ed25519, hex_prefix};

/// A peer's identity: a validated Ed25519 public key (`IK`) and its X25519 form (`IKx`).
/// The decoded point is kept, so verifying a signature does not decode it again.
#[derive(Clone, Copy)]
pub struct IdentityKey {
    ed: [u8; 32],
    x: [u8; 32],
    /// Decoded on validation; `None` for keys read back from this crate's own records,
    /// decoded when first needed.
    key: Option<VerifyingKey>,
}

impl PartialEq for IdentityKey {
    fn eq(&self, other: &Self) -> bool {
        self.ed == other.ed
    }
}

impl Eq for IdentityKey {}

impl core::hash::Hash for IdentityKey {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.ed.hash(state);
    }
}

impl IdentityKey {
    /// Reads and validates an identity key: it must be a valid, canonical, torsion-free
    /// Ed25519 point of full order.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        let (key, x) = ed25519::validate_public(bytes).map_err(|_| KeyError::InvalidIdentityKey)?;
        Ok(Self {
            ed: *bytes,
            x,
            key: Some(key),
        })
    }

    /// An identity key this crate validated before and stored with its X25519 form in an
    /// authenticated record: no validation, no decoding until a signature is checked.
    pub(crate) fn from_stored(ed: [u8; 32], x: [u8; 32]) -> Self {
        Self { ed, x, key: None }
    }

    /// Reads an identity key from a slice that must be exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: &[u8; 32] = bytes.try_into().map_err(|_| KeyError::InvalidIdentityKey)?;
        Self::from_bytes(arr)
    }

    /// `IK`: the 32-byte Ed25519 public key, the user-visible identity.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.ed
    }

    /// `IK` by reference.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.ed
    }

    /// `IKx`: the X25519 public key, the Montgomery form of `IK`.
    pub fn x25519(&self) -> &[u8; 32] {
        &self.x
    }

    /// Strictly verifies a signature by this identity over the concatenation of `parts`.
    pub(crate) fn verify(&self, parts: &[&[u8]], signature: &[u8; 64]) -> bool {
        match self.key {
            Some(key) => ed25519::verify(&key, parts, signature),
            None => VerifyingKey::from_bytes(&self.ed)
                .is_ok_and(|key| ed25519::verify(&key, parts, signature)),
        }
    }
}

impl core::fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "IdentityKey({})", hex_prefix(&self.ed))
    }
}

/// This device's identity key pair. The seed and both private forms are erased on drop.
#[derive(Clone)]
pub struct IdentityKeyPair {
    seed: Secret32,
    signing: SigningKey,
    dh: X25519KeyPair,
    public: IdentityKey,
}

impl IdentityKeyPair {
    /// The key pair for a 32-byte seed (RFC 8032). The X25519 private key is
    /// `clamp(SHA-512(seed)[0..32])`, as libsodium's `crypto_sign_ed25519_sk_to_curve25519`.
    pub fn from_seed(seed: Secret32) -> Self {
        let signing = SigningKey::from_bytes(seed.expose());
        let mut scalar = signing.to_scalar_bytes();
        let dh = X25519KeyPair::from_private(&mut scalar);
        let vk = signing.verifying_key();
        let public = IdentityKey {
            ed: vk.to_bytes(),
            x: vk.to_montgomery().to_bytes(),
            key: Some(vk),
        };
        Self {
            seed,
            signing,
            dh,
            public,
        }
    }

    /// A new identity from 32 bytes of `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let out = Self::from_seed(Secret32::from_array(&mut seed));
        seed.zeroize();
        out
    }

    /// The public identity.
    pub fn public(&self) -> &IdentityKey {
        &self.public
    }

    /// The seed, for storage.
    pub fn seed(&self) -> &Secret32 {
        &self.seed
    }

    /// Signs the concatenation of `parts`. Every caller starts `parts` with a context string
    /// of its own (spec §2), so signatures of one kind cannot be read as another.
    pub fn sign(&self, parts: &[&[u8]]) -> [u8; 64] {
        ed25519::sign(&self.signing, parts)
    }

    /// The X25519 form of the key pair.
    pub(crate) fn dh(&self) -> &X25519KeyPair {
        &self.dh
    }
}

impl core::fmt::Debug for IdentityKeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            seed: _,
            signing: _,
            dh: _,
            public,
        } = self;
        f.debug_struct("IdentityKeyPair")
            .field("public", public)
            .finish_non_exhaustive()
    }
}
