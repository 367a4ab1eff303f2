//! The Bluetick relay: a blind router between devices (`docs/relay.md`).
//!
//! One long-lived WebSocket pipe per device (TLS through rustls when given a
//! certificate), carrying the binary frames of `bluetick::relay_protocol`. Devices
//! authenticate by signing a fresh nonce with their identity key; the first
//! authentication binds an address to that key. Messages wait in a durable offline queue
//! until the recipient's device acknowledges that its account committed them; online
//! devices get them at once. Prekey bundles are handed out with each one-time key once,
//! and device lists are kept per user. The relay stores and logs routing data only.

pub mod backend;
pub mod cli;
pub mod client;
pub mod directory;
pub mod limits;
pub mod log;
pub mod server;
pub mod tls;

pub use backend::{NatsBackend, NatsConfig, RelayBackend, SqliteBackend};
pub use client::RelayClient;
pub use limits::Limits;
pub use log::Log;
pub use server::{start, Relay};
