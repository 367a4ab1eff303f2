//! The relay's log: one line per event, routing data only (addresses, message ids, sizes,
//! error codes), never a wire's bytes or a key.

use std::io::Write;

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Log {
    /// Standard error.
    Stderr,
    /// Nowhere.
    Off,
}

impl Log {
    /// Writes one line.
    pub fn line(&self, args: core::fmt::Arguments<'_>) {
        if *self == Log::Stderr {
            let mut e = std::io::stderr().lock();
            let _ = writeln!(e, "{args}");
        }
    }
}
