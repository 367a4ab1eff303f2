//! A fixed-size secret: boxed so moves do not leave copies on the stack, erased on drop,
//! compared in constant time, and never printed.

use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// `N` secret bytes.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes<const N: usize>(Box<[u8; N]>);

impl<const N: usize> SecretBytes<N> {
    /// Takes ownership of `bytes` and erases the caller's copy.
    pub fn from_array(bytes: &mut [u8; N]) -> Self {
        let out = Self(Box::new(*bytes));
        bytes.zeroize();
        out
    }

    /// Copies a secret out of a slice of exactly `N` bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let mut out = Self(Box::new([0u8; N]));
        if bytes.len() != N {
            return None;
        }
        out.0.copy_from_slice(bytes);
        Some(out)
    }

    /// All zeros, to be filled in place (keeps the secret off the stack).
    pub(crate) fn zeroed() -> Self {
        Self(Box::new([0u8; N]))
    }

    /// The secret bytes.
    pub fn expose(&self) -> &[u8; N] {
        &self.0
    }

    pub(crate) fn expose_mut(&mut self) -> &mut [u8; N] {
        &mut self.0
    }
}

impl<const N: usize> ConstantTimeEq for SecretBytes<N> {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0[..].ct_eq(&other.0[..])
    }
}

impl<const N: usize> PartialEq for SecretBytes<N> {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl<const N: usize> Eq for SecretBytes<N> {}

impl<const N: usize> core::fmt::Debug for SecretBytes<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SecretBytes<{N}>(redacted)")
    }
}

/// A 32-byte secret: keys, chain keys, shared secrets.
pub type Secret32 = SecretBytes<32>;
