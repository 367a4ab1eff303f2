//! Prekeys (spec §2): the signed X25519 prekey, one-time X25519 prekeys, and ML-KEM-1024
//! PQ prekeys (one-time or last-resort), each with the public half that goes in a bundle.

use rand_core::CryptoRng;

use crate::constants::{
    EC_KEY_TYPE, KEM_KEY_TYPE, KEM_PUBLIC_KEY_LEN, PQ_PREKEY_CONTEXT, SIGNED_PREKEY_CONTEXT,
};
use crate::error::KeyError;
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::primitives::hex_prefix;
use crate::primitives::kem::{self, KemKeyPair};
use crate::primitives::secret::SecretBytes;
use crate::primitives::x25519::{self, X25519KeyPair};

/// A signed prekey `SPK` with its private key.
#[derive(Clone, Debug)]
pub struct SignedPreKey {
    id: u32,
    key: X25519KeyPair,
    signature: [u8; 64],
}

impl SignedPreKey {
    /// A new signed prekey with `id`, signed by `identity`.
    pub fn generate<R: CryptoRng + ?Sized>(
        identity: &IdentityKeyPair,
        id: u32,
        rng: &mut R,
    ) -> Self {
        Self::from_key_pair(identity, id, X25519KeyPair::generate(rng))
    }

    /// The signed prekey for given private bytes (erased from the caller).
    pub fn from_private(identity: &IdentityKeyPair, id: u32, private: &mut [u8; 32]) -> Self {
        Self::from_key_pair(identity, id, X25519KeyPair::from_private(private))
    }

    fn from_key_pair(identity: &IdentityKeyPair, id: u32, key: X25519KeyPair) -> Self {
        let signature = identity.sign(&[SIGNED_PREKEY_CONTEXT, &[EC_KEY_TYPE], key.public()]);
        Self { id, key, signature }
    }

    /// Its id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Its key pair.
    pub fn key_pair(&self) -> &X25519KeyPair {
        &self.key
    }

    /// The public half, for a bundle.
    pub fn public(&self) -> SignedPreKeyPublic {
        SignedPreKeyPublic {
            id: self.id,
            public: *self.key.public(),
            signature: self.signature,
        }
    }
}

/// The public half of a signed prekey, as a bundle carries it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SignedPreKeyPublic {
    /// Its id.
    pub id: u32,
    /// The X25519 public key.
    pub public: [u8; 32],
    /// `Sig(IK, "Bluetick_SignedPreKey_v1" || EncodeEC(SPK))`.
    pub signature: [u8; 64],
}

impl SignedPreKeyPublic {
    /// Checks the signature under `identity` and that the key is not of small order.
    pub fn verify(&self, identity: &IdentityKey) -> Result<(), KeyError> {
        if !identity.verify(
            &[SIGNED_PREKEY_CONTEXT, &[EC_KEY_TYPE], &self.public],
            &self.signature,
        ) {
            return Err(KeyError::BadSignature {
                what: "signed prekey",
            });
        }
        if !x25519::is_canonical(&self.public) {
            return Err(KeyError::NonCanonicalKey {
                what: "signed prekey",
            });
        }
        if x25519::is_low_order(&self.public) {
            return Err(KeyError::LowOrderKey {
                what: "signed prekey",
            });
        }
        Ok(())
    }
}

impl core::fmt::Debug for SignedPreKeyPublic {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SignedPreKeyPublic")
            .field("id", &self.id)
            .field("public", &hex_prefix(&self.public))
            .finish_non_exhaustive()
    }
}

/// A one-time X25519 prekey `OPK` with its private key; unsigned (spec §2).
#[derive(Clone, Debug)]
pub struct OneTimePreKey {
    id: u32,
    key: X25519KeyPair,
}

impl OneTimePreKey {
    /// A new one-time prekey with `id`.
    pub fn generate<R: CryptoRng + ?Sized>(id: u32, rng: &mut R) -> Self {
        Self {
            id,
            key: X25519KeyPair::generate(rng),
        }
    }

    /// The one-time prekey for given private bytes (erased from the caller).
    pub fn from_private(id: u32, private: &mut [u8; 32]) -> Self {
        Self {
            id,
            key: X25519KeyPair::from_private(private),
        }
    }

    /// Its id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Its key pair.
    pub fn key_pair(&self) -> &X25519KeyPair {
        &self.key
    }

    /// The public half, for a bundle.
    pub fn public(&self) -> OneTimePreKeyPublic {
        OneTimePreKeyPublic {
            id: self.id,
            public: *self.key.public(),
        }
    }
}

/// The public half of a one-time prekey.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct OneTimePreKeyPublic {
    /// Its id.
    pub id: u32,
    /// The X25519 public key.
    pub public: [u8; 32],
}

impl core::fmt::Debug for OneTimePreKeyPublic {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OneTimePreKeyPublic")
            .field("id", &self.id)
            .field("public", &hex_prefix(&self.public))
            .finish()
    }
}

/// Whether a PQ prekey may be used once or until replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PqPreKeyKind {
    /// Deleted after the first session that uses it.
    OneTime,
    /// Used when no one-time PQ prekey is left; kept until rotated.
    LastResort,
}

/// An ML-KEM-1024 PQ prekey `PQPK` with its decapsulation key.
#[derive(Clone, Debug)]
pub struct PqPreKey {
    id: u32,
    kind: PqPreKeyKind,
    key: KemKeyPair,
    signature: [u8; 64],
}

impl PqPreKey {
    /// A new PQ prekey with `id` from 64 bytes of `rng`, signed by `identity`.
    pub fn generate<R: CryptoRng + ?Sized>(
        identity: &IdentityKeyPair,
        id: u32,
        kind: PqPreKeyKind,
        rng: &mut R,
    ) -> Self {
        let mut seed = SecretBytes::<64>::zeroed();
        rng.fill_bytes(seed.expose_mut());
        Self::from_seed(identity, id, kind, seed)
    }

    /// The PQ prekey for a 64-byte seed `d || z`.
    pub fn from_seed(
        identity: &IdentityKeyPair,
        id: u32,
        kind: PqPreKeyKind,
        seed: SecretBytes<64>,
    ) -> Self {
        let key = KemKeyPair::from_seed(seed);
        let signature = identity.sign(&[PQ_PREKEY_CONTEXT, &[KEM_KEY_TYPE], key.public()]);
        Self {
            id,
            kind,
            key,
            signature,
        }
    }

    /// Its id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// One-time or last-resort.
    pub fn kind(&self) -> PqPreKeyKind {
        self.kind
    }

    /// Its key pair.
    pub fn key_pair(&self) -> &KemKeyPair {
        &self.key
    }

    /// The public half, for a bundle.
    pub fn public(&self) -> PqPreKeyPublic {
        PqPreKeyPublic {
            id: self.id,
            public: Box::new(*self.key.public()),
            signature: self.signature,
        }
    }
}

/// The public half of a PQ prekey.
#[derive(Clone, PartialEq, Eq)]
pub struct PqPreKeyPublic {
    /// Its id.
    pub id: u32,
    /// The 1568-byte encapsulation key.
    pub public: Box<[u8; KEM_PUBLIC_KEY_LEN]>,
    /// `Sig(IK, "Bluetick_PqPreKey_v1" || EncodeKEM(PQPK))`.
    pub signature: [u8; 64],
}

impl PqPreKeyPublic {
    /// Checks the signature under `identity` and the FIPS 203 encapsulation key check.
    pub fn verify(&self, identity: &IdentityKey) -> Result<(), KeyError> {
        if !identity.verify(
            &[PQ_PREKEY_CONTEXT, &[KEM_KEY_TYPE], &self.public[..]],
            &self.signature,
        ) {
            return Err(KeyError::BadSignature { what: "PQ prekey" });
        }
        kem::validate_public(&self.public).map_err(|_| KeyError::InvalidKemKey)
    }
}

impl core::fmt::Debug for PqPreKeyPublic {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PqPreKeyPublic")
            .field("id", &self.id)
            .field("public", &hex_prefix(&self.public[..]))
            .finish_non_exhaustive()
    }
}

// Private encodings, for the account's store (which seals them). All fixed length.

fn read_private(
    r: &mut crate::codec::Reader<'_>,
) -> Result<X25519KeyPair, crate::error::DecodeError> {
    let mut private = r.array::<32>()?;
    Ok(X25519KeyPair::from_private(&mut private))
}

impl SignedPreKey {
    /// `id (u32) || private (32) || signature (64)`.
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        use crate::codec::Writer;
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(100));
        out.put_u32(self.id);
        out.put(self.key.private_bytes().expose());
        out.put(&self.signature);
        out
    }

    /// Reads [`SignedPreKey::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, crate::error::DecodeError> {
        let mut r = crate::codec::Reader::new(bytes, "signed prekey");
        let id = r.u32()?;
        let key = read_private(&mut r)?;
        let signature = r.array()?;
        r.finish()?;
        Ok(Self { id, key, signature })
    }
}

impl SignedPreKey {
    /// [`SignedPreKey::to_bytes`] followed by the public key (32), for the account's sealed
    /// store: loading it back costs no curve arithmetic.
    pub(crate) fn to_stored_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let mut out = self.to_bytes();
        out.extend_from_slice(self.key.public());
        out
    }

    /// Reads [`SignedPreKey::to_stored_bytes`]. The public key is trusted as stored: only
    /// the store that sealed and authenticated it hands it back.
    pub(crate) fn from_stored_bytes(bytes: &[u8]) -> Result<Self, crate::error::DecodeError> {
        let mut r = crate::codec::Reader::new(bytes, "stored signed prekey");
        let id = r.u32()?;
        let mut private = r.array::<32>()?;
        let signature = r.array()?;
        let public = r.array()?;
        r.finish()?;
        let key = X25519KeyPair::from_parts(&mut private, public);
        Ok(Self { id, key, signature })
    }
}

impl OneTimePreKey {
    /// `id (u32) || private (32)`.
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        use crate::codec::Writer;
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(36));
        out.put_u32(self.id);
        out.put(self.key.private_bytes().expose());
        out
    }

    /// Reads [`OneTimePreKey::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, crate::error::DecodeError> {
        let mut r = crate::codec::Reader::new(bytes, "one-time prekey");
        let id = r.u32()?;
        let key = read_private(&mut r)?;
        r.finish()?;
        Ok(Self { id, key })
    }
}

impl PqPreKey {
    /// `id (u32) || kind (0 one-time, 1 last-resort) || seed (64) || signature (64)`.
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        use crate::codec::Writer;
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(133));
        out.put_u32(self.id);
        out.put_u8(match self.kind {
            PqPreKeyKind::OneTime => 0,
            PqPreKeyKind::LastResort => 1,
        });
        out.put(self.key.seed().expose());
        out.put(&self.signature);
        out
    }

    /// Reads [`PqPreKey::to_bytes`] (regenerating the key pair from its seed).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, crate::error::DecodeError> {
        let mut r = crate::codec::Reader::new(bytes, "PQ prekey");
        let id = r.u32()?;
        let kind = if r.flag()? {
            PqPreKeyKind::LastResort
        } else {
            PqPreKeyKind::OneTime
        };
        let mut seed = SecretBytes::<64>::zeroed();
        seed.expose_mut().copy_from_slice(r.take(64)?);
        let signature = r.array()?;
        r.finish()?;
        Ok(Self {
            id,
            kind,
            key: KemKeyPair::from_seed(seed),
            signature,
        })
    }
}
