//! The relay protocol (`docs/relay.md`): the frames a device and the relay exchange over
//! one long-lived binary pipe, their codec, and the device's connection state machine.
//!
//! Sans-IO, like the rest of the crate: bytes in, bytes out, time and randomness passed in
//! by the caller, no socket and no runtime. The relay server (`bluetick-relay`) and the
//! tokio client on top of [`ClientConnection`] live in their own crate.

pub mod auth;
pub mod backoff;
pub mod client;
pub mod error;
pub mod frame;

pub use auth::{auth_message, verify_auth, AuthSigner, RELAY_AUTH_CONTEXT};
pub use backoff::Backoff;
pub use client::{
    ClientConfig, ClientConnection, ClientError, ConnectionState, Event, RequestId,
    MAX_SENDS_IN_FLIGHT,
};
pub use error::{ErrorCode, FrameError};
pub use frame::{Frame, FrameType};

/// The version of the relay protocol this build speaks, sent in the relay's challenge.
pub const RELAY_PROTOCOL_VERSION: u8 = 1;
/// The largest frame either side accepts, in bytes (1 MiB). A larger frame is refused
/// before it is parsed; the relay closes the connection that sent it.
pub const MAX_FRAME_LEN: usize = 1024 * 1024;
/// Recipients one send frame may name (a group wire to more devices is sent in several
/// frames).
pub const MAX_RECIPIENTS: usize = 4096;
/// Message ids one acknowledgement frame may carry.
pub const MAX_ACK_IDS: usize = 1024;
/// Devices one user may have (spec §8, §11).
pub const MAX_DEVICES: usize = crate::constants::MAX_DEVICES_PER_USER;
/// Longest user id in an address (spec §11).
pub const MAX_USER_ID_LEN: usize = crate::constants::MAX_USER_ID_LEN;
/// Length of the relay's challenge nonce.
pub const NONCE_LEN: usize = 32;
