//! A user's devices (spec §11): the certificate the primary device signs for each
//! companion, and the signed device list. Both are signed by the user identity (the
//! primary's identity key) under context strings of their own and verified strictly.

mod certificate;
mod error;
mod list;

pub use certificate::DeviceCertificate;
pub use error::DeviceError;
pub use list::DeviceList;

use crate::constants::MAX_USER_ID_LEN;

/// A cursor over untrusted bytes reporting [`DeviceError`]s.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DeviceError> {
        if self.buf.len() < n {
            return Err(DeviceError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DeviceError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, DeviceError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, DeviceError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, DeviceError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// `len (u8, 1..=64) || user id`.
    fn user(&mut self) -> Result<Vec<u8>, DeviceError> {
        let n = usize::from(self.u8()?);
        if n == 0 || n > MAX_USER_ID_LEN {
            return Err(DeviceError::InvalidUserId);
        }
        Ok(self.take(n)?.to_vec())
    }

    fn finish(self) -> Result<(), DeviceError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DeviceError::TrailingBytes)
        }
    }
}

fn check_user(user: &[u8]) -> Result<u8, DeviceError> {
    match u8::try_from(user.len()) {
        Ok(n) if n >= 1 && usize::from(n) <= MAX_USER_ID_LEN => Ok(n),
        _ => Err(DeviceError::InvalidUserId),
    }
}
