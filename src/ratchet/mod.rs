//! The Double Ratchet (spec §4): one file per key of the ratchet, and the state machine.

pub(crate) mod chain_key;
pub(crate) mod double_ratchet;
pub(crate) mod message_key;
pub(crate) mod pq_ratchet;
pub(crate) mod root_key;
pub(crate) mod skipped_keys;
