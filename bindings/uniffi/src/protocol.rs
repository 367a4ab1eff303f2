//! The protocol layer without an account: identities from seeds, prekeys held in memory,
//! session records and receipt bodies. For servers, tools and test-vector checks that drive
//! PQXDH and the ratchet themselves; apps use `Account`.
//!
//! Calls that need randomness take `randomness`: none for the operating system's
//! generator, or the exact bytes to draw, in the order the protocol draws them (to
//! reproduce test vectors). Scripted bytes that run out fail the call with
//! `InvalidArgument` and change nothing.

use std::sync::{Arc, Mutex, MutexGuard};

use bluetick::rand_core::{TryCryptoRng, TryRng};
use bluetick::receipt::Receipt;
use bluetick::{
    IdentityKeyPair, InMemoryPreKeyStore, MessageId, OneTimePreKey, PqPreKey, PreKeyBundle,
    Secret32, SecretBytes, SessionRecord, SignedPreKey,
};
use zeroize::Zeroizing;

use crate::error::ProtocolError;
use crate::types::{
    identity_key, protocol_ids, ContentType, Decrypted, Outgoing, PqPreKeyKind, ReceiptKind,
    VerifiedReceipt,
};

/// Randomness from the caller's bytes, or the operating system's.
struct Randomness<'a> {
    scripted: Option<&'a [u8]>,
    used: usize,
    ran_out: bool,
    os: bluetick::OsRng,
}

impl<'a> Randomness<'a> {
    fn new(bytes: Option<&'a [u8]>) -> Result<Self, ProtocolError> {
        if bytes.is_some_and(<[u8]>::is_empty) {
            return Err(ProtocolError::invalid(
                "the randomness is empty: pass none for the operating system's generator",
            ));
        }
        Ok(Self {
            scripted: bytes,
            used: 0,
            ran_out: false,
            os: bluetick::os_rng(),
        })
    }

    /// Fails if scripted bytes ran out during the call.
    fn check(&self) -> Result<u64, ProtocolError> {
        match self.scripted {
            Some(s) if self.ran_out => Err(ProtocolError::invalid(format!(
                "the {} bytes of randomness given ran out; the call needs more (nothing changed)",
                s.len()
            ))),
            _ => Ok(u64::try_from(self.used).unwrap_or(u64::MAX)),
        }
    }
}

impl TryRng for Randomness<'_> {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        match self.scripted {
            None => self.os.try_fill_bytes(dst),
            Some(bytes) => {
                match bytes.get(self.used..self.used.saturating_add(dst.len())) {
                    Some(src) => {
                        dst.copy_from_slice(src);
                        self.used += dst.len();
                    }
                    None => {
                        dst.fill(0);
                        self.ran_out = true;
                    }
                }
                Ok(())
            }
        }
    }
}

impl TryCryptoRng for Randomness<'_> {}

/// A lock whose value is whole even after a panic elsewhere (every change is one move).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn array<const N: usize>(bytes: &[u8], what: &str) -> Result<Zeroizing<[u8; N]>, ProtocolError> {
    <[u8; N]>::try_from(bytes).map(Zeroizing::new).map_err(|_| {
        ProtocolError::invalid(format!("{what} is {} bytes; it must be {N}", bytes.len()))
    })
}

fn key(bytes: &[u8], what: &str) -> Result<bluetick::IdentityKey, ProtocolError> {
    identity_key(bytes, what).map_err(|(kind, detail)| ProtocolError::Key { kind, detail })
}

/// An identity key pair (Ed25519). Its secret is erased when the object is dropped.
#[derive(uniffi::Object)]
pub struct Identity {
    identity: IdentityKeyPair,
}

impl core::fmt::Debug for Identity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Identity")
            .field("public", self.identity.public())
            .finish_non_exhaustive()
    }
}

#[uniffi::export]
impl Identity {
    /// The identity of a 32-byte Ed25519 seed.
    #[uniffi::constructor]
    pub fn from_seed(seed: Vec<u8>) -> Result<Arc<Self>, ProtocolError> {
        let seed = Zeroizing::new(seed);
        let seed = Secret32::from_slice(&seed).ok_or_else(|| {
            ProtocolError::invalid(format!("the seed is {} bytes; it must be 32", seed.len()))
        })?;
        Ok(Arc::new(Self {
            identity: IdentityKeyPair::from_seed(seed),
        }))
    }

    /// A new identity from the operating system's generator.
    #[uniffi::constructor]
    pub fn generate() -> Arc<Self> {
        Arc::new(Self {
            identity: IdentityKeyPair::generate(&mut bluetick::os_rng()),
        })
    }

    /// The 32-byte public identity key (`IK`).
    pub fn public_key(&self) -> Vec<u8> {
        self.identity.public().to_bytes().to_vec()
    }
}

/// Private prekeys held in memory. Thread-safe; secrets are erased when dropped.
#[derive(uniffi::Object)]
pub struct PreKeys {
    store: Mutex<InMemoryPreKeyStore>,
}

impl core::fmt::Debug for PreKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PreKeys").finish_non_exhaustive()
    }
}

#[uniffi::export]
impl PreKeys {
    /// An empty prekey store.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            store: Mutex::new(InMemoryPreKeyStore::new()),
        })
    }

    /// Adds a signed prekey: `id` and 32-byte X25519 private key, signed by `identity`.
    pub fn add_signed(
        &self,
        identity: &Identity,
        id: u32,
        private_key: Vec<u8>,
    ) -> Result<(), ProtocolError> {
        let private_key = Zeroizing::new(private_key);
        let mut private = array::<32>(&private_key, "the private key")?;
        let key = SignedPreKey::from_private(&identity.identity, id, &mut private);
        lock(&self.store).add_signed_prekey(key);
        Ok(())
    }

    /// Adds a one-time X25519 prekey: `id` and 32-byte private key.
    pub fn add_one_time(&self, id: u32, private_key: Vec<u8>) -> Result<(), ProtocolError> {
        let private_key = Zeroizing::new(private_key);
        let mut private = array::<32>(&private_key, "the private key")?;
        lock(&self.store).add_one_time_prekey(OneTimePreKey::from_private(id, &mut private));
        Ok(())
    }

    /// Adds an ML-KEM-1024 prekey of `kind` from a 64-byte seed `d || z`, signed by
    /// `identity`.
    pub fn add_pq(
        &self,
        identity: &Identity,
        id: u32,
        kind: PqPreKeyKind,
        seed: Vec<u8>,
    ) -> Result<(), ProtocolError> {
        let seed = Zeroizing::new(seed);
        let seed = SecretBytes::<64>::from_slice(&seed).ok_or_else(|| {
            ProtocolError::invalid(format!("the seed is {} bytes; it must be 64", seed.len()))
        })?;
        let key = PqPreKey::from_seed(&identity.identity, id, kind.into(), seed);
        lock(&self.store).add_pq_prekey(key);
        Ok(())
    }

    /// The bundle these prekeys give (newest signed prekey, lowest-id one-time PQ prekey or
    /// else the last-resort one, lowest-id one-time prekey). Nothing is consumed.
    pub fn bundle(&self, identity: &Identity) -> Result<Vec<u8>, ProtocolError> {
        lock(&self.store)
            .bundle(&identity.identity)
            .map(|b| b.to_bytes())
            .ok_or_else(|| ProtocolError::invalid("no signed or PQ prekey: add them first"))
    }
}

/// All sessions with one peer (a session record). Thread-safe; every call completes or
/// changes nothing.
#[derive(uniffi::Object)]
pub struct Session {
    record: Mutex<SessionRecord>,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

#[uniffi::export]
impl Session {
    /// An empty session record.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            record: Mutex::new(SessionRecord::new()),
        })
    }

    /// A record read from `to_bytes`.
    #[uniffi::constructor]
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Arc<Self>, ProtocolError> {
        Ok(Arc::new(Self {
            record: Mutex::new(SessionRecord::from_bytes(&bytes)?),
        }))
    }

    /// The record's bytes (they hold secrets: store them encrypted).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = lock(&self.record).to_bytes();
        core::mem::take(&mut *bytes)
    }

    /// Starts a session as the initiator from a peer's bundle (PQXDH). Scripted randomness
    /// is drawn as: ephemeral key (32), encapsulation randomness (32), first ratchet key
    /// (32). Returns how many bytes of it were used.
    pub fn start(
        &self,
        identity: &Identity,
        bundle: Vec<u8>,
        randomness: Option<Vec<u8>>,
    ) -> Result<u64, ProtocolError> {
        let bundle = PreKeyBundle::from_bytes(&bundle)?;
        let mut rng = Randomness::new(randomness.as_deref())?;
        let mut record = lock(&self.record);
        let mut next = record.clone();
        next.start_session(&identity.identity, &bundle, &mut rng)?;
        let used = rng.check()?;
        *record = next;
        Ok(used)
    }

    /// Encrypts `body` as `content_type` in the current session. The post-quantum ratchet
    /// draws KEM randomness on some messages (spec §14): a 64-byte key seed on the first
    /// message of an epoch at the side that sends its key, 32 bytes on the first message
    /// after the peer's key is complete, nothing otherwise. Without `randomness` it comes
    /// from the operating system; scripted bytes (for test vectors) that run out fail the
    /// call and change nothing.
    #[uniffi::method(default(randomness = None))]
    pub fn encrypt(
        &self,
        content_type: ContentType,
        body: Vec<u8>,
        randomness: Option<Vec<u8>>,
    ) -> Result<Outgoing, ProtocolError> {
        let mut rng = Randomness::new(randomness.as_deref())?;
        let mut record = lock(&self.record);
        let sent = if randomness.is_some() {
            let mut next = record.clone();
            let sent = next.encrypt(content_type.into(), &body, &mut rng)?;
            rng.check()?;
            *record = next;
            sent
        } else {
            record.encrypt(content_type.into(), &body, &mut rng)?
        };
        Ok(Outgoing {
            id: sent.id().0.to_vec(),
            wire: sent.wire,
            // The session layer carries any body; only the account stamps a clock (§10).
            lamport: 0,
        })
    }

    /// Decrypts a wire message from the session's peer; a PreKeyMessage may start a new
    /// session from `prekeys` (whose one-time keys it then consumes). Scripted randomness is
    /// drawn only when the message completes a DH ratchet step: one ratchet key (32).
    pub fn decrypt(
        &self,
        identity: &Identity,
        prekeys: &PreKeys,
        wire: Vec<u8>,
        randomness: Option<Vec<u8>>,
    ) -> Result<Decrypted, ProtocolError> {
        let mut rng = Randomness::new(randomness.as_deref())?;
        let mut record = lock(&self.record);
        let mut store = lock(&prekeys.store);
        let (mut next_record, mut next_store) = (record.clone(), store.clone());
        let got = next_record.decrypt(&identity.identity, &mut next_store, &wire, &mut rng)?;
        let used = rng.check()?;
        *record = next_record;
        *store = next_store;
        Ok(Decrypted {
            content_type: got.content_type.into(),
            body: got.body,
            sender: got.sender.to_bytes().to_vec(),
            randomness_used: used,
        })
    }
}

/// A receipt body of `kind` signed by `identity` for messages (16-byte ids, sorted and
/// deduplicated here) sent by the peer whose identity key is `peer_key`.
#[uniffi::export]
pub fn create_receipt_body(
    identity: &Identity,
    peer_key: Vec<u8>,
    kind: ReceiptKind,
    timestamp_ms: u64,
    ids: Vec<Vec<u8>>,
) -> Result<Vec<u8>, ProtocolError> {
    let peer = key(&peer_key, "the peer key")?;
    let ids = protocol_ids(&ids, "a message id")?;
    let receipt = Receipt::create(&identity.identity, &peer, kind.into(), timestamp_ms, &ids)?;
    Ok(receipt.to_bytes())
}

/// Verifies a receipt body as its receiver: signed by `signer_key`, addressed to
/// `receiver_key`, ids in canonical order, every id among `sent_ids` (the messages the
/// receiver sent the signer).
#[uniffi::export]
pub fn verify_receipt_body(
    body: Vec<u8>,
    signer_key: Vec<u8>,
    receiver_key: Vec<u8>,
    sent_ids: Vec<Vec<u8>>,
) -> Result<VerifiedReceipt, ProtocolError> {
    let signer = key(&signer_key, "the signer key")?;
    let receiver = key(&receiver_key, "the receiver key")?;
    let sent: Vec<MessageId> = protocol_ids(&sent_ids, "a sent id")?;
    let receipt = Receipt::parse(&body)?;
    receipt.verify(&signer, &receiver, |id| sent.contains(id))?;
    Ok(VerifiedReceipt {
        kind: receipt.kind.into(),
        timestamp_ms: receipt.timestamp_ms,
    })
}

/// The 16-byte id of a wire message, as the relay and both peers compute it.
#[uniffi::export]
pub fn message_id_of(wire: Vec<u8>) -> Vec<u8> {
    MessageId::of(&wire).0.to_vec()
}
