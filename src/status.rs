//! Message status (spec §6): `Pending < Sent < Delivered < Read`, only ever moving forward.

/// The status of an outgoing message: one grey tick (`Sent`), two grey ticks (`Delivered`),
/// two blue ticks (`Read`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageStatus {
    /// Encrypted and queued locally; the relay has not acknowledged it.
    Pending,
    /// The relay acknowledged the message id.
    Sent,
    /// A valid delivery receipt arrived.
    Delivered,
    /// A valid read receipt arrived (which implies delivery).
    Read,
}

impl MessageStatus {
    /// The status after an event that implies `to`: the later of the two, since a status
    /// never moves back (a late delivery receipt after a read receipt changes nothing).
    pub fn advance(self, to: MessageStatus) -> MessageStatus {
        self.max(to)
    }

    /// A stable byte for storage.
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Pending => 0,
            Self::Sent => 1,
            Self::Delivered => 2,
            Self::Read => 3,
        }
    }

    /// The status for a stored byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(Self::Pending),
            1 => Some(Self::Sent),
            2 => Some(Self::Delivered),
            3 => Some(Self::Read),
            _ => None,
        }
    }
}
