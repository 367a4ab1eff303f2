//! The UniFFI definition of Bluetick: the one Rust source of the Kotlin, Swift and Python
//! layers. Each language is generated from this crate's compiled library by
//! `uniffi-bindgen` (the `bluetick-bindgen` crate), so a concept has one name, one argument
//! order and one error mapping everywhere. The unsafe code of the FFI scaffolding is
//! generated here by `uniffi::setup_scaffolding!`; the code written by hand is safe.
//!
//! Byte strings cross as byte arrays: identity keys (32 bytes), message ids (16 bytes),
//! bundles, uploads and wire messages in their protocol encodings.
//!
//! `RelayClient` is the relay protocol's connection state machine (`docs/relay.md`) for
//! apps that own their sockets: frames in, frames out, events.

mod account;
mod attachment;
mod error;
mod prekey_upload;
mod protocol;
mod relay;
mod types;

pub use account::{Account, IdentityPolicy, PolicyError};
pub use attachment::{
    attachment_chunk_range, open_attachment_chunk, AttachmentChunkRange, AttachmentDecryptor,
    AttachmentEncryptor, FinishedAttachment,
};
pub use error::{AccountError, AttachmentError, ErrorKind, ProtocolError};
pub use prekey_upload::PreKeyUpload;
pub use protocol::{
    create_receipt_body, message_id_of, verify_receipt_body, Identity, PreKeys, Session,
};
pub use relay::{RelayBackoff, RelayClient, RelayError, RelayErrorCode, RelayEvent, RelayState};
pub use types::{
    AccountConfig, Address, BatchMessage, BatchOutcome, ContentType, Decrypted, InboxEntry,
    Incoming, MessageStatus, Outgoing, PqPreKeyKind, PreKeyCounts, ReceiptKind, Received,
    StatusUpdate, VerifiedReceipt,
};

uniffi::setup_scaffolding!("bluetick");
