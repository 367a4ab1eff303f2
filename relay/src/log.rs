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
    /// Writes one line, in one write: formatted straight to standard error, a line would
    /// go out in pieces, and the pieces of two relays sharing a log file (or of the relay
    /// and another writer) could interleave.
    pub fn line(&self, args: core::fmt::Arguments<'_>) {
        if *self == Log::Stderr {
            let mut line = args.to_string();
            line.push('\n');
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }
}
