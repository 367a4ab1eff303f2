//! The prekey bundle a device uploads to the relay and a peer downloads (spec §2).
//!
//! Encoding, all integers big-endian, lengths fixed (1770 bytes, or 1806 with an OPK):
//!
//! | field | bytes |
//! | --- | --- |
//! | format version, `0x01` | 1 |
//! | `IK` (Ed25519 public key) | 32 |
//! | `SPK` id, public key, signature | 4 + 32 + 64 |
//! | `PQPK` id, encapsulation key, signature | 4 + 1568 + 64 |
//! | `has_OPK` (0 or 1) | 1 |
//! | `OPK` id, public key (when `has_OPK` is 1) | 4 + 32 |
//!
//! Decoding is strict: any other length, version or flag is an error, and the identity key
//! must be a valid point. [`PreKeyBundle::verify`] then checks both signatures, that the
//! X25519 prekeys are not of small order, and the FIPS 203 check of the PQ prekey.

use crate::codec::{Reader, Writer};
use crate::constants::KEM_PUBLIC_KEY_LEN;
use crate::error::{BundleError, DecodeError, KeyError};
use crate::identity::IdentityKey;
use crate::prekey::{OneTimePreKeyPublic, PqPreKeyPublic, SignedPreKeyPublic};
use crate::primitives::x25519;

/// The format version byte of an encoded bundle.
pub const BUNDLE_VERSION: u8 = 0x01;

/// A peer's prekey bundle: everything needed to start a session with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreKeyBundle {
    /// `IK`.
    pub identity: IdentityKey,
    /// `SPK`.
    pub signed_prekey: SignedPreKeyPublic,
    /// `PQPK` (one-time while any is left, else last-resort).
    pub pq_prekey: PqPreKeyPublic,
    /// `OPK`, if the relay had one left.
    pub one_time_prekey: Option<OneTimePreKeyPublic>,
}

impl PreKeyBundle {
    /// The encoding described in the module documentation.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1806);
        out.put_u8(BUNDLE_VERSION);
        out.put(self.identity.as_bytes());
        out.put_u32(self.signed_prekey.id);
        out.put(&self.signed_prekey.public);
        out.put(&self.signed_prekey.signature);
        out.put_u32(self.pq_prekey.id);
        out.put(&self.pq_prekey.public[..]);
        out.put(&self.pq_prekey.signature);
        match &self.one_time_prekey {
            Some(opk) => {
                out.put_u8(1);
                out.put_u32(opk.id);
                out.put(&opk.public);
            }
            None => out.put_u8(0),
        }
        out
    }

    /// Strictly decodes a bundle. Signatures are checked by [`PreKeyBundle::verify`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BundleError> {
        let mut r = Reader::new(bytes, "prekey bundle");
        let version = r.u8()?;
        if version != BUNDLE_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: "prekey bundle",
                version,
            }
            .into());
        }
        let identity_bytes: [u8; 32] = r.array()?;
        let signed_prekey = SignedPreKeyPublic {
            id: r.u32()?,
            public: r.array()?,
            signature: r.array()?,
        };
        let pq_prekey = PqPreKeyPublic {
            id: r.u32()?,
            public: Box::new(r.array::<KEM_PUBLIC_KEY_LEN>()?),
            signature: r.array()?,
        };
        let one_time_prekey = if r.flag()? {
            Some(OneTimePreKeyPublic {
                id: r.u32()?,
                public: r.array()?,
            })
        } else {
            None
        };
        r.finish()?;
        let identity = IdentityKey::from_bytes(&identity_bytes)?;
        Ok(Self {
            identity,
            signed_prekey,
            pq_prekey,
            one_time_prekey,
        })
    }

    /// Checks both prekey signatures under `IK`, the X25519 prekeys' order and the PQ
    /// prekey's FIPS 203 check. PQXDH calls this before using a bundle.
    pub fn verify(&self) -> Result<(), KeyError> {
        self.signed_prekey.verify(&self.identity)?;
        self.pq_prekey.verify(&self.identity)?;
        if let Some(opk) = &self.one_time_prekey {
            if !x25519::is_canonical(&opk.public) {
                return Err(KeyError::NonCanonicalKey {
                    what: "one-time prekey",
                });
            }
            if x25519::is_low_order(&opk.public) {
                return Err(KeyError::LowOrderKey {
                    what: "one-time prekey",
                });
            }
        }
        Ok(())
    }
}
