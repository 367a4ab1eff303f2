//! Randomness. The protocol code takes a caller-supplied [`rand_core::CryptoRng`]; this is
//! the operating system's generator for production use.

/// The operating system's cryptographic generator (getrandom).
pub type OsRng = rand_core::UnwrapErr<getrandom::SysRng>;

/// A handle to the operating system's generator. It panics only if the operating system
/// cannot supply randomness at all, where no cryptography could run safely.
pub fn os_rng() -> OsRng {
    rand_core::UnwrapErr(getrandom::SysRng)
}
