//! All sessions with one peer: the current one and up to 40 archived ones (newest first),
//! the routing of incoming messages between them, and the record's serialization.

use std::collections::VecDeque;

use rand_core::CryptoRng;

use crate::bundle::PreKeyBundle;
use crate::constants::MAX_ARCHIVED_SESSIONS;
use crate::error::{BundleError, DecryptionError, EncryptionError, KeyError};
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::pqxdh;
use crate::prekey_store::{PreKeyStore, PreKeyUse};
use crate::primitives::x25519::X25519KeyPair;
use crate::ratchet::double_ratchet::DoubleRatchet;
use crate::session::{OutgoingMessage, SendTrace, Session};
use crate::wire::plaintext::ContentType;
use crate::wire::prekey_message::PreKeyPrefix;
use crate::wire::{Message, PreKeyMessage, WireMessage};

/// What a successful decryption returns. Its `Debug` shows the body's length, not the body.
#[derive(Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// Application data or a receipt.
    pub content_type: ContentType,
    /// The body, unframed.
    pub body: Vec<u8>,
    /// The identity of the session's peer.
    pub sender: IdentityKey,
    /// Set when this message started a new session: the prekeys it used, which the
    /// [`PreKeyStore`] has already been told to consume.
    pub new_session: Option<PreKeyUse>,
}

impl core::fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            content_type,
            body,
            sender,
            new_session,
        } = self;
        f.debug_struct("Decrypted")
            .field("content_type", content_type)
            .field("body_len", &body.len())
            .field("sender", sender)
            .field("new_session", new_session)
            .finish()
    }
}

/// A peer's sessions. The record changes only on a successful operation.
#[derive(Clone, Debug, Default)]
pub struct SessionRecord {
    pub(crate) current: Option<Session>,
    /// Newest first.
    pub(crate) archived: VecDeque<Session>,
}

impl SessionRecord {
    /// A record with no session.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current session, if any.
    pub fn current_session(&self) -> Option<&Session> {
        self.current.as_ref()
    }

    /// Archived sessions, newest first.
    pub fn archived_sessions(&self) -> impl Iterator<Item = &Session> {
        self.archived.iter()
    }

    /// The current session's peer identity.
    pub fn remote_identity(&self) -> Option<&IdentityKey> {
        self.current.as_ref().map(Session::remote_identity)
    }

    /// Moves the current session (if any) to the archive, dropping the oldest beyond 40.
    /// Only the most recently archived session may still take a ratchet step (spec §4), so
    /// only it keeps its post-quantum ratchet state (spec §14).
    pub fn archive_current_session(&mut self) {
        if let Some(s) = self.current.take() {
            self.archived.push_front(s);
            self.archived.truncate(MAX_ARCHIVED_SESSIONS);
            for older in self.archived.iter_mut().skip(1) {
                older.ratchet.pq.drop_state();
            }
        }
    }

    /// Starts a session as the initiator from a peer's bundle (PQXDH, spec §3), making it
    /// current and archiving the previous one. Randomness drawn, in order: `EK` (32 bytes),
    /// the encapsulation randomness (32), the first ratchet key (32).
    pub fn start_session<R: CryptoRng + ?Sized>(
        &mut self,
        identity: &IdentityKeyPair,
        bundle: &PreKeyBundle,
        rng: &mut R,
    ) -> Result<(), BundleError> {
        let session = Session::initiate(identity, bundle, rng)?;
        self.archive_current_session();
        self.current = Some(session);
        Ok(())
    }

    /// Encrypts `body` in the current session. The post-quantum ratchet draws its KEM
    /// randomness from `rng` on the messages that need it (spec §14: a 64-byte key seed on
    /// the first message of an epoch at the side that sends the key, 32 bytes at the side
    /// that encapsulates); most messages draw nothing.
    pub fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        content_type: ContentType,
        body: &[u8],
        rng: &mut R,
    ) -> Result<OutgoingMessage, EncryptionError> {
        self.current
            .as_mut()
            .ok_or(EncryptionError::NoSession)?
            .encrypt(content_type, body, rng, None)
    }

    /// [`SessionRecord::encrypt`], also returning the intermediate values that the test
    /// vectors record.
    pub fn encrypt_with_trace<R: CryptoRng + ?Sized>(
        &mut self,
        content_type: ContentType,
        body: &[u8],
        rng: &mut R,
    ) -> Result<(OutgoingMessage, SendTrace), EncryptionError> {
        let mut trace = SendTrace::default();
        let out = self
            .current
            .as_mut()
            .ok_or(EncryptionError::NoSession)?
            .encrypt(content_type, body, rng, Some(&mut trace))?;
        Ok((out, trace))
    }

    /// Decrypts a wire message from this peer. A `PreKeyMessage` either reaches the session
    /// it started (current or archived) or, verified against `prekeys`, starts a new one
    /// that becomes current; a `Message` goes to the session that knows its ratchet key, or
    /// else may take a new ratchet step on the current session or the most recently
    /// archived one (spec §4); the session that decrypts it becomes current.
    /// On any error nothing changes, in the record or in `prekeys`.
    ///
    /// A session is bound to the peer identity it was made with: a PreKeyMessage that
    /// would start a new session under an identity key other than the current session's
    /// is refused with [`DecryptionError::UntrustedIdentity`] and the current session
    /// stays. Once the new key is trusted (the users compared safety numbers), pass it to
    /// [`SessionRecord::decrypt_trusting`].
    pub fn decrypt<R: CryptoRng + ?Sized, S: PreKeyStore + ?Sized>(
        &mut self,
        identity: &IdentityKeyPair,
        prekeys: &mut S,
        wire: &[u8],
        rng: &mut R,
    ) -> Result<Decrypted, DecryptionError> {
        self.decrypt_with(identity, prekeys, wire, rng, None)
    }

    /// [`SessionRecord::decrypt`], also accepting a PreKeyMessage from `trusted`, a peer
    /// identity key the caller trusts in place of the current session's: the new session
    /// becomes current and the old one is archived.
    pub fn decrypt_trusting<R: CryptoRng + ?Sized, S: PreKeyStore + ?Sized>(
        &mut self,
        identity: &IdentityKeyPair,
        prekeys: &mut S,
        wire: &[u8],
        rng: &mut R,
        trusted: &IdentityKey,
    ) -> Result<Decrypted, DecryptionError> {
        self.decrypt_with(identity, prekeys, wire, rng, Some(trusted))
    }

    fn decrypt_with<R: CryptoRng + ?Sized, S: PreKeyStore + ?Sized>(
        &mut self,
        identity: &IdentityKeyPair,
        prekeys: &mut S,
        wire: &[u8],
        rng: &mut R,
        trusted: Option<&IdentityKey>,
    ) -> Result<Decrypted, DecryptionError> {
        match WireMessage::parse(wire)? {
            WireMessage::Message(message) => self.decrypt_message(&message, rng),
            WireMessage::PreKey(message) => {
                self.decrypt_prekey_message(identity, prekeys, &message, rng, trusted)
            }
        }
    }

    fn sessions_mut(&mut self) -> impl Iterator<Item = (Option<usize>, &mut Session)> {
        self.current.iter_mut().map(|s| (None, s)).chain(
            self.archived
                .iter_mut()
                .enumerate()
                .map(|(i, s)| (Some(i), s)),
        )
    }

    /// Makes archived session `index` current.
    fn promote(&mut self, index: Option<usize>) {
        if let Some(i) = index {
            if let Some(session) = self.archived.remove(i) {
                self.archive_current_session();
                self.current = Some(session);
            }
        }
    }

    /// The session at `index` (`None`: the current one, `Some(i)`: archived `i`).
    fn session_mut(&mut self, index: Option<usize>) -> Option<&mut Session> {
        match index {
            None => self.current.as_mut(),
            Some(i) => self.archived.get_mut(i),
        }
    }

    /// The sessions a `Message` is tried on: see [`message_candidates`].
    fn candidates(&self, ratchet_key: &[u8; 32]) -> [Option<Option<usize>>; 2] {
        let knows = self
            .current
            .iter()
            .chain(self.archived.iter())
            .map(|s| s.ratchet.knows_chain(ratchet_key));
        let has_current = self.current.is_some();
        message_candidates(knows, has_current).map(|position| {
            position.map(|p| match (has_current, p) {
                (true, 0) => None,
                (true, p) => Some(p - 1),
                (false, p) => Some(p),
            })
        })
    }

    fn decrypt_message<R: CryptoRng + ?Sized>(
        &mut self,
        message: &Message<'_>,
        rng: &mut R,
    ) -> Result<Decrypted, DecryptionError> {
        let mut first_error = None;
        for index in self
            .candidates(&message.header.ratchet_key)
            .into_iter()
            .flatten()
        {
            let Some(session) = self.session_mut(index) else {
                continue;
            };
            match session.decrypt(message, rng) {
                Ok((content_type, body)) => {
                    let sender = session.remote_identity;
                    self.promote(index);
                    return Ok(Decrypted {
                        content_type,
                        body,
                        sender,
                        new_session: None,
                    });
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or(DecryptionError::NoSession))
    }

    fn decrypt_prekey_message<R: CryptoRng + ?Sized, S: PreKeyStore + ?Sized>(
        &mut self,
        identity: &IdentityKeyPair,
        prekeys: &mut S,
        message: &PreKeyMessage<'_>,
        rng: &mut R,
        trusted: Option<&IdentityKey>,
    ) -> Result<Decrypted, DecryptionError> {
        let sender = IdentityKey::from_bytes(&message.identity_key)?;
        // X25519 ignores bit 255, so without this check a flipped bit would give a second
        // encoding of the same base key that authenticates like the original.
        if !crate::primitives::x25519::is_canonical(&message.base_key) {
            return Err(KeyError::NonCanonicalKey { what: "base key" }.into());
        }
        let digest = Session::digest_prefix(message.prefix);

        let existing = self
            .sessions_mut()
            .find(|(_, s)| s.base_key == message.base_key && s.remote_identity == sender);
        if let Some((index, session)) = existing {
            if session.prekey_digest.is_some_and(|d| d != digest) {
                return Err(DecryptionError::AuthenticationFailed);
            }
            let (content_type, body) = session.decrypt(&message.message, rng)?;
            self.promote(index);
            return Ok(Decrypted {
                content_type,
                body,
                sender,
                new_session: None,
            });
        }

        // A new session under another identity than the current session's would archive
        // the real session on the word of whoever holds a bundle: only a trusted key may.
        if self
            .remote_identity()
            .is_some_and(|current| *current != sender && trusted != Some(&sender))
        {
            return Err(DecryptionError::UntrustedIdentity);
        }
        let (mut session, used) = Session::respond(identity, prekeys, message, sender, digest)?;
        let (content_type, body) = session.decrypt(&message.message, rng)?;

        // The first message decrypted: commit the session and consume the prekeys.
        prekeys.consume(&used);
        self.archive_current_session();
        self.current = Some(session);
        Ok(Decrypted {
            content_type,
            body,
            sender,
            new_session: Some(used),
        })
    }
}

/// The sessions a `Message` is tried on (spec §4, revision 2), as positions in a list of a
/// peer's sessions with the current one first (if `has_current`) and then the archived ones
/// newest first; `knows` tells, in that order, whether each session knows the message's
/// chain (as its receiving chain or by stored skipped keys). The one session that knows the
/// chain is the only one tried; otherwise a new ratchet step may be tried on the current
/// session and then on the most recently archived one (left by a simultaneous start). So a
/// forged message costs at most two DH ratchet attempts, however many sessions are archived.
pub(crate) fn message_candidates(
    mut knows: impl Iterator<Item = bool>,
    has_current: bool,
) -> [Option<usize>; 2] {
    let mut count = 0;
    for (position, known) in knows.by_ref().enumerate() {
        count = position + 1;
        if known {
            return [Some(position), None];
        }
    }
    let newest_archived = usize::from(has_current);
    [
        has_current.then_some(0),
        (count > newest_archived).then_some(newest_archived),
    ]
}

impl Session {
    /// A new session as the initiator from a peer's bundle (PQXDH, spec §3). Randomness
    /// drawn, in order: `EK` (32 bytes), the encapsulation randomness (32), the first
    /// ratchet key (32).
    pub(crate) fn initiate<R: CryptoRng + ?Sized>(
        identity: &IdentityKeyPair,
        bundle: &PreKeyBundle,
        rng: &mut R,
    ) -> Result<Self, BundleError> {
        let init = pqxdh::initiate(identity, bundle, rng)?;
        let ratchet_key = X25519KeyPair::generate(rng);
        let ratchet = DoubleRatchet::initiator(
            &init.transcript.shared_key,
            &init.signed_prekey_public,
            ratchet_key,
        )?;
        Ok(Self {
            remote_identity: bundle.identity,
            associated_data: init.transcript.associated_data,
            base_key: init.base_key,
            pending_prekey: Some(PreKeyPrefix {
                identity_key: identity.public().to_bytes(),
                base_key: init.base_key,
                signed_prekey_id: init.signed_prekey_id,
                pq_prekey_id: init.pq_prekey_id,
                one_time_prekey_id: init.one_time_prekey_id,
                kem_ciphertext: init.kem_ciphertext,
            }),
            prekey_digest: None,
            ratchet,
        })
    }

    /// The responder's new session for a PreKeyMessage that reaches no existing session
    /// (PQXDH, spec §3), with the prekeys it uses. Nothing is consumed here: the caller
    /// consumes them once the first message decrypts. `sender` is the validated `IK_A`,
    /// `digest` that of the message's prefix.
    pub(crate) fn respond<S: PreKeyStore + ?Sized>(
        identity: &IdentityKeyPair,
        prekeys: &S,
        message: &PreKeyMessage<'_>,
        sender: IdentityKey,
        digest: [u8; 32],
    ) -> Result<(Self, PreKeyUse), DecryptionError> {
        if prekeys.base_key_seen(
            message.signed_prekey_id,
            message.pq_prekey_id,
            &message.base_key,
        ) {
            return Err(DecryptionError::PreKeyReplay);
        }
        let signed_prekey = prekeys.signed_prekey(message.signed_prekey_id).ok_or(
            DecryptionError::UnknownPreKey {
                what: "signed prekey",
                id: message.signed_prekey_id,
            },
        )?;
        let pq_prekey =
            prekeys
                .pq_prekey(message.pq_prekey_id)
                .ok_or(DecryptionError::UnknownPreKey {
                    what: "PQ prekey",
                    id: message.pq_prekey_id,
                })?;
        let one_time_prekey = match message.one_time_prekey_id {
            Some(opk_id) => Some(prekeys.one_time_prekey(opk_id).ok_or(
                DecryptionError::UnknownPreKey {
                    what: "one-time prekey",
                    id: opk_id,
                },
            )?),
            None => None,
        };
        let transcript = pqxdh::respond(
            identity,
            &signed_prekey,
            &pq_prekey,
            one_time_prekey.as_ref(),
            &sender,
            &message.base_key,
            message.kem_ciphertext,
        )?;
        let session = Self {
            remote_identity: sender,
            associated_data: transcript.associated_data,
            base_key: message.base_key,
            pending_prekey: None,
            prekey_digest: Some(digest),
            ratchet: DoubleRatchet::responder(
                &transcript.shared_key,
                signed_prekey.key_pair().clone(),
            ),
        };
        let used = PreKeyUse {
            signed_prekey_id: message.signed_prekey_id,
            pq_prekey_id: message.pq_prekey_id,
            pq_prekey_kind: pq_prekey.kind(),
            one_time_prekey_id: message.one_time_prekey_id,
            base_key: message.base_key,
        };
        Ok((session, used))
    }
}
