//! # Bluetick
//!
//! End-to-end encrypted messaging: post-quantum key agreement (PQXDH with ML-KEM-1024),
//! Double Ratchet sessions and signed receipts, implemented byte for byte as
//! `protocol-v1.md` describes. The protocol code is sans-IO: it takes its randomness from
//! the caller, so the same code produces the test vectors and runs in production.
//!
//! A whole exchange, Alice starting a session from Bob's published bundle:
//!
//! ```
//! use bluetick::{
//!     os_rng, ContentType, IdentityKeyPair, InMemoryPreKeyStore, OneTimePreKey, PqPreKey,
//!     PqPreKeyKind, SessionRecord, SignedPreKey,
//! };
//!
//! let mut rng = os_rng();
//! // Bob publishes a bundle.
//! let bob = IdentityKeyPair::generate(&mut rng);
//! let mut bob_prekeys = InMemoryPreKeyStore::new();
//! bob_prekeys.add_signed_prekey(SignedPreKey::generate(&bob, 1, &mut rng));
//! bob_prekeys.add_pq_prekey(PqPreKey::generate(&bob, 1, PqPreKeyKind::LastResort, &mut rng));
//! bob_prekeys.add_one_time_prekey(OneTimePreKey::generate(1, &mut rng));
//! let bundle_bytes = bob_prekeys.bundle(&bob).expect("bundle").to_bytes();
//!
//! // Alice fetches it, verifies it and starts a session (PQXDH).
//! let alice = IdentityKeyPair::generate(&mut rng);
//! let mut alice_prekeys = InMemoryPreKeyStore::new();
//! let bundle = bluetick::PreKeyBundle::from_bytes(&bundle_bytes)?;
//! let mut alice_to_bob = SessionRecord::new();
//! alice_to_bob.start_session(&alice, &bundle, &mut rng)?;
//! let hello = alice_to_bob.encrypt(ContentType::Application, b"hello Bob", &mut rng)?;
//!
//! // Bob decrypts the PreKeyMessage: a new session, one-time prekey consumed.
//! let mut bob_to_alice = SessionRecord::new();
//! let got = bob_to_alice.decrypt(&bob, &mut bob_prekeys, &hello.wire, &mut rng)?;
//! assert_eq!(got.body, b"hello Bob");
//! assert_eq!(bob_prekeys.one_time_prekey_count(), 0);
//!
//! // And answers; Alice's next messages are plain `Message`s.
//! let reply = bob_to_alice.encrypt(ContentType::Application, b"hi Alice", &mut rng)?;
//! let got = alice_to_bob.decrypt(&alice, &mut alice_prekeys, &reply.wire, &mut rng)?;
//! assert_eq!(got.body, b"hi Alice");
//! assert!(!alice_to_bob.current_session().expect("session").awaiting_reply());
//!
//! // Both sides show the same safety number.
//! let n1 = bluetick::SafetyNumber::new(alice.public(), bob.public());
//! let n2 = bluetick::SafetyNumber::new(bob.public(), alice.public());
//! assert_eq!(n1, n2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

pub mod account;
pub mod attachment;
pub mod bundle;
pub mod clock;
mod codec;
pub mod constants;
pub mod devices;
pub mod error;
pub mod group;
pub mod hazmat;
pub mod identity;
pub mod pqxdh;
pub mod prekey;
pub mod prekey_store;
pub mod primitives;
mod ratchet;
pub mod receipt;
pub mod relay_protocol;
pub mod rng;
pub mod safety_number;
pub mod session;
pub mod session_record;
pub mod session_serialization;
pub mod status;
pub mod store;
pub mod wire;

pub use account::{
    Account, AccountConfig, AccountError, Address, DeviceListChange, DeviceStatus, DeviceWire,
    GroupSend, InboxEntry, Incoming, LogicalMessage, Outgoing, PreKeyCounts, PreKeyUpload,
    Received,
};
pub use bundle::PreKeyBundle;
pub use clock::{DisplayKey, LamportClock};
pub use devices::{DeviceCertificate, DeviceError, DeviceList};
pub use error::{
    BundleError, DecodeError, DecryptionError, EncryptionError, ErrorKind, KeyError, PqError,
};
pub use group::{GroupError, GroupId, GroupKeys, SenderKey};
pub use identity::{IdentityKey, IdentityKeyPair};
pub use prekey::{OneTimePreKey, PqPreKey, PqPreKeyKind, SignedPreKey};
pub use prekey_store::{InMemoryPreKeyStore, PreKeyStore, PreKeyUse};
pub use primitives::secret::{Secret32, SecretBytes};
pub use receipt::{Receipt, ReceiptError, ReceiptKind};
pub use rng::{os_rng, OsRng};
pub use safety_number::SafetyNumber;
pub use session::{OutgoingMessage, SendTrace, Session};
pub use session_record::{Decrypted, SessionRecord};
pub use status::MessageStatus;
pub use store::{MemoryStore, SqliteStore, Store, StoreError};
pub use wire::{ApplicationBody, ContentType, MessageId};

/// Re-exported so callers can name the generator trait the API takes.
pub use rand_core;

/// The README's Rust example, compiled and run as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
