//! `DeviceCertificate = user id len (u8) || user id || device id (u32) || IK_dev (32) ||
//! issued_at_ms (u64) || Sig(IK_user, "Bluetick_DeviceCertificate_v1" || every byte before
//! the signature)` (spec §11).

use super::{check_user, DeviceError, Reader};
use crate::constants::DEVICE_CERTIFICATE_CONTEXT;
use crate::identity::{IdentityKey, IdentityKeyPair};

/// The primary device's statement that `identity` is device `device` of `user`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceCertificate {
    /// The user id.
    pub user: Vec<u8>,
    /// The certified device's id.
    pub device: u32,
    /// The certified device's identity key `IK_dev`.
    pub identity: IdentityKey,
    /// When the primary issued it (its wall clock, ms).
    pub issued_at_ms: u64,
    signature: [u8; 64],
}

impl DeviceCertificate {
    /// Signs a certificate with the user identity (the primary device's key pair).
    pub fn sign(
        user_identity: &IdentityKeyPair,
        user: &[u8],
        device: u32,
        identity: &IdentityKey,
        issued_at_ms: u64,
    ) -> Result<Self, DeviceError> {
        check_user(user)?;
        let mut cert = Self {
            user: user.to_vec(),
            device,
            identity: *identity,
            issued_at_ms,
            signature: [0u8; 64],
        };
        cert.signature = user_identity.sign(&[DEVICE_CERTIFICATE_CONTEXT, &cert.signed_part()]);
        Ok(cert)
    }

    fn signed_part(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.user.len() + 44);
        out.push(u8::try_from(self.user.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&self.user);
        out.extend_from_slice(&self.device.to_be_bytes());
        out.extend_from_slice(self.identity.as_bytes());
        out.extend_from_slice(&self.issued_at_ms.to_be_bytes());
        out
    }

    /// The certificate's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.signed_part();
        out.extend_from_slice(&self.signature);
        out
    }

    /// Strictly parses a certificate (not its signature: see [`DeviceCertificate::verify`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DeviceError> {
        let mut r = Reader { buf: bytes };
        let user = r.user()?;
        let device = r.u32()?;
        let identity =
            IdentityKey::from_bytes(&r.array()?).map_err(|_| DeviceError::InvalidIdentityKey)?;
        let issued_at_ms = r.u64()?;
        let signature = r.array()?;
        r.finish()?;
        Ok(Self {
            user,
            device,
            identity,
            issued_at_ms,
            signature,
        })
    }

    /// Verifies the signature under the user identity (strict Ed25519).
    pub fn verify(&self, user_identity: &IdentityKey) -> Result<(), DeviceError> {
        if user_identity.verify(
            &[DEVICE_CERTIFICATE_CONTEXT, &self.signed_part()],
            &self.signature,
        ) {
            Ok(())
        } else {
            Err(DeviceError::BadSignature)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::os_rng;

    #[test]
    fn certificate_round_trips_and_verifies_only_under_the_user_identity() {
        let mut rng = os_rng();
        let primary = IdentityKeyPair::generate(&mut rng);
        let phone = IdentityKeyPair::generate(&mut rng);
        let cert = DeviceCertificate::sign(&primary, b"alice", 2, phone.public(), 1_000).unwrap();
        let bytes = cert.to_bytes();
        assert_eq!(bytes.len(), 1 + 5 + 4 + 32 + 8 + 64);
        let back = DeviceCertificate::from_bytes(&bytes).unwrap();
        assert_eq!(back, cert);
        back.verify(primary.public()).unwrap();
        assert_eq!(back.verify(phone.public()), Err(DeviceError::BadSignature));
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            let ok = DeviceCertificate::from_bytes(&b).and_then(|c| c.verify(primary.public()));
            assert!(ok.is_err(), "byte {i} flipped and accepted");
        }
        for n in 0..bytes.len() {
            assert!(DeviceCertificate::from_bytes(&bytes[..n]).is_err());
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            DeviceCertificate::from_bytes(&long),
            Err(DeviceError::TrailingBytes)
        );
    }
}
