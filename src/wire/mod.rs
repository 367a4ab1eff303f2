//! Wire messages (spec §5) and the application body (§10): strict parsers that never
//! panic, and the encoders.

pub mod body;
pub mod group_message;
pub mod header;
pub mod message;
pub mod message_id;
pub mod plaintext;
pub mod pq_block;
pub mod prekey_message;

use crate::constants::{MESSAGE_TYPE, PREKEY_MESSAGE_TYPE};
use crate::error::DecodeError;

pub use body::{ApplicationBody, InvalidBody};
pub use group_message::GroupMessage;
pub use header::Header;
pub use message::Message;
pub use message_id::MessageId;
pub use plaintext::ContentType;
pub use prekey_message::PreKeyMessage;

/// Either kind of pairwise wire message. A `GroupMessage` (`0x13`, spec §12) is not one:
/// it is parsed by [`GroupMessage::parse`] and decrypted by [`crate::group::GroupKeys`], so
/// this parser refuses its first byte as it refuses any other it does not take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireMessage<'a> {
    /// `0x11`.
    Message(Message<'a>),
    /// `0x12`.
    PreKey(PreKeyMessage<'a>),
}

impl<'a> WireMessage<'a> {
    /// Parses a wire message by its first byte.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        match bytes.first() {
            None => Err(DecodeError::Truncated {
                what: "wire message",
            }),
            Some(&MESSAGE_TYPE) => Message::parse(bytes).map(Self::Message),
            Some(&PREKEY_MESSAGE_TYPE) => PreKeyMessage::parse(bytes).map(Self::PreKey),
            Some(&other) => Err(DecodeError::UnknownMessageType(other)),
        }
    }
}
