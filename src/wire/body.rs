//! The body of an application message (spec §10): `lamport (u64) || sent_at_ms (u64) ||
//! data`. The session layer carries any body; the account writes and reads this layout.

use thiserror::Error;
use zeroize::Zeroizing;

use crate::error::ErrorKind;

/// The length of the clock prefix: `lamport (8) || sent_at_ms (8)`.
pub const APPLICATION_BODY_PREFIX_LEN: usize = 16;

/// An application body that is too short to carry its clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error(
    "the application body is {len} bytes, shorter than the 16-byte clock prefix \
     (lamport || sent_at_ms) every revision 2 message carries; the message is refused and \
     nothing was stored"
)]
pub struct InvalidBody {
    /// The length of the body that was refused.
    pub len: usize,
}

impl InvalidBody {
    /// The flat kind of this error.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidBody
    }
}

/// An application body, read without copying its data.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ApplicationBody<'a> {
    /// The sender's Lamport counter for the conversation when it sent the message.
    pub lamport: u64,
    /// The sender's wall clock, in milliseconds since the Unix epoch: for display only.
    pub sent_at_ms: u64,
    /// What the app sent.
    pub data: &'a [u8],
}

impl core::fmt::Debug for ApplicationBody<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            lamport,
            sent_at_ms,
            data,
        } = self;
        f.debug_struct("ApplicationBody")
            .field("lamport", lamport)
            .field("sent_at_ms", sent_at_ms)
            .field("data_len", &data.len())
            .finish()
    }
}

impl<'a> ApplicationBody<'a> {
    /// Reads a body; one shorter than 16 bytes is [`InvalidBody`].
    pub fn parse(body: &'a [u8]) -> Result<Self, InvalidBody> {
        let invalid = InvalidBody { len: body.len() };
        let (lamport, rest) = body.split_first_chunk::<8>().ok_or(invalid)?;
        let (sent_at_ms, data) = rest.split_first_chunk::<8>().ok_or(invalid)?;
        Ok(Self {
            lamport: u64::from_be_bytes(*lamport),
            sent_at_ms: u64::from_be_bytes(*sent_at_ms),
            data,
        })
    }

    /// The encoded body (it holds the app's data, so it is wiped when dropped).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(
            APPLICATION_BODY_PREFIX_LEN + self.data.len(),
        ));
        out.extend_from_slice(&self.lamport.to_be_bytes());
        out.extend_from_slice(&self.sent_at_ms.to_be_bytes());
        out.extend_from_slice(self.data);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_short_bodies() -> Result<(), InvalidBody> {
        let body = ApplicationBody {
            lamport: 0x0102_0304_0506_0708,
            sent_at_ms: 1_700_000_000_123,
            data: b"hi",
        };
        let bytes = body.to_bytes();
        assert_eq!(bytes.get(..8), Some(&[1, 2, 3, 4, 5, 6, 7, 8][..]));
        assert_eq!(ApplicationBody::parse(&bytes), Ok(body));
        for len in 0..APPLICATION_BODY_PREFIX_LEN {
            let short = bytes.get(..len).unwrap_or_default();
            assert_eq!(ApplicationBody::parse(short), Err(InvalidBody { len }));
        }
        let clock_only = ApplicationBody::parse(bytes.get(..16).unwrap_or_default())?;
        assert!(clock_only.data.is_empty());
        Ok(())
    }
}
