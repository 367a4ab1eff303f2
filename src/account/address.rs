//! Peer addresses: an app-defined user id and a device number.

use crate::codec::{Reader, Writer};
use crate::error::DecodeError;

/// Where a peer device is: the app's user id (any bytes, up to 1024) and a device number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    /// The app's user identifier.
    pub user: Vec<u8>,
    /// The device number within that user.
    pub device: u32,
}

/// The longest user id an address may carry.
pub const MAX_USER_LEN: usize = 1024;

impl Address {
    /// An address. User ids longer than 1024 bytes are refused when used.
    pub fn new(user: impl Into<Vec<u8>>, device: u32) -> Self {
        Self {
            user: user.into(),
            device,
        }
    }

    /// `user_len (u16) || user || device (u32)`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(6 + self.user.len());
        self.write(&mut out);
        out
    }

    /// Appends [`Address::to_bytes`] to `out`.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.put_u16(u16::try_from(self.user.len()).unwrap_or(u16::MAX));
        out.put(&self.user);
        out.put_u32(self.device);
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let len = usize::from(r.u16()?);
        let user = r.take(len)?.to_vec();
        Ok(Self {
            user,
            device: r.u32()?,
        })
    }

    /// Reads [`Address::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, "address");
        let a = Self::read(&mut r)?;
        r.finish()?;
        Ok(a)
    }

    pub(crate) fn is_valid(&self) -> bool {
        self.user.len() <= MAX_USER_LEN
    }
}

impl core::fmt::Display for Address {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}", String::from_utf8_lossy(&self.user), self.device)
    }
}
