//! What a device uploads to the relay, and the helpers a relay uses on it.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::ProtocolError;

/// A device's prekey upload: identity, current signed and last-resort PQ prekeys and
/// one-time prekeys. A relay keeps one per device: `verify` it, hand out bundles with
/// `take_bundle`, and `merge` later uploads into it. Thread-safe.
#[derive(uniffi::Object)]
pub struct PreKeyUpload {
    upload: Mutex<bluetick::PreKeyUpload>,
}

impl core::fmt::Debug for PreKeyUpload {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { upload } = self;
        f.debug_struct("PreKeyUpload")
            .field("upload", upload)
            .finish()
    }
}

impl PreKeyUpload {
    pub(crate) fn wrap(upload: bluetick::PreKeyUpload) -> Arc<Self> {
        Arc::new(Self {
            upload: Mutex::new(upload),
        })
    }

    /// The upload; a poisoned lock still holds a whole value (every change is one move).
    fn lock(&self) -> MutexGuard<'_, bluetick::PreKeyUpload> {
        self.upload.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[uniffi::export]
impl PreKeyUpload {
    /// Strictly reads `to_bytes`; `verify` checks the signatures.
    #[uniffi::constructor]
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Arc<Self>, ProtocolError> {
        Ok(Self::wrap(bluetick::PreKeyUpload::from_bytes(&bytes)?))
    }

    /// The upload's encoding, to send to the relay.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.lock().to_bytes()
    }

    /// The uploader's 32-byte identity key.
    pub fn identity(&self) -> Vec<u8> {
        self.lock().identity.to_bytes().to_vec()
    }

    /// How many one-time X25519 prekeys it holds.
    pub fn one_time_prekey_count(&self) -> u32 {
        u32::try_from(self.lock().one_time_prekeys.len()).unwrap_or(u32::MAX)
    }

    /// How many one-time ML-KEM prekeys it holds.
    pub fn one_time_pq_prekey_count(&self) -> u32 {
        u32::try_from(self.lock().one_time_pq_prekeys.len()).unwrap_or(u32::MAX)
    }

    /// Checks every signature and key, as a relay or a peer would before use.
    pub fn verify(&self) -> Result<(), ProtocolError> {
        Ok(self.lock().verify()?)
    }

    /// A bundle (its bytes) as the relay hands it out, consuming one one-time prekey of each
    /// kind if any is left (the last-resort PQ prekey otherwise).
    pub fn take_bundle(&self) -> Vec<u8> {
        self.lock().take_bundle().to_bytes()
    }

    /// Applies a later upload from the same device: its signed and last-resort prekeys
    /// replace these, its one-time prekeys are added.
    pub fn merge(&self, newer: Arc<PreKeyUpload>) {
        // Copied out first: `newer` may be this very object.
        let newer = newer.lock().clone();
        self.lock().merge(newer);
    }
}
